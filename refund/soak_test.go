package refund

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
)

const (
	simKey    = "0123456789abcdef0123456789abcdef"
	simDevice = "5eed000000000000000000000000000000000000000000000000000000000001"
)

// refundFaults is every fault kind the simulator applies to refunds and
// refundqueries (recall is close-only).
var refundFaults = []banksim.FaultKind{banksim.FaultRequestLost, banksim.FaultResponseLost, banksim.FaultHTTP5xx,
	banksim.FaultNotJSON, banksim.FaultBadSignature, banksim.FaultForgedSuccess, banksim.FaultSlow, banksim.FaultSystemError}

// behaviourChars pick the simulator's refund behaviour by the number's last
// character: 0 at once, 4 processing then success, 7 processing then
// failed, 8 processing then CHANGE.
const behaviourChars = "0478"

func simOptions(seed int64, faultRate float64) banksim.Options {
	fs := make([]banksim.Fault, 0, len(refundFaults))
	for _, k := range refundFaults {
		fs = append(fs, banksim.Fault{Kind: k})
	}
	return banksim.Options{TerminalKeys: map[string]string{banksim.DefaultTerminalID: simKey},
		RefundDelay: 120 * time.Millisecond, SlowDelay: 40 * time.Millisecond, Seed: seed,
		FaultRate: faultRate, Faults: fs}
}

