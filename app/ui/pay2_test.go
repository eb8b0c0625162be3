package ui

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payflow"
)

const (
	alipayCode = "284567890123456784"
	otherCode  = "134567890123456793"
)

func answerNo(p *PayWindow) {
	p.win.Canvas().(interface {
		OnTypedKey() func(*fyne.KeyEvent)
	}).OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
}

// Issue 8 defect 1: an amount captured ten minutes ago is not charged by a
// scan without a question; the question says how old it is.
func TestPayWindowStaleAmountAsks(t *testing.T) {
	env, f, clk := newTestEnv(t)
	f.amount, f.hasAmount = AmountReading{Amount: 4500, Source: "serial", At: clk.now}, true
	p := NewPayWindow(env)
	p.Show()
	clk.advance(10 * time.Minute)
	emit(f.scanSubs, wechatCode)
	if len(f.orders) != 0 {
		t.Fatalf("a ten-minute-old amount was charged by a scan (%d orders)", len(f.orders))
	}
	if !hasDialog(p.win, "金额不是刚读取的") || !hasDialog(p.win, "金额 45.00 元是10 分钟前读取的，可能是上一位顾客的。确定收这个金额？") {
		t.Fatal("no stale-amount question")
	}
	answerNo(p)
	if len(f.orders) != 0 {
		t.Fatal("No charged")
	}
	emit(f.scanSubs, wechatCode)
	p.againDlg.Confirm()
	if len(f.orders) != 1 || f.orders[0].AmountFen != 4500 {
		t.Fatalf("confirming did not charge: %+v", f.orders)
	}
}

// Issue 8 defect 1 (the paid amount): after a payment the amount is marked
// charged on screen; the next scan asks, even ten minutes later.
func TestPayWindowAmountConsumedByPayment(t *testing.T) {
	env, f, clk := newTestEnv(t)
	p := NewPayWindow(env)
	p.Show()
	test.Type(p.amountEntry, "20")
	emit(f.scanSubs, wechatCode)
	f.update(f.orders[0].OutTradeNo, func(o *order.Order) { o.State = order.StatePaid })
	if p.sourceLabel.Text != "此金额已收款 · 刚刚" {
		t.Errorf("source line after payment %q", p.sourceLabel.Text)
	}
	clk.advance(10 * time.Minute)
	p.Show()
	emit(f.scanSubs, alipayCode)
	if len(f.orders) != 1 || !hasDialog(p.win, "再次收款？") {
		t.Fatalf("the previous customer's amount was charged again without asking (%d orders)", len(f.orders))
	}
	// The question's age moves with the clock (issue 11 item 14).
	if !hasDialog(p.win, "20.00 元已经收款成功（10 分钟前）。确定再收一次？") {
		t.Error("dialog text")
	}
	clk.advance(time.Minute)
	if !hasDialog(p.win, "20.00 元已经收款成功（11 分钟前）。确定再收一次？") {
		t.Error("the dialog's age does not advance")
	}
	// The highlighted button is not "charge again" (Esc and Enter mean No).
	if b := findButton(p.win.Canvas().Overlays().Top(), "再收一次"); b == nil {
		t.Error("no charge-again button")
	} else if b.Importance == widget.HighImportance {
		t.Error("the charge-again button is the highlighted one")
	}
}

// Issue 8 defect 1 (OCR): a scan waits for the fresh screen reading and
// charges that, not the old amount; a failed read charges nothing.
func TestPayWindowOCRScanAwaitsFreshReading(t *testing.T) {
	env, f, clk := newTestEnv(t)
	f.settings.AmountSource = "ocr"
	f.amount, f.hasAmount = AmountReading{Amount: 1000, Source: "ocr", At: clk.now}, true
	p := NewPayWindow(env)
	p.Show()
	f.screen = AmountReading{Amount: 2350, Source: "ocr", At: clk.now.Add(time.Second)}
	emit(f.scanSubs, wechatCode)
	if f.reads != 1 || len(f.orders) != 1 || f.orders[0].AmountFen != 2350 {
		t.Fatalf("reads %d orders %+v: the scan did not charge the fresh screen amount", f.reads, f.orders)
	}
	f.update(f.orders[0].OutTradeNo, func(o *order.Order) { o.State = order.StateFailed; o.ErrCode = "NOTENOUGH" })
	f.screenErr = errors.New("ocr: tesseract: exit status 1")
	emit(f.scanSubs, alipayCode)
	if len(f.orders) != 1 {
		t.Fatal("a failed screen read charged the old amount")
	}
	if p.statusBig.Text() != "未读到金额，未收款" {
		t.Errorf("status %q", p.statusBig.Text())
	}
	// A manual amount typed for this sale is charged without a read.
	f.screenErr = nil
	p.amountEntry.SetText("")
	test.Type(p.amountEntry, "7")
	emit(f.scanSubs, alipayCode)
	if f.reads != 2 || len(f.orders) != 2 || f.orders[1].AmountFen != 700 {
		t.Errorf("reads %d orders %+v", f.reads, f.orders)
	}
}

