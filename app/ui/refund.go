package ui

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/pin"
)

// refundTimeout bounds one refund drive seen from the window; the runner
// leaves a refund it could not settle by then to the background.
const refundTimeout = 2 * time.Minute

// RefundWindow refunds (part of) one paid order, picked in Recent orders:
// the amount (default what is left), the reason, the manager PIN (masked),
// then progress and the result. What is refused before sending (wrong PIN,
// lockout, no PIN set, over the remainder) is one sentence and nothing is
// sent; the order's refunds are listed under it.
type RefundWindow struct {
	env  *Env
	ctrl RefundController
	win  fyne.Window
	ord  order.Order

	head      *widget.Label
	remaining *widget.Label
	amount    *widget.Entry
	reason    *widget.Entry
	pinEntry  *widget.Entry
	submit    *widget.Button
	progress  *widget.ProgressBarInfinite
	result    *widget.Label
	history   *widget.Label

	left    money.Fen
	leftErr error
	busy    bool
	// OnDone is called on the UI thread after a refund was sent (whatever
	// its outcome), so that the orders window can reload.
	OnDone func()
}

// NewRefundWindow builds the refund window for o.
func NewRefundWindow(env *Env, ctrl RefundController, o order.Order) *RefundWindow {
	w := &RefundWindow{env: env, ctrl: ctrl, ord: o}
	w.win = env.App.NewWindow(T("refund.title"))
	w.head = widget.NewLabel(Tf("refund.order", o.OutTradeNo, o.AmountFen.Grouped(), cellText(o, 2),
		o.CreatedAt.Local().Format("01-02 15:04")))
	w.head.TextStyle.Bold = true
	w.remaining = widget.NewLabel("")
	w.amount = widget.NewEntry()
	w.reason = widget.NewEntry()
	w.reason.SetPlaceHolder(T("refund.reason_hint"))
	w.pinEntry = widget.NewPasswordEntry()
	w.pinEntry.SetPlaceHolder(T("refund.pin_hint"))
	w.pinEntry.OnSubmitted = func(string) { w.Submit() }
	w.submit = widget.NewButton(T("refund.submit"), w.Submit)
	w.submit.Importance = widget.DangerImportance
	w.progress = widget.NewProgressBarInfinite()
	w.progress.Stop()
	w.progress.Hide()
	w.result = widget.NewLabel("")
	w.result.Wrapping = fyne.TextWrapWord
	w.history = widget.NewLabel("")
	w.history.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(
		widget.NewFormItem(T("refund.amount"), w.amount),
		widget.NewFormItem(T("refund.reason"), w.reason),
		widget.NewFormItem(T("refund.pin"), w.pinEntry),
	)
	hist := widget.NewLabel(T("refund.history"))
	hist.TextStyle.Bold = true
	w.win.SetContent(container.NewVBox(w.head, w.remaining, form,
		container.NewHBox(w.submit), w.progress, w.result, widget.NewSeparator(), hist, w.history))
	w.win.Resize(fyne.NewSize(560, 460))
	w.Reload()
	return w
}

// Window is the fyne window.
func (w *RefundWindow) Window() fyne.Window { return w.win }

// Show shows the window.
func (w *RefundWindow) Show() { w.win.Show() }

// Reload reads what is left and the order's refunds again; the amount
// field is set to what is left.
func (w *RefundWindow) Reload() { w.reload(true) }

// reload keeps the amount typed when resetAmount is false (after a
// refusal, the cashier corrects the PIN, not the amount).
func (w *RefundWindow) reload(resetAmount bool) {
	w.left, w.leftErr = w.ctrl.Remaining(w.ord.OutTradeNo)
	amount := ""
	switch {
	case w.leftErr != nil:
		w.remaining.SetText(errorMessage(w.leftErr))
	case w.left <= 0:
		w.remaining.SetText(T("refund.none_left"))
	default:
		w.remaining.SetText(Tf("refund.remaining", w.left.Grouped()))
		amount = w.left.String()
	}
	if resetAmount || w.leftErr != nil || w.left <= 0 {
		w.amount.SetText(amount)
	}
	w.showHistory()
	w.updateButton()
}

