package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/scanbox/scanbox/app/ui"
	"github.com/scanbox/scanbox/order"
)

// The tray's after-sale windows: built on first use (the refund window per
// order), hidden rather than destroyed, closed on a language change.

// afterSaleBar is the pay window's row of after-sale buttons (Today, shift
// handover, reconciliation), for desktops without a tray.
func (t *tray) afterSaleBar() fyne.CanvasObject {
	_, rows := ui.SplitMenu(t.menuRows())
	t.afterBar = ui.NewMenuBar(rows)
	return t.afterBar
}

// watchAfterSale gives Settings the receipt printers and follows the
// core's morning reconciliation: each finished run is told once (the
// notice, the marker on the menu and the button row, the open window).
func (t *tray) watchAfterSale() {
	t.env.Receipts = t.after
	t.alert = ui.NewReconcileAlert(t.env, t.after)
	t.alert.OnChanged = t.refreshMenu
	t.alert.OnResult = func(ui.ReconcileResult) {
		if t.reconcile != nil {
			t.reconcile.Refresh()
		}
	}
	t.ctrl.core.OnChange(func(struct{}) { fyne.Do(t.alert.Check) })
	// A run the core made while it opened, before this subscription, is
	// told when the app's loop starts.
	fyne.Do(t.alert.Check)
}

// refreshMenu builds the tray menu and the pay window's after-sale row
// again (a marker changed).
func (t *tray) refreshMenu() {
	if desk, ok := t.app.(desktop.App); ok && t.state >= 0 {
		desk.SetSystemTrayMenu(ui.BuildMenu(t.menuRows(), t.state))
	}
	if t.afterBar != nil {
		_, rows := ui.SplitMenu(t.menuRows())
		ui.UpdateMenuBar(t.afterBar, rows)
	}
}

// showRefund opens the refund window for a paid order picked in Recent
// orders; a refund sent reloads the orders.
func (t *tray) showRefund(o order.Order) {
	t.trim.soon()
	if t.refundWin != nil {
		t.refundWin.Window().Close()
	}
	t.refundWin = ui.NewRefundWindow(t.env, t.after, o)
	t.refundWin.OnDone = func() {
		if t.orders != nil {
			t.orders.Reload()
		}
	}
	t.refundWin.Show()
}

func (t *tray) showToday() {
	t.trim.soon()
	if t.today == nil {
		t.today = ui.NewTodayWindow(t.env, t.after)
		t.today.Window().SetCloseIntercept(t.today.Window().Hide)
	} else {
		t.today.Reload()
	}
	t.today.Show()
}

func (t *tray) showShift() {
	t.trim.soon()
	if t.shift == nil {
		t.shift = ui.NewShiftWindow(t.env, t.after)
		t.shift.Window().SetCloseIntercept(t.shift.Window().Hide)
	} else {
		t.shift.Reload()
	}
	t.shift.Show()
}

func (t *tray) showReconcile() {
	t.trim.soon()
	if t.reconcile == nil {
		t.reconcile = ui.NewReconcileWindow(t.env, t.after)
		t.reconcile.Window().SetCloseIntercept(t.reconcile.Window().Hide)
	} else {
		t.reconcile.Refresh()
	}
	t.reconcile.Show()
	t.alert.Seen()
}

// closeAfterSale closes the after-sale windows (a language change).
func (t *tray) closeAfterSale() {
	if t.refundWin != nil {
		t.refundWin.Window().Close()
	}
	if t.today != nil {
		t.today.Window().Close()
	}
	if t.shift != nil {
		t.shift.Window().Close()
	}
	if t.reconcile != nil {
		t.reconcile.Window().Close()
	}
	t.refundWin, t.today, t.shift, t.reconcile = nil, nil, nil, nil
}
