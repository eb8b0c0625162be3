// Package capture owns the "current amount": the amount to charge that one of
// the amount sources (manual entry, the customer-display sniffer, screen OCR)
// saw last, with where and when it was seen. Sources call Set; the UI and the
// payment flow call Get, Fresh or Subscribe.
//
// It must never parse amount text itself (that is money.Parse) and never
// poll: readers wait on channels that Set wakes.
package capture

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/scanbox/scanbox/money"
)

// Source says where an amount came from.
type Source int

// The amount sources. The zero value is not a source, so that a Reading that
// was never set cannot pass for a manual entry.
const (
	SourceManual Source = iota + 1
	SourceSerial
	SourceOCR
)

var sourceNames = map[Source]string{
	SourceManual: "manual",
	SourceSerial: "serial",
	SourceOCR:    "ocr",
}

// String returns the stable lower-case name used in config, logs and JSON.
func (s Source) String() string {
	if n, ok := sourceNames[s]; ok {
		return n
	}
	return fmt.Sprintf("source(%d)", int(s))
}

// ErrUnknownSource is returned by ParseSource for a name it does not know.
var ErrUnknownSource = errors.New("capture: unknown amount source")

// ParseSource is the inverse of Source.String; it ignores case and spaces.
func ParseSource(s string) (Source, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for src, n := range sourceNames {
		if n == t {
			return src, nil
		}
	}
	return 0, fmt.Errorf("%w %q (use manual, serial or ocr)", ErrUnknownSource, s)
}

// Reading is one amount as a source saw it.
type Reading struct {
	Amount money.Fen
	Source Source
	At     time.Time // when the source saw it (not when it was read)
}

// Age is how old the reading is at now; never negative, so that a clock that
// steps back does not make an old reading look younger than new.
func (r Reading) Age(now time.Time) time.Duration {
	d := now.Sub(r.At)
	if d < 0 {
		return 0
	}
	return d
}

// DefaultMaxAge is the freshness limit when configuration sets none: long
// enough for a customer to find their phone, short enough that the
// previous customer's total is not charged to the next one.
const DefaultMaxAge = 2 * time.Minute

// Errors returned by Set and Fresh.
var (
	ErrNoAmount = errors.New("capture: no amount has been captured yet")
	ErrStale    = errors.New("capture: the captured amount is too old")
	ErrInvalid  = errors.New("capture: invalid reading")
	// ErrCharged: the current amount was used by a payment already; a new
	// reading (or the cashier's confirmation) is needed before another.
	ErrCharged = errors.New("capture: the captured amount was already charged")
)

// Current holds the latest Reading. The zero value is ready to use and safe
// for concurrent use.
type Current struct {
	mu      sync.Mutex
	r       Reading
	set     bool
	charged bool // r was used by a payment: Fresh refuses it
	subs    map[chan Reading]struct{}
}

// Set stores r as the current amount and wakes every subscriber. It refuses a
// reading whose amount money.Parse could not have produced (≤ 0 or above
// money.Max) or that has no source or time, because such a value must never
// reach a charge.
func (c *Current) Set(r Reading) error {
	if r.Amount <= 0 || r.Amount > money.Max {
		return fmt.Errorf("%w: amount %s is outside 0.01..%s", ErrInvalid, r.Amount, money.Max)
	}
	if _, ok := sourceNames[r.Source]; !ok {
		return fmt.Errorf("%w: %v", ErrInvalid, r.Source)
	}
	if r.At.IsZero() {
		return fmt.Errorf("%w: no time", ErrInvalid)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.r, c.set, c.charged = r, true, false
	for ch := range c.subs {
		// Each channel holds one value; a slow subscriber only ever needs the
		// newest amount, so replace what it has not read yet.
		select {
		case <-ch:
		default:
		}
		ch <- r
	}
	return nil
}

// Clear forgets the current amount (for example after it was charged), so
// that it cannot be charged twice by accident.
func (c *Current) Clear() {
	c.mu.Lock()
	c.r, c.set, c.charged = Reading{}, false, false
	c.mu.Unlock()
}

// Consume marks the current reading as used by a payment of amount, taken
// at or after the reading was seen (at is when the payment started). It is
// kept for display but Fresh refuses it from now on, so the next customer
// is never charged the previous customer's total by a scan alone. A reading
// that is newer than the payment, or of another amount, is left alone: it
// belongs to the next sale. It reports whether it consumed the reading.
func (c *Current) Consume(amount money.Fen, at time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.set || c.charged || c.r.Amount != amount || c.r.At.After(at) {
		return false
	}
	c.charged = true
	return true
}

// Charged reports whether the current reading was consumed by a payment.
func (c *Current) Charged() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.set && c.charged
}

