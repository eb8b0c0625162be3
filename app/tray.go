package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/scanbox/scanbox/app/ui"
	"github.com/scanbox/scanbox/assets"
	"github.com/scanbox/scanbox/order"
)

// processStart is when the program started, for the "tray ready" figure.
var processStart = time.Now()

// runTray starts the tray app on the default data directory.
func runTray(stdout, stderr io.Writer) int {
	if !hasDisplay() {
		// Without a display the GUI toolkit panics with a trace; say it in
		// one line instead.
		fmt.Fprintln(stderr, "scanbox: no display to show the tray app on; run it in a desktop session, or see scanbox --help for the headless commands")
		return exitUsage
	}
	return runTrayIn(dataDir(""), trayOptions{}, stderr)
}

// trayOptions are the demo's additions.
type trayOptions struct {
	demo bool // show the pay window at start, with sample codes
}

// tray owns the fyne app, the tray icon and menu, and the windows.
type tray struct {
	app  fyne.App
	env  *ui.Env
	ctrl *trayController
	log  *slog.Logger
	opts trayOptions

	pay      *ui.PayWindow
	orders   *ui.OrdersWindow
	logs     *ui.LogsWindow
	settings *ui.SettingsWindow
	qr       *ui.QRWindow
	about    fyne.Window
	state    ui.TrayState

	// The after-sale windows (app/tray_aftersale.go).
	after     *afterSale
	refundWin *ui.RefundWindow
	today     *ui.TodayWindow
	shift     *ui.ShiftWindow
	reconcile *ui.ReconcileWindow
	alert     *ui.ReconcileAlert // the morning reconciliation's notice and marker
	afterBar  *fyne.Container    // the pay window's after-sale buttons

	// trim hands a burst of UI work's garbage back to the OS once it is
	// over (app/memory.go): after start-up, a window shown, a payment's end.
	trim *memoryTrim
}

func runTrayIn(dir string, opts trayOptions, stderr io.Writer) int {
	// Started again while a tray runs on dir: that one shows its pay
	// window, this one exits (app/ondir.go handOver; issue 11 item 6).
	if code, ok := handOver(dir, stderr); ok {
		return code
	}
	// A hang on exit dumps the goroutines and exits 3 (app/main.go).
	stop := watchTrayShutdown(dir, shutdownLimit, stderr)
	defer stop.disarm()
	// First start after a silent install: activate with what the installer
	// left (cmd_firstrun.go). A failure keeps the code for the next start;
	// the tray then opens Settings, because nothing works unactivated.
	ctrl, err := newTrayController(dir, stderr)
	if err != nil {
		var ce *cliError
		if errors.As(err, &ce) {
			fmt.Fprintf(stderr, "scanbox: %s\n", oneLine(ce.msg))
		} else {
			fmt.Fprintf(stderr, "scanbox: %s\n", oneLine(err.Error()))
		}
		return exitUsage
	}
	defer ctrl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	if _, err := activatePending(ctx, ctrl.core); err != nil {
		fmt.Fprintf(stderr, "scanbox: %s\n", oneLine(err.Error()))
	}
	// Then the fleet enrollment the installer left (FLEET_URL/FLEET_CODE);
	// an unreachable fleet is retried at the next start, payments go on.
	if _, err := joinPending(ctx, ctrl.core); err != nil {
		ctrl.log.Warn("fleet enrollment from the installer not done", "reason", oneLine(err.Error()))
	}
	cancel()
	ui.SetLanguage(ui.ParseLanguage(ctrl.Settings().Language))

	a := fyneapp.NewWithID("cn.scanbox.tray")
	if stop.setQuit(func() { fyne.Do(a.Quit) }) {
		return exitOK // stopped while the data directory was being opened
	}
	a.Settings().SetTheme(ui.NewTheme())
	a.SetIcon(fyne.NewStaticResource("app.png", assets.Icon("app")))
	t := &tray{app: a, env: ui.NewEnv(a, ctrl), ctrl: ctrl, log: ctrl.log, opts: opts, state: -1, after: newAfterSale(ctrl), trim: newMemoryTrim()}
	ctrl.onLanguage = func() { fyne.Do(t.rebuild) }
	t.watchAfterSale()
	ctrl.OnStatus(func(st ui.Status) { fyne.Do(func() { t.setState(ui.StateOf(st)) }) })
	ctrl.OnOrder(func(o order.Order) {
		if o.State.Terminal() {
			t.trim.soon() // the outcome drawn, the sale is over
		}
	})

	spec := ctrl.Settings().Hotkey
	if spec != "" {
		stop, err := startHotkey(spec, func() { fyne.Do(t.showPay) })
		if err != nil {
			ctrl.log.Info("hotkey not registered", "hotkey", spec, "err", err)
		} else {
			ctrl.log.Info("hotkey registered", "hotkey", spec)
		}
		defer stop()
	}

	// The tray icon and menu are set before Run, not in OnStarted: fyne
	// starts the system tray (systray's nativeStart, which connects to
	// D-Bus) only if it was asked for before its loop began. Set later, the
	// tray never started, and Quit (the menu, or SIGTERM caught by fyne)
	// called systray's nativeEnd on a nil D-Bus connection: the nil pointer
	// panic in godbus Conn.Close of issue 11 item 15.
	// scripts/accept-sigterm.sh checks 20 SIGTERMs in a row.
	t.setState(ui.StateOf(ctrl.Status()))
	a.Lifecycle().SetOnStarted(func() {
		t.setState(ui.StateOf(ctrl.Status()))
		t.newPay()
		ctrl.owner.onShow(func() { fyne.Do(t.showPay) }) // a second start (handOver)
		if opts.demo {
			t.addDemoPanel()
			t.showPay()
		} else if !ctrl.Status().Activated {
			t.showSettings() // first start: nothing works before activation
		}
		ctrl.log.Info("tray ready", "startup_ms", time.Since(processStart).Milliseconds(), "demo", opts.demo)
		t.trim.soon()
	})
	a.Run()
	return exitOK
}

