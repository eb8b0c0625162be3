package ui

// Settings' receipts and reconciliation tab (issue 9 items 6 and 7): the
// receipt printer (a receipt.Target: none, a printer queue, a serial port,
// a file), the paper, whether payments print a slip too, a test print that
// says in one sentence whether it worked, and the time of the morning
// reconciliation. A printer that is missing or fails only ever gives a
// sentence here: payments never wait on it.

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/receipt"
)

// ReceiptController is what the receipt part of Settings needs; the tray's
// after-sale adapter implements it. Without one (Env.Receipts nil) the
// printer can be set but not tested.
type ReceiptController interface {
	// ReceiptPrinters lists the printer queues installed on this PC as
	// targets ("spool:NAME"); an error when they cannot be listed. Slow.
	ReceiptPrinters() ([]string, error)
	// TestPrint prints a test slip on target (as typed, not yet saved) on
	// paper ("80mm" or "58mm"); nil when the printer took it, else an
	// error whose sentence (errorMessage) says why. Slow, bounded by ctx.
	TestPrint(ctx context.Context, target, paper string) error
}

// testPrintTimeout bounds a test print (receipt.Print's own deadline).
const testPrintTimeout = receipt.DefaultTimeout

// paperChoices are receipt.Paper's names.
var paperChoices = []string{"80mm", "58mm"}

// rangeReconcileAt is the documented range of the morning reconciliation
// (docs/ui.md): from 01:00, which leaves the bank an hour after midnight to
// close the day's bill, to 23:59.
var rangeReconcileAt = [2]string{"01:00", "23:59"}

func (w *SettingsWindow) receiptTab() fyne.CanvasObject {
	w.printer = widget.NewSelectEntry(nil)
	w.printer.SetText(w.s.ReceiptPrinter)
	w.printer.SetPlaceHolder(T("settings.printer_none"))
	w.paper = widget.NewSelect(paperChoices, nil)
	w.paper.SetSelected(orDefaultS(w.s.ReceiptPaper, paperChoices[0]))
	w.paymentSlips = widget.NewCheck(T("settings.payment_slips"), nil)
	w.paymentSlips.SetChecked(w.s.PaymentSlips)
	w.testPrintBtn = widget.NewButtonWithIcon(T("settings.test_print"), theme.DocumentPrintIcon(), w.testPrint)
	if w.env.Receipts == nil {
		w.testPrintBtn.Disable()
	}
	w.printResult = widget.NewLabel("")
	w.printResult.Wrapping = fyne.TextWrapWord
	hint := widget.NewLabel(T("settings.printer_hint"))
	hint.Wrapping = fyne.TextWrapWord
	hint.Importance = widget.LowImportance

	on := w.s.ReconcileAt != "off"
	at := w.s.ReconcileAt
	if !on || at == "" {
		at = defaultReconcileAt
	}
	w.reconcileOn = widget.NewCheck(T("settings.reconcile_on"), func(b bool) {
		if b {
			w.reconcileAt.Enable()
		} else {
			w.reconcileAt.Disable()
		}
	})
	w.reconcileAt = entryWith(at)
	w.reconcileOn.SetChecked(on)
	if !on {
		w.reconcileAt.Disable()
	}
	w.reconcileRow = container.NewBorder(nil, nil, w.reconcileOn, nil, w.reconcileAt)
	form := widget.NewForm(
		widget.NewFormItem(T("settings.printer"), w.checked(w.printer, tabReceipts)),
		widget.NewFormItem(T("settings.paper"), w.paper),
		widget.NewFormItem("", w.paymentSlips),
		// The button keeps its height beside a two-line result.
		widget.NewFormItem("", container.NewBorder(nil, nil, container.NewVBox(w.testPrintBtn), nil, w.printResult)),
		widget.NewFormItem(T("settings.reconcile"), w.checked(w.reconcileRow, tabReceipts)),
	)
	w.loadPrinters()
	return container.NewVScroll(container.NewVBox(form, hint))
}