// Issue 8 defect 5: an unknown order does not wedge the window; the next
// sale (another code) is taken; the same code stays refused.
func TestPayWindowUnknownDoesNotWedge(t *testing.T) {
	env, f, _ := newTestEnv(t)
	p := NewPayWindow(env)
	p.Show()
	test.Type(p.amountEntry, "30")
	emit(f.scanSubs, wechatCode)
	no := f.orders[0].OutTradeNo
	f.update(no, func(o *order.Order) { o.State, o.ErrCode = order.StateUnknown, payflow.CodeComm })
	if p.statusBig.Text() != "结果未知" || p.countdown.Text != "系统正在后台确认；可以收下一笔" {
		t.Errorf("status %q / %q", p.statusBig.Text(), p.countdown.Text)
	}
	if want := "订单号 " + no + "\n结果未知：无法连接银行完成此订单。请顾客看手机是否已扣款；系统会在后台继续确认，不要重复收款。"; p.detail.Text != want {
		t.Errorf("detail %q", p.detail.Text)
	}
	if p.chargeBtn.Disabled() || p.amountEntry.Disabled() || p.codeEntry.Disabled() {
		t.Fatal("the window is locked by an unknown order")
	}
	// The same code: refused here, nothing sent.
	emit(f.scanSubs, wechatCode)
	if len(f.orders) != 1 || p.statusBig.Text() != "此付款码的订单未确认" {
		t.Fatalf("same code: %d orders, status %q", len(f.orders), p.statusBig.Text())
	}
	// Another sale, another amount, another code.
	p.amountEntry.SetText("")
	test.Type(p.amountEntry, "12")
	emit(f.scanSubs, otherCode)
	if len(f.orders) != 2 || f.orders[1].AmountFen != 1200 {
		t.Fatalf("the next sale was not taken: %+v", f.orders)
	}
	f.update(f.orders[1].OutTradeNo, func(o *order.Order) { o.State = order.StatePaid })
	// The resolver settles the first one: a note, and its code is free.
	f.update(no, func(o *order.Order) { o.State, o.ErrCode = order.StateClosed, "" })
	if p.note.Text != "订单 "+no+" 已确认：已关闭（顾客未确认）" {
		t.Errorf("note %q", p.note.Text)
	}
	if len(p.unknownCodes) != 0 {
		t.Error("the settled order's code is still refused")
	}
	// Esc with nothing in flight hides the window.
	p.escape()
	if p.visible {
		t.Error("Esc did nothing")
	}
}

// Issue 11 item 5: the bank refuses the connection: said at once, with the
// countdown while the order is followed.
func TestPayWindowBankUnreachable(t *testing.T) {
	env, f, clk := newTestEnv(t)
	p := NewPayWindow(env)
	p.Show()
	test.Type(p.amountEntry, "8")
	emit(f.scanSubs, wechatCode)
	f.update(f.orders[0].OutTradeNo, func(o *order.Order) {
		o.ErrCode, o.Deadline = payflow.CodeComm, clk.now.Add(30*time.Second)
	})
	if p.statusBig.Text() != "无法连接银行，正在重试…" || p.countdown.Text != "剩余 30 秒" {
		t.Errorf("status %q countdown %q", p.statusBig.Text(), p.countdown.Text)
	}
	clk.advance(3 * time.Second)
	if p.countdown.Text != "剩余 27 秒" {
		t.Errorf("countdown %q", p.countdown.Text)
	}
}