func simClient(t testing.TB, base string, log *slog.Logger) *payclient.Client {
	t.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c, err := payclient.New(payclient.Config{BaseURL: base, MchID: banksim.DefaultMchID, TerminalID: banksim.DefaultTerminalID,
		Key: []byte(simKey), TerminalSN: banksim.TerminalSN(banksim.DefaultMchID, banksim.DefaultTerminalID),
		DeviceID: simDevice, HTTPTimeout: 2 * time.Second, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// soakOrders pays n orders at the bank (payments only the bank made, as a
// journal would have them paid) and in the store.
func soakOrders(t testing.TB, sim *banksim.Sim, st *testStore, n int, rng *rand.Rand) []order.Order {
	t.Helper()
	var out []order.Order
	for i := range n {
		fen := money.Fen(100 + rng.IntN(4900))
		no := fmt.Sprintf("SBSOAK%06d%04d", i, rng.IntN(10000))
		if err := sim.AddBankOnlyPayment(banksim.DefaultTerminalID, no, fen, order.ChannelWeChat, time.Time{}); err != nil {
			t.Fatal(err)
		}
		o := paidOrder(no, fen)
		if err := st.AddOrder(o); err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	return out
}

// behaviourNumbers makes unique refund numbers whose last character picks
// the simulator's behaviour at random.
func behaviourNumbers(prefix string, rng *rand.Rand) func(time.Time) string {
	var mu sync.Mutex
	var n int
	return func(time.Time) string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("%s%08d%c", prefix, n, behaviourChars[rng.IntN(len(behaviourChars))])
	}
}

// resolveUntilDone follows every unresolved refund until the bank has given
// each a definite state.
func resolveUntilDone(t testing.TB, r *Runner, st Store) {
	t.Helper()
	for range 200 {
		rs, err := st.UnresolvedRefunds()
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) == 0 {
			return
		}
		if _, err := r.ResolveAll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	rs, _ := st.UnresolvedRefunds()
	t.Fatalf("%d refunds still unresolved after 200 rounds", len(rs))
}

// checkAgainstLedger is the soak's verdict: every refund in the store has
// the bank's final state, the bank has no refund the store lacks, no
// out_refund_no was executed twice, no order was refunded beyond its
// amount (at the bank or in the store), no forged success was recorded and
// nothing is unresolved.
func checkAgainstLedger(t testing.TB, sim *banksim.Sim, st *testStore, orders []order.Order) (refunds, multi int) {
	t.Helper()
	want := map[payclient.RefundState]State{payclient.RefundSuccess: StateRefunded, payclient.RefundFailed: StateFailed,
		payclient.RefundChange: StateChange}
	bank := map[string]banksim.RefundEntry{}
	for _, e := range sim.Refunds() {
		bank[e.OutRefundNo] = e
	}
	mine := map[string]Refund{}
	for _, x := range st.All() {
		mine[x.OutRefundNo] = x
		if !x.State.Terminal() {
			t.Errorf("refund %s unresolved (%v)", x.OutRefundNo, x.State)
		}
		if x.RefundID == "5000000000FORGED" {
			t.Errorf("refund %s recorded from a forged answer", x.OutRefundNo)
		}
		e, ok := bank[x.OutRefundNo]
		switch {
		case !ok && x.State != StateFailed:
			t.Errorf("refund %s is %v here but unknown to the bank", x.OutRefundNo, x.State)
		case ok && want[e.State] != x.State:
			t.Errorf("refund %s: bank %v, store %v", x.OutRefundNo, e.State, x.State)
		case ok && (e.RefundFee != x.RefundFen || e.OutTradeNo != x.OutTradeNo):
			t.Errorf("refund %s: bank %v of %s, store %v of %s", x.OutRefundNo, e.RefundFee, e.OutTradeNo, x.RefundFen, x.OutTradeNo)
		case ok && e.RefundID != x.RefundID:
			t.Errorf("refund %s: bank refund_id %s, store %q", x.OutRefundNo, e.RefundID, x.RefundID)
		}
	}
	for no := range bank {
		if _, ok := mine[no]; !ok {
			t.Errorf("the bank has refund %s which the store lacks", no)
		}
	}
	for k, n := range sim.RefundExecutions() {
		if n != 1 {
			t.Errorf("refund %s executed %d times", k, n)
		}
	}
	byOrder := map[string]money.Fen{}
	count := map[string]int{}
	for _, x := range mine {
		if x.State.MayRefund() {
			byOrder[x.OutTradeNo] += x.RefundFen
			count[x.OutTradeNo]++
		}
	}
	for _, e := range sim.Ledger() {
		if e.Refunded > e.TotalFee {
			t.Errorf("order %s refunded %v of %v at the bank", e.OutTradeNo, e.Refunded, e.TotalFee)
		}
		if byOrder[e.OutTradeNo] != e.Refunded {
			t.Errorf("order %s: bank refunded %v, store %v", e.OutTradeNo, e.Refunded, byOrder[e.OutTradeNo])
		}
	}
	for _, o := range orders {
		if byOrder[o.OutTradeNo] > o.AmountFen {
			t.Errorf("order %s refunded %v of %v in the store", o.OutTradeNo, byOrder[o.OutTradeNo], o.AmountFen)
		}
		if count[o.OutTradeNo] >= 2 {
			multi++
		}
	}
	return len(mine), multi
}

// refundAttempt picks an order and an amount: sometimes all that is left,
// sometimes a part, sometimes more than what is left.
func refundAttempt(rng *rand.Rand, r *Runner, orders []order.Order) Request {
	o := orders[rng.IntN(len(orders))]
	left, err := r.Remaining(o.OutTradeNo)
	if err != nil || left <= 0 {
		left = 1
	}
	var amt money.Fen
	switch rng.IntN(6) {
	case 0:
		amt = left
	case 1:
		amt = left + 1 + money.Fen(rng.IntN(100)) // over the remainder
	default:
		amt = 1 + money.Fen(rng.IntN(int(max(left/3, 1))))
	}
	return Request{OutTradeNo: o.OutTradeNo, Amount: amt, Reason: "soak 退款"}
}

// TestRefundSoak: ≥ 200 refunds against the simulator over HTTP with every
// fault kind and refund behaviour mixed, some orders refunded several
// times, some attempts over the remainder; then resolve and compare with
// the simulator's ledger.
func TestRefundSoak(t *testing.T) {
	const wantRefunds = 220
	rng := rand.New(rand.NewPCG(7, 11))
	sim, base := simtest.NewServer(t, simOptions(7, 0.3))
	st := newMemStore()
	orders := soakOrders(t, sim, st, 60, rng)
	bank := simClient(t, base, nil)
	var nmu sync.Mutex
	numbers := behaviourNumbers("RFSOAK", rng)
	r := New(st, bank, okPIN{}, Config{PollInterval: 30 * time.Millisecond, FollowFor: 600 * time.Millisecond,
		ResolveEvery: 100 * time.Millisecond}, nil, WithNumbers(func(t time.Time) string {
		nmu.Lock()
		defer nmu.Unlock()
		return numbers(t)
	}))
	var over, unresolvedRefused, created atomic.Int64
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wr := rand.New(rand.NewPCG(uint64(w), 99))
			for attempts := 0; created.Load() < wantRefunds && attempts < 2000; attempts++ {
				_, err := r.Refund(context.Background(), refundAttempt(wr, r, orders))
				switch {
				case err == nil:
					created.Add(1)
				case errors.Is(err, ErrOverRefund):
					over.Add(1)
				case errors.Is(err, ErrUnresolved):
					unresolvedRefused.Add(1)
				default:
					t.Errorf("refund refused: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	resolveUntilDone(t, r, st)
	refunds, multi := checkAgainstLedger(t, sim, st, orders)
	faults := sim.FaultCounts()
	for _, k := range refundFaults {
		if faults[k] == 0 {
			t.Errorf("fault %v never applied", k)
		}
	}
	beh := sim.RefundBehaviourCounts()
	for _, b := range []banksim.RefundBehaviour{banksim.RefundAtOnce, banksim.RefundProcessingThenSuccess,
		banksim.RefundProcessingThenFailed, banksim.RefundProcessingThenChange} {
		if beh[b] == 0 {
			t.Errorf("refund behaviour %v never met", b)
		}
	}
	if refunds < 200 || multi == 0 || over.Load() == 0 {
		t.Errorf("soak too small: %d refunds, %d orders refunded several times, %d attempts over the remainder", refunds, multi, over.Load())
	}
	t.Logf("%d refunds, %d orders refunded ≥2 times, %d attempts over the remainder refused, %d refused while one was unresolved; faults %v; behaviours %v",
		refunds, multi, over.Load(), unresolvedRefused.Load(), faults, beh)
}
