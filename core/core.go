// Package core is ScanBox's one composition root: it opens a data directory
// (configuration, protected key, journal, logging, bank client, payment
// runner, amount sources, scanner input) under an owner lock and hands the
// parts to the front-ends: the tray, `scanbox serve` and every CLI
// subcommand. Front-ends build none of these themselves.
//
// It owns the lifecycle and the guards that span parts (activation only
// while no order is open, one owner per data directory). It must never hold
// payment logic (that is payflow's) nor any user interface.
package core

import (
	"context"
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

	"github.com/scanbox/scanbox/capture"
	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/journal"
	"github.com/scanbox/scanbox/logging"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/payflow"
	"github.com/scanbox/scanbox/pin"
	"github.com/scanbox/scanbox/refund"
	"github.com/scanbox/scanbox/store"
)

// Kind says which front-end opened the data directory.
type Kind string

// The front-ends. Only the tray and serve run long and serve the local API.
const (
	KindCLI   Kind = "cli"
	KindTray  Kind = "tray"
	KindServe Kind = "serve"
)

// Errors a front-end turns into a cashier's sentence or an exit code.
var (
	ErrOwned             = errors.New("another ScanBox program is using this data directory")
	ErrNotActivated      = errors.New("ScanBox is not activated yet")
	ErrPaymentInProgress = errors.New("a payment is in progress; activate again when it has finished")
	ErrUnresolvedOrders  = errors.New("orders of this terminal are not resolved yet")
	ErrActivating        = errors.New("the terminal is being activated; try again in a moment")
	ErrClosed            = errors.New("ScanBox is shutting down")
	ErrIdentityChange    = errors.New("the bank connection (URL, merchant, terminal) changes only by activating the terminal")
	ErrOverLimit         = errors.New("the amount is over this terminal's per-payment maximum")
)

// Journal is what holds the money record: the runner's interface plus Close.
type Journal interface {
	payflow.Journal
	io.Closer
}

// OpenJournal opens the data directory's money record: the SQLite store
// (docs/history.md), which imports an old journal file on first start.
var OpenJournal = func(dir string, log *slog.Logger) (Journal, error) {
	return store.Open(dir, store.WithLogger(log))
}

// Pacing overrides the configuration's payment pacing for this process
// (`scanbox pay --poll-interval …`); zero fields keep the configuration's.
type Pacing struct {
	PollInterval, PollTimeout, HTTPTimeout time.Duration
}

// Options say how a front-end wants the data directory opened.
type Options struct {
	Kind Kind
	// Stderr hears the one line saying that file logging is off.
	Stderr io.Writer
	Pacing Pacing
	// Background runs the resolver that settles unresolved orders on its own.
	Background bool
	// Sources starts the amount source and the scanner input of the
	// configuration (the long-running front-ends want them; a CLI command
	// must not grab the serial ports).
	Sources bool
	// Wedge also installs the keyboard-wedge hook when the scanner is a
	// wedge. Only a front-end that consumes the scans (the tray) wants it:
	// the hook takes the scanner's keystrokes away from the focused window.
	Wedge bool
	// LockWait is how long to wait for a short-lived owner (a CLI command)
	// to release the data directory before giving up with ErrOwned.
	LockWait time.Duration
}

// Core is one opened data directory.
type Core struct {
	dir       string
	opts      Options
	log       *slog.Logger
	ring      *logging.Ring
	logCloser io.Closer
	lockF     *os.File
	journal   Journal
	amount    capture.Current
	// payCurMu makes PayCurrent's read, charge and consume one step.
	payCurMu sync.Mutex
	ctx      context.Context
	cancel   context.CancelFunc
	started  time.Time

	mu        sync.Mutex
	cfg       config.Config
	client    *payclient.Client
	runner    *payflow.Runner
	refunds   *refund.Runner
	runnerErr error
	// voiceHealth is the speaking front-end's speaker health (SetVoiceHealth).
	voiceHealth func() (played bool, err error)
	stopRunner  func()
	activating  bool
	// starting counts payments between Pay's checks and the runner taking
	// the order in flight: Activate refuses while any is (review item 6:
	// else an activation in that gap switches the terminal under a payment
	// that is about to leave with the old identity).
	starting    int
	closed      bool
	src         sourceState
	stopSources func()
	fleet       *fleetRun // the fleet agent of a long-running owner (fleet.go)

	orders        Fanout[order.Order]
	refundChanges Fanout[refund.Refund]
	scans         Fanout[string]
	serial        Fanout[string]
	changed       Fanout[struct{}]
	bg            sync.WaitGroup

	pinOnce sync.Once
	pin     *pin.Manager
	slips   sync.WaitGroup // payment slips being printed

	lastRecon *Reconciliation // guarded by mu
}

