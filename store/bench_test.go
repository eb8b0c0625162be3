package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scanbox/scanbox/journal"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
	"github.com/scanbox/scanbox/payflow"
)

// The history benchmarks share one fixture, built once per run of the test
// binary and only when a benchmark asks for it (never in a plain go test):
// fixtureOrders orders over 400 days and fixtureRefunds refunds, every field
// filled as a real payment fills it.
const (
	fixtureOrders  = 200_000
	fixtureRefunds = 20_000
	fixtureDays    = 400
)

var (
	fixtureOnce sync.Once
	fixtureDir  string
	fixtureErr  error
	// fixtureEnd is the moment the fixture's history ends ("now").
	fixtureEnd = time.Date(2026, 12, 1, 18, 0, 0, 0, China)
)

func hexN(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

var channels = []order.Channel{order.ChannelWeChat, order.ChannelWeChat, order.ChannelAlipay, order.ChannelAlipay, order.ChannelUnionPay, order.ChannelECNY}

// fixtureOrder is order i of the fixture, spread evenly over fixtureDays.
func fixtureOrder(i int) order.Order {
	span := time.Duration(fixtureDays) * 24 * time.Hour
	created := fixtureEnd.Add(-span + time.Duration(int64(span)/fixtureOrders*int64(i)))
	ch := channels[i%len(channels)]
	o := order.Order{OutTradeNo: "SB" + created.Format("060102150405") + hexN(8), Kind: order.KindMicropay,
		AmountFen: money.Fen(100 + (i*7919)%50000), Body: "ScanBox", CodeMasked: "1345**********" + fmt.Sprintf("%04d", i%10000),
		CodeHash: hexN(64), Guess: ch, Channel: ch, State: order.StatePaid, TransactionID: "42" + hexN(26),
		TimeEnd: created.Add(2 * time.Second).Format("20060102150405"), CreatedAt: created,
		UpdatedAt: created.Add(2 * time.Second), SentAt: created.Add(time.Millisecond), Deadline: created.Add(45 * time.Second),
		MchID: "1900000109", TerminalID: "T0001"}
	switch i % 50 {
	case 7:
		o.State, o.Channel, o.TransactionID, o.ErrCode, o.Message = order.StateFailed, order.ChannelNone, "", "NOTENOUGH", "余额不足"
	case 13:
		o.State, o.Cancelled = order.StateClosed, true
	}
	return o
}

func buildFixture() (string, error) {
	dir, err := os.MkdirTemp("", "scanbox-store-bench-")
	if err != nil {
		return "", err
	}
	s, err := Open(dir)
	if err != nil {
		return dir, err
	}
	defer s.Close()
	// Whole batches in one transaction each: the fixture is data, not a
	// measurement of Append (that is BenchmarkAppend).
	const batch = 10_000
	refundEvery := fixtureOrders / fixtureRefunds
	for lo := 0; lo < fixtureOrders; lo += batch {
		err := s.write(func(tx *sql.Tx) error {
			put, err := tx.Prepare(upsertOrderSQL)
			if err != nil {
				return err
			}
			defer put.Close()
			putRefund, err := tx.Prepare(`INSERT INTO refunds (out_refund_no, out_trade_no, state, terminal, refund_fen, created_ns, updated_ns, doc)
				VALUES (?, ?, ?, 1, ?, ?, ?, ?)`)
			if err != nil {
				return err
			}
			defer putRefund.Close()
			for i := lo; i < lo+batch; i++ {
				o := fixtureOrder(i)
				js, _ := json.Marshal(o)
				r := rowOf(o, js, false)
				if _, err := put.Exec(r.no, r.state, r.terminal, r.channel, r.amount, r.createdNs, r.updatedNs, r.extra, r.doc); err != nil {
					return err
				}
				if i%refundEvery == 1 && o.State == order.StatePaid {
					at := o.CreatedAt.Add(time.Duration(i%72) * time.Hour)
					r := Refund{OutRefundNo: "RF" + o.OutTradeNo[2:], OutTradeNo: o.OutTradeNo, RefundFen: o.AmountFen / 2,
						State: RefundRefunded, RefundID: "503" + hexN(25), Reason: "退货", CreatedAt: at, UpdatedAt: at.Add(time.Second),
						SentAt: at, MchID: o.MchID, TerminalID: o.TerminalID}
					rj, _ := json.Marshal(r)
					if _, err := putRefund.Exec(r.OutRefundNo, r.OutTradeNo, r.State.String(), int64(r.RefundFen),
						nanos(r.CreatedAt), nanos(r.UpdatedAt), packDoc(rj)); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return dir, err
		}
	}
	// A few unresolved ones, as a crash would leave them.
	for i := range 5 {
		o := fixtureOrder(fixtureOrders - 1 - i)
		o.OutTradeNo += "U"
		o.State = order.StateUnknown
		if err := s.Append(o); err != nil {
			return dir, err
		}
	}
	return dir, nil
}

func fixture(b *testing.B) string {
	b.Helper()
	fixtureOnce.Do(func() {
		start := time.Now()
		fixtureDir, fixtureErr = buildFixture()
		fmt.Fprintf(os.Stderr, "store fixture: %d orders, %d refunds built in %v\n", fixtureOrders, fixtureRefunds, time.Since(start).Round(time.Millisecond))
		// The build's garbage is not the benchmarks' cost: collect it and
		// return its memory now, not in the background during a timed run.
		runtime.GC()
		debug.FreeOSMemory()
	})
	if fixtureErr != nil {
		b.Fatal(fixtureErr)
	}
	return fixtureDir
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}

// BenchmarkOpen200k: Open (lock, schema check, journal check, pruning) of a
// year's history, then what the runner does first: the unresolved orders and
// the recent ones. Also reports the size on disk.
func BenchmarkOpen200k(b *testing.B) {
	dir := fixture(b)
	b.ResetTimer()
	for b.Loop() {
		s, err := Open(dir, WithClock(func() time.Time { return fixtureEnd }))
		if err != nil {
			b.Fatal(err)
		}
		if n := len(s.Unresolved()); n != 5 {
			b.Fatalf("%d unresolved", n)
		}
		if n := len(s.Recent(100)); n != 100 {
			b.Fatalf("%d recent", n)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(dirSize(filepath.Join(dir, subdir)))/1e6, "disk-MB")
}

// BenchmarkDaySummary200k: one China-time day's summary in a year's history.
func BenchmarkDaySummary200k(b *testing.B) {
	s, err := Open(fixture(b), WithClock(func() time.Time { return fixtureEnd }))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	day := fixtureEnd.AddDate(0, 0, -200)
	b.ResetTimer()
	var sum Summary
	for b.Loop() {
		if sum, err = s.SummaryOn(day); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if sum.Total.PaidCount < 400 {
		b.Fatalf("the day has only %d paid orders", sum.Total.PaidCount)
	}
	b.ReportMetric(float64(sum.Total.PaidCount+sum.Total.RefundCount), "rows/day")
}

// BenchmarkOrdersOnDate200k: one day's orders (the orders --date listing).
func BenchmarkOrdersOnDate200k(b *testing.B) {
	s, err := Open(fixture(b), WithClock(func() time.Time { return fixtureEnd }))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	day := fixtureEnd.AddDate(0, 0, -100)
	for b.Loop() {
		if list, err := s.OrdersOnDate(day); err != nil || len(list) < 400 {
			b.Fatal(len(list), err)
		}
	}
}

// BenchmarkAppend compares one durable Append of a new order: the old
// journal, the store when empty, and the store holding a year of history.
func BenchmarkAppend(b *testing.B) {
	run := func(b *testing.B, appendFn func(order.Order) error) {
		o := fixtureOrder(0)
		o.State = order.StatePending
		cpu := cpuNanos()
		for i := 0; b.Loop(); i++ {
			o.OutTradeNo = fmt.Sprintf("BENCH%07d", i)
			if err := appendFn(o); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(cpuNanos()-cpu)/float64(b.N), "cpu-ns/op")
		// Untimed: resolve them. The 200k fixture is shared with the
		// benchmarks after this one (BenchmarkPayment), which must find
		// the few unresolved orders it was built with, as a real store
		// holds, not hundreds left pending here.
		o.State, o.Channel = order.StatePaid, order.ChannelWeChat
		for i := range b.N {
			o.OutTradeNo = fmt.Sprintf("BENCH%07d", i)
			if err := appendFn(o); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("journal", func(b *testing.B) {
		j, err := journal.Open(testDir(b))
		if err != nil {
			b.Fatal(err)
		}
		defer j.Close()
		run(b, j.Append)
	})
	b.Run("store", func(b *testing.B) {
		s := mustOpen(b, testDir(b))
		defer s.Close()
		run(b, s.Append)
	})
	b.Run("store-200k", func(b *testing.B) {
		s, err := Open(fixture(b), WithClock(func() time.Time { return fixtureEnd }))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		run(b, s.Append)
	})
}

// BenchmarkRecent200 is the read the runner makes before every payment (is
// this code already paid?).
func BenchmarkRecent200(b *testing.B) {
	b.Run("journal", func(b *testing.B) {
		j, err := journal.Open(testDir(b))
		if err != nil {
			b.Fatal(err)
		}
		defer j.Close()
		for i := range 300 {
			j.Append(fixtureOrder(i))
		}
		for b.Loop() {
			j.Recent(200)
		}
	})
	b.Run("store-200k", func(b *testing.B) {
		s, err := Open(fixture(b), WithClock(func() time.Time { return fixtureEnd }))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		s.Recent(1) // the window is loaded once per Open (BenchmarkOpen200k counts it)
		b.ResetTimer()
		for b.Loop() {
			s.Recent(200)
		}
	})
}

// timedBank measures the bank's share of a payment (sign, HTTP on
// loopback, the simulator, verify), so the rest is the local cost.
type timedBank struct {
	payclient.Bank
	ns atomic.Int64
}

func (t *timedBank) Micropay(ctx context.Context, r payclient.MicropayRequest) (*payclient.Payment, error) {
	start := time.Now()
	p, err := t.Bank.Micropay(ctx, r)
	t.ns.Add(int64(time.Since(start)))
	return p, err
}

// BenchmarkPayment is one immediately successful payment through the real
// runner, on the old journal and on the store (empty, and holding a year of
// history). local-ns/op is everything but the bank: the runner's reads
// (Recent(200), FindUnresolvedByCodeHash, Get) and its two durable writes
// (pending before the micropay, paid after). cpu-ns/op is the process's CPU
// time per payment (simulator included), steadier than wall time on a
// shared machine.
func BenchmarkPayment(b *testing.B) {
	key := hexN(64)
	_, base := simtest.NewServer(b, banksim.Options{MchID: "100000001", TerminalKeys: map[string]string{"T0001": key}})
	client, err := payclient.New(payclient.Config{BaseURL: base, MchID: "100000001", TerminalID: "T0001",
		TerminalSN: banksim.TerminalSN("100000001", "T0001"), Key: []byte(key), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	codes := 0
	run := func(b *testing.B, j payflow.Journal) {
		// Orders before this run, so Recent(200) is a full read.
		for i := range 250 {
			o := fixtureOrder(i)
			o.OutTradeNo += "W"
			if err := j.Append(o); err != nil {
				b.Fatal(err)
			}
		}
		tb := &timedBank{Bank: client}
		r := payflow.New(j, tb, payflow.Config{MchID: "100000001", TerminalID: "T0001"}, nil)
		ctx := context.Background()
		j.Recent(1)
		b.ResetTimer()
		start, cpu := time.Now(), cpuNanos()
		for b.Loop() {
			codes++
			code := fmt.Sprintf("13%015d0", codes) // WeChat shape; last digit 0: pays at once
			o, err := r.Pay(ctx, payflow.PayRequest{Amount: 1250, Code: code})
			if err != nil || o.State != order.StatePaid {
				b.Fatalf("payment: %v %v", o.State, err)
			}
		}
		total, cpuUsed := time.Since(start), cpuNanos()-cpu
		b.StopTimer()
		b.ReportMetric(float64(total.Nanoseconds()-tb.ns.Load())/float64(b.N), "local-ns/op")
		// CPU of the whole payment, the simulator's included (the same for
		// both): what differs is the runner's store.
		b.ReportMetric(float64(cpuUsed)/float64(b.N), "cpu-ns/op")
	}
	b.Run("journal", func(b *testing.B) {
		j, err := journal.Open(testDir(b))
		if err != nil {
			b.Fatal(err)
		}
		defer j.Close()
		run(b, j)
	})
	b.Run("store", func(b *testing.B) {
		s := mustOpen(b, testDir(b))
		defer s.Close()
		run(b, s)
	})
	b.Run("store-200k", func(b *testing.B) {
		s, err := Open(fixture(b), WithClock(func() time.Time { return fixtureEnd }))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		run(b, s)
	})
}
