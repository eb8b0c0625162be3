package refund

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/scanbox/scanbox/pin"
)

// TestPINGuardsRefunds: no PIN set, a wrong PIN and the lockout refuse a
// refund with nothing stored and nothing sent to the bank (the fake bank
// counts calls); the lockout counts wrong PINs of refunds and of
// `pin check` alike; the PIN appears in no file of the data directory and
// in no log line.
func TestPINGuardsRefunds(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	pins := pin.Open(dir, pin.WithParams(pin.Params{Time: 1, Memory: 64, Threads: 1, KeyLen: 32, SaltLen: 16}), pin.WithClock(clock))
	st, err := openFileStore(filepath.Join(dir, "refunds.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.AddOrder(paidOrder("SB0001ORDER", 1000))
	bank := &fakeBank{}
	r := New(st, bank, pins, fastCfg, log)
	ctx := context.Background()
	refund := func(p string) error {
		_, err := r.Refund(ctx, Request{OutTradeNo: "SB0001ORDER", Amount: 100, PIN: p})
		return err
	}
	nothingSent := func(what string) {
		t.Helper()
		if n := len(bank.Calls()); n != 0 {
			t.Fatalf("%s: %d bank calls", what, n)
		}
		if n := len(st.All()); n != 0 {
			t.Fatalf("%s: %d refunds stored", what, n)
		}
	}

	const secret = "70315928"
	if err := refund(secret); !errors.Is(err, pin.ErrNotSet) {
		t.Fatalf("no PIN set: %v", err)
	}
	nothingSent("no PIN set")
	if err := pins.SetTwice(secret, secret); err != nil {
		t.Fatal(err)
	}
	if err := refund("70315929"); !errors.Is(err, pin.ErrWrong) {
		t.Fatalf("wrong PIN: %v", err)
	}
	nothingSent("wrong PIN")
	// Three more wrong at `pin check`, one more at a refund: locked.
	for range 3 {
		pins.Check("11111111")
	}
	if err := refund("22222222"); !errors.Is(err, pin.ErrLocked) {
		t.Fatalf("fifth wrong PIN: %v", err)
	}
	if err := refund(secret); !errors.Is(err, pin.ErrLocked) {
		t.Fatalf("right PIN while locked: %v", err)
	}
	nothingSent("locked")
	// A restart keeps the lock.
	r2 := New(st, bank, pin.Open(dir, pin.WithClock(clock)), fastCfg, log)
	if _, err := r2.Refund(ctx, Request{OutTradeNo: "SB0001ORDER", Amount: 100, PIN: secret}); !errors.Is(err, pin.ErrLocked) {
		t.Fatalf("after restart: %v", err)
	}
	nothingSent("locked after restart")
	now = now.Add(pin.LockFor + time.Second)
	pins2 := pin.Open(dir, pin.WithClock(clock))
	r3 := New(st, bank, pins2, fastCfg, log)
	x, err := r3.Refund(ctx, Request{OutTradeNo: "SB0001ORDER", Amount: 100, PIN: secret})
	if err != nil || x.State != StateRefunded || len(bank.Calls()) != 1 {
		t.Fatalf("right PIN after the lock: %+v %v, calls %v", x, err, bank.Calls())
	}
	// The PIN in clear: in no file, in no log.
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds the PIN", p)
			}
		}
		return nil
	})
	if bytes.Contains(logs.Bytes(), []byte(secret)) || bytes.Contains(logs.Bytes(), []byte("22222222")) {
		t.Errorf("a PIN is in the log:\n%s", logs.String())
	}
	if !bytes.Contains(logs.Bytes(), []byte("manager PIN not accepted")) {
		t.Error("refused refunds were not logged at all")
	}
}
