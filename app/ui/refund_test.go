package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/scanbox/scanbox/order"
)

func TestRefundWindowHappyPath(t *testing.T) {
	env, _, _ := newTestEnv(t)
	rc := newRunnerRefunds(t, "246810")
	w := NewRefundWindow(env, rc, paidOrder)
	w.Show()
	// The amount defaults to what is left: the whole 30.00.
	if w.amount.Text != "30.00" || w.remaining.Text != "可退金额：30.00 元" {
		t.Fatalf("default amount %q, remaining %q", w.amount.Text, w.remaining.Text)
	}
	if w.history.Text != "（无）" {
		t.Errorf("history %q", w.history.Text)
	}
	test.Type(w.amount, "\b\b\b\b\b") // clear
	w.amount.SetText("12.50")
	test.Type(w.reason, "顾客退货")
	test.Type(w.pinEntry, "246810")
	if !w.pinEntry.Password {
		t.Error("the PIN entry is not masked")
	}
	done := 0
	w.OnDone = func() { done++ }
	test.Tap(w.submit)
	if rc.bank.Calls() != 1 {
		t.Fatalf("bank calls %d, want 1", rc.bank.Calls())
	}
	if !strings.HasPrefix(w.result.Text, "退款 12.50 元成功 · RF") || w.result.Importance != widget.SuccessImportance {
		t.Errorf("result %q (%v)", w.result.Text, w.result.Importance)
	}
	if len(rc.spoken) != 1 || rc.spoken[0] != "退款十二点五元成功" {
		t.Errorf("spoken %q", rc.spoken)
	}
	if done != 1 {
		t.Errorf("OnDone called %d times", done)
	}
	// The order shows its refund, and what is left is the default again.
	if !strings.Contains(w.history.Text, "12.50 元  已退款  RF") {
		t.Errorf("history %q", w.history.Text)
	}
	if w.amount.Text != "17.50" || w.remaining.Text != "可退金额：17.50 元" {
		t.Errorf("after: amount %q, remaining %q", w.amount.Text, w.remaining.Text)
	}
	if w.pinEntry.Text != "" {
		t.Error("the PIN stays in the field after the refund")
	}
	// The rest: nothing left, the button is off.
	test.Type(w.pinEntry, "246810")
	test.Tap(w.submit)
	if w.remaining.Text != "这笔订单已全部退款。" || !w.submit.Disabled() || rc.bank.Calls() != 2 {
		t.Errorf("after the rest: %q disabled=%v calls=%d", w.remaining.Text, w.submit.Disabled(), rc.bank.Calls())
	}
}

