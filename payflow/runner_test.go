package payflow

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/scan"
)

// memJournal is an in-memory Journal that can be told to fail.
type memJournal struct {
	mu      sync.Mutex
	recs    []order.Order
	latest  map[string]order.Order
	failing bool
}

func newMem() *memJournal { return &memJournal{latest: map[string]order.Order{}} }

func (m *memJournal) Append(o order.Order) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failing {
		return errors.New("disk full")
	}
	m.recs = append(m.recs, o)
	m.latest[o.OutTradeNo] = o
	return nil
}
func (m *memJournal) Get(no string) (order.Order, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.latest[no]
	return o, ok
}
func (m *memJournal) Unresolved() []order.Order {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []order.Order
	for _, o := range m.latest {
		if !o.State.Terminal() {
			out = append(out, o)
		}
	}
	return out
}
func (m *memJournal) FindUnresolvedByCodeHash(h string) (order.Order, bool) {
	for _, o := range m.Unresolved() {
		if o.CodeHash == h {
			return o, true
		}
	}
	return order.Order{}, false
}
func (m *memJournal) Recent(n int) []order.Order {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []order.Order
	for _, o := range m.latest {
		out = append(out, o)
	}
	return out
}

// fakeBank answers from scripted functions and records calls.
type fakeBank struct {
	mu        sync.Mutex
	calls     []string
	micropay  func(r payclient.MicropayRequest) (*payclient.Payment, error)
	query     func(no string) (*payclient.Payment, error)
	close     func(no string) (*payclient.Payment, error)
	precreate func(r payclient.PrecreateRequest) (*payclient.Precreated, error)
}

func (b *fakeBank) rec(s string) { b.mu.Lock(); b.calls = append(b.calls, s); b.mu.Unlock() }
func (b *fakeBank) Calls() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.calls...)
}
func (b *fakeBank) Micropay(_ context.Context, r payclient.MicropayRequest) (*payclient.Payment, error) {
	b.rec("micropay")
	return b.micropay(r)
}
func (b *fakeBank) Query(_ context.Context, no string) (*payclient.Payment, error) {
	b.rec("query")
	return b.query(no)
}
func (b *fakeBank) Close(_ context.Context, no string) (*payclient.Payment, error) {
	b.rec("close")
	return b.close(no)
}
func (b *fakeBank) Precreate(_ context.Context, r payclient.PrecreateRequest) (*payclient.Precreated, error) {
	b.rec("precreate")
	return b.precreate(r)
}

var fastCfg = Config{PollInterval: 2 * time.Millisecond, PollTimeout: 200 * time.Millisecond, ResolveEvery: 5 * time.Millisecond}

const wechatCode = "134567890123456780"

func userPaying(string) (*payclient.Payment, error) {
	return &payclient.Payment{TradeState: payclient.TradeUserPaying}, nil
}
func apiErr(code string) error {
	return &payclient.APIError{Endpoint: "/pay/micropay", ReturnCode: "SUCCESS", ErrCode: code}
}
func commErr() error {
	return fmt.Errorf("payclient: %w: connection reset", payclient.ErrCommunication)
}

func TestJournalBeforeSend(t *testing.T) {
	j := newMem()
	b := &fakeBank{}
	b.micropay = func(r payclient.MicropayRequest) (*payclient.Payment, error) {
		o, ok := j.Get(r.OutTradeNo)
		if !ok || o.State != order.StatePending || o.SentAt.IsZero() {
			t.Errorf("micropay sent before the order was journaled: %+v %v", o, ok)
		}
		if o.CodeMasked == r.AuthCode || o.CodeHash == "" {
			t.Errorf("journal must hold a masked code and a hash, not the code: %+v", o)
		}
		return &payclient.Payment{TradeState: payclient.TradeSuccess, TransactionID: "T1", Channel: order.ChannelWeChat, TotalFee: r.TotalFee}, nil
	}
	r := New(j, b, fastCfg, nil)
	o, err := r.Pay(context.Background(), PayRequest{Amount: 1250, Code: wechatCode})
	if err != nil || o.State != order.StatePaid || o.TransactionID != "T1" {
		t.Fatalf("Pay = %+v, %v", o, err)
	}
	if got, _ := j.Get(o.OutTradeNo); got.State != order.StatePaid {
		t.Errorf("journal has %v", got.State)
	}
}

