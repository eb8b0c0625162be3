package core

// The fleet agent's wiring (docs/agent.md, "Wiring"): the owning instance
// (tray or serve) runs the agent for its data directory; it reports what
// the core knows (status source), applies remote configuration through
// SetConfig (never the bank identity) and uploads the support zip on
// request. Nothing here is on a payment path: the order subscription only
// feeds the agent's counters (a mutex and a map), and a fleet that is
// absent, broken or hostile is logged and leaves payments alone.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scanbox/scanbox/agent"
	"github.com/scanbox/scanbox/capture"
	"github.com/scanbox/scanbox/capture/usbdev"
	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/deviceid"
	"github.com/scanbox/scanbox/fleet/proto"
	"github.com/scanbox/scanbox/logging"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payflow"
	"github.com/scanbox/scanbox/refund"
)

// FleetPOSToken keeps the POS API's token file in step with a remote "POS
// API on/off" (posapi owns the token and imports core, so the program sets
// this: on creates a token if none exists, off deletes it). Nil: a remote
// "on" is refused, "off" still applies.
var FleetPOSToken func(dir string, on bool) error

// FleetIntervalTestHookEnv shortens the fleet heartbeat interval for the
// e2e harness (e2e/fleet_test.go), whose budget cannot wait the fleet's
// 10 s minimum several times. It is read only by a binary built with -tags
// scanbox_testhooks (core/fleet_testhooks.go), like deviceid's
// machine-identity hook; a shipped build always uses the fleet's interval.
const FleetIntervalTestHookEnv = "SCANBOX_TESTHOOK_FLEET_INTERVAL"

// fleetInterval overrides the heartbeat interval (0: the fleet's); only a
// scanbox_testhooks build sets it (core/fleet_testhooks.go).
var fleetInterval = func() time.Duration { return 0 }

// fleetRun is the running agent of an owning instance.
type fleetRun struct {
	a     *agent.Agent
	stop  func()
	unsub []func()

	mu       sync.Mutex
	scanAt   time.Time // the scanner's last code
	answered bool      // the bank answered an order since the start
}

// counted remembers which orders were counted with which outcome, so that
// the same change heard twice (a requery, a restart of the runner) is not
// counted twice; bounded, oldest forgotten first.
type counted struct {
	mu    sync.Mutex
	seen  map[string]string
	order []string
}

const countedMax = 4096

// first reports whether (no, outcome) is new, and records it.
func (c *counted) first(no, outcome string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := no + "\x00" + outcome
	if _, ok := c.seen[k]; ok {
		return false
	}
	if len(c.order) >= countedMax {
		delete(c.seen, c.order[0])
		c.order = c.order[1:]
	}
	c.seen[k] = outcome
	c.order = append(c.order, k)
	return true
}

// NewFleetAgent builds the fleet agent for this data directory with the
// core's status, configuration and support bundle. It does not contact the
// fleet. The owning instance keeps one running (Fleet); a command that
// opened the directory itself uses a fresh one.
func (c *Core) NewFleetAgent() (*agent.Agent, error) {
	c.refreshFleetIdentity()
	return agent.New(agent.Options{
		DataDir:  c.dir,
		Status:   agent.StatusFunc(c.fleetSnapshot),
		Config:   agent.ConfigFunc(c.applyRemote),
		Bundle:   agent.BundleFunc(func(_ context.Context, w io.Writer) error { return c.ExportSupport(w) }),
		Logger:   c.log.With("component", "fleet"),
		Interval: fleetInterval(),
	})
}

// Fleet is the running instance's agent (nil in a short-lived command, or
// when the fleet state could not be read: then the fleet is off, payments
// are not).
func (c *Core) Fleet() *agent.Agent {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fleet == nil {
		return nil
	}
	return c.fleet.a
}

// FleetIdentity is what the fleet knows this terminal by: the bank identity
// from activation and this PC's device_id (the same as the bank's).
func (c *Core) FleetIdentity() (proto.Identity, error) {
	cfg := c.Config()
	if !cfg.Activated() {
		return proto.Identity{}, ErrNotActivated
	}
	dev, err := deviceid.For(nil, cfg.MchID, cfg.TerminalID)
	if err != nil {
		return proto.Identity{}, err
	}
	return proto.Identity{MchID: cfg.MchID, TerminalID: cfg.TerminalID, TerminalSN: cfg.TerminalSN, DeviceID: dev}, nil
}

