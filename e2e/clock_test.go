package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/scanbox/scanbox/journal"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
	"github.com/scanbox/scanbox/payflow"
)

// clockOffsets are issue 8's cases: the bank's clock (seen from the shop
// PC) 2 h ahead and 3 h behind. With bank API 1.0's client every payment
// waited out its deadline and ended unknown (TIMESTAMP_SKEW).
var clockOffsets = []time.Duration{2 * time.Hour, -3 * time.Hour}

// TestClockOffsetRunner: payments through the real runner, journal and
// client against a simulator whose clock is hours off: paid at once and
// after a password (query path), the journal agreeing with the bank's
// ledger, and the client reporting the offset for status and the tray.
func TestClockOffsetRunner(t *testing.T) {
	for _, off := range clockOffsets {
		t.Run(off.String(), func(t *testing.T) {
			key := newKey()
			sim, base := simtest.NewServer(t, banksim.Options{MchID: soakMch, TerminalKeys: map[string]string{soakTerminal: key},
				ClockOffset: off, PasswordDelay: 100 * time.Millisecond})
			j, err := journal.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			client, err := payclient.New(payclient.Config{BaseURL: base, MchID: soakMch, TerminalID: soakTerminal,
				TerminalSN: banksim.TerminalSN(soakMch, soakTerminal), Key: []byte(key), Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			// As the program wires it: the runner keeps its times in the
			// bank's clock, from the client's measured offset.
			r := payflow.New(j, client, payflow.Config{PollInterval: 30 * time.Millisecond, PollTimeout: 3 * time.Second}, nil,
				payflow.WithClockOffset(client.ClockOffset))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			codes := []string{"134567890123456780", "134567890123456784", "280000000000000001", "6212345678901234565"}
			for i, code := range codes {
				o, err := r.Start(ctx, payflow.PayRequest{Amount: money.Fen(100 + i), Code: code})
				if err != nil {
					t.Fatalf("payment %d refused: %v", i, err)
				}
				o, err = r.Wait(ctx, o.OutTradeNo)
				if err != nil || o.State != order.StatePaid {
					t.Fatalf("payment %d with the bank's clock %v off: %v %v", i, off, o.State, err)
				}
			}
			if got := client.ClockOffset(); got < off-2*time.Second || got > off+2*time.Second {
				t.Errorf("ClockOffset %v, want about %v", got, off)
			}
			paid := 0
			for _, l := range sim.Ledger() {
				o, ok := j.Get(l.OutTradeNo)
				if !ok || !ledgerMatches(o, &l) {
					t.Errorf("journal %+v, bank %+v", o, l)
				}
				if l.State == payclient.TradeSuccess {
					paid++
				}
			}
			if paid != len(codes) {
				t.Errorf("bank holds %d paid orders, want %d", paid, len(codes))
			}
			for code, n := range sim.PaidCountByCode() {
				if n != 1 {
					t.Errorf("%s charged %d times", code, n)
				}
			}
		})
	}
}

// TestClockOffsetProcesses: the shipped program end to end — `scanbox
// banksim --clock-offset`, `scanbox activate`, `scanbox pay` — pays with
// the bank's clock 2 h ahead and 3 h behind.
func TestClockOffsetProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := buildScanbox(t)
	for _, off := range clockOffsets {
		t.Run(off.String(), func(t *testing.T) {
			base := startBanksim(t, bin, "--clock-offset", off.String(), "--password-delay", "200ms")
			dir := t.TempDir()
			if out, code := run(t, bin, "activate", "--data-dir", dir, "--url", base, "--mch", banksim.DefaultMchID,
				"--terminal", banksim.DefaultTerminalID, "--code", banksim.DefaultActivationCode); code != 0 {
				t.Fatalf("activate with the bank's clock %v off: exit %d: %s", off, code, out)
			}
			for i, code := range []string{"134567890123456781", "134567890123456785"} { // at once; after a password
				out, exit := run(t, bin, "pay", "--data-dir", dir, "--amount", fmt.Sprintf("%d.00", 3+i), "--code", code,
					"--json", "--poll-interval", "50ms", "--poll-timeout", "5s")
				var o cliOrder
				if err := json.Unmarshal([]byte(out), &o); exit != 0 || err != nil || o.State != "paid" {
					t.Fatalf("pay %d with the bank's clock %v off: exit %d, %s (%v)", i, off, exit, out, err)
				}
			}
			rep, err := banksim.FetchLedger(context.Background(), base)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Entries) != 2 || rep.Entries[0].State != payclient.TradeSuccess || rep.Entries[1].State != payclient.TradeSuccess {
				t.Errorf("ledger %+v", rep.Entries)
			}
		})
	}
}
