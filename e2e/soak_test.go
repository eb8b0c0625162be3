// Package e2e holds the whole-system tests: the payment runner, the real
// journal and the real bank client against the embedded simulator over
// loopback HTTP, with faults injected; and kill -9 crash tests of the
// scanbox binary. It has no non-test code.
package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/scanbox/scanbox/journal"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
	"github.com/scanbox/scanbox/payflow"
	"github.com/scanbox/scanbox/store"
)

const (
	soakMch      = "100000001"
	soakTerminal = "T0001"
)

// randomCode makes a unique payment code of a random wallet whose last digit
// selects the simulator's payer behaviour.
func randomCode(t testing.TB, i int) string {
	prefixes := []struct {
		p   string
		len int
	}{{"13", 18}, {"28", 18}, {"62", 19}, {"10", 18}, {"25", 20}}
	pick := prefixes[i%len(prefixes)]
	s := pick.p
	for len(s) < pick.len-1 {
		n, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			t.Fatal(err)
		}
		s += n.String()
	}
	return s + fmt.Sprint(i%10)
}

// ledgerMatches says whether the journal's final state agrees with the
// bank's record of the order (nil: the bank never saw it).
func ledgerMatches(o order.Order, e *banksim.LedgerEntry) bool {
	if e == nil {
		// Only a request refused locally may be missing at the bank.
		return o.State == order.StateFailed && o.ErrCode == "INVALID_REQUEST"
	}
	switch o.State {
	case order.StatePaid:
		return e.State == payclient.TradeSuccess && e.TransactionID == o.TransactionID
	case order.StateClosed:
		return e.State == payclient.TradeClosed
	case order.StateRevoked:
		return e.State == payclient.TradeRevoked
	case order.StateFailed:
		return e.State == payclient.TradePayError
	}
	return false
}

func newKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// TestSoakFaultsAndBehaviours is the fault-injection soak of the payment core:
// 320 payments through the real runner, journal and client against the
// simulator on loopback, every fault kind and payer behaviour mixed, some
// cancelled by the cashier, then resolve. Nothing may be lost or taken twice.
// soakStore is the money record a soak runs on: the SQLite store the
// program uses, and the old journal (still the reader of old files).
type soakStore interface {
	payflow.Journal
	Close() error
}

var soakStores = []struct {
	name string
	open func(dir string) (soakStore, error)
}{
	{"store", func(dir string) (soakStore, error) { return store.Open(dir) }},
	{"journal", func(dir string) (soakStore, error) { return journal.Open(dir) }},
}

func TestSoakFaultsAndBehaviours(t *testing.T) {
	for _, st := range soakStores {
		t.Run(st.name, func(t *testing.T) { soakFaultsAndBehaviours(t, st.open) })
	}
}

