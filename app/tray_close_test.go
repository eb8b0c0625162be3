package main

import (
	"io"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/scanbox/scanbox/app/ui"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
)

func isOpen(a fyne.App, w fyne.Window) bool {
	return slices.Contains(a.Driver().AllWindows(), w)
}

// Recent orders and Logs are destroyed when closed (their GL context and
// textures are freed, and they stop reloading on every update while
// nobody sees them), and built again when reopened, showing what the
// journal holds: here the order paid while the window was closed, and
// the one paid before it.
func TestOrdersAndLogsDestroyedOnCloseComeBackWithTheJournal(t *testing.T) {
	a := test.NewTempApp(t)
	_, url := simtest.NewServer(t, banksim.Options{})
	c, err := newTrayController(t.TempDir(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Activate(url, banksim.DefaultMchID, banksim.DefaultTerminalID, banksim.DefaultActivationCode); err != nil {
		t.Fatal(err)
	}
	final := make(chan order.Order, 4)
	c.OnOrder(func(o order.Order) {
		if o.State.Terminal() {
			final <- o
		}
	})
	pay := func(fen money.Fen, code string) order.Order {
		t.Helper()
		o, err := c.Pay(fen, code)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-final:
			if got.State != order.StatePaid {
				t.Fatalf("order %+v", got)
			}
		case <-time.After(30 * time.Second): // a guard against a hang, not a speed check
			t.Fatal("the order never ended")
		}
		return o
	}
	tr := &tray{app: a, env: ui.NewEnv(a, c), ctrl: c, log: c.log, state: -1, after: newAfterSale(c)}

	first := pay(1250, "134567890123456780")
	tr.showOrders()
	w1 := tr.orders
	if w1 == nil || !w1.Select(first.OutTradeNo) {
		t.Fatal("Recent orders does not list the paid order")
	}
	tr.closeOrders(w1)
	if tr.orders != nil || isOpen(a, w1.Window()) {
		t.Fatal("Recent orders was hidden, not destroyed, when closed")
	}
	second := pay(300, "134567890123456781")
	tr.showOrders()
	w2 := tr.orders
	if w2 == nil || w2 == w1 || !isOpen(a, w2.Window()) {
		t.Fatal("Recent orders did not come back when reopened")
	}
	if !w2.Select(second.OutTradeNo) || !w2.Select(first.OutTradeNo) {
		t.Error("the reopened Recent orders does not list both paid orders")
	}
	// Closing an old window again (a late close event) leaves the new one.
	tr.closeOrders(w1)
	if tr.orders != w2 {
		t.Error("a late close of the old window dropped the new one")
	}

	tr.showLogs()
	l1 := tr.logs
	tr.closeLogs(l1)
	if tr.logs != nil || isOpen(a, l1.Window()) {
		t.Fatal("Logs was hidden, not destroyed, when closed")
	}
	tr.showLogs()
	if tr.logs == nil || tr.logs == l1 || !isOpen(a, tr.logs.Window()) {
		t.Fatal("Logs did not come back when reopened")
	}
}