// startFleet runs the agent of a long-running owner. Not joined, it idles
// until `scanbox fleet join` (carried out here) enrolls it.
func (c *Core) startFleet() {
	a, err := c.NewFleetAgent()
	if err != nil {
		c.log.Warn("fleet reporting off", "reason", agent.Sentence(err))
		return
	}
	seen := &counted{seen: map[string]string{}}
	f := &fleetRun{a: a}
	f.unsub = append(f.unsub, c.Subscribe(func(o order.Order) {
		if o.State != order.StatePending {
			f.mu.Lock()
			f.answered = true
			f.mu.Unlock()
		}
		countOrder(a, seen, o)
	}), c.SubscribeRefunds(func(r refund.Refund) {
		countRefund(a, seen, r, c.journal.Get)
	}), c.OnScan(func(string) {
		f.mu.Lock()
		f.scanAt = time.Now().UTC()
		f.mu.Unlock()
	}))
	if c.ring != nil {
		ctx, cancel := context.WithCancel(c.ctx)
		done := make(chan struct{})
		go func() { defer close(done); countLogErrors(ctx, c.ring, a) }()
		f.unsub = append(f.unsub, func() { cancel(); <-done })
	}
	f.stop = a.Start(c.ctx)
	c.mu.Lock()
	c.fleet = f
	c.mu.Unlock()
}

// stopFleet ends the agent's loop (a heartbeat in progress is abandoned;
// what was queued stays on disk for the next start).
func (c *Core) stopFleet() {
	c.mu.Lock()
	f := c.fleet
	c.fleet = nil
	c.mu.Unlock()
	if f == nil {
		return
	}
	for _, u := range f.unsub {
		u()
	}
	f.stop()
}

// fleetCounter is the agent's counting side (a fake in tests).
type fleetCounter interface {
	CountPayment(channel, outcome string, amount money.Fen)
	CountError(code string)
}

// countRefund counts a refund once when the payer has the money back, on
// the channel of the order it refunds.
func countRefund(a fleetCounter, seen *counted, r refund.Refund, get func(string) (order.Order, bool)) {
	if r.State != refund.StateRefunded || !seen.first(r.OutRefundNo, proto.OutcomeRefund) {
		return
	}
	o, _ := get(r.OutTradeNo) // not found: the zero order, channel "unknown"
	a.CountPayment(reportChannel(o), proto.OutcomeRefund, r.RefundFen)
}

// reportChannel is the report's channel name of o: the bank's, else the
// one guessed from the code, else "unknown".
func reportChannel(o order.Order) string {
	ch := o.Channel
	if ch == order.ChannelNone {
		ch = o.Guess
	}
	if n := strings.ToLower(ch.String()); n != "" {
		return n
	}
	return "unknown"
}

// countOrder feeds the agent's payment counters: an order that ended is
// counted once with its outcome; one left unknown is counted as unknown
// when it becomes so, and again with its final outcome once resolved.
func countOrder(a fleetCounter, seen *counted, o order.Order) {
	var outcome string
	switch o.State {
	case order.StatePaid:
		outcome = proto.OutcomePaid
	case order.StateFailed, order.StateClosed, order.StateRevoked:
		outcome = proto.OutcomeFailed
	case order.StateUnknown:
		outcome = proto.OutcomeUnknown
	default:
		return
	}
	if !seen.first(o.OutTradeNo, outcome) {
		return
	}
	a.CountPayment(reportChannel(o), outcome, o.AmountFen)
	switch {
	case outcome == proto.OutcomeUnknown:
		a.CountError("order_unknown")
	case outcome == proto.OutcomeFailed && o.ErrCode == payflow.CodeNotReceived:
		// Closed because the micropay never reached the bank: the shop's
		// network, not a bank refusal.
		a.CountError("order_not_received")
	case outcome == proto.OutcomeFailed && o.ErrCode != "":
		a.CountError("bank_" + strings.ToLower(o.ErrCode))
	}
}

// countLogErrors counts the program's warnings and errors (only the level
// is kept: the text stays on the PC) for the next report.
func countLogErrors(ctx context.Context, ring *logging.Ring, a *agent.Agent) {
	_, cursor := ring.Since(^uint64(0)) // from now on
	for ring.Wait(ctx, cursor) == nil {
		var es []logging.Entry
		es, cursor = ring.Since(cursor)
		for _, e := range es {
			switch {
			case e.Level >= slog.LevelError:
				a.CountError("log_error")
			case e.Level >= slog.LevelWarn:
				a.CountError("log_warning")
			}
		}
	}
}

// scanBoxLookup finds the attached scan box (a fake in tests).
var scanBoxLookup = usbdev.Lookup

