package ui

import (
	"fmt"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payflow"
)

const wechatCode = "134567890123456786"

// The whole cashier flow: type the amount, the scan box delivers a code, the
// payer is asked for a password (countdown), the cashier cancels, the order
// ends closed.
func TestPayWindowCancelFlow(t *testing.T) {
	env, f, clk := newTestEnv(t)
	p := NewPayWindow(env)
	p.Show()
	if got := p.win.Canvas().Focused(); got != p.amountEntry {
		t.Fatalf("focus on %v, want the amount entry when no amount is captured", got)
	}
	test.Type(p.amountEntry, "12.5")
	p.amountEntry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if got := p.amountBig.Text(); got != "¥ 12.50" {
		t.Errorf("amount shows %q", got)
	}
	if len(f.manual) != 1 || f.manual[0] != 1250 {
		t.Errorf("manual amount recorded %v, want [1250]", f.manual)
	}
	if p.win.Canvas().Focused() != p.codeEntry {
		t.Error("Enter on the amount did not move to the code")
	}

	emit(f.scanSubs, wechatCode) // the scan box, no click
	if len(f.orders) != 1 || f.orders[0].AmountFen != 1250 {
		t.Fatalf("orders %+v, want one of 12.50", f.orders)
	}
	no := f.orders[0].OutTradeNo
	if got := p.statusBig.Text(); got != T("pay.sending") {
		t.Errorf("status %q after scan", got)
	}
	f.update(no, func(o *order.Order) {
		o.State = order.StateWaiting
		o.Deadline = clk.now.Add(45 * time.Second)
	})
	if got := p.statusBig.Text(); got != "请顾客输入密码" {
		t.Errorf("status %q, want the waiting sentence", got)
	}
	if got := p.countdown.Text; got != "剩余 45 秒" {
		t.Errorf("countdown %q", got)
	}
	clk.advance(5 * time.Second)
	if got := p.countdown.Text; got != "剩余 40 秒" {
		t.Errorf("countdown after 5 s %q", got)
	}
	if p.cancelBtn.Disabled() {
		t.Fatal("Cancel is disabled while waiting")
	}
	test.Tap(p.cancelBtn)
	if len(f.cancelled) != 1 || f.cancelled[0] != no {
		t.Fatalf("cancelled %v, want [%s]", f.cancelled, no)
	}
	f.update(no, func(o *order.Order) { o.State = order.StateClosing; o.Cancelled = true })
	f.update(no, func(o *order.Order) { o.State = order.StateClosed })
	if got := p.statusBig.Text(); got != "已取消" {
		t.Errorf("status %q, want closed", got)
	}
	if got := p.detail.Text; got != "订单号 "+no+"\n收银员已取消订单，未扣款。" {
		t.Errorf("detail %q", got)
	}
	if !p.cancelBtn.Disabled() || p.chargeBtn.Disabled() {
		t.Error("after the end Cancel must be off and Charge on")
	}
}

func TestPayWindowPaidAutoCloseAndAgain(t *testing.T) {
	env, f, clk := newTestEnv(t)
	f.amount, f.hasAmount = AmountReading{Amount: 8800, Source: "serial", At: clk.now.Add(-25 * time.Second)}, true
	p := NewPayWindow(env)
	p.Show()
	if p.win.Canvas().Focused() != p.codeEntry {
		t.Fatal("with a captured amount the focus must be on the code")
	}
	if got := p.sourceLabel.Text; got != "来源：串口 · 20 秒前" {
		t.Errorf("source line %q", got)
	}
	// Typing the code and Enter works as well as the scan box.
	test.Type(p.codeEntry, wechatCode)
	if got := p.walletLabel.Text; got != "微信支付" {
		t.Errorf("wallet %q", got)
	}
	p.codeEntry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	no := f.orders[0].OutTradeNo
	f.update(no, func(o *order.Order) { o.State = order.StatePaid; o.Channel = order.ChannelWeChat })
	if got := p.statusBig.Text(); got != "收款成功  ¥88.00" {
		t.Errorf("status %q", got)
	}
	if p.statusBig.obj.Color != colorPaid {
		t.Error("success is not green")
	}
	if got := p.countdown.Text; got != "3 秒后关闭" {
		t.Errorf("auto-close line %q", got)
	}
	clk.advance(3 * time.Second)
	if p.visible {
		t.Error("the window did not close itself after success")
	}

	// Same amount again within 60 s: a confirmation first, no order.
	p.Show()
	emit(f.scanSubs, "284567890123456784")
	if len(f.orders) != 1 {
		t.Fatalf("a second charge of the same amount started without asking (%d orders)", len(f.orders))
	}
	if !hasDialog(p.win, "再次收款？") {
		t.Error("no charge-again dialog")
	}
	// Esc answers No (the dialog's overlay holds the focus: the key comes
	// to the canvas).
	p.win.Canvas().(interface {
		OnTypedKey() func(*fyne.KeyEvent)
	}).OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if len(f.orders) != 1 || p.againDlg != nil || !p.visible {
		t.Errorf("after Esc: %d orders, dialog %v, visible %v", len(f.orders), p.againDlg != nil, p.visible)
	}
	// Confirming charges.
	emit(f.scanSubs, "284567890123456784")
	p.againDlg.Confirm()
	if len(f.orders) != 2 {
		t.Fatalf("confirming did not charge (%d orders)", len(f.orders))
	}
	// The charged amount stays charged however long ago (issue 8 defect
	// 1: ten minutes later it must still ask), until the amount changes.
	clk.advance(61 * time.Second)
	f.update(f.orders[1].OutTradeNo, func(o *order.Order) { o.State = order.StatePaid })
	clk.advance(10 * time.Minute)
	p.charge("284567890123456784")
	if len(f.orders) != 2 || p.againDlg == nil {
		t.Fatalf("orders %d, dialog %v: a charged amount was charged again without asking", len(f.orders), p.againDlg != nil)
	}
	p.againDlg.Hide()
	p.againDlg = nil
	// A new amount for the next customer charges without a question.
	emit(f.amountSubs, AmountReading{Amount: 8800, Source: "serial", At: clk.now})
	p.charge("284567890123456784")
	if len(f.orders) != 3 || p.againDlg != nil {
		t.Errorf("orders %d, want 3 without asking", len(f.orders))
	}
}

