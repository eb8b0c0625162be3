package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// reconcileTimeout bounds one bill download and comparison.
const reconcileTimeout = time.Minute

// ReconcileWindow shows a day's reconciliation with the bank: agreed, or
// each difference with what to do about it. It opens on the tray's newest
// result (the morning's run) and reconciles another day on request.
type ReconcileWindow struct {
	env  *Env
	ctrl ReconcileController
	win  fyne.Window

	day     *widget.Entry
	run     *keyButton
	verdict *widget.Label
	note    *widget.Label
	list    *fyne.Container
	res     ReconcileResult
	has     bool
}

// NewReconcileWindow builds the window on the newest result.
func NewReconcileWindow(env *Env, ctrl ReconcileController) *ReconcileWindow {
	w := &ReconcileWindow{env: env, ctrl: ctrl}
	w.win = env.App.NewWindow(T("reconcile.title"))
	w.day = widget.NewEntry()
	w.day.SetText(Yesterday(env.Now()).Format(time.DateOnly))
	w.day.OnSubmitted = func(string) { w.Run() }
	w.run = newKeyButton(T("reconcile.run"), nil, w.Run)
	w.run.Importance = widget.HighImportance
	w.verdict = widget.NewLabel("")
	w.verdict.TextStyle.Bold = true
	w.verdict.Wrapping = fyne.TextWrapWord
	w.note = widget.NewLabel("")
	w.note.Wrapping = fyne.TextWrapWord
	w.list = container.NewVBox()
	top := container.NewVBox(
		container.NewBorder(nil, nil, widget.NewLabel(T("reconcile.day")), w.run, w.day),
		w.verdict, w.note, widget.NewSeparator())
	w.win.SetContent(container.NewBorder(top, nil, nil, nil, container.NewVScroll(w.list)))
	w.win.Resize(fyne.NewSize(640, 480))
	if r, ok := ctrl.LastReconcile(); ok {
		w.day.SetText(r.Date)
		w.show(r)
	} else {
		w.verdict.SetText(T("reconcile.none"))
	}
	return w
}

// Refresh shows the tray's newest result if it is newer than the one shown
// (the morning's run finished while the window was hidden).
func (w *ReconcileWindow) Refresh() {
	if r, ok := w.ctrl.LastReconcile(); ok && (!w.has || r.At.After(w.res.At)) {
		w.day.SetText(r.Date)
		w.show(r)
	}
}

// Window is the fyne window.
func (w *ReconcileWindow) Window() fyne.Window { return w.win }

// Verdict is the window's first line (for tests).
func (w *ReconcileWindow) Verdict() string { return w.verdict.Text }

// Cards are the differences as shown, one text per card (for tests).
func (w *ReconcileWindow) Cards() []string {
	var out []string
	for _, o := range w.list.Objects {
		var parts []string
		for _, l := range o.(*fyne.Container).Objects {
			if l, ok := l.(*widget.Label); ok {
				parts = append(parts, l.Text)
			}
		}
		out = append(out, strings.Join(parts, "\n"))
	}
	return out
}

// Show shows the window.
func (w *ReconcileWindow) Show() { w.win.Show() }

// Result is the result shown (for tests).
func (w *ReconcileWindow) Result() (ReconcileResult, bool) { return w.res, w.has }

// Run reconciles the day in the field.
func (w *ReconcileWindow) Run() {
	day, err := time.ParseInLocation(time.DateOnly, w.day.Text, chinaTime)
	if err != nil {
		w.verdict.Importance = widget.DangerImportance
		w.verdict.SetText(T("reconcile.bad_day"))
		return
	}
	w.run.Disable()
	w.verdict.Importance = widget.MediumImportance
	w.verdict.SetText(T("reconcile.running"))
	w.env.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), reconcileTimeout)
		defer cancel()
		r, err := w.ctrl.Reconcile(ctx, day)
		fyne.Do(func() {
			w.run.Enable()
			if err != nil {
				w.verdict.Importance = widget.DangerImportance
				w.verdict.SetText(errorMessage(err))
				return
			}
			w.show(r)
		})
	})
}

func (w *ReconcileWindow) show(r ReconcileResult) {
	w.res, w.has = r, true
	switch {
	case r.Failed:
		w.verdict.Importance = widget.WarningImportance
		w.verdict.SetText("！" + Tf("reconcile.bg_failed", r.Date))
	case r.Agreed() && r.Background:
		w.verdict.Importance = widget.SuccessImportance
		w.verdict.SetText("√ " + Tf("reconcile.bg_agreed", r.Date))
	case r.Agreed():
		w.verdict.Importance = widget.SuccessImportance
		w.verdict.SetText("√ " + Tf("reconcile.agreed", r.Date, r.BankLines, r.JournalLines))
	case r.Background:
		w.verdict.Importance = widget.WarningImportance
		w.verdict.SetText("！" + Tf("reconcile.bg_differ", r.Date, len(r.Diffs)))
	default:
		w.verdict.Importance = widget.WarningImportance
		w.verdict.SetText("！" + Tf("reconcile.differ", r.Date, len(r.Diffs), r.BankLines, r.JournalLines))
	}
	w.verdict.Refresh()
	note := ""
	if !r.At.IsZero() {
		note = Tf("reconcile.at", r.At.Local().Format("2006-01-02 15:04"))
	}
	if r.Provisional {
		note += "  " + T("reconcile.provisional")
	}
	w.note.SetText(note)
	var items []fyne.CanvasObject
	for i, d := range r.Diffs {
		items = append(items, diffCard(i+1, d))
	}
	w.list.Objects = items
	w.list.Refresh()
}

// DiffText is what the window says about one difference: the kind and the
// number, both sides, and the advice (for tests and the card).
func DiffText(d ReconcileDiff) (title, sides, advice string) {
	no := d.OutTradeNo
	if d.OutRefundNo != "" {
		no = d.OutRefundNo + " (" + d.OutTradeNo + ")"
	}
	title = T("reconcile.kind."+d.Kind) + " · " + no
	refund := d.OutRefundNo != ""
	sides = Tf("reconcile.sides", sideText(d.Bank, true, refund), sideText(d.Journal, false, refund))
	return title, sides, reconcileAdvice(d)
}

// sideText is one side of a difference ("SUCCESS 26.80" from the bank,
// "paid 26.80" from the journal: reconcile's wording, which the CLI's JSON
// keeps) with the state in the cashier's words; a state it does not know is
// shown as it is.
func sideText(s string, bank, refund bool) string {
	if s == "" {
		return T("reconcile.nothing")
	}
	word, rest, _ := strings.Cut(s, " ")
	var key string
	switch {
	case bank && refund:
		key = "reconcile.bank.refund." + word
	case bank:
		key = "reconcile.bank.order." + word
	case refund:
		key = "refund.state." + word
	default:
		key = "state." + word
	}
	v, ok := catalog[key]
	if !ok {
		return s
	}
	return strings.TrimSpace(v[CurrentLanguage()] + " " + rest)
}

func diffCard(n int, d ReconcileDiff) fyne.CanvasObject {
	title, sides, advice := DiffText(d)
	t := widget.NewLabel(fmt.Sprintf("%d. %s", n, title))
	t.TextStyle.Bold = true
	t.Importance = widget.WarningImportance
	s := widget.NewLabel(sides)
	a := widget.NewLabel(advice)
	a.Wrapping = fyne.TextWrapWord
	return container.NewVBox(t, s, a, widget.NewSeparator())
}