// Issue 11 item 4: a scan during a payment is refused with a note and
// never appended to a field; a burst typed into the amount field goes to
// the code and the typed amount stays.
func TestPayWindowScanDuringPaymentAndIntoAmount(t *testing.T) {
	env, f, clk := newTestEnv(t)
	p := NewPayWindow(env)
	p.Show()
	test.Type(p.amountEntry, "15.5")
	clk.advance(time.Second)
	// The scanner types into the amount field (the focus was there): its
	// keys come within the wedge gap; the person's came a second before.
	test.Type(p.amountEntry, wechatCode)
	p.amountEntry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if p.amountEntry.Text != "15.5" || len(f.orders) != 1 || f.orders[0].AmountFen != 1550 {
		t.Fatalf("amount %q orders %+v", p.amountEntry.Text, f.orders)
	}
	f.update(f.orders[0].OutTradeNo, func(o *order.Order) { o.State, o.Deadline = order.StateWaiting, clk.now.Add(time.Minute) })
	if !p.codeEntry.Disabled() || !p.amountEntry.Disabled() || p.win.Canvas().Focused() != nil {
		t.Fatal("the fields take input during a payment")
	}
	// A second scan through the scan box, and one typed by a wedge.
	emit(f.scanSubs, alipayCode)
	if len(f.orders) != 1 || p.note.Text != "正在处理当前订单，刚才的扫码没有使用。请等本笔结束后再扫。" {
		t.Fatalf("orders %d note %q", len(f.orders), p.note.Text)
	}
	p.setNote("")
	c := p.win.Canvas().(interface {
		OnTypedRune() func(rune)
		OnTypedKey() func(*fyne.KeyEvent)
	})
	for _, r := range alipayCode {
		c.OnTypedRune()(r)
	}
	c.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if p.codeEntry.Text != wechatCode || p.note.Text == "" {
		t.Errorf("code field %q note %q", p.codeEntry.Text, p.note.Text)
	}
}

// Issue 11 item 3: a ceiling, and a confirmation with the amount large.
func TestPayWindowCeilingAndLargeAmount(t *testing.T) {
	env, f, _ := newTestEnv(t)
	p := NewPayWindow(env)
	p.Show()
	test.Type(p.amountEntry, "1000000")
	emit(f.scanSubs, wechatCode)
	if len(f.orders) != 0 || p.statusBig.Text() != "超过单笔上限" || p.detail.Text != "单笔最多 10,000.00 元（可在“设置 → 支付”中修改）。" {
		t.Fatalf("orders %d status %q detail %q", len(f.orders), p.statusBig.Text(), p.detail.Text)
	}
	if p.codeEntry.Text != "" {
		t.Errorf("the refused code stays in the field (%q): the next scan would be appended", p.codeEntry.Text)
	}
	p.amountEntry.SetText("")
	test.Type(p.amountEntry, "2500")
	if p.statusBig.Text() != "" {
		t.Errorf("the old error stays under a valid amount: %q", p.statusBig.Text())
	}
	emit(f.scanSubs, wechatCode)
	if len(f.orders) != 0 || !hasDialog(p.win, "请核对金额") || !hasDialog(p.win, "¥ 2,500.00") {
		t.Fatal("no large-amount confirmation")
	}
	p.againDlg.Confirm()
	if len(f.orders) != 1 || f.orders[0].AmountFen != 250000 {
		t.Fatalf("orders %+v", f.orders)
	}
}

// Issue 11 item 8: a Chinese IME's digits are accepted; invalid amounts
// are explained in Chinese only.
func TestPayWindowChineseAmounts(t *testing.T) {
	env, f, _ := newTestEnv(t)
	p := NewPayWindow(env)
	p.Show()
	test.Type(p.amountEntry, "￥１２５０")
	if p.amountBig.Text() != "¥ 1,250.00" {
		t.Errorf("full-width amount shows %q", p.amountBig.Text())
	}
	for in, want := range map[string]string{
		"12.505": "金额最多两位小数（分）。", "0": "金额必须大于零。", "abc": "金额格式不对，请输入数字，如 12.50。",
		"-5": "金额必须大于零。", "12,34": "金额格式不对，请输入数字，如 12.50。",
	} {
		p.amountEntry.SetText(in)
		p.amountEntry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		if p.statusBig.Text() != "请先输入金额" || p.detail.Text != want {
			t.Errorf("%q: %q / %q, want %q", in, p.statusBig.Text(), p.detail.Text, want)
		}
	}
	// The error goes as soon as the amount is valid (item 9).
	p.amountEntry.SetText("")
	test.Type(p.amountEntry, "9")
	if p.statusBig.Text() != "" || p.detail.Text != "" {
		t.Errorf("old error under a valid amount: %q %q", p.statusBig.Text(), p.detail.Text)
	}
	f.payErr = fmt.Errorf("payflow: start: %w", payflow.ErrJournal)
	emit(f.scanSubs, wechatCode)
	if p.detail.Text != "订单无法保存，因此没有扣款；请检查磁盘后重试。" {
		t.Errorf("refusal %q", p.detail.Text)
	}
	if p.amountBig.obj.Color == colorPaid {
		t.Error("the amount before payment is the green of paid")
	}
}