// Open opens dir for one front-end. It fails only when the data directory
// cannot be used at all: unwritable, broken configuration, or owned by
// another process (ErrOwned). An unactivated terminal opens fine; its
// Runner reports ErrNotActivated.
func Open(dir string, opts Options) (*Core, error) {
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	if opts.Kind == "" {
		opts.Kind = KindCLI
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create the data directory %s: %w", dir, err)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		return nil, err
	}
	c := &Core{dir: dir, opts: opts, cfg: cfg, started: time.Now()}
	c.log, c.ring, c.logCloser = openLogs(dir, opts.Stderr)
	c.log = c.log.With("owner", string(opts.Kind))
	if c.lockF, err = lockOwner(dir, opts.Kind, opts.LockWait); err != nil {
		c.logCloser.Close()
		return nil, err
	}
	if c.journal, err = openJournalWait(dir, c.log, opts.LockWait); err != nil {
		c.lockF.Close()
		c.logCloser.Close()
		return nil, err
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	if cfg.Activated() {
		if err := c.startRunner(); err != nil {
			c.log.Error("cannot start payments", "err", err)
		}
	}
	if opts.Sources {
		c.RestartSources()
	}
	c.printPayments()
	if opts.Background {
		c.startFleet() // never fails the open: a broken fleet is only logged
		c.bg.Add(1)
		go func() { defer c.bg.Done(); c.reconcileDaily() }()
		c.bg.Add(1)
		go func() { defer c.bg.Done(); c.pruneDaily(pruneEvery) }()
	}
	return c, nil
}

// openLogs starts file + ring logging; without file logs ScanBox still
// takes payments (warnings go to stderr then).
func openLogs(dir string, stderr io.Writer) (*slog.Logger, *logging.Ring, io.Closer) {
	log, ring, closer, err := logging.New(dir, logging.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "scanbox: logging to files is off: %s\n", OneLine(err.Error()))
		return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), nil, nopCloser{}
	}
	return log, ring, closer
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// ownerLockName is the owner lock in the data directory; it holds
// "PID KIND" as a hint for the refusal message.
const ownerLockName = "owner.lock"

func lockOwner(dir string, kind Kind, wait time.Duration) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, ownerLockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open the owner lock in %s: %w", dir, err)
	}
	deadline := time.Now().Add(wait)
	for {
		err = lockFile(f)
		if err == nil {
			break
		}
		if !errors.Is(err, errWouldBlock) {
			f.Close()
			return nil, fmt.Errorf("cannot lock %s: %w", dir, err)
		}
		if time.Now().After(deadline) {
			hint := ReadOwner(dir)
			f.Close()
			if hint.PID > 0 {
				return nil, fmt.Errorf("%w (%s, process %d)", ErrOwned, hint.Kind, hint.PID)
			}
			return nil, ErrOwned
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+" "+string(kind)), 0)
	}
	return f, nil
}

// Owner is who holds a data directory, as its lock file says.
type Owner struct {
	PID  int  `json:"pid"`
	Kind Kind `json:"kind"`
}

// ReadOwner reads the owner hint; the zero Owner when nobody wrote one.
// It is only a hint: the lock, not this text, decides.
func ReadOwner(dir string) Owner {
	b, err := os.ReadFile(filepath.Join(dir, ownerLockName))
	if err != nil {
		return Owner{}
	}
	pid, kind, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	n, err := strconv.Atoi(pid)
	if err != nil {
		return Owner{}
	}
	return Owner{PID: n, Kind: Kind(kind)}
}

