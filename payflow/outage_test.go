package payflow_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
	"github.com/scanbox/scanbox/payflow"
)

// switchProxy forwards TCP to the simulator while up; while down nothing
// listens on its port, so a connection is refused as when the bank's line
// is cut (what the cashier's walk-through did with a killed proxy).
type switchProxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
}

func (p *switchProxy) up() {
	p.mu.Lock()
	defer p.mu.Unlock()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.ln = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s, err := net.Dial("tcp", p.target)
				if err != nil {
					return
				}
				defer s.Close()
				go io.Copy(s, c)
				io.Copy(c, s)
			}()
		}
	}()
}

func (p *switchProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
}

// The bank cut off (connection refused) when the code is scanned and back
// a little later: the cashier's window learns at once that the bank cannot
// be reached (the order carries COMM while it is pending), and when the
// bank is back the same micropay is sent again under the same number and
// paid, once — not left to close at its deadline as "the payer did not
// confirm" (issue 11 item 5, seen in scripts/accept.sh's bank cut-off step).
func TestBankCutOffThenBackPays(t *testing.T) {
	sim, simURL := simtest.NewServer(t, banksim.Options{TerminalKeys: map[string]string{banksim.DefaultTerminalID: simKey}})
	u, err := url.Parse(simURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // down: nothing listens there
	p := &switchProxy{t: t, addr: addr, target: u.Host}
	t.Cleanup(p.down)
	client, j := simClientJournal(t, "http://"+addr+u.Path)
	cfg := payflow.Config{MchID: banksim.DefaultMchID, TerminalID: banksim.DefaultTerminalID,
		PollInterval: 20 * time.Millisecond, PollTimeout: 20 * time.Second}
	var (
		mu   sync.Mutex
		seen []order.Order
	)
	sawComm := make(chan struct{})
	var once sync.Once
	bank := &countingBank{Bank: client, failedQuery: make(chan struct{}, 100)}
	r := payflow.New(j, bank, cfg, nil)
	r.Subscribe(func(o order.Order) {
		mu.Lock()
		seen = append(seen, o)
		mu.Unlock()
		if o.State == order.StatePending && o.ErrCode == payflow.CodeComm {
			once.Do(func() { close(sawComm) })
		}
	})
	const code = "134567890123456780"
	done := make(chan order.Order, 1)
	go func() {
		o, err := r.Pay(context.Background(), payflow.PayRequest{Amount: 1250, Code: code})
		if err != nil {
			t.Error(err)
		}
		done <- o
	}()
	select {
	case <-sawComm:
	case <-time.After(10 * time.Second): // a guard against a hang, not a speed check
		t.Fatal("the order never said the bank cannot be reached while it was pending")
	}
	// Down long enough for the immediate re-send and two queries to fail.
	for i := 0; i < 2; i++ {
		select {
		case <-bank.failedQuery:
		case <-time.After(10 * time.Second):
			t.Fatal("no query was tried while the bank was down")
		}
	}
	p.up() // the bank is back
	var final order.Order
	select {
	case final = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the payment never ended")
	}
	if final.State != order.StatePaid {
		t.Fatalf("bank back before the deadline: final %v %q (%s); want paid", final.State, final.ErrCode, final.Message)
	}
	if n := sim.PaidCountByCode()[code]; n != 1 {
		t.Fatalf("the code was charged %d times at the bank; want once", n)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, o := range seen {
		if o.OutTradeNo != final.OutTradeNo {
			t.Fatalf("a second order number %s appeared (first %s)", o.OutTradeNo, final.OutTradeNo)
		}
	}
	if final.Resends <= payflow.MaxResends {
		t.Fatalf("%d re-sends: paid without the re-send after the outage?", final.Resends)
	}
	if final.Resends > payflow.MaxResends+payflow.MaxOutageResends {
		t.Fatalf("%d re-sends; the bound is %d", final.Resends, payflow.MaxResends+payflow.MaxOutageResends)
	}
}

// countingBank tells the test when a query failed to reach the bank.
type countingBank struct {
	payclient.Bank
	failedQuery chan struct{}
}

func (b *countingBank) Query(ctx context.Context, no string) (*payclient.Payment, error) {
	p, err := b.Bank.Query(ctx, no)
	if err != nil {
		select {
		case b.failedQuery <- struct{}{}:
		default:
		}
	}
	return p, err
}
