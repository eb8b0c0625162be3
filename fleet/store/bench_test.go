package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/scanbox/scanbox/fleet/internal/fleettest"
	"github.com/scanbox/scanbox/fleet/proto"
	"github.com/scanbox/scanbox/fleet/store"
)

// BenchmarkHeartbeat is the write path of one inspection report on
// SQLite (one transaction: replay check, latest state, roll-up), over
// 1,000 enrolled terminals.
func BenchmarkHeartbeat(b *testing.B) {
	st, _ := fleettest.DBs()[0].Open(b)
	const n = 1000
	cs, err := st.CreateEnrollmentCodes(ctx, n, "bench")
	if err != nil {
		b.Fatal(err)
	}
	uids := make([]string, n)
	for i := range uids {
		if uids[i], err = st.Enroll(ctx, enrollReq(b, cs[i], "M1", fmt.Sprintf("T%04d", i), "dev"), time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	pay := []proto.PaymentCount{{Channel: "wechat", Outcome: proto.OutcomePaid, Count: 2, SumFen: 1234}}
	i := 0
	for b.Loop() {
		i++
		hb := proto.Heartbeat{Seq: uint64(i), At: time.Now(), AppVersion: "1.1.0", Payments: pay, Identity: proto.Identity{DeviceID: "dev"}}
		if _, err := st.Heartbeat(ctx, uids[i%n], int64(i), hb, time.Now(), ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHeartbeatBatch is the group commit as the server runs it: a
// batch of 32 full inspection reports from random terminals among 5,000,
// one transaction. Per op: one report.
func BenchmarkHeartbeatBatch(b *testing.B) {
	st, _ := fleettest.DBs()[0].Open(b)
	const n, batch = 5000, 32
	cs, err := st.CreateEnrollmentCodes(ctx, n, "bench")
	if err != nil {
		b.Fatal(err)
	}
	uids := make([]string, n)
	for i := range uids {
		if uids[i], err = st.Enroll(ctx, enrollReq(b, cs[i], fmt.Sprintf("M%04d", i/4), fmt.Sprintf("T%04d", i), "dev"), time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	now := time.Now()
	report := func(seq uint64, i int) proto.Heartbeat {
		return proto.Heartbeat{Seq: seq, At: now, AppVersion: "1.1.0", OS: "Windows 10 22H2", UptimeSec: 3600,
			ClockOffsetMs: 120, ClockOffsetKnown: true, DiskFreeBytes: 20 << 30,
			Identity:      proto.Identity{MchID: fmt.Sprintf("M%04d", i/4), TerminalID: fmt.Sprintf("T%04d", i), TerminalSN: "SN-" + fmt.Sprintf("T%04d", i), DeviceID: "dev"},
			AmountSources: []proto.AmountSourceState{{Name: "ocr", State: proto.StateOK}},
			Scanner:       proto.ScannerState{State: proto.StateOK, Mode: "serial", Port: "COM3"},
			OCR:           proto.ComponentState{State: proto.StateOK}, Voice: proto.VoiceState{State: proto.StateOK, Device: "Speakers"},
			Payments: []proto.PaymentCount{{Channel: "wechat", Outcome: proto.OutcomePaid, Count: 2, SumFen: 1234}},
			Update:   proto.UpdateStatus{Current: "1.1.0"}}
	}
	seq := uint64(0)
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		items := make([]store.HeartbeatItem, 0, batch)
		for j := 0; j < batch; j++ {
			seq++
			k := int((seq * 7919) % n)
			items = append(items, store.HeartbeatItem{UID: uids[k], TsMs: int64(seq), HB: report(seq, k), Now: now})
		}
		for _, o := range st.HeartbeatBatch(ctx, items) {
			if o.Err != nil {
				b.Fatal(o.Err)
			}
		}
	}
}