// Issue 11 item 10: one vocabulary — closed on timeout, cancelled by the
// cashier, reversed after payment.
func TestPayWindowVocabulary(t *testing.T) {
	env, f, clk := newTestEnv(t)
	p := NewPayWindow(env)
	p.Show()
	test.Type(p.amountEntry, "3")
	emit(f.scanSubs, wechatCode)
	no := f.orders[0].OutTradeNo
	f.update(no, func(o *order.Order) { o.State, o.Deadline = order.StateWaiting, clk.now.Add(time.Minute) })
	test.Tap(p.cancelBtn)
	if p.statusBig.Text() != "正在取消…" {
		t.Errorf("cancelling %q", p.statusBig.Text())
	}
	f.update(no, func(o *order.Order) { o.State, o.Cancelled = order.StateClosed, true })
	if p.statusBig.Text() != "已取消" {
		t.Errorf("cancelled %q", p.statusBig.Text())
	}
	p.amountEntry.SetText("4")
	emit(f.scanSubs, alipayCode)
	no2 := f.orders[1].OutTradeNo
	f.update(no2, func(o *order.Order) { o.State = order.StateClosing })
	f.update(no2, func(o *order.Order) { o.State = order.StateClosed })
	if p.statusBig.Text() != "已关闭（顾客未确认）" || p.detail.Text != "订单号 "+no2+"\n顾客未在时限内确认，订单已关闭，未扣款。" {
		t.Errorf("timeout %q %q", p.statusBig.Text(), p.detail.Text)
	}
}

// Issue 11 item 2: a window rebuilt during a payment keeps the order:
// countdown, Cancel, and no second order.
func TestPayWindowRebuildKeepsOrder(t *testing.T) {
	env, f, clk := newTestEnv(t)
	p := NewPayWindow(env)
	p.Show()
	test.Type(p.amountEntry, "66.6")
	emit(f.scanSubs, wechatCode)
	no := f.orders[0].OutTradeNo
	f.update(no, func(o *order.Order) {
		o.State, o.Deadline, o.UpdatedAt = order.StateWaiting, clk.now.Add(40*time.Second), clk.now
	})
	p.Close()
	SetLanguage(English)
	defer SetLanguage(Chinese)
	q := NewPayWindow(env)
	if !q.visible || q.current.OutTradeNo != no || q.cancelBtn.Disabled() || !q.chargeBtn.Disabled() {
		t.Fatalf("rebuilt: visible %v order %q cancel off %v", q.visible, q.current.OutTradeNo, q.cancelBtn.Disabled())
	}
	if q.countdown.Text != "40 s left" || q.amountEntry.Text != "66.6" {
		t.Errorf("countdown %q amount %q", q.countdown.Text, q.amountEntry.Text)
	}
	emit(f.scanSubs, otherCode)
	if len(f.orders) != 1 {
		t.Fatal("the rebuilt window took a second order while the first is open")
	}
	if len(f.orderSubs) == 0 {
		t.Fatal("no subscription")
	}
	f.update(no, func(o *order.Order) { o.State = order.StatePaid })
	if q.statusBig.Text() != "Paid  ¥66.60" {
		t.Errorf("status %q", q.statusBig.Text())
	}
}

// Issue 11 item 1: the customer-scans window asks before a second QR for
// the amount just paid.
func TestQRWindowChargeAgainGuard(t *testing.T) {
	env, f, _ := newTestEnv(t)
	w := NewQRWindow(env)
	w.Show()
	test.Type(w.amount, "66.6")
	if w.bigAmount.Text() != "¥ 66.60" {
		t.Errorf("big amount %q", w.bigAmount.Text())
	}
	test.Tap(w.makeBtn)
	f.update(f.orders[0].OutTradeNo, func(o *order.Order) { o.State = order.StatePaid })
	w.amount.OnSubmitted(w.amount.Text) // Enter again
	if len(f.orders) != 1 || w.againDlg == nil {
		t.Fatalf("a second QR for the amount just paid without asking (%d orders)", len(f.orders))
	}
	w.againDlg.Hide()
	w.againDlg = nil
	test.Type(w.amount, "0")
	test.Tap(w.makeBtn)
	if len(f.orders) != 2 {
		t.Errorf("a new amount asked: %d orders", len(f.orders))
	}
}