func TestJournalFailureSendsNothing(t *testing.T) {
	j := newMem()
	j.failing = true
	b := &fakeBank{}
	r := New(j, b, fastCfg, nil)
	_, err := r.Pay(context.Background(), PayRequest{Amount: 100, Code: wechatCode})
	if !errors.Is(err, ErrJournal) {
		t.Fatalf("err = %v", err)
	}
	if c := b.Calls(); len(c) != 0 {
		t.Fatalf("bank was called: %v", c)
	}
}

func TestNotAPaymentCodeSendsNothing(t *testing.T) {
	j := newMem()
	b := &fakeBank{}
	r := New(j, b, fastCfg, nil)
	for _, code := range []string{"6901234567892", "https://example.com/x", "ABC123", ""} {
		_, err := r.Pay(context.Background(), PayRequest{Amount: 100, Code: code})
		if !errors.Is(err, scan.ErrNotPaymentCode) {
			t.Errorf("%q: err = %v", code, err)
		}
	}
	if _, err := r.Pay(context.Background(), PayRequest{Amount: 0, Code: wechatCode}); !errors.Is(err, ErrBadAmount) {
		t.Errorf("zero amount: %v", err)
	}
	if len(b.Calls()) != 0 || len(j.recs) != 0 {
		t.Fatalf("something was sent or journaled: %v %d", b.Calls(), len(j.recs))
	}
}

func TestPasswordThenPaid(t *testing.T) {
	j := newMem()
	b := &fakeBank{}
	var mu sync.Mutex
	polls := 0
	b.micropay = func(payclient.MicropayRequest) (*payclient.Payment, error) { return nil, apiErr("USERPAYING") }
	b.query = func(string) (*payclient.Payment, error) {
		mu.Lock()
		defer mu.Unlock()
		polls++
		if polls < 3 {
			return &payclient.Payment{TradeState: payclient.TradeUserPaying}, nil
		}
		return &payclient.Payment{TradeState: payclient.TradeSuccess, TransactionID: "T2", Channel: order.ChannelAlipay, TotalFee: 300}, nil
	}
	r := New(j, b, fastCfg, nil)
	var states []order.State
	var smu sync.Mutex
	r.Subscribe(func(o order.Order) { smu.Lock(); states = append(states, o.State); smu.Unlock() })
	o, err := r.Pay(context.Background(), PayRequest{Amount: 300, Code: wechatCode})
	if err != nil || o.State != order.StatePaid || o.Channel != order.ChannelAlipay {
		t.Fatalf("Pay = %+v, %v", o, err)
	}
	smu.Lock()
	defer smu.Unlock()
	if !containsState(states, order.StateWaiting) {
		t.Errorf("subscribers never saw waiting: %v", states)
	}
}

func containsState(ss []order.State, s order.State) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestCancelClosesWhileWaiting(t *testing.T) {
	j := newMem()
	b := &fakeBank{}
	b.micropay = func(payclient.MicropayRequest) (*payclient.Payment, error) { return nil, apiErr("USERPAYING") }
	b.query = userPaying
	b.close = func(string) (*payclient.Payment, error) {
		return &payclient.Payment{TradeState: payclient.TradeClosed}, nil
	}
	cfg := fastCfg
	cfg.PollTimeout = time.Hour // only Cancel can end it
	r := New(j, b, cfg, nil)
	waiting := make(chan string, 1)
	r.Subscribe(func(o order.Order) {
		if o.State == order.StateWaiting {
			select {
			case waiting <- o.OutTradeNo:
			default:
			}
		}
	})
	o, err := r.Start(context.Background(), PayRequest{Amount: 300, Code: wechatCode})
	if err != nil {
		t.Fatal(err)
	}
	<-waiting
	// A rescan of the same code while it is open is refused.
	if _, err := r.Start(context.Background(), PayRequest{Amount: 300, Code: wechatCode}); !errors.Is(err, ErrCodeUnresolved) {
		t.Errorf("rescan: %v", err)
	}
	if !r.Cancel(o.OutTradeNo) {
		t.Fatal("Cancel found no order")
	}
	final, _ := r.Wait(context.Background(), o.OutTradeNo)
	if final.State != order.StateClosed || !final.Cancelled {
		t.Fatalf("after cancel: %+v", final)
	}
	if c := b.Calls(); c[len(c)-1] != "close" || countOf(c, "micropay") != 1 {
		t.Errorf("calls: %v", c)
	}
}