// openJournalWait opens the journal, waiting briefly while another process
// holds it (an older ScanBox without the owner lock).
func openJournalWait(dir string, log *slog.Logger, wait time.Duration) (Journal, error) {
	deadline := time.Now().Add(wait)
	for {
		j, err := OpenJournal(dir, log)
		if err == nil {
			return j, nil
		}
		if !errors.Is(err, journal.ErrLocked) || time.Now().After(deadline) {
			if errors.Is(err, journal.ErrLocked) {
				return nil, fmt.Errorf("%w: %v", ErrOwned, err)
			}
			return nil, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startRunner builds the bank client and runner from the configuration and
// key, replacing the previous ones.
func (c *Core) startRunner() error {
	c.mu.Lock()
	cfg := c.cfg
	c.mu.Unlock()
	r, client, err := c.build(cfg)
	if err != nil {
		c.mu.Lock()
		c.runnerErr = err
		c.mu.Unlock()
		return err
	}
	ctx, cancel := context.WithCancel(c.ctx)
	unsub := r.Subscribe(c.orders.Emit)
	rr := c.buildRefunds(cfg, client)
	if rr != nil {
		unsubR := rr.Subscribe(c.refundChanges.Emit)
		unsubO := unsub
		unsub = func() { unsubO(); unsubR() }
	}
	if c.opts.Background {
		c.bg.Add(1)
		go func() { defer c.bg.Done(); r.Background(ctx) }()
		if rr != nil {
			c.bg.Add(1)
			go func() { defer c.bg.Done(); rr.Background(ctx) }()
		}
	}
	c.mu.Lock()
	old := c.stopRunner
	c.runner, c.refunds, c.client, c.runnerErr = r, rr, client, nil
	c.stopRunner = func() { unsub(); cancel() }
	c.mu.Unlock()
	if old != nil {
		old()
	}
	c.changed.Emit(struct{}{})
	return nil
}

func (c *Core) build(cfg config.Config) (*payflow.Runner, *payclient.Client, error) {
	key, err := config.LoadKey(c.dir)
	if err != nil {
		return nil, nil, err
	}
	p := c.opts.Pacing
	if p.PollInterval > 0 {
		cfg.PollInterval = config.Duration(p.PollInterval)
	}
	if p.PollTimeout > 0 {
		cfg.PollTimeout = config.Duration(p.PollTimeout)
	}
	if p.HTTPTimeout > 0 {
		cfg.HTTPTimeout = config.Duration(p.HTTPTimeout)
	}
	// The payment-code fingerprint key; created on first use, which is
	// safe here because this process owns the data directory.
	codeKey, err := config.CodeKey(c.dir)
	if err != nil {
		return nil, nil, err
	}
	client, err := payclient.New(payclient.Config{
		BaseURL: cfg.BankURL, MchID: cfg.MchID, TerminalID: cfg.TerminalID, Key: key, TerminalSN: cfg.TerminalSN,
		HTTPTimeout: cfg.HTTPTimeout.D(), DeviceIP: cfg.DeviceIP, Logger: c.log,
	})
	if err != nil {
		return nil, nil, err
	}
	r := payflow.New(c.journal, client, payflow.Config{
		PollInterval: cfg.PollInterval.D(), PollTimeout: cfg.PollTimeout.D(), Body: cfg.StoreName,
		MchID: cfg.MchID, TerminalID: cfg.TerminalID, CodeKey: codeKey,
	}, c.log, payflow.WithClockOffset(client.ClockOffset))
	return r, client, nil
}

// Dir is the data directory.
func (c *Core) Dir() string { return c.dir }

// Kind is the front-end that opened it.
func (c *Core) Kind() Kind { return c.opts.Kind }

// Log is the program's logger.
func (c *Core) Log() *slog.Logger { return c.log }

// Ring is the in-memory tail of the log (nil when file logging is off).
func (c *Core) Ring() *logging.Ring { return c.ring }

// Journal is the money record.
func (c *Core) Journal() Journal { return c.journal }

// Amount is the amount to charge, as the sources (or the cashier) set it.
func (c *Core) Amount() *capture.Current { return &c.amount }

// Context ends when the core closes; orders are driven on it, not on a
// request's, so that a closed window or a dropped client abandons nothing.
func (c *Core) Context() context.Context { return c.ctx }

// Config is the configuration in force.
func (c *Core) Config() config.Config {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg
}

// SetConfig saves cfg and applies what can change live. The bank identity
// (URL, merchant, terminal) is changed only by Activate: a cfg that differs
// there is refused.
func (c *Core) SetConfig(cfg config.Config) error {
	c.mu.Lock()
	old := c.cfg
	c.mu.Unlock()
	if cfg.BankURL != old.BankURL || cfg.MchID != old.MchID || cfg.TerminalID != old.TerminalID {
		return ErrIdentityChange
	}
	if err := config.Save(c.dir, cfg); err != nil {
		return err
	}
	c.mu.Lock()
	c.cfg = cfg
	r := c.runner
	c.mu.Unlock()
	if cfg.Amount != old.Amount || cfg.Scanner != old.Scanner {
		if c.opts.Sources {
			c.RestartSources()
		}
	}
	if cfg.PollInterval != old.PollInterval || cfg.PollTimeout != old.PollTimeout || cfg.HTTPTimeout != old.HTTPTimeout {
		switch {
		case r != nil && len(r.Active()) > 0, len(c.openRefunds(config.Config{})) > 0:
			// A new refund runner would not know the old one's drives.
			c.log.Info("new pacing applies after the orders in flight end or at restart")
		case cfg.Activated():
			if err := c.startRunner(); err != nil {
				c.log.Warn("payments restart failed", "err", err)
			}
		}
	}
	c.changed.Emit(struct{}{})
	return nil
}

// Runner is the payment runner, or why there is none (ErrNotActivated, or
// the key could not be read).
func (c *Core) Runner() (*payflow.Runner, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return nil, ErrClosed
	case c.runner != nil:
		return c.runner, nil
	case c.runnerErr != nil && !errors.Is(c.runnerErr, config.ErrNoKey):
		return nil, fmt.Errorf("payments are off: %w", c.runnerErr)
	}
	return nil, ErrNotActivated
}

// Bank is the bank client in force (nil before activation).
func (c *Core) Bank() *payclient.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.client
}

// Pay journals and starts a payment, driven on the core's context; follow it
// with Wait or Subscribe. Refused while the terminal is being activated.
func (c *Core) Pay(amount money.Fen, code string) (order.Order, error) {
	c.mu.Lock()
	r, act, closed, limit := c.runner, c.activating, c.closed || c.ctx.Err() != nil, c.cfg.MaxPayment
	if !closed && !act {
		c.starting++
	}
	c.mu.Unlock()
	switch {
	case closed:
		return order.Order{}, ErrClosed
	case act:
		return order.Order{}, ErrActivating
	}
	defer func() {
		c.mu.Lock()
		c.starting--
		c.mu.Unlock()
	}()
	if limit > 0 && amount > limit {
		// The same ceiling as the pay window's, for the CLI and the POS
		// API: refused before anything is journaled or sent.
		return order.Order{}, fmt.Errorf("%w (%s yuan)", ErrOverLimit, limit)
	}
	if r == nil {
		_, err := c.Runner()
		return order.Order{}, err
	}
	// Start returns once the order is journaled and in flight, where
	// Activate's checks see it.
	return r.Start(c.ctx, payflow.PayRequest{Amount: amount, Code: code})
}

// CheckCode refuses a code as Pay would (payflow.ErrCodeUnresolved,
// *payflow.AlreadyPaidError, not a payment code) without charging it; nil
// when Pay would go on to charge it. Without a runner it says why.
func (c *Core) CheckCode(code string) error {
	r, err := c.Runner()
	if err != nil {
		return err
	}
	return r.CheckCode(code)
}

// ErrNoFreshAmount: PayCurrent found no current amount, or only one older
// than maxAge (it wraps capture's reason).
var ErrNoFreshAmount = errors.New("no fresh amount to charge")

// PayCurrent charges code with the current amount if it is younger than
// maxAge, and consumes it, as one step: of payments asked for together
// (two codes scanned in quick succession, a POS sending twice) only the
// first charges it; the others find no amount (ErrNoFreshAmount). A
// refused payment leaves the amount for the next scan.
func (c *Core) PayCurrent(code string, maxAge time.Duration) (order.Order, error) {
	c.payCurMu.Lock()
	defer c.payCurMu.Unlock()
	cur, err := c.amount.Fresh(time.Now(), maxAge)
	if err != nil {
		return order.Order{}, fmt.Errorf("%w: %w", ErrNoFreshAmount, err)
	}
	o, err := c.Pay(cur.Amount, code)
	if err != nil {
		return o, err
	}
	if now, ok := c.amount.Get(); ok && now == cur {
		c.amount.Clear() // the next customer is not charged it
	}
	return o, nil
}

// Wait follows an order until it is definite or left unknown, or ctx ends.
func (c *Core) Wait(ctx context.Context, no string) (order.Order, error) {
	r, err := c.Runner()
	if err != nil {
		o, ok := c.journal.Get(no)
		if !ok {
			return o, payflow.ErrNotFound
		}
		return o, nil
	}
	return r.Wait(ctx, no)
}

// Subscribe registers fn for every persisted change of any order, across
// runner restarts. fn must not block.
func (c *Core) Subscribe(fn func(order.Order)) func() { return c.orders.Add(fn) }

// SubscribeRefunds registers fn for every persisted change of any refund,
// across runner restarts. fn must not block.
func (c *Core) SubscribeRefunds(fn func(refund.Refund)) func() { return c.refundChanges.Add(fn) }

// OnChange registers fn for "the status may have changed".
func (c *Core) OnChange(fn func(struct{})) func() { return c.changed.Add(fn) }

// OnScan registers fn for each payment code the scanner input delivers.
func (c *Core) OnScan(fn func(string)) func() { return c.scans.Add(fn) }

// InjectScan delivers a code as the scanner would (the demo's sample codes).
func (c *Core) InjectScan(code string) { c.scans.Emit(code) }

// OnSerialLine registers fn for the serial source's monitor lines.
func (c *Core) OnSerialLine(fn func(string)) func() { return c.serial.Add(fn) }

// Changed tells the status subscribers to look again.
func (c *Core) Changed() { c.changed.Emit(struct{}{}) }

// Drain waits up to d for the payments in flight to end by themselves.
func (c *Core) Drain(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		r, _ := c.Runner()
		if r == nil || len(r.Active()) == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// StopPayments ends the driving of orders in flight (they stay in the
// journal at their last durable state); Close does it too. A shutting-down
// front-end calls it after Drain, before waiting for its clients.
func (c *Core) StopPayments() { c.cancel() }

// Close stops everything, newest first. Orders still in flight stay in the
// journal at their last durable state, to be resolved by the next owner.
func (c *Core) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	stopR, stopS, r, rr := c.stopRunner, c.stopSources, c.runner, c.refunds
	c.mu.Unlock()
	c.stopFleet()
	if stopS != nil {
		stopS()
	}
	c.mu.Lock()
	rd := c.src.ocr
	c.mu.Unlock()
	if rd != nil {
		rd.Close()
	}
	c.finishSlips(2 * time.Second)
	c.cancel()
	if stopR != nil {
		stopR()
	}
	c.bg.Wait()
	c.slips.Wait() // c.ctx is cancelled: a stuck print returns at once
	// A drive ends within one step of its context ending; wait for it, so
	// that no record is appended to a closed journal.
	for deadline := time.Now().Add(3 * time.Second); r != nil && len(r.Active()) > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	c.waitRefunds(rr, 3*time.Second)
	err := c.journal.Close()
	c.lockF.Close()
	c.log.Info("data directory closed", "uptime_s", int(time.Since(c.started).Seconds()))
	c.logCloser.Close()
	return err
}

// OneLine folds a message onto one line, for stderr and status lines.
func OneLine(s string) string {
	s = strings.ReplaceAll(s, "\r", " ")
	return strings.ReplaceAll(s, "\n", " ")
}