func (w *RefundWindow) showHistory() {
	rs, err := w.ctrl.Refunds(w.ord.OutTradeNo)
	if err != nil {
		w.history.SetText(errorMessage(err))
		return
	}
	w.history.SetText(refundHistory(rs))
}

// refundHistory lists refunds one a line.
func refundHistory(rs []RefundLine) string {
	if len(rs) == 0 {
		return T("refund.history_none")
	}
	lines := make([]string, 0, len(rs))
	for _, r := range rs {
		lines = append(lines, Tf("refund.line", r.At.Local().Format("01-02 15:04"), r.Amount.Grouped(),
			refundStateName(r.State), r.OutRefundNo))
	}
	return strings.Join(lines, "\n")
}

func (w *RefundWindow) updateButton() {
	if w.busy || w.leftErr != nil || w.left <= 0 {
		w.submit.Disable()
		return
	}
	w.submit.Enable()
}

// Submit checks the fields and sends the refund. The amount is checked
// against what is left and the PIN's form here, so the cashier hears at
// once; the runner checks both again (and the PIN itself) before sending.
func (w *RefundWindow) Submit() {
	if w.busy || w.leftErr != nil || w.left <= 0 {
		return
	}
	amount, err := money.Parse(money.Normalize(w.amount.Text))
	if err != nil {
		w.fail(errorMessage(err))
		return
	}
	if amount > w.left {
		w.fail(Tf("refund.over", w.left.Grouped()))
		return
	}
	p := w.pinEntry.Text
	if !pin.Valid(p) {
		w.fail(errorMessage(pin.ErrFormat))
		return
	}
	reason := strings.TrimSpace(w.reason.Text)
	w.busy = true
	w.updateButton()
	w.amount.Disable()
	w.reason.Disable()
	w.pinEntry.Disable()
	w.result.Importance = widget.MediumImportance
	w.result.SetText(T("refund.working"))
	w.progress.Show()
	w.progress.Start()
	no := w.ord.OutTradeNo
	w.env.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), refundTimeout)
		defer cancel()
		x, err := w.ctrl.Refund(ctx, no, amount, reason, p)
		fyne.Do(func() { w.finish(x, err) })
	})
}

func (w *RefundWindow) fail(s string) {
	w.result.Importance = widget.DangerImportance
	w.result.SetText(s)
}

func (w *RefundWindow) finish(x RefundLine, err error) {
	w.busy = false
	w.progress.Stop()
	w.progress.Hide()
	w.amount.Enable()
	w.reason.Enable()
	w.pinEntry.Enable()
	// The PIN is not kept for a second refund: the manager types it again.
	w.pinEntry.SetText("")
	if err != nil {
		w.reload(false)
		w.fail(errorMessage(err))
		return
	}
	w.Reload()
	w.result.SetText(refundOutcome(x))
	switch x.State {
	case "refunded":
		w.result.Importance = widget.SuccessImportance
		w.ctrl.SpeakRefunded(x.Amount)
	case "failed", "change":
		w.result.Importance = widget.DangerImportance
	default:
		w.result.Importance = widget.WarningImportance
	}
	w.result.Refresh()
	if w.OnDone != nil {
		w.OnDone()
	}
}

// refundOutcome is the result line of a refund that was sent.
func refundOutcome(x RefundLine) string {
	var s string
	switch x.State {
	case "refunded":
		s = Tf("refund.done", x.Amount.Grouped())
	case "failed":
		s = T("refund.failed")
	case "change":
		s = T("refund.change")
	default:
		s = T("refund.pending")
	}
	s += " · " + x.OutRefundNo
	if x.Message != "" && x.State != "refunded" && CurrentLanguage() == English {
		s += "\n" + x.Message
	}
	return s
}