func TestRefundWindowRefusalsSendNothing(t *testing.T) {
	t.Run("wrong PIN", func(t *testing.T) {
		env, _, _ := newTestEnv(t)
		rc := newRunnerRefunds(t, "246810")
		w := NewRefundWindow(env, rc, paidOrder)
		test.Type(w.pinEntry, "111111")
		test.Tap(w.submit)
		w.amount.SetText("12.50")
		test.Type(w.pinEntry, "111111")
		test.Tap(w.submit)
		want := "店长密码不对（再错 3 次将锁定退款 15 分钟），未退款。"
		if w.result.Text != want || w.result.Importance != widget.DangerImportance {
			t.Errorf("result %q, want %q", w.result.Text, want)
		}
		// The amount typed stays; the PIN is cleared.
		if w.amount.Text != "12.50" || w.pinEntry.Text != "" {
			t.Errorf("after a refusal: amount %q, PIN kept %v", w.amount.Text, w.pinEntry.Text != "")
		}
		checkNothingSent(t, rc, w)
	})
	t.Run("lockout", func(t *testing.T) {
		env, _, _ := newTestEnv(t)
		rc := newRunnerRefunds(t, "246810")
		w := NewRefundWindow(env, rc, paidOrder)
		for range 5 {
			test.Type(w.pinEntry, "111111")
			test.Tap(w.submit)
		}
		// Now even the right PIN is refused.
		test.Type(w.pinEntry, "246810")
		test.Tap(w.submit)
		if !strings.HasPrefix(w.result.Text, "店长密码连续输错 5 次，退款已锁定到 ") || !strings.HasSuffix(w.result.Text, "，未退款。") {
			t.Errorf("result %q", w.result.Text)
		}
		checkNothingSent(t, rc, w)
	})
	t.Run("no PIN set", func(t *testing.T) {
		env, _, _ := newTestEnv(t)
		rc := newRunnerRefunds(t, "")
		w := NewRefundWindow(env, rc, paidOrder)
		test.Type(w.pinEntry, "246810")
		test.Tap(w.submit)
		want := "还没有设置店长密码，不能退款；请用“scanbox pin set”设置。未退款。"
		if w.result.Text != want {
			t.Errorf("result %q, want %q", w.result.Text, want)
		}
		checkNothingSent(t, rc, w)
	})
	t.Run("over the remainder", func(t *testing.T) {
		env, _, _ := newTestEnv(t)
		rc := newRunnerRefunds(t, "246810")
		w := NewRefundWindow(env, rc, paidOrder)
		w.amount.SetText("30.01")
		test.Type(w.pinEntry, "246810")
		test.Tap(w.submit)
		if w.result.Text != "退款金额超过可退金额 30.00 元，未退款。" {
			t.Errorf("result %q", w.result.Text)
		}
		checkNothingSent(t, rc, w)
		// The runner refuses it as well when asked directly (the window's
		// check is for the cashier's sake, not the only guard).
		if _, err := rc.Refund(t.Context(), paidOrder.OutTradeNo, 3001, "", "246810"); err == nil || rc.bank.Calls() != 0 {
			t.Errorf("runner: err %v, calls %d", err, rc.bank.Calls())
		}
	})
	t.Run("English", func(t *testing.T) {
		env, _, _ := newTestEnv(t)
		SetLanguage(English)
		defer SetLanguage(Chinese)
		rc := newRunnerRefunds(t, "246810")
		w := NewRefundWindow(env, rc, paidOrder)
		test.Type(w.pinEntry, "111111")
		test.Tap(w.submit)
		want := "The manager PIN is wrong (4 more tries before refunds lock for 15 minutes); nothing was refunded."
		if w.result.Text != want {
			t.Errorf("result %q, want %q", w.result.Text, want)
		}
		checkNothingSent(t, rc, w)
	})
}

func checkNothingSent(t *testing.T, rc *runnerRefunds, w *RefundWindow) {
	t.Helper()
	if n := rc.bank.Calls(); n != 0 {
		t.Errorf("bank calls %d, want 0", n)
	}
	if rs, _ := rc.st.RefundsOf(paidOrder.OutTradeNo); len(rs) != 0 {
		t.Errorf("refunds stored: %+v", rs)
	}
	if len(rc.spoken) != 0 {
		t.Errorf("spoken %q", rc.spoken)
	}
	if w.submit.Disabled() {
		t.Error("the Refund button stays disabled after a refusal")
	}
}

// Recent orders' Refund button: on for a paid order once the app set
// OnRefund, off for another state; it hands over the selected order.
func TestOrdersRefundButton(t *testing.T) {
	env, f, _ := newTestEnv(t)
	paid, _ := f.Pay(3000, wechatCode)
	f.update(paid.OutTradeNo, func(o *order.Order) { o.State = order.StatePaid })
	open, _ := f.Pay(990, "284567890123456784")
	w := NewOrdersWindow(env)
	w.Select(paid.OutTradeNo)
	if !w.refundBtn.Disabled() {
		t.Error("Refund is on without OnRefund")
	}
	var got []string
	w.OnRefund = func(o order.Order) { got = append(got, o.OutTradeNo) }
	w.Select(open.OutTradeNo)
	if !w.refundBtn.Disabled() {
		t.Error("Refund is on for an order not paid")
	}
	w.Select(paid.OutTradeNo)
	if w.refundBtn.Disabled() {
		t.Fatal("Refund is off for a paid order")
	}
	test.Tap(w.refundBtn)
	if len(got) != 1 || got[0] != paid.OutTradeNo {
		t.Errorf("OnRefund got %v", got)
	}
	// The refund window's splits: the pay window keeps its first row.
	others, after := SplitMenu(MenuTable(Actions{Pay: func() {}, Today: func() {}, Shift: func() {}, Reconcile: func() {}}))
	if len(after) != 3 || len(others) != 7 || len(NewMenuBar(after).Objects) != 3 {
		t.Errorf("split %d/%d", len(others), len(after))
	}
}
