package ui

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/pin"
	"github.com/scanbox/scanbox/refund"
	"github.com/scanbox/scanbox/voice"
)

// memRefunds is an in-memory refund.Store with one paid order set.
type memRefunds struct {
	mu      sync.Mutex
	orders  map[string]order.Order
	refunds []refund.Refund // newest state of each, in creation order
}

func (m *memRefunds) AppendRefund(r refund.Refund) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.refunds {
		if m.refunds[i].OutRefundNo == r.OutRefundNo {
			m.refunds[i] = r
			return nil
		}
	}
	m.refunds = append(m.refunds, r)
	return nil
}
func (m *memRefunds) GetRefund(no string) (refund.Refund, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.refunds {
		if r.OutRefundNo == no {
			return r, true, nil
		}
	}
	return refund.Refund{}, false, nil
}
func (m *memRefunds) RefundsOf(no string) ([]refund.Refund, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []refund.Refund
	for _, r := range m.refunds {
		if r.OutTradeNo == no {
			out = append(out, r)
		}
	}
	return out, nil
}
func (m *memRefunds) UnresolvedRefunds() ([]refund.Refund, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []refund.Refund
	for _, r := range m.refunds {
		if !r.State.Terminal() {
			out = append(out, r)
		}
	}
	return out, nil
}
func (m *memRefunds) Order(no string) (order.Order, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[no]
	return o, ok
}

// countingBank answers every refund SUCCESS and counts the calls.
type countingBank struct {
	mu    sync.Mutex
	calls int
}

func (b *countingBank) Refund(ctx context.Context, r payclient.RefundRequest) (*payclient.Refund, error) {
	b.mu.Lock()
	b.calls++
	b.mu.Unlock()
	return &payclient.Refund{OutTradeNo: r.OutTradeNo, OutRefundNo: r.OutRefundNo, RefundID: "50" + r.OutRefundNo,
		RefundFee: r.RefundFee, State: payclient.RefundSuccess}, nil
}
func (b *countingBank) RefundQuery(ctx context.Context, no string) (*payclient.Refund, error) {
	b.mu.Lock()
	b.calls++
	b.mu.Unlock()
	return nil, errors.New("not expected")
}
func (b *countingBank) Calls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

// runnerRefunds is a RefundController over the real refund runner and PIN
// manager (cheap argon2 parameters), a memory store and a counting bank:
// the refusals the window shows are the runner's own.
type runnerRefunds struct {
	r      *refund.Runner
	st     *memRefunds
	bank   *countingBank
	pins   *pin.Manager
	spoken []string
}

var paidOrder = order.Order{OutTradeNo: "SB20261126100000A1", AmountFen: 3000, State: order.StatePaid,
	Channel: order.ChannelWeChat, CodeMasked: "1345**********6786", CreatedAt: time.Date(2026, 11, 26, 9, 30, 0, 0, time.Local)}

func newRunnerRefunds(t *testing.T, managerPIN string) *runnerRefunds {
	t.Helper()
	st := &memRefunds{orders: map[string]order.Order{paidOrder.OutTradeNo: paidOrder}}
	pins := pin.Open(t.TempDir(), pin.WithParams(pin.Params{Time: 1, Memory: 64, Threads: 1, KeyLen: 32, SaltLen: 16}))
	if managerPIN != "" {
		if err := pins.Set(managerPIN); err != nil {
			t.Fatal(err)
		}
	}
	b := &countingBank{}
	r := refund.New(st, b, pins, refund.Config{PollInterval: 5 * time.Millisecond, FollowFor: 200 * time.Millisecond,
		MchID: "M1", TerminalID: "T1"}, nil)
	return &runnerRefunds{r: r, st: st, bank: b, pins: pins}
}

func (f *runnerRefunds) Remaining(no string) (money.Fen, error) { return f.r.Remaining(no) }
func (f *runnerRefunds) Refunds(no string) ([]RefundLine, error) {
	rs, err := f.st.RefundsOf(no)
	var out []RefundLine
	for _, x := range rs {
		out = append(out, RefundLine{OutRefundNo: x.OutRefundNo, OutTradeNo: x.OutTradeNo, Amount: x.RefundFen,
			State: x.State.String(), Reason: x.Reason, At: x.CreatedAt})
	}
	return out, err
}
func (f *runnerRefunds) Refund(ctx context.Context, no string, amount money.Fen, reason, p string) (RefundLine, error) {
	x, err := f.r.Refund(ctx, refund.Request{OutTradeNo: no, Amount: amount, Reason: reason, PIN: p})
	if err != nil {
		return RefundLine{}, err
	}
	return RefundLine{OutRefundNo: x.OutRefundNo, OutTradeNo: x.OutTradeNo, Amount: x.RefundFen, State: x.State.String(), At: x.CreatedAt}, nil
}
func (f *runnerRefunds) SpeakRefunded(a money.Fen) {
	f.spoken = append(f.spoken, voice.Text(voice.RefundedClips(a)))
}