func TestPayWindowRefusals(t *testing.T) {
	env, f, _ := newTestEnv(t)
	p := NewPayWindow(env)
	p.Show()
	// No amount: the scan is not charged.
	emit(f.scanSubs, wechatCode)
	if len(f.orders) != 0 || p.statusBig.Text() != "请先输入金额" {
		t.Errorf("orders %d status %q", len(f.orders), p.statusBig.Text())
	}
	test.Type(p.amountEntry, "5")
	// A product barcode is not a payment code.
	p.charge("6901234567892")
	if len(f.orders) != 0 || p.statusBig.Text() != "无法识别的付款码" {
		t.Errorf("orders %d status %q", len(f.orders), p.statusBig.Text())
	}
	// A new captured amount replaces the one on screen while idle.
	emit(f.amountSubs, AmountReading{Amount: 4321, Source: "ocr", At: env.Now()})
	if p.amountEntry.Text != "43.21" || p.sourceLabel.Text != "来源：屏幕识别 · 刚刚" {
		t.Errorf("amount %q source %q", p.amountEntry.Text, p.sourceLabel.Text)
	}
}

// hasDialog looks for a dialog title among the window's overlays.
func hasDialog(w fyne.Window, title string) bool {
	for _, o := range w.Canvas().Overlays().List() {
		if findText(o, title) {
			return true
		}
	}
	return false
}

func TestPayWindowMessagesInChinese(t *testing.T) {
	env, f, _ := newTestEnv(t)
	p := NewPayWindow(env)
	p.Show()
	test.Type(p.amountEntry, "5")
	p.charge("254567890123456788")
	no := f.orders[0].OutTradeNo
	f.update(no, func(o *order.Order) {
		o.State, o.ErrCode = order.StateFailed, "NOTENOUGH"
		o.Message = "The customer's balance is not enough; ask for another payment method."
	})
	if p.statusBig.Text() != "支付失败" || p.detail.Text != "订单号 "+no+"\n顾客余额不足，请换一种付款方式。" {
		t.Errorf("status %q detail %q", p.statusBig.Text(), p.detail.Text)
	}
	if p.statusBig.obj.Color != colorFailed {
		t.Error("failure is not red")
	}
	// A refusal before anything was sent is one Chinese sentence too.
	f.payErr = fmt.Errorf("payflow: %w", payflow.ErrCodeUnresolved)
	p.charge("254567890123456788")
	if p.detail.Text != "这个付款码还有未完成的订单，请先在“最近订单”中确认，不要重复收款。" {
		t.Errorf("refusal %q", p.detail.Text)
	}
	SetLanguage(English)
	defer SetLanguage(Chinese)
	if got := orderMessage(f.orders[0]); got != f.orders[0].Message {
		t.Errorf("English message %q", got)
	}
	p.Close()
	emit(f.scanSubs, wechatCode)
	if len(f.orders) != 1 {
		t.Error("a closed pay window still charged a scan")
	}
	if f.captures != 1 {
		t.Errorf("CaptureNow called %d times on Show, want 1", f.captures)
	}
}

// An update that reaches the window before Pay's answer is not lost.
func TestPayWindowEarlyUpdate(t *testing.T) {
	env, f, clk := newTestEnv(t)
	p := NewPayWindow(env)
	p.Show()
	test.Type(p.amountEntry, "9")
	// The runner moves the order to waiting before Start has returned.
	f.afterPay = func(o order.Order) {
		if p.statusBig.Text() != "正在提交…" || !p.busy() {
			t.Errorf("while Pay runs: status %q busy %v", p.statusBig.Text(), p.busy())
		}
		emit(f.scanSubs, "284567890123456784") // a second scan meanwhile: ignored
		f.update(o.OutTradeNo, func(o *order.Order) {
			o.State, o.Deadline, o.UpdatedAt = order.StateWaiting, clk.now.Add(30*time.Second), clk.now.Add(time.Second)
		})
	}
	p.charge(wechatCode)
	if len(f.orders) != 1 {
		t.Fatalf("%d orders", len(f.orders))
	}
	if p.statusBig.Text() != "请顾客输入密码" || p.countdown.Text != "剩余 30 秒" {
		t.Errorf("status %q countdown %q", p.statusBig.Text(), p.countdown.Text)
	}
}