func countOf(ss []string, s string) int {
	n := 0
	for _, x := range ss {
		if x == s {
			n++
		}
	}
	return n
}

func TestDeadlineClosesAndRevoked(t *testing.T) {
	j := newMem()
	b := &fakeBank{}
	b.micropay = func(payclient.MicropayRequest) (*payclient.Payment, error) { return nil, apiErr("USERPAYING") }
	b.query = userPaying
	b.close = func(string) (*payclient.Payment, error) {
		return &payclient.Payment{TradeState: payclient.TradeRevoked}, nil
	}
	r := New(j, b, fastCfg, nil)
	o, err := r.Pay(context.Background(), PayRequest{Amount: 300, Code: wechatCode})
	if err != nil || o.State != order.StateRevoked {
		t.Fatalf("Pay = %+v, %v", o, err)
	}
}

func TestLostAnswerResendsSameNumber(t *testing.T) {
	j := newMem()
	b := &fakeBank{}
	var nos []string
	var mu sync.Mutex
	b.micropay = func(r payclient.MicropayRequest) (*payclient.Payment, error) {
		mu.Lock()
		defer mu.Unlock()
		nos = append(nos, r.OutTradeNo)
		if len(nos) == 1 {
			return nil, commErr()
		}
		return &payclient.Payment{TradeState: payclient.TradeSuccess, TransactionID: "T3", TotalFee: r.TotalFee}, nil
	}
	r := New(j, b, fastCfg, nil)
	o, err := r.Pay(context.Background(), PayRequest{Amount: 300, Code: wechatCode})
	if err != nil || o.State != order.StatePaid {
		t.Fatalf("Pay = %+v, %v", o, err)
	}
	if len(nos) != 2 || nos[0] != nos[1] {
		t.Fatalf("re-send must reuse the number: %v", nos)
	}
}

func TestCloseUnreachableThenBackgroundResolves(t *testing.T) {
	j := newMem()
	b := &fakeBank{}
	var mu sync.Mutex
	bankDown := true
	b.micropay = func(payclient.MicropayRequest) (*payclient.Payment, error) { return nil, commErr() }
	b.query = func(string) (*payclient.Payment, error) {
		mu.Lock()
		defer mu.Unlock()
		if bankDown {
			return nil, commErr()
		}
		return nil, &payclient.APIError{ReturnCode: "SUCCESS", ErrCode: "ORDERNOTEXIST"}
	}
	b.close = func(string) (*payclient.Payment, error) {
		mu.Lock()
		defer mu.Unlock()
		if bankDown {
			return nil, commErr()
		}
		return &payclient.Payment{TradeState: payclient.TradeClosed}, nil
	}
	r := New(j, b, fastCfg, nil)
	o, err := r.Pay(context.Background(), PayRequest{Amount: 300, Code: wechatCode})
	if err != nil || o.State != order.StateUnknown {
		t.Fatalf("Pay = %+v, %v", o, err)
	}
	if _, err := r.Start(context.Background(), PayRequest{Amount: 300, Code: wechatCode}); !errors.Is(err, ErrCodeUnresolved) {
		t.Errorf("rescan of an unknown order's code: %v", err)
	}
	mu.Lock()
	bankDown = false
	mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan order.Order, 1)
	r.Subscribe(func(c order.Order) {
		if c.OutTradeNo == o.OutTradeNo && c.State.Terminal() {
			done <- c
		}
	})
	go r.Background(ctx)
	if c := <-done; c.State != order.StateClosed {
		t.Fatalf("background resolved to %v", c.State)
	}
}