// addDemoPanel puts the simulator's sample codes under the pay window.
func (t *tray) addDemoPanel() {
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x5CA4B0))
	t.pay.SetExtra(container.NewVBox(ui.NewDemoPanel(r, func(code string) {
		// As the scan box does: from another goroutine, through OnScan.
		go t.ctrl.core.InjectScan(code)
	}), t.afterSaleBar()))
}

// setState updates the icon and the menu's first line.
func (t *tray) setState(s ui.TrayState) {
	if s == t.state {
		return
	}
	t.state = s
	desk, ok := t.app.(desktop.App)
	if !ok {
		return
	}
	desk.SetSystemTrayIcon(fyne.NewStaticResource(s.String()+".png", assets.Icon(s.String())))
	desk.SetSystemTrayMenu(ui.BuildMenu(t.menuRows(), s))
	t.log.Info("tray state", "state", s.String())
}

func (t *tray) menuRows() []ui.MenuAction {
	return ui.MenuTable(ui.Actions{
		Pay: t.showPay, QR: t.showQR, Orders: t.showOrders, Logs: t.showLogs,
		Settings: t.showSettings, About: t.showAbout, Quit: t.app.Quit,
		Today: t.showToday, Shift: t.showShift, Reconcile: t.showReconcile,
		ReconcileUnseen: t.alert.Unseen(),
	})
}

func (t *tray) newPay() {
	t.pay = ui.NewPayWindow(t.env)
	others, _ := ui.SplitMenu(t.menuRows())
	t.pay.SetMenu(others)
	if t.opts.demo {
		t.addDemoPanel()
	} else {
		t.pay.SetExtra(t.afterSaleBar())
	}
}

func (t *tray) showPay() {
	t.trim.soon()
	if t.pay == nil {
		t.newPay()
	}
	t.pay.Show()
}

// Recent orders and Logs are destroyed when closed and built again when
// next opened: they hold nothing that is not in the journal or the log
// ring (both reread when built), and hidden they kept their GL context and
// textures (~8.5 MiB each under Xvfb, measured) and kept working: the
// orders list reloaded on every order update, the log view on every log
// line. Settings is rebuilt each time so it shows the saved values. The
// pay and customer-scans windows, which carry a payment, and the
// after-sale windows are built on first use and hidden, not destroyed,
// when closed.
func (t *tray) showOrders() {
	t.trim.soon()
	if t.orders == nil {
		w := ui.NewOrdersWindow(t.env)
		w.Window().SetCloseIntercept(func() { t.closeOrders(w) })
		w.OnRefund = t.showRefund
		t.orders = w
	}
	t.orders.Reload()
	t.orders.Show()
}

// closeOrders is Recent orders' close button.
func (t *tray) closeOrders(w *ui.OrdersWindow) {
	if t.orders != w {
		return // closed already (a language switch rebuilt the windows)
	}
	t.orders = nil
	w.Window().Close()
	t.trim.soon()
}

func (t *tray) showLogs() {
	t.trim.soon()
	if t.logs == nil {
		w := ui.NewLogsWindow(t.env)
		w.Window().SetCloseIntercept(func() { t.closeLogs(w) })
		t.logs = w
	}
	t.logs.Show()
}

// closeLogs is the log window's close button.
func (t *tray) closeLogs(w *ui.LogsWindow) {
	if t.logs != w {
		return // closed already (a language switch rebuilt the windows)
	}
	t.logs = nil
	w.Window().Close()
	t.trim.soon()
}

func (t *tray) showQR() {
	t.trim.soon()
	if t.qr == nil {
		t.qr = ui.NewQRWindow(t.env)
		t.qr.Window().SetCloseIntercept(t.qr.Window().Hide)
	}
	t.qr.Show()
}

func (t *tray) showSettings() {
	t.trim.soon()
	if t.settings != nil {
		t.settings.Window().Close()
	}
	t.settings = ui.NewSettingsWindow(t.env)
	t.settings.Show()
}

func (t *tray) showAbout() {
	t.trim.soon()
	if t.about != nil {
		t.about.Close()
	}
	t.about = ui.NewAboutWindow(t.env)
	t.about.Show()
}

// rebuild closes every window after a language change; they are built again
// in the new language when next opened. The settings window, where the
// change was made, reopens at once.
func (t *tray) rebuild() {
	// Each pointer is checked on its own: a nil *OrdersWindow in an
	// interface slice would not compare equal to nil.
	if t.orders != nil {
		t.orders.Window().Close()
	}
	if t.logs != nil {
		t.logs.Window().Close()
	}
	if t.qr != nil {
		t.qr.Window().Close()
	}
	t.orders, t.logs, t.qr = nil, nil, nil
	t.closeAfterSale()
	if t.about != nil {
		t.about.Close()
		t.about = nil
	}
	wasPay := t.pay != nil && t.pay.Visible()
	if t.pay != nil {
		t.pay.Close()
		// Built again at once: scans keep reaching a pay window, and the new
		// one takes over an order in flight (ui.Env's handoff) and shows
		// itself if the old one was shown.
		t.newPay()
	}
	s := t.state
	t.state = -1
	t.setState(s)
	t.showSettings()
	if wasPay && t.opts.demo {
		t.showPay()
	}
}