func TestSplitBurst(t *testing.T) {
	isCode := func(c string) bool { _, err := newFake().Wallet(c); return err == nil }
	isAmount := func(a string) bool { _, err := money.Parse(a); return err == nil }
	// pauseAt: the person paused before byte at; the rest came in one run
	// with jitter of up to 60 ms between keys.
	pauseAt := func(at int) func(int) time.Duration {
		return func(i int) time.Duration {
			if i == at {
				return 400 * time.Millisecond
			}
			return time.Duration(i%3) * 30 * time.Millisecond
		}
	}
	noTiming := func(int) time.Duration { return time.Hour }
	for _, c := range []struct {
		in           string
		pause        func(int) time.Duration
		amount, code string
	}{
		{"15.5" + wechatCode, pauseAt(4), "15.5", wechatCode},
		{"15.5" + wechatCode, noTiming, "15.5", wechatCode},
		// Found by the acceptance script under load: 45 + a WeChat code
		// whose tail is also an Alipay code (28…).
		{"45" + "132874583784761230", pauseAt(2), "45", "132874583784761230"},
		{"25" + alipayCode, pauseAt(2), "25", alipayCode},
		{"128" + alipayCode, pauseAt(3), "128", alipayCode},
	} {
		a, code, ok := splitBurst(c.in, c.pause, isCode, isAmount)
		if !ok || a != c.amount || code != c.code {
			t.Errorf("splitBurst(%q) = %q, %q, %v; want %q, %q", c.in, a, code, ok, c.amount, c.code)
		}
	}
	if _, _, ok := splitBurst("1234567", noTiming, isCode, isAmount); ok {
		t.Error("an amount was taken for a burst")
	}
}

// Found by scripts/cashier-acceptance.sh: a wedge scan typed after a code
// left in the field made one 36-digit "code"; the new code wins.
func TestPayWindowCodeNotConcatenated(t *testing.T) {
	env, f, clk := newTestEnv(t)
	p := NewPayWindow(env)
	p.Show()
	test.Type(p.amountEntry, "6")
	p.win.Canvas().Focus(p.codeEntry)
	test.Type(p.codeEntry, wechatCode)
	clk.advance(5 * time.Second)
	test.Type(p.codeEntry, alipayCode)
	if p.walletLabel.Text != "支付宝" {
		t.Errorf("wallet %q", p.walletLabel.Text)
	}
	p.codeEntry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if len(f.orders) != 1 || f.orders[0].CodeMasked != "2845**********6784" {
		t.Fatalf("orders %+v: the newest code was not the one charged", f.orders)
	}
}

// Issue 11 item 4: a scan typed while no field has the focus (after a
// dialog, a click elsewhere) goes to the code and charges.
func TestPayWindowScanWithoutFocus(t *testing.T) {
	env, f, _ := newTestEnv(t)
	p := NewPayWindow(env)
	p.Show()
	test.Type(p.amountEntry, "11")
	p.win.Canvas().Unfocus()
	c := p.win.Canvas().(interface {
		OnTypedRune() func(rune)
		OnTypedKey() func(*fyne.KeyEvent)
	})
	for _, r := range wechatCode {
		c.OnTypedRune()(r)
	}
	c.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if len(f.orders) != 1 || f.orders[0].AmountFen != 1100 {
		t.Fatalf("orders %+v: the scan typed with no focus was lost", f.orders)
	}
}

// Issue 11 item 2, the narrow case: the window is rebuilt while Pay is
// still running; its answer reaches the new window.
func TestPayWindowRebuildDuringStart(t *testing.T) {
	env, f, clk := newTestEnv(t)
	var later []func()
	env.Go = func(fn func()) { later = append(later, fn) } // nothing has returned yet
	p := NewPayWindow(env)
	p.Show()
	test.Type(p.amountEntry, "12")
	emit(f.scanSubs, wechatCode)
	p.Close()
	q := NewPayWindow(env)
	for _, fn := range later {
		fn() // Pay returns now, to the closed window
	}
	if q.current.OutTradeNo == "" || !q.busy() {
		t.Fatal("the order started by the closed window is not shown by the new one")
	}
	f.update(q.current.OutTradeNo, func(o *order.Order) { o.State, o.Deadline = order.StateWaiting, clk.now.Add(20*time.Second) })
	if q.countdown.Text != "剩余 20 秒" || q.cancelBtn.Disabled() {
		t.Errorf("countdown %q cancel off %v", q.countdown.Text, q.cancelBtn.Disabled())
	}
}