// Get returns the current reading and whether there is one.
func (c *Current) Get() (Reading, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.r, c.set
}

// Fresh returns the current reading if it is at most maxAge old at now and
// no payment has used it yet. It returns ErrNoAmount when nothing was
// captured, an error wrapping ErrCharged (with the reading) when a payment
// consumed it, and one wrapping ErrStale (with the reading) when it is
// older; a maxAge ≤ 0 means no age limit.
func (c *Current) Fresh(now time.Time, maxAge time.Duration) (Reading, error) {
	c.mu.Lock()
	r, ok, charged := c.r, c.set, c.charged
	c.mu.Unlock()
	if !ok {
		return Reading{}, ErrNoAmount
	}
	if charged {
		return r, fmt.Errorf("%w: ¥%s from %s", ErrCharged, r.Amount, r.Source)
	}
	if maxAge > 0 && r.Age(now) > maxAge {
		return r, fmt.Errorf("%w: ¥%s from %s is %s old (limit %s)", ErrStale, r.Amount, r.Source, r.Age(now).Round(time.Second), maxAge)
	}
	return r, nil
}

// Await waits for a reading seen after since (a fresh screen read that was
// just requested) and returns it; it gives up with ctx's error, so the
// caller bounds the wait with a deadline. A reading already newer than
// since is returned at once.
func (c *Current) Await(ctx context.Context, since time.Time) (Reading, error) {
	ch, cancel := c.Subscribe()
	defer cancel()
	if r, ok := c.Get(); ok && r.At.After(since) {
		return r, nil
	}
	for {
		select {
		case <-ctx.Done():
			return Reading{}, fmt.Errorf("capture: no fresh amount: %w", ctx.Err())
		case r := <-ch:
			if r.At.After(since) {
				return r, nil
			}
		}
	}
}

// Subscribe returns a channel that receives every new reading (the newest
// one only, if the reader falls behind) and a cancel function that must be
// called to release it; cancel closes the channel.
func (c *Current) Subscribe() (<-chan Reading, func()) {
	ch := make(chan Reading, 1)
	c.mu.Lock()
	if c.subs == nil {
		c.subs = make(map[chan Reading]struct{})
	}
	c.subs[ch] = struct{}{}
	c.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			c.mu.Lock()
			delete(c.subs, ch)
			close(ch)
			c.mu.Unlock()
		})
	}
}

// Describe renders a reading for the cashier, e.g.
// "¥88.00 from the customer display, 3 s ago".
func (r Reading) Describe(now time.Time) string {
	where := map[Source]string{
		SourceManual: "entered by hand",
		SourceSerial: "from the customer display",
		SourceOCR:    "read from the screen",
	}[r.Source]
	if where == "" {
		where = "from " + r.Source.String()
	}
	return fmt.Sprintf("¥%s %s, %d s ago", r.Amount.Grouped(), where, int(r.Age(now)/time.Second))
}

// ParseManual turns what a cashier typed into a manual Reading seen at now,
// through money.Parse (the one amount parser).
func ParseManual(text string, now time.Time) (Reading, error) {
	f, err := money.Parse(text)
	if err != nil {
		return Reading{}, fmt.Errorf("capture: manual amount %q: %w", text, err)
	}
	return Reading{Amount: f, Source: SourceManual, At: now}, nil
}