// fleetSnapshot answers from the core's cached state (the agent gives it 5 s).
func (c *Core) fleetSnapshot(ctx context.Context) agent.Snapshot {
	st := c.Status()
	var s agent.Snapshot
	if st.ClockOffsetMS != nil {
		// Status has the bank's clock minus this PC's; the agent wants
		// this PC's minus the bank's.
		s.ClockOffset = -time.Duration(*st.ClockOffsetMS) * time.Millisecond
		s.ClockOffsetKnown = *st.ClockOffsetMS != 0 || c.fleetFlag(func(f *fleetRun) bool { return f.answered })
	}
	s.UnresolvedOrders = st.Unresolved + st.InFlight
	s.UnresolvedRefunds = st.UnresolvedRefunds
	for _, o := range c.journal.Unresolved() {
		if s.OldestUnresolvedAt == nil || o.CreatedAt.Before(*s.OldestUnresolvedAt) {
			t := o.CreatedAt
			s.OldestUnresolvedAt = &t
		}
	}
	src := proto.AmountSourceState{Name: st.Amount.Kind, State: fleetState(st.Amount.State), Detail: st.Amount.Error}
	if st.Amount.AmountFen != nil && st.Amount.AmountAgeSec != nil {
		t := time.Now().Add(-time.Duration(*st.Amount.AmountAgeSec) * time.Second).UTC()
		src.LastOKAt = &t
	}
	s.AmountSources = []proto.AmountSourceState{src}
	cfg := c.Config()
	s.Scanner = proto.ScannerState{State: fleetState(st.Scanner.State), Mode: st.Scanner.Mode, Port: cfg.Scanner.Port}
	if st.Scanner.State == "focused_window" {
		s.Scanner.State, s.Scanner.Port = proto.StateOK, "focused window (no hook)"
	}
	if t := c.lastScan(); !t.IsZero() {
		s.Scanner.LastScanAt = &t
	}
	// Which scan box it is (the bank's device stock), where Windows tells
	// it; bounded and cached for a minute by usbdev, never on a payment's
	// path. No sure answer: the fields stay empty.
	uctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	if d, ok, err := scanBoxLookup(uctx, usbdev.Want{Mode: cfg.Scanner.Mode.String(), Port: cfg.Scanner.Port}); err == nil && ok {
		s.Scanner.USBVIDPID, s.Scanner.USBSerial, s.Scanner.Model = d.VIDPID, d.Serial, d.ModelLabel()
	}
	cancel()
	switch {
	case cfg.Amount.Source != capture.SourceOCR.String():
		s.OCR = proto.ComponentState{State: proto.StateOff}
	case st.Amount.Error != "":
		s.OCR = proto.ComponentState{State: proto.StateFailing, Detail: st.Amount.Error}
	default:
		s.OCR = proto.ComponentState{State: proto.StateOK}
	}
	s.Voice = c.voiceState(cfg.Voice)
	return s
}

// SetVoiceHealth gives the core the speaker's health (voice.Speaker.Health):
// the speaker belongs to the front-end that speaks (the tray's controller),
// the report to the core. nil: unknown.
func (c *Core) SetVoiceHealth(fn func() (played bool, err error)) {
	c.mu.Lock()
	c.voiceHealth = fn
	c.mu.Unlock()
}

// voiceState is the report's sound output: off by configuration, failing
// with the last playback error, ok once a sentence played, else unknown
// (nothing spoken yet, or no front-end that speaks: `scanbox serve`).
func (c *Core) voiceState(wanted bool) proto.VoiceState {
	if !wanted {
		return proto.VoiceState{State: proto.StateOff}
	}
	c.mu.Lock()
	fn := c.voiceHealth
	c.mu.Unlock()
	if fn == nil {
		return proto.VoiceState{State: proto.StateUnknown}
	}
	played, err := fn()
	switch {
	case err != nil:
		return proto.VoiceState{State: proto.StateFailing}
	case played:
		return proto.VoiceState{State: proto.StateOK}
	}
	return proto.VoiceState{State: proto.StateUnknown}
}

// fleetState maps status states (ok, error, off) to the report's.
func fleetState(s string) string {
	switch s {
	case "ok":
		return proto.StateOK
	case "error":
		return proto.StateFailing
	case "off":
		return proto.StateOff
	}
	return proto.StateUnknown
}

// fleetFlag reads the running agent's record (false without one).
func (c *Core) fleetFlag(fn func(*fleetRun) bool) bool {
	c.mu.Lock()
	f := c.fleet
	c.mu.Unlock()
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return fn(f)
}

// lastScan is when the scanner last delivered a code (zero: never).
func (c *Core) lastScan() time.Time {
	var t time.Time
	c.fleetFlag(func(f *fleetRun) bool { t = f.scanAt; return true })
	return t
}

