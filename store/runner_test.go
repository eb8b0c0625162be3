package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/scanbox/scanbox/internal/testdir"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
	"github.com/scanbox/scanbox/payflow"
	"github.com/scanbox/scanbox/store"
)

// The Store is a payflow.Journal.
var _ payflow.Journal = (*store.Store)(nil)

const (
	mch      = "100000001"
	terminal = "T0001"
)

func newBank(t testing.TB) payclient.Bank {
	b := make([]byte, 32)
	rand.Read(b)
	key := hex.EncodeToString(b)
	_, base := simtest.NewServer(t, banksim.Options{MchID: mch, TerminalKeys: map[string]string{terminal: key}})
	c, err := payclient.New(payclient.Config{BaseURL: base, MchID: mch, TerminalID: terminal, Key: []byte(key),
		TerminalSN: banksim.TerminalSN(mch, terminal), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// snapshotBank copies the store's files the instant a micropay is about to
// leave, as a power cut at that instant would find them, and opens the copy:
// the order must already be in it.
type snapshotBank struct {
	payclient.Bank
	t       *testing.T
	dataDir string
	seen    int
}

func copyFile(t *testing.T, from, to string) {
	in, err := os.Open(from)
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
}

func (b *snapshotBank) Micropay(ctx context.Context, r payclient.MicropayRequest) (*payclient.Payment, error) {
	snap := testdir.New(b.t)
	os.MkdirAll(filepath.Join(snap, "store"), 0o700)
	// Only the database and its WAL: the -shm index is rebuilt from the WAL,
	// as after a reboot.
	for _, name := range []string{"scanbox.db", "scanbox.db-wal"} {
		copyFile(b.t, filepath.Join(b.dataDir, "store", name), filepath.Join(snap, "store", name))
	}
	s, err := store.Open(snap)
	if err != nil {
		b.t.Errorf("opening the snapshot: %v", err)
	} else {
		o, ok := s.Get(r.OutTradeNo)
		if !ok || o.State != order.StatePending || o.AmountFen != r.TotalFee {
			b.t.Errorf("micropay %s left before the order was stored: %+v %v", r.OutTradeNo, o, ok)
		}
		s.Close()
	}
	b.seen++
	return b.Bank.Micropay(ctx, r)
}

// TestOrderStoredBeforeTheBankHearsOfIt runs the real payment runner on the
// Store against the simulator.
func TestOrderStoredBeforeTheBankHearsOfIt(t *testing.T) {
	dir := testdir.New(t)
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	bank := &snapshotBank{Bank: newBank(t), t: t, dataDir: dir}
	r := payflow.New(s, bank, payflow.Config{MchID: mch, TerminalID: terminal}, nil)
	var paid []string
	for i := range 5 {
		code := fmt.Sprintf("13%015d0", i) // WeChat shape; last digit 0: pays at once
		o, err := r.Pay(context.Background(), payflow.PayRequest{Amount: 1250, Code: code})
		if err != nil || o.State != order.StatePaid {
			t.Fatalf("payment %d: %v %v", i, o.State, err)
		}
		paid = append(paid, o.OutTradeNo)
	}
	// A rescan of a paid code is refused from the store's history.
	if _, err := r.Pay(context.Background(), payflow.PayRequest{Amount: 1250, Code: "13" + fmt.Sprintf("%015d", 0) + "0"}); err == nil {
		t.Fatal("a code that already paid was charged again")
	}
	if bank.seen != 5 {
		t.Fatalf("%d micropays, want 5", bank.seen)
	}
	s.Close()
	s, err = store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, no := range paid {
		if o, ok := s.Get(no); !ok || o.State != order.StatePaid || o.TransactionID == "" {
			t.Fatalf("%s after reopen: %+v %v", no, o, ok)
		}
	}
}
