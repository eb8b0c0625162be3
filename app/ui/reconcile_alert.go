package ui

import (
	"time"

	"fyne.io/fyne/v2"
)

// ReconcileAlert tells the cashier about the tray's morning reconciliation
// (issue 9 item 6) once per run: agreed is a quiet notification; differences
// are a notification and a marker on the tray menu's Reconciliation row
// (and the pay window's button), until the Reconcile window has been seen,
// which shows each difference with what to do. A run that could not have
// the bank's bill is told once a day (it is tried again every minute).
// Nothing opens by itself: a window popping up would take the keyboard
// from the POS in the middle of a sale.
type ReconcileAlert struct {
	env  *Env
	ctrl ReconcileController

	told       time.Time // At of the newest background result told
	failedDay  string    // the day whose failed run was told
	unseen     int       // differences not yet seen in the window
	unseenDate string

	// OnChanged is called (on the UI thread) when the marker changes: the
	// tray builds its menu and button row again. OnResult is called with
	// each new background result (the open window shows it).
	OnChanged func()
	OnResult  func(ReconcileResult)
}

// NewReconcileAlert follows ctrl's results; call Check when they may have
// changed.
func NewReconcileAlert(env *Env, ctrl ReconcileController) *ReconcileAlert {
	return &ReconcileAlert{env: env, ctrl: ctrl}
}

// Unseen is the number of differences the marker shows (0: none).
func (a *ReconcileAlert) Unseen() int { return a.unseen }

// Check tells a background result newer than the last one told. It runs
// on the UI thread.
func (a *ReconcileAlert) Check() {
	r, ok := a.ctrl.LastReconcile()
	if !ok || !r.Background || !r.At.After(a.told) {
		return
	}
	a.told = r.At
	if a.OnResult != nil {
		a.OnResult(r)
	}
	switch {
	case r.Failed:
		if r.Date != a.failedDay {
			a.failedDay = r.Date
			a.notify(Tf("reconcile.note_failed", r.Date), T("reconcile.note_failed_b"))
		}
		return
	case r.Agreed():
		a.notify(Tf("reconcile.note_agreed", r.Date), T("reconcile.note_agreed_b"))
		a.setUnseen(0, "")
	default:
		a.notify(Tf("reconcile.note_differ", r.Date, len(r.Diffs)), T("reconcile.note_differ_b"))
		a.setUnseen(len(r.Diffs), r.Date)
	}
}

// Seen is called when the Reconcile window is shown: the marker goes.
func (a *ReconcileAlert) Seen() { a.setUnseen(0, "") }

func (a *ReconcileAlert) setUnseen(n int, date string) {
	if n == a.unseen && date == a.unseenDate {
		return
	}
	a.unseen, a.unseenDate = n, date
	if a.OnChanged != nil {
		a.OnChanged()
	}
}

func (a *ReconcileAlert) notify(title, body string) {
	a.env.App.SendNotification(fyne.NewNotification(T("app.name")+" · "+title, body))
}