func TestShutdownMidFlightThenResolve(t *testing.T) {
	j := newMem()
	b := &fakeBank{}
	b.micropay = func(payclient.MicropayRequest) (*payclient.Payment, error) { return nil, apiErr("USERPAYING") }
	b.query = userPaying
	cfg := fastCfg
	cfg.PollTimeout = time.Hour
	r := New(j, b, cfg, nil)
	ctx, cancel := context.WithCancel(context.Background())
	waiting := make(chan struct{}, 1)
	r.Subscribe(func(o order.Order) {
		if o.State == order.StateWaiting {
			select {
			case waiting <- struct{}{}:
			default:
			}
		}
	})
	o, err := r.Start(ctx, PayRequest{Amount: 300, Code: wechatCode})
	if err != nil {
		t.Fatal(err)
	}
	<-waiting
	cancel() // the process is going away
	r.Wait(context.Background(), o.OutTradeNo)
	if got, _ := j.Get(o.OutTradeNo); got.State.Terminal() {
		t.Fatalf("order should stay unresolved: %v", got.State)
	}
	// A new process (new runner) resolves it: the payer paid meanwhile.
	b2 := &fakeBank{query: func(string) (*payclient.Payment, error) {
		return &payclient.Payment{TradeState: payclient.TradeSuccess, TransactionID: "T9", TotalFee: 300}, nil
	}}
	r2 := New(j, b2, cfg, nil)
	out, err := r2.ResolveAll(context.Background())
	if err != nil || len(out) != 1 || out[0].State != order.StatePaid {
		t.Fatalf("ResolveAll = %+v, %v", out, err)
	}
	if c := b2.Calls(); countOf(c, "micropay") != 0 {
		t.Fatalf("resolve must never charge: %v", c)
	}
}

func TestPrecreateFollowed(t *testing.T) {
	j := newMem()
	b := &fakeBank{}
	var mu sync.Mutex
	polls := 0
	b.precreate = func(r payclient.PrecreateRequest) (*payclient.Precreated, error) {
		return &payclient.Precreated{CodeURL: "https://qr.example/" + r.OutTradeNo}, nil
	}
	b.query = func(string) (*payclient.Payment, error) {
		mu.Lock()
		defer mu.Unlock()
		polls++
		if polls < 2 {
			return &payclient.Payment{TradeState: payclient.TradeNotPay}, nil
		}
		return &payclient.Payment{TradeState: payclient.TradeSuccess, TransactionID: "T5", TotalFee: 500}, nil
	}
	r := New(j, b, fastCfg, nil)
	o, err := r.Precreate(context.Background(), 500, "")
	if err != nil || o.CodeURL == "" || o.Kind != order.KindPrecreate {
		t.Fatalf("Precreate = %+v, %v", o, err)
	}
	final, _ := r.Wait(context.Background(), o.OutTradeNo)
	if final.State != order.StatePaid {
		t.Fatalf("final %v", final.State)
	}
}

func TestRequeryAndCloseOrder(t *testing.T) {
	j := newMem()
	now := time.Now()
	o := order.Order{OutTradeNo: "SBX", AmountFen: 100, State: order.StateUnknown, CreatedAt: now, SentAt: now, Deadline: now}
	j.Append(o)
	b := &fakeBank{
		query: func(string) (*payclient.Payment, error) { return nil, commErr() },
		close: func(string) (*payclient.Payment, error) {
			return &payclient.Payment{TradeState: payclient.TradeClosed}, nil
		},
	}
	r := New(j, b, fastCfg, nil)
	got, err := r.Requery(context.Background(), "SBX")
	if err != nil || got.State != order.StateUnknown {
		t.Fatalf("Requery = %+v, %v", got, err)
	}
	got, err = r.CloseOrder(context.Background(), "SBX")
	if err != nil || got.State != order.StateClosed {
		t.Fatalf("CloseOrder = %+v, %v", got, err)
	}
	if _, err := r.CloseOrder(context.Background(), "SBX"); !errors.Is(err, ErrFinal) {
		t.Errorf("closing a closed order: %v", err)
	}
	if _, err := r.Requery(context.Background(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown order: %v", err)
	}
}

// An unresolved order sent under another terminal is never queried or
// closed under this one: that bank would tombstone an unknown number as
// "closed" while the first terminal's bank may have charged it.
func TestResolveSkipsOtherTerminalsOrders(t *testing.T) {
	j := newMem()
	now := time.Now()
	j.Append(order.Order{OutTradeNo: "SBOTHER", AmountFen: 100, State: order.StateUnknown, TerminalID: "T0009",
		CreatedAt: now, SentAt: now, Deadline: now})
	b := &fakeBank{}
	cfg := fastCfg
	cfg.TerminalID = "T0001"
	r := New(j, b, cfg, nil)
	out, err := r.ResolveAll(context.Background())
	if err != nil || len(out) != 0 || len(b.Calls()) != 0 {
		t.Fatalf("ResolveAll = %v, %v; calls %v", out, err, b.Calls())
	}
	if o, _ := j.Get("SBOTHER"); o.State != order.StateUnknown {
		t.Fatalf("order changed to %v", o.State)
	}
}