func soakFaultsAndBehaviours(t *testing.T, open func(string) (soakStore, error)) {
	const payments = 320
	key := newKey()
	sim, base := simtest.NewServer(t, banksim.Options{
		MchID:         soakMch,
		TerminalKeys:  map[string]string{soakTerminal: key},
		PasswordDelay: 60 * time.Millisecond,
		FaultRate:     0.2,
		SlowDelay:     300 * time.Millisecond,
		Seed:          20261126,
	})
	// Random draws rarely give close its own fault; queue some recall=Y.
	for i := 0; i < 6; i++ {
		sim.InjectFault(payclient.EndpointClose, banksim.Fault{Kind: banksim.FaultRecall, Recalls: 1 + i})
	}
	dir := t.TempDir()
	j, err := open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	client, err := payclient.New(payclient.Config{BaseURL: base, MchID: soakMch, TerminalID: soakTerminal,
		TerminalSN: banksim.TerminalSN(soakMch, soakTerminal),
		Key:        []byte(key), HTTPTimeout: 150 * time.Millisecond, RecallWait: 5 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	r := payflow.New(j, client, payflow.Config{PollInterval: 15 * time.Millisecond, PollTimeout: 250 * time.Millisecond,
		ResolveEvery: 20 * time.Millisecond}, nil)

	ctx := context.Background()
	codes := make([]string, payments)
	for i := range codes {
		codes[i] = randomCode(t, i)
	}
	var wg sync.WaitGroup
	work := make(chan int)
	var mu sync.Mutex
	byCode := map[string]string{}
	for w := 0; w < 12; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				o, err := r.Start(ctx, payflow.PayRequest{Amount: money.Fen(100 + i), Code: codes[i]})
				if err != nil {
					t.Errorf("payment %d refused: %v", i, err)
					continue
				}
				mu.Lock()
				byCode[codes[i]] = o.OutTradeNo
				mu.Unlock()
				if i%13 == 5 { // the cashier gives up early on some
					time.Sleep(30 * time.Millisecond)
					r.Cancel(o.OutTradeNo)
				}
				r.Wait(ctx, o.OutTradeNo)
			}
		}()
	}
	for i := 0; i < payments; i++ {
		work <- i
	}
	close(work)
	wg.Wait()

	// Resolve, as the background resolver or `scanbox resolve` would, with
	// the faults still on: it must converge.
	// A paid order still lacking its details (ORDERPAID, then every
	// details query lost) is not finished either: it would disagree with
	// the bank's bill.
	lacking := func() (n int) {
		for _, o := range j.Recent(10 * payments) {
			if payflow.NeedsDetails(o) {
				n++
			}
		}
		return n
	}
	lackedBefore := lacking()
	for round := 0; round < 100 && (len(j.Unresolved()) > 0 || lacking() > 0); round++ {
		if _, err := r.ResolveAll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if un := j.Unresolved(); len(un) > 0 {
		t.Fatalf("%d orders still unresolved, e.g. %+v", len(un), un[0])
	}
	sim.WaitIdle()

	ledger := map[string]*banksim.LedgerEntry{}
	for _, e := range sim.Ledger() {
		e := e
		ledger[e.OutTradeNo] = &e
	}
	orders := j.Recent(10 * payments)
	if len(orders) != payments {
		t.Fatalf("journal has %d orders, want %d", len(orders), payments)
	}
	states := map[order.State]int{}
	for _, o := range orders {
		states[o.State]++
		if !ledgerMatches(o, ledger[o.OutTradeNo]) {
			t.Errorf("order %s: journal says %v (%s) with transaction_id %q, bank ledger says %+v",
				o.OutTradeNo, o.State, o.ErrCode, o.TransactionID, ledger[o.OutTradeNo])
		}
	}
	// Journal before the bank call: the bank knows no order the journal lacks.
	for no := range ledger {
		if _, ok := j.Get(no); !ok {
			t.Errorf("the bank has order %s that the journal never recorded", no)
		}
	}
	for code, n := range sim.PaidCountByCode() {
		if n > 1 {
			t.Errorf("code %s…%s was paid %d times", code[:4], code[len(code)-4:], n)
		}
	}
	faults := sim.FaultCounts()
	for k := banksim.FaultRequestLost; k <= banksim.FaultSystemError; k++ {
		if faults[k] == 0 {
			t.Errorf("fault %v was never injected: the soak does not cover it", k)
		}
	}
	behaviours := sim.BehaviourCounts()
	for b := banksim.Behaviour(1); b <= banksim.CodeExpired; b++ {
		if behaviours[b] == 0 {
			t.Errorf("payer behaviour %v never happened", b)
		}
	}
	for _, s := range []order.State{order.StatePaid, order.StateFailed, order.StateClosed, order.StateRevoked} {
		if states[s] == 0 {
			t.Errorf("no order ended %v: the mix is too narrow", s)
		}
	}
	t.Logf("soak: %d payments, final states %v, faults %v, behaviours %v, paid orders completed by resolve %d",
		payments, states, faults, behaviours, lackedBefore)
}