// applyRemote applies the fleet's settings atomically over SetConfig: all
// of them in one config.Save, or none. SetConfig itself refuses any change
// of the bank identity; the agent already refused every setting naming it.
func (c *Core) applyRemote(_ context.Context, s proto.Settings) error {
	cfg := c.Config()
	if s.PollIntervalMs != nil {
		cfg.PollInterval = config.Duration(time.Duration(*s.PollIntervalMs) * time.Millisecond)
	}
	if s.PollDeadlineSec != nil {
		cfg.PollTimeout = config.Duration(time.Duration(*s.PollDeadlineSec) * time.Second)
	}
	if s.VoiceEnabled != nil {
		cfg.Voice = *s.VoiceEnabled
	}
	if s.VoiceVolume != nil {
		cfg.Volume = *s.VoiceVolume
	}
	if err := applyAmountKeys(&cfg.Amount, s.AmountSource); err != nil {
		return err
	}
	posOn := cfg.POSAPI.Enabled
	if s.POSAPIEnabled != nil {
		posOn = *s.POSAPIEnabled
	}
	if posOn && !cfg.POSAPI.Enabled {
		if FleetPOSToken == nil {
			return errors.New("core: the POS API cannot be enabled remotely by this program")
		}
		// A token first: an enabled API without one would not start. If
		// the save below fails, the unused token is harmless (API off).
		if err := FleetPOSToken(c.dir, true); err != nil {
			return err
		}
	}
	wasOn := cfg.POSAPI.Enabled
	cfg.POSAPI.Enabled = posOn
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := c.SetConfig(cfg); err != nil {
		return err
	}
	if wasOn && !posOn && FleetPOSToken != nil {
		if err := FleetPOSToken(c.dir, false); err != nil {
			c.log.Warn("POS API token not deleted", "err", err)
		}
	}
	c.log.Info("remote configuration applied", "poll_interval", cfg.PollInterval.String(), "poll_timeout", cfg.PollTimeout.String(),
		"voice", cfg.Voice, "volume", cfg.Volume, "amount_source", cfg.Amount.Source, "pos_api", cfg.POSAPI.Enabled)
	return nil
}

// applyAmountKeys sets the amount source's keys the fleet may send (see
// docs/fleet.md, "Plug-in side"); an unknown key or value refuses the whole
// configuration.
func applyAmountKeys(a *config.AmountConfig, keys map[string]string) error {
	for k, v := range keys {
		v = strings.TrimSpace(v)
		num := func() (int, error) {
			n, err := strconv.Atoi(v)
			if err != nil {
				return 0, fmt.Errorf("core: amount_source %s=%q is not a number", k, v)
			}
			return n, nil
		}
		var err error
		switch k {
		case "source":
			if _, perr := capture.ParseSource(v); perr != nil {
				return fmt.Errorf("core: amount_source source=%q: %w", v, perr)
			}
			a.Source = v
		case "max_amount_age":
			var d config.Duration
			if err = d.UnmarshalText([]byte(v)); err == nil {
				a.MaxAmountAge = d
			}
		case "serial.port":
			a.Serial.Port = v
		case "serial.baud":
			a.Serial.Baud, err = num()
		case "serial.data_bits":
			a.Serial.DataBits, err = num()
		case "serial.parity":
			a.Serial.Parity = v
		case "serial.stop_bits":
			a.Serial.StopBits = v
		case "serial.profile":
			a.Serial.Profile = v
		case "serial.forward_port":
			a.Serial.ForwardPort = v
		case "ocr.region":
			var r config.OCRRegion
			if _, serr := fmt.Sscanf(v, "%d,%d,%d,%d", &r.X, &r.Y, &r.W, &r.H); serr != nil {
				return fmt.Errorf("core: amount_source ocr.region=%q is not X,Y,W,H", v)
			}
			a.OCR = r
		default:
			return fmt.Errorf("core: amount_source key %q is not known", k)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// refreshFleetIdentity keeps the device_id the agent reports in line with
// the PC it runs on. The agent reports the identity stored at enrollment
// (fleet.json); a data directory copied to another PC must report that
// PC's device_id so that the fleet raises "device changed / copied
// installation". Only the identity object is replaced; every other field
// of the agent's state is kept byte for byte. The owner lock is held and
// the agent not yet started, so nobody else writes the file meanwhile.
func (c *Core) refreshFleetIdentity() {
	path := filepath.Join(c.dir, "fleet.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return // not joined (or unreadable: agent.New says so)
	}
	var st map[string]json.RawMessage
	if json.Unmarshal(b, &st) != nil {
		return
	}
	var old proto.Identity
	if json.Unmarshal(st["identity"], &old) != nil || old.MchID == "" {
		return
	}
	cur, err := c.FleetIdentity()
	if err != nil || cur.MchID != old.MchID || cur.TerminalID != old.TerminalID {
		// Another terminal than the one enrolled (re-activated): the
		// fleet must be joined again; report what was enrolled.
		return
	}
	if cur == old {
		return
	}
	c.log.Warn("fleet: this PC is not the one the terminal was enrolled on; reporting its own device id")
	raw, _ := json.Marshal(cur)
	st["identity"] = raw
	out, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out, 0o644); err != nil {
		return
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
	}
}