// defaultReconcileAt is shown when the configuration has no time (the
// controller gives core.DefaultReconcileAt).
const defaultReconcileAt = "09:00"

// loadPrinters offers the installed printer queues in the printer field.
func (w *SettingsWindow) loadPrinters() {
	if w.env.Receipts == nil {
		return
	}
	w.env.Go(func() {
		list, err := w.env.Receipts.ReceiptPrinters()
		fyne.Do(func() {
			if err != nil {
				return // the field still takes a typed target; the hint says the forms
			}
			w.printerOptions = list
			w.printer.SetOptions(list)
		})
	})
}

// testPrint prints a test slip on the printer in the field and says in one
// sentence whether it worked.
func (w *SettingsWindow) testPrint() {
	if w.env.Receipts == nil {
		return
	}
	target, err := printerField(w.printer.Text)
	if err != nil {
		w.showPrintResult(err.Error(), false)
		return
	}
	if target == "" {
		w.showPrintResult(T("settings.print_no_printer"), false)
		return
	}
	paper := w.paper.Selected
	w.testPrintBtn.Disable()
	w.showPrintResult(T("settings.printing"), true)
	w.env.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testPrintTimeout)
		defer cancel()
		err := w.env.Receipts.TestPrint(ctx, target, paper)
		fyne.Do(func() {
			w.testPrintBtn.Enable()
			if err != nil {
				w.showPrintResult(errorMessage(err), false)
				return
			}
			w.showPrintResult(Tf("settings.print_ok", target), true)
		})
	})
}

func (w *SettingsWindow) showPrintResult(s string, ok bool) {
	w.printResult.Importance = widget.DangerImportance
	if ok {
		w.printResult.Importance = widget.SuccessImportance
	}
	w.printResult.SetText(s)
}

// PrintResult is what the last test print said (for tests).
func (w *SettingsWindow) PrintResult() string { return w.printResult.Text }

// printerField reads the printer field: "" for none, else the target in
// receipt's canonical form, or the sentence saying which forms are valid.
func printerField(s string) (string, error) {
	t, err := receipt.ParseTarget(s)
	if err != nil {
		return "", fmt.Errorf("%s", T("settings.printer_bad"))
	}
	return t.String(), nil
}

// reconcileField reads the morning reconciliation's time: "HH:MM" within
// rangeReconcileAt (a Chinese IME's digits and colon accepted).
func reconcileField(e *widget.Entry) (string, error) {
	s := strings.TrimSpace(strings.ReplaceAll(money.Normalize(e.Text), "：", ":"))
	hs, ms, ok := strings.Cut(s, ":")
	h, herr := strconv.Atoi(hs)
	m, merr := strconv.Atoi(ms)
	if !ok || herr != nil || merr != nil || len(ms) != 2 || h < 0 || h > 23 || m < 0 || m > 59 {
		return "", fmt.Errorf("%s", Tf("settings.bad_time", T("settings.reconcile")))
	}
	v := fmt.Sprintf("%02d:%02d", h, m)
	if v < rangeReconcileAt[0] || v > rangeReconcileAt[1] {
		return "", rangeErr("settings.reconcile", rangeReconcileAt[0], rangeReconcileAt[1])
	}
	return v, nil
}

// collectReceipt reads the tab into s.
func (w *SettingsWindow) collectReceipt(s *Settings) error {
	var err error
	if s.ReceiptPrinter, err = printerField(w.printer.Text); err != nil {
		return refuse(w.printer, err)
	}
	s.ReceiptPaper = w.paper.Selected
	s.PaymentSlips = w.paymentSlips.Checked
	if !w.reconcileOn.Checked {
		s.ReconcileAt = "off"
		return nil
	}
	s.ReconcileAt, err = reconcileField(w.reconcileAt)
	return refuse(w.reconcileRow, err)
}
