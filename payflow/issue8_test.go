package payflow

// Regression tests for the payment-core defects of issue 8 (each failed
// before its fix).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/scan"
)

// everPaid reports whether the journal ever held no as paid, and at what
// amounts and transaction ids.
func (m *memJournal) paidRecords(no string) []order.Order {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []order.Order
	for _, o := range m.recs {
		if o.OutTradeNo == no && o.State == order.StatePaid {
			out = append(out, o)
		}
	}
	return out
}

// Defect 3: a signed SUCCESS answer for another amount (or another order)
// must never make an order paid, from micropay, from a query, or as the
// details after ORDERPAID.
func TestRegressionPaidAnswerForAnotherAmount(t *testing.T) {
	const amount = 1250
	wrong := func(no string) *payclient.Payment {
		return &payclient.Payment{OutTradeNo: no, TradeState: payclient.TradeSuccess, TransactionID: "TWRONG",
			Channel: order.ChannelWeChat, TotalFee: amount * 100}
	}
	other := func(string) *payclient.Payment {
		return &payclient.Payment{OutTradeNo: "SB000000000000OTHER000", TradeState: payclient.TradeSuccess, TransactionID: "TOTHER",
			Channel: order.ChannelWeChat, TotalFee: amount}
	}
	revoked := func(string) (*payclient.Payment, error) {
		return &payclient.Payment{TradeState: payclient.TradeRevoked}, nil
	}
	cases := []struct {
		name string
		bank func() *fakeBank
	}{
		{"micropay and query at another amount", func() *fakeBank {
			return &fakeBank{
				micropay: func(r payclient.MicropayRequest) (*payclient.Payment, error) { return wrong(r.OutTradeNo), nil },
				query:    func(no string) (*payclient.Payment, error) { return wrong(no), nil },
				close:    revoked,
			}
		}},
		{"query at another amount", func() *fakeBank {
			return &fakeBank{
				micropay: func(payclient.MicropayRequest) (*payclient.Payment, error) { return nil, apiErr("USERPAYING") },
				query:    func(no string) (*payclient.Payment, error) { return wrong(no), nil },
				close:    revoked,
			}
		}},
		{"query about another order", func() *fakeBank {
			return &fakeBank{
				micropay: func(payclient.MicropayRequest) (*payclient.Payment, error) { return nil, commErr() },
				query:    func(no string) (*payclient.Payment, error) { return other(no), nil },
				close:    revoked,
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := newMem()
			r := New(j, c.bank(), fastCfg, nil)
			o, err := r.Pay(context.Background(), PayRequest{Amount: amount, Code: wechatCode})
			if err != nil {
				t.Fatal(err)
			}
			if o.State == order.StatePaid || len(j.paidRecords(o.OutTradeNo)) > 0 {
				t.Fatalf("an answer for another amount or order made the order paid: %+v", j.paidRecords(o.OutTradeNo))
			}
			if o.State != order.StateRevoked || o.TransactionID != "" {
				t.Errorf("final %v %q, want revoked by the close, no transaction recorded", o.State, o.TransactionID)
			}
		})
	}

	t.Run("ORDERPAID details at another amount", func(t *testing.T) {
		j := newMem()
		var mu sync.Mutex
		queries := 0
		b := &fakeBank{
			micropay: func(payclient.MicropayRequest) (*payclient.Payment, error) { return nil, apiErr("ORDERPAID") },
			query: func(no string) (*payclient.Payment, error) {
				mu.Lock()
				queries++
				mu.Unlock()
				return wrong(no), nil
			},
		}
		r := New(j, b, fastCfg, nil)
		o, err := r.Pay(context.Background(), PayRequest{Amount: amount, Code: wechatCode})
		if err != nil {
			t.Fatal(err)
		}
		final, _ := r.Wait(context.Background(), o.OutTradeNo)
		for _, p := range j.paidRecords(o.OutTradeNo) {
			if p.TransactionID != "" || p.AmountFen != amount {
				t.Fatalf("details of another amount were recorded: %+v", p)
			}
		}
		if final.State != order.StatePaid || final.AmountFen != amount {
			t.Errorf("final %+v", final)
		}
		if queries < 2 {
			t.Errorf("a mismatching follow-up must be asked again like a lost one: %d queries", queries)
		}
	})
}

// inflightBank counts bank calls under way at once.
type inflightBank struct {
	mu       sync.Mutex
	now, max int
}

func (b *inflightBank) enter() {
	b.mu.Lock()
	b.now++
	b.max = max(b.max, b.now)
	b.mu.Unlock()
	time.Sleep(200 * time.Microsecond) // let the others pile up if they can
}
func (b *inflightBank) leave() { b.mu.Lock(); b.now--; b.mu.Unlock() }
func (b *inflightBank) Micropay(context.Context, payclient.MicropayRequest) (*payclient.Payment, error) {
	panic("resolve must never charge")
}
func (b *inflightBank) Query(_ context.Context, no string) (*payclient.Payment, error) {
	b.enter()
	defer b.leave()
	return &payclient.Payment{OutTradeNo: no, TradeState: payclient.TradeNotPay}, nil
}
func (b *inflightBank) Close(_ context.Context, no string) (*payclient.Payment, error) {
	b.enter()
	defer b.leave()
	return &payclient.Payment{OutTradeNo: no, TradeState: payclient.TradeClosed}, nil
}
func (b *inflightBank) Precreate(context.Context, payclient.PrecreateRequest) (*payclient.Precreated, error) {
	panic("not used")
}

// Defect 9: ResolveAll sent one request per unresolved order at once.
func TestRegressionResolveAllBounded(t *testing.T) {
	j := newMem()
	past := time.Now().Add(-time.Hour)
	const n = 300
	for i := range n {
		j.Append(order.Order{OutTradeNo: fmt.Sprintf("SB%020d", i), AmountFen: 100, State: order.StatePending,
			CreatedAt: past, UpdatedAt: past, SentAt: past, Deadline: past.Add(time.Minute)})
	}
	b := &inflightBank{}
	r := New(j, b, fastCfg, nil)
	out, err := r.ResolveAll(context.Background())
	if err != nil || len(out) != n {
		t.Fatalf("ResolveAll = %d orders, %v", len(out), err)
	}
	for _, o := range out {
		if o.State != order.StateClosed {
			t.Fatalf("%s: %v", o.OutTradeNo, o.State)
		}
	}
	if b.max > 4 {
		t.Errorf("%d bank calls at once, want at most %d", b.max, 4)
	}
	if len(j.Unresolved()) != 0 {
		t.Errorf("%d left unresolved", len(j.Unresolved()))
	}
}

// Defect 2 (core side): every runner operation on an order checks the
// order's merchant and terminal against the runner's; an order of another
// identity is never queried or closed under this one (the bank would not
// know its number and would tombstone it as closed: "no money was taken"
// for an order that was paid).
func TestRegressionOtherIdentityNeverTouched(t *testing.T) {
	j := newMem()
	past := time.Now().Add(-time.Hour)
	mk := func(no, mch, term string, s order.State) {
		j.Append(order.Order{OutTradeNo: no, AmountFen: 100, State: s, MchID: mch, TerminalID: term,
			CreatedAt: past, UpdatedAt: past, SentAt: past, Deadline: past.Add(time.Minute)})
	}
	mk("SBOTHERTERMINAL0001", "M1", "T2", order.StateUnknown)
	mk("SBOTHERMERCHANT0001", "M2", "T1", order.StatePending)
	mk("SBOURS0000000000001", "M1", "T1", order.StateUnknown)
	var mu sync.Mutex
	touched := map[string]int{}
	touch := func(no string) { mu.Lock(); touched[no]++; mu.Unlock() }
	b := &fakeBank{
		query: func(no string) (*payclient.Payment, error) {
			touch(no)
			return &payclient.Payment{TradeState: payclient.TradeNotPay}, nil
		},
		close: func(no string) (*payclient.Payment, error) {
			touch(no)
			return &payclient.Payment{TradeState: payclient.TradeClosed}, nil
		},
	}
	cfg := fastCfg
	cfg.MchID, cfg.TerminalID = "M1", "T1"
	r := New(j, b, cfg, nil)
	ctx := context.Background()
	for _, no := range []string{"SBOTHERTERMINAL0001", "SBOTHERMERCHANT0001"} {
		if _, err := r.Requery(ctx, no); !errors.Is(err, ErrOtherIdentity) {
			t.Errorf("Requery(%s) = %v, want ErrOtherIdentity", no, err)
		}
		if _, err := r.CloseOrder(ctx, no); !errors.Is(err, ErrOtherIdentity) {
			t.Errorf("CloseOrder(%s) = %v, want ErrOtherIdentity", no, err)
		}
	}
	out, err := r.ResolveAll(ctx)
	if err != nil || len(out) != 1 || out[0].OutTradeNo != "SBOURS0000000000001" || out[0].State != order.StateClosed {
		t.Fatalf("ResolveAll = %+v, %v", out, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if touched["SBOTHERTERMINAL0001"]+touched["SBOTHERMERCHANT0001"] != 0 {
		t.Fatalf("another identity's orders reached the bank: %v", touched)
	}
	for _, no := range []string{"SBOTHERTERMINAL0001", "SBOTHERMERCHANT0001"} {
		if o, _ := j.Get(no); o.State.Terminal() {
			t.Errorf("%s changed to %v", no, o.State)
		}
	}
}

// Defect 8: the journal held the masked code (first 4 + last 4 digits)
// next to an unsalted SHA-256 of the code: about 1e10 candidates for an
// 18-digit code, each checked with one hash. Nothing on disk may let a code
// be confirmed without a secret that is not on the journal's side: the
// fingerprint is keyed with the installation's code key.
func TestRegressionCodeNotRecoverableFromJournal(t *testing.T) {
	key := []byte("per-installation key of 32 bytes")
	j := newMem()
	b := &fakeBank{micropay: func(r payclient.MicropayRequest) (*payclient.Payment, error) {
		return nil, apiErr("USERPAYING")
	}, query: userPaying, close: func(string) (*payclient.Payment, error) {
		return &payclient.Payment{TradeState: payclient.TradeClosed}, nil
	}}
	cfg := fastCfg
	cfg.PollTimeout = time.Hour // stays open: a rescan must be refused
	cfg.CodeKey = key
	r := New(j, b, cfg, nil)
	o, err := r.Start(context.Background(), PayRequest{Amount: 100, Code: wechatCode})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Cancel(o.OutTradeNo)
	unsalted := sha256.Sum256([]byte(wechatCode))
	j.mu.Lock() // the order is still being driven (and appended) meanwhile
	recs := append([]order.Order(nil), j.recs...)
	j.mu.Unlock()
	for _, rec := range recs {
		if rec.CodeHash == hex.EncodeToString(unsalted[:]) || strings.Contains(fmt.Sprintf("%+v", rec), wechatCode) {
			t.Fatalf("the journal holds something that confirms the code without a key: %+v", rec)
		}
		if rec.CodeHash == "" || rec.CodeMasked != scan.Mask(wechatCode) {
			t.Fatalf("record without fingerprint or with another mask: %+v", rec)
		}
	}
	// With the key (this installation), a rescan is still refused, also by
	// a new runner (a restart); under another key the fingerprint differs.
	if _, err := r.Start(context.Background(), PayRequest{Amount: 100, Code: wechatCode + "\r\n"}); !errors.Is(err, ErrCodeUnresolved) {
		t.Errorf("rescan = %v, want ErrCodeUnresolved", err)
	}
	if _, err := New(j, b, cfg, nil).Start(context.Background(), PayRequest{Amount: 100, Code: wechatCode}); !errors.Is(err, ErrCodeUnresolved) {
		t.Errorf("rescan after a restart = %v, want ErrCodeUnresolved", err)
	}
	if scan.Fingerprint([]byte("another installation's key 32 b"), wechatCode) == o.CodeHash {
		t.Error("the fingerprint does not depend on the key")
	}
}

// Defect 8, migration: an order journaled by an earlier version carries the
// old unsalted hash. While it is unresolved a rescan of its code is still
// refused (the hash is compared in memory, never written again).
func TestRegressionLegacyHashStillGuards(t *testing.T) {
	j := newMem()
	unsalted := sha256.Sum256([]byte(wechatCode))
	past := time.Now().Add(-time.Minute)
	j.Append(order.Order{OutTradeNo: "SBLEGACY000000000001", AmountFen: 100, State: order.StateUnknown,
		CodeMasked: scan.Mask(wechatCode), CodeHash: hex.EncodeToString(unsalted[:]),
		CreatedAt: past, UpdatedAt: past, SentAt: past, Deadline: past})
	cfg := fastCfg
	cfg.CodeKey = []byte("per-installation key of 32 bytes")
	r := New(j, &fakeBank{}, cfg, nil)
	if _, err := r.Start(context.Background(), PayRequest{Amount: 100, Code: wechatCode}); !errors.Is(err, ErrCodeUnresolved) {
		t.Fatalf("rescan of a code whose legacy order is open = %v, want ErrCodeUnresolved", err)
	}
}

// Defect 8, no weaker guard: a fingerprint made under another key (the
// runner was started without the installation's key, so each process had
// its own; or code.key was lost) cannot be compared. A rescan of a code
// whose order is still open must then be refused on its masked digits,
// never charged a second time; with comparable fingerprints a code that
// only shares the masked digits is accepted.
func TestRegressionRescanRefusedAcrossKeys(t *testing.T) {
	j := newMem()
	b := &fakeBank{micropay: func(payclient.MicropayRequest) (*payclient.Payment, error) { return nil, apiErr("USERPAYING") },
		query: userPaying, close: func(string) (*payclient.Payment, error) {
			return &payclient.Payment{TradeState: payclient.TradeClosed}, nil
		}}
	cfg := fastCfg
	cfg.PollTimeout = time.Hour
	first := New(j, b, cfg, nil) // no CodeKey: a key of its own
	o, err := first.Start(context.Background(), PayRequest{Amount: 100, Code: wechatCode})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Cancel(o.OutTradeNo)
	restarted := New(j, b, cfg, nil) // another process, another key
	if _, err := restarted.Start(context.Background(), PayRequest{Amount: 100, Code: wechatCode}); !errors.Is(err, ErrCodeUnresolved) {
		t.Fatalf("rescan after a restart without the installation key = %v, want ErrCodeUnresolved", err)
	}
	// Same first 4 and last 4 digits, another code: the first runner can
	// compare fingerprints and knows it is another code.
	sameMask := wechatCode[:4] + "9999999999" + wechatCode[14:]
	if scan.Mask(sameMask) != scan.Mask(wechatCode) || sameMask == wechatCode {
		t.Fatal("bad test code")
	}
	o2, err := first.Start(context.Background(), PayRequest{Amount: 100, Code: sameMask})
	if err != nil {
		t.Fatalf("a different code with the same masked digits = %v", err)
	}
	first.Cancel(o2.OutTradeNo)
}
