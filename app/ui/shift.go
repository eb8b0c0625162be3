package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// ShiftWindow is the shift handover dialog (交接班): with no shift open it
// asks for the cashier's name and opens one; with one open it shows who and
// since when, and Close shift closes it, showing the summary the store
// keeps with the shift and the slip's preview, with a Print button (which
// says so when no printer is configured; nothing else depends on it).
type ShiftWindow struct {
	env  *Env
	ctrl ShiftController
	win  fyne.Window

	state    *widget.Label
	cashier  *widget.Entry
	openBtn  *keyButton
	closeBtn *keyButton
	printBtn *widget.Button
	summary  *widget.Label
	table    *fyne.Container
	preview  *SlipView
	prevHead *widget.Label
	message  *widget.Label
	openRow  *fyne.Container

	current ShiftInfo
	isOpen  bool
	closed  *ShiftInfo // the shift just closed, shown until a new one opens
}

// NewShiftWindow builds the dialog and reads the open shift.
func NewShiftWindow(env *Env, ctrl ShiftController) *ShiftWindow {
	w := &ShiftWindow{env: env, ctrl: ctrl}
	w.win = env.App.NewWindow(T("shift.title"))
	w.state = widget.NewLabel("")
	w.state.TextStyle.Bold = true
	w.state.Wrapping = fyne.TextWrapWord
	w.cashier = widget.NewEntry()
	w.cashier.SetPlaceHolder(T("shift.cashier_hint"))
	w.cashier.OnSubmitted = func(string) { w.Open() }
	w.openBtn = newKeyButton(T("shift.open"), nil, w.Open)
	w.openBtn.Importance = widget.HighImportance
	w.closeBtn = newKeyButton(T("shift.close"), nil, w.Close)
	w.closeBtn.Importance = widget.HighImportance
	w.printBtn = widget.NewButtonWithIcon(T("shift.print"), theme.DocumentPrintIcon(), w.Print)
	w.summary = widget.NewLabel("")
	w.table = container.NewGridWithColumns(5)
	w.preview = NewSlipView()
	w.message = widget.NewLabel("")
	w.message.Wrapping = fyne.TextWrapWord
	w.openRow = container.NewBorder(nil, nil, widget.NewLabel(T("shift.cashier")), w.openBtn, w.cashier)
	w.prevHead = widget.NewLabel(T("shift.preview"))
	w.prevHead.TextStyle.Bold = true
	w.win.SetContent(container.NewBorder(
		container.NewVBox(w.state, w.openRow, container.NewHBox(w.closeBtn, w.printBtn), w.message, w.summary, w.table, w.prevHead),
		nil, nil, nil, container.NewScroll(container.NewCenter(w.preview.Object()))))
	w.win.Resize(fyne.NewSize(620, 760))
	w.Reload()
	return w
}

// Window is the fyne window.
func (w *ShiftWindow) Window() fyne.Window { return w.win }

// Show shows the window.
func (w *ShiftWindow) Show() { w.win.Show() }

// Reload reads the open shift again.
func (w *ShiftWindow) Reload() {
	w.env.Go(func() {
		sh, open, err := w.ctrl.CurrentShift()
		fyne.Do(func() {
			if err != nil {
				w.message.SetText(errorMessage(err))
				return
			}
			w.current, w.isOpen = sh, open
			w.render()
		})
	})
}

func (w *ShiftWindow) render() {
	switch {
	case w.isOpen:
		w.state.SetText(Tf("shift.opened", w.current.ID, w.current.Cashier, w.current.OpenedAt.Local().Format("01-02 15:04")))
		w.openRow.Hide()
		w.closeBtn.Show()
		w.printBtn.Hide()
	case w.closed != nil:
		c := w.closed
		w.state.SetText(Tf("shift.closed", c.ID, c.Cashier, c.OpenedAt.Local().Format("01-02 15:04"), c.ClosedAt.Local().Format("15:04")))
		w.openRow.Show()
		w.openBtn.SetText(T("shift.new"))
		w.closeBtn.Hide()
		w.printBtn.Show()
	default:
		w.state.SetText(T("shift.none"))
		w.openRow.Show()
		w.closeBtn.Hide()
		w.printBtn.Hide()
	}
	if w.closed != nil && !w.isOpen {
		t := w.closed.Summary.Total
		w.summary.SetText(Tf("shift.summary", t.PaidCount, t.Paid.Grouped(), t.RefundCount, t.Refunded.Grouped(), t.Net.Grouped()))
		w.table.Objects = summaryCells(w.closed.Summary)
		w.preview.SetLines(w.closed.Preview)
		w.prevHead.Show()
	} else {
		w.summary.SetText("")
		w.table.Objects = nil
		w.preview.SetLines(nil)
		w.prevHead.Hide()
	}
	w.table.Refresh()
}

// Open opens a shift for the name typed.
func (w *ShiftWindow) Open() {
	name := strings.TrimSpace(w.cashier.Text)
	if name == "" {
		w.message.SetText(T("shift.no_name"))
		return
	}
	w.openBtn.Disable()
	w.env.Go(func() {
		sh, err := w.ctrl.OpenShift(name)
		fyne.Do(func() {
			w.openBtn.Enable()
			if err != nil {
				w.message.SetText(errorMessage(err))
				return
			}
			w.message.SetText("")
			w.cashier.SetText("")
			w.current, w.isOpen, w.closed = sh, true, nil
			w.render()
		})
	})
}

// Close closes the open shift and shows its kept summary and slip.
func (w *ShiftWindow) Close() {
	if !w.isOpen {
		return
	}
	w.closeBtn.Disable()
	w.env.Go(func() {
		sh, err := w.ctrl.CloseShift()
		fyne.Do(func() {
			w.closeBtn.Enable()
			if err != nil {
				w.message.SetText(errorMessage(err))
				return
			}
			w.message.SetText("")
			w.isOpen, w.closed = false, &sh
			w.render()
		})
	})
}

// Print prints the closed shift's slip.
func (w *ShiftWindow) Print() {
	if w.closed == nil {
		return
	}
	id := w.closed.ID
	w.printBtn.Disable()
	w.env.Go(func() {
		err := w.ctrl.PrintShift(id)
		fyne.Do(func() {
			w.printBtn.Enable()
			if err != nil {
				w.message.SetText(errorMessage(err))
				return
			}
			w.message.SetText(T("shift.printed"))
		})
	})
}
