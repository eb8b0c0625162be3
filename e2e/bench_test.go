package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scanbox/scanbox/journal"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
	"github.com/scanbox/scanbox/payflow"
)

// timedJournal and timedBank measure where an end-to-end payment spends
// its time.
type timedJournal struct {
	*journal.Journal
	ns atomic.Int64
}

func (t *timedJournal) Append(o order.Order) error {
	start := time.Now()
	err := t.Journal.Append(o)
	t.ns.Add(int64(time.Since(start)))
	return err
}

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

// BenchmarkPayEndToEnd is one immediately successful payment through the
// real runner: journal append+fsync of the pending order, sign, HTTP to the
// simulator on loopback, verify, journal append+fsync of the paid order.
// It reports the split: journal-ns/op, bank-ns/op (sign + HTTP + verify +
// the simulator's own work), other-ns/op (the runner).
func BenchmarkPayEndToEnd(b *testing.B) {
	key := newKey()
	_, base := simtest.NewServer(b, banksim.Options{MchID: soakMch, TerminalKeys: map[string]string{soakTerminal: key}})
	j, err := journal.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	client, err := payclient.New(payclient.Config{BaseURL: base, MchID: soakMch, TerminalID: soakTerminal,
		TerminalSN: banksim.TerminalSN(soakMch, soakTerminal),
		Key:        []byte(key), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	tj := &timedJournal{Journal: j}
	tb := &timedBank{Bank: client}
	r := payflow.New(tj, tb, payflow.Config{}, nil)
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		code := fmt.Sprintf("13%015d0", i) // WeChat shape; last digit 0: pays at once
		o, err := r.Pay(ctx, payflow.PayRequest{Amount: 1250, Code: code})
		if err != nil || o.State != order.StatePaid {
			b.Fatalf("payment %d: %v %v", i, o.State, err)
		}
	}
	total := time.Since(start)
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(tj.ns.Load())/n, "journal-ns/op")
	b.ReportMetric(float64(tb.ns.Load())/n, "bank-ns/op")
	b.ReportMetric(float64(total.Nanoseconds()-tj.ns.Load()-tb.ns.Load())/n, "other-ns/op")
}
