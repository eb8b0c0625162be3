package payflow_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/scanbox/scanbox/journal"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
	"github.com/scanbox/scanbox/payflow"
)

const simKey = "0123456789abcdef0123456789abcdef"

// simRunner is a runner on a real journal and a real client against the
// simulator (terminal pre-activated with simKey).
func simRunner(t *testing.T, cfg payflow.Config) (*payflow.Runner, *banksim.Sim) {
	t.Helper()
	sim, url := simtest.NewServer(t, banksim.Options{TerminalKeys: map[string]string{banksim.DefaultTerminalID: simKey}})
	client, j := simClientJournal(t, url)
	cfg.MchID, cfg.TerminalID = banksim.DefaultMchID, banksim.DefaultTerminalID
	if cfg.PollInterval == 0 {
		cfg.PollInterval, cfg.PollTimeout = 5*time.Millisecond, 2*time.Second
	}
	return payflow.New(j, client, cfg, nil), sim
}

// simClientJournal is a real client of the simulator's default terminal
// (pre-activated with simKey) at url, and a real journal.
func simClientJournal(t *testing.T, url string) (*payclient.Client, *journal.Journal) {
	t.Helper()
	client, err := payclient.New(payclient.Config{BaseURL: url, MchID: banksim.DefaultMchID, TerminalID: banksim.DefaultTerminalID,
		TerminalSN: banksim.TerminalSN(banksim.DefaultMchID, banksim.DefaultTerminalID),
		Key:        []byte(simKey), Logger: slog.New(slog.DiscardHandler), RecallWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return client, j
}

// Defect 4: a store name over 128 bytes (it becomes micropay's body) made
// every payment fail with INVALID_REQUEST. A long Chinese store name pays,
// by micropay and by dynamic QR, with body cut at a UTF-8 boundary.
func TestRegressionLongStoreNamePays(t *testing.T) {
	store := strings.Repeat("上海市浦东新区陆家嘴环路一千号恒生银行大厦", 4) // 4×21 characters, 252 bytes
	r, sim := simRunner(t, payflow.Config{Body: store})
	o, err := r.Pay(context.Background(), payflow.PayRequest{Amount: 1250, Code: "134567890123456780"})
	if err != nil || o.State != order.StatePaid {
		t.Fatalf("Pay with a %d-byte store name = %v %q, %v", len(store), o.State, o.ErrCode, err)
	}
	if len(o.Body) > payflow.MaxBodyBytes || !utf8.ValidString(o.Body) || !strings.HasPrefix(store, o.Body) || len(o.Body) < payflow.MaxBodyBytes-3 {
		t.Errorf("body %q (%d bytes): want the longest valid UTF-8 prefix within %d bytes", o.Body, len(o.Body), payflow.MaxBodyBytes)
	}
	pc, err := r.Precreate(context.Background(), 800, "")
	if err != nil || pc.CodeURL == "" {
		t.Fatalf("Precreate with a long store name = %+v, %v", pc, err)
	}
	if err := sim.PayPrecreated(pc.OutTradeNo); err != nil {
		t.Fatal(err)
	}
	if final, _ := r.Wait(context.Background(), pc.OutTradeNo); final.State != order.StatePaid {
		t.Fatalf("precreate final %v %q", final.State, final.ErrCode)
	}
}

func TestCutBody(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"ScanBox", "ScanBox"},
		{strings.Repeat("a", 128), strings.Repeat("a", 128)},
		{strings.Repeat("a", 129), strings.Repeat("a", 128)},
		{strings.Repeat("a", 127) + "店", strings.Repeat("a", 127)},
		{strings.Repeat("a", 125) + "店", strings.Repeat("a", 125) + "店"},
		{strings.Repeat("店", 43), strings.Repeat("店", 42)},
		{"a\xffb", "a\uFFFDb"},
	} {
		if got := payflow.CutBody(c.in); got != c.want {
			t.Errorf("CutBody(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
