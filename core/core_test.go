package core

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
)

func activate(t *testing.T, c *Core, url, term string) error {
	t.Helper()
	_, err := c.Activate(context.Background(), ActivateRequest{URL: url, MchID: banksim.DefaultMchID,
		TerminalID: term, Code: banksim.DefaultActivationCode})
	return err
}

// One owner per data directory: a second open is refused, naming the
// owner; once it closes, the directory opens again.
func TestOwnerLock(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(dir, Options{Kind: KindServe})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, Options{Kind: KindCLI, LockWait: 100 * time.Millisecond})
	if !errors.Is(err, ErrOwned) || !strings.Contains(err.Error(), fmt.Sprintf("serve, process %d", os.Getpid())) {
		t.Fatalf("second open: %v", err)
	}
	if o := ReadOwner(dir); o.Kind != KindServe || o.PID != os.Getpid() {
		t.Errorf("owner hint %+v", o)
	}
	a.Close()
	b, err := Open(dir, Options{Kind: KindCLI})
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	b.Close()
}

// Activation is refused while a payment is in flight or an order of the
// current identity is unresolved, for the same terminal as for another:
// the new key would invalidate the one the open order needs.
func TestActivationRefusedWhileOrdersOpen(t *testing.T) {
	_, url := simtest.NewServer(t, banksim.Options{Terminals: []string{"T0001", "T0002"}, PasswordDelay: time.Hour})
	c, err := Open(t.TempDir(), Options{Kind: KindServe})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Runner(); !errors.Is(err, ErrNotActivated) {
		t.Fatalf("runner before activation: %v", err)
	}
	if err := activate(t, c, url, "T0001"); err != nil {
		t.Fatal(err)
	}
	o, err := c.Pay(500, "134567890123456784") // 4: the payer types a password (for an hour)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		cur, _ := c.Journal().Get(o.OutTradeNo)
		if cur.State == order.StateWaiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("order never waiting: %+v", cur)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, term := range []string{"T0001", "T0002"} {
		if err := activate(t, c, url, term); !errors.Is(err, ErrPaymentInProgress) {
			t.Errorf("activate %s with a payment in flight: %v", term, err)
		}
	}
	if st := c.Status(); st.InFlight != 1 || st.Terminal != "T0001" {
		t.Errorf("status %+v", st)
	}
	// Stop following it: the order stays open in the journal.
	c.StopPayments()
	c.Close()

	c, err = Open(c.Dir(), Options{Kind: KindServe})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, term := range []string{"T0001", "T0002"} {
		if err := activate(t, c, url, term); !errors.Is(err, ErrUnresolvedOrders) {
			t.Errorf("activate %s with an unresolved order: %v", term, err)
		}
	}
	if st := c.Status(); st.Unresolved != 1 || st.Terminal != "T0001" || !st.Activated {
		t.Errorf("status after the refusals %+v", st)
	}
}

// The bank identity changes only by activation.
func TestSetConfigKeepsIdentity(t *testing.T) {
	_, url := simtest.NewServer(t, banksim.Options{Terminals: []string{"T0001", "T0002"}})
	c, err := Open(t.TempDir(), Options{Kind: KindTray})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := activate(t, c, url, "T0001"); err != nil {
		t.Fatal(err)
	}
	cfg := c.Config()
	cfg.TerminalID = "T0002"
	if err := c.SetConfig(cfg); !errors.Is(err, ErrIdentityChange) {
		t.Fatalf("SetConfig switching the terminal: %v", err)
	}
	cfg = c.Config()
	cfg.Volume = 10
	if err := c.SetConfig(cfg); err != nil || c.Config().Volume != 10 {
		t.Fatalf("a plain setting: %v", err)
	}
	if c.Config().TerminalID != "T0001" {
		t.Fatal("terminal changed")
	}
}

func TestStatusOwner(t *testing.T) {
	c, err := Open(t.TempDir(), Options{Kind: KindCLI})
	if err != nil {
		t.Fatal(err)
	}
	if st := c.Status(); st.Owner != nil || st.Activated || st.Amount.State != "off" {
		t.Errorf("a CLI command's status %+v", st)
	}
	c.Close()
	c, err = Open(t.TempDir(), Options{Kind: KindTray, Sources: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if st := c.Status(); st.Owner == nil || st.Owner.Kind != KindTray || st.Owner.PID != os.Getpid() || st.Amount.State != "ok" {
		t.Errorf("the tray's status %+v", st)
	}
}

// The per-payment maximum holds for every front-end, not only the pay
// window: over it, Pay refuses with nothing journaled and nothing sent.
func TestPayRefusedOverLimit(t *testing.T) {
	sim, url := simtest.NewServer(t, banksim.Options{Terminals: []string{"T0001"}})
	c, err := Open(t.TempDir(), Options{Kind: KindServe})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := activate(t, c, url, "T0001"); err != nil {
		t.Fatal(err)
	}
	cfg := c.Config()
	cfg.MaxPayment, cfg.ConfirmAbove = 5000, 0
	if err := c.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Pay(5001, "134567890123456780"); !errors.Is(err, ErrOverLimit) {
		t.Fatalf("Pay over the maximum: %v, want ErrOverLimit", err)
	}
	if n := len(c.Journal().Recent(10)); n != 0 {
		t.Fatalf("%d orders journaled for a refused payment", n)
	}
	if n := len(sim.Ledger()); n != 0 {
		t.Fatalf("the bank saw %d orders for a refused payment", n)
	}
	o, err := c.Pay(5000, "134567890123456780")
	if err != nil {
		t.Fatalf("Pay at the maximum: %v", err)
	}
	if o, err = c.Wait(context.Background(), o.OutTradeNo); err != nil || o.State != order.StatePaid {
		t.Fatalf("payment at the maximum: %v %v", o.State, err)
	}
}
