package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// seedTerminals inserts n terminals straight into the table (enrolling
// 50,000 through Enroll would take the benchmark's time): a quarter
// offline, one in a hundred with an alert, four per merchant, each with a
// latest state of the size the agent sends.
func seedTerminals(b *testing.B, s *Store, n int, now time.Time) {
	ctx := context.Background()
	state := `{"seq":1,"app_version":"1.1.0","os":"Windows 10 22H2","scanner":{"state":"ok","mode":"serial","port":"COM3"},` +
		`"amount_sources":[{"name":"ocr","state":"ok"}],"ocr":{"state":"ok"},"voice":{"state":"ok","device":"Speakers"},"payments":[{"channel":"wechat","outcome":"paid","count":2,"sum_fen":1234}],` +
		`"update":{"current":"1.1.0"},"uptime_sec":3600,"clock_offset_ms":120,"clock_offset_known":true,"disk_free_bytes":21474836480,"identity":{"mch_id":"M00000","terminal_id":"T000000","terminal_sn":"SN00000000","device_id":"dev-000000"}}`
	err := s.tx(ctx, func(t *txn) error {
		for i := 0; i < n; i++ {
			off := now.Unix() + 180
			if i%4 == 3 {
				off = now.Unix() - 60
			}
			alerts := ""
			if i%100 == 7 {
				alerts = AlertClockOffset
			}
			if _, err := t.exec(ctx, `INSERT INTO terminals(uid, mch_id, terminal_id, terminal_sn, device_id, key_id, pubkey, app_version, os, enrolled_at, last_seen, offline_after, alerts, state_json) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
				fmt.Sprintf("t%09d", i), fmt.Sprintf("M%05d", i/4), fmt.Sprintf("T%06d", i), fmt.Sprintf("SN%08d", i), fmt.Sprintf("dev-%06d", i),
				fmt.Sprintf("%032d", i), make([]byte, 32), "1.1.0", "Windows 10 22H2", now.Unix()-86400, now.Unix()-30, off, alerts, state); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	// One 60 MB transaction leaves a WAL the size of the table; in
	// service it is checkpointed every 1,000 pages.
	if s.d == SQLite {
		if _, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			b.Fatal(err)
		}
	}
	// What the server does every hour (Server.maintain).
	if err := s.Optimize(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkTerminalsPage50k is the database side of the console's
// terminals page (count and one page of 50) at 50,000 terminals on
// SQLite, for the first page, a deep keyset page, a prefix search and each
// state filter.
func BenchmarkTerminalsPage50k(b *testing.B) {
	dsn := os.Getenv("SCANBOX_FLEET_BENCH_DB") // postgres://... to measure PostgreSQL
	if dsn == "" {
		dsn = "sqlite:" + filepath.Join(b.TempDir(), "fleet.db")
	}
	s, err := Open(context.Background(), dsn, "")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, ChinaTime)
	var have int
	s.queryRow(context.Background(), `SELECT COUNT(*) FROM terminals`).Scan(&have)
	if have < 50000 {
		seedTerminals(b, s, 50000-have, now)
	}
	deep, err := s.ListTerminals(context.Background(), Filter{Q: "M09000"}, now)
	if err != nil || len(deep.Terminals) == 0 {
		b.Fatal(err)
	}
	last := deep.Terminals[len(deep.Terminals)-1]
	for _, c := range []struct {
		name string
		f    Filter
	}{
		{"first", Filter{}},
		{"deep", Filter{After: last.MchID + "\x1f" + last.TerminalID + "\x1f" + last.UID}},
		{"search", Filter{Q: "M0123"}},
		{"online", Filter{State: "online"}},
		{"offline", Filter{State: "offline"}},
		{"alert", Filter{State: "alert"}},
		{"disabled", Filter{State: "disabled"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			c.f.Limit = 50
			for b.Loop() {
				p, err := s.ListTerminals(context.Background(), c.f, now)
				if err != nil || p.Total == 0 && c.name != "disabled" {
					b.Fatal(p.Total, err)
				}
			}
		})
	}
}
