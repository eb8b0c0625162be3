package ui

import (
	"fyne.io/fyne/v2"
)

// TrayState is what the tray icon shows.
type TrayState int

const (
	TrayReady     TrayState = iota
	TrayWaiting             // an order is waiting for the payer
	TrayAttention           // an unresolved order or a broken amount source
	TrayOffline             // not activated, or the bank cannot be reached
)

var trayStateNames = [...]string{"ready", "waiting", "attention", "offline"}

func (s TrayState) String() string { return trayStateNames[s] }

// Label is the tooltip/title for the state.
func (s TrayState) Label() string {
	return T("tray." + s.String())
}

// StateOf decides the icon: the cashier must see a problem first, then a
// payment in progress, then "ready". Unresolved orders and a broken source
// outrank waiting, because they need someone to act.
func StateOf(st Status) TrayState {
	switch {
	case !st.Activated || st.Offline:
		if st.Unresolved > 0 {
			return TrayAttention
		}
		return TrayOffline
	case st.Unresolved > 0 || st.SourceErr != "":
		return TrayAttention
	case st.Waiting > 0:
		return TrayWaiting
	}
	return TrayReady
}

// MenuAction is one row of the tray menu table.
type MenuAction struct {
	Key string // catalog key of the label
	// Label replaces T(Key) when set: a marker such as "对账（2 处不一致）".
	Label  string
	Action func()
	Quit   bool // the Quit row: fyne adds its own, so it is matched to it
}

// Actions are the tray menu's handlers, filled by the app.
type Actions struct {
	Pay, QR, Orders, Logs, Settings, About, Quit func()
	// The after-sale windows (refund is reached from Recent orders).
	Today, Shift, Reconcile func()
	// ReconcileUnseen is the number of differences of the morning's
	// reconciliation not yet seen in its window: the menu row says so.
	ReconcileUnseen int
}

// Text is the row's label in the current language.
func (r MenuAction) Text() string {
	if r.Label != "" {
		return r.Label
	}
	return T(r.Key)
}

// MenuTable is the tray menu, in order, as data.
func MenuTable(a Actions) []MenuAction {
	recon := ""
	if a.ReconcileUnseen > 0 {
		recon = "！" + Tf("menu.reconcile_unseen", a.ReconcileUnseen)
	}
	return []MenuAction{
		{Key: "menu.pay", Action: a.Pay},
		{Key: "menu.qr", Action: a.QR},
		{Key: "menu.orders", Action: a.Orders},
		{Key: "menu.today", Action: a.Today},
		{Key: "menu.shift", Action: a.Shift},
		{Key: "menu.reconcile", Label: recon, Action: a.Reconcile},
		{Key: "menu.logs", Action: a.Logs},
		{Key: "menu.settings", Action: a.Settings},
		{Key: "menu.about", Action: a.About},
		{Key: "menu.quit", Action: a.Quit, Quit: true},
	}
}

// BuildMenu turns the table into a fyne menu. The first line is the state
// (disabled), so the cashier can read it without hovering.
func BuildMenu(rows []MenuAction, state TrayState) *fyne.Menu {
	head := fyne.NewMenuItem(T("app.name")+" · "+state.Label(), nil)
	head.Disabled = true
	items := []*fyne.MenuItem{head, fyne.NewMenuItemSeparator()}
	for _, r := range rows {
		it := fyne.NewMenuItem(r.Text(), r.Action)
		if r.Quit {
			it.IsQuit = true
			items = append(items, fyne.NewMenuItemSeparator())
		}
		items = append(items, it)
	}
	return fyne.NewMenu(T("app.name"), items...)
}
