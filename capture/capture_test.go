package capture

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/scanbox/scanbox/money"
)

func TestSourceRoundTrip(t *testing.T) {
	for _, s := range []Source{SourceManual, SourceSerial, SourceOCR} {
		got, err := ParseSource(s.String())
		if err != nil || got != s {
			t.Errorf("ParseSource(%q) = %v, %v; want %v", s.String(), got, err, s)
		}
	}
	if got, err := ParseSource(" Serial "); err != nil || got != SourceSerial {
		t.Errorf("ParseSource is not case-insensitive: %v %v", got, err)
	}
	if _, err := ParseSource("scale"); !errors.Is(err, ErrUnknownSource) {
		t.Errorf("ParseSource(scale) err = %v", err)
	}
	if Source(0).String() != "source(0)" {
		t.Errorf("zero source = %q", Source(0).String())
	}
}

func TestParseManual(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ok := map[string]money.Fen{"12.5": 1250, "12.50": 1250, "1,234.50": 123450, "¥12.50": 1250, "￥ 12.50": 1250}
	for in, want := range ok {
		r, err := ParseManual(in, now)
		if err != nil || r.Amount != want || r.Source != SourceManual || !r.At.Equal(now) {
			t.Errorf("ParseManual(%q) = %+v, %v", in, r, err)
		}
	}
	bad := map[string]error{"12.505": money.ErrPrecision, "-1": money.ErrNotPos, "0": money.ErrNotPos,
		"abc": money.ErrSyntax, "1000000.01": money.ErrTooLarge}
	for in, want := range bad {
		if _, err := ParseManual(in, now); !errors.Is(err, want) {
			t.Errorf("ParseManual(%q) err = %v, want %v", in, err, want)
		}
	}
}

func TestCurrentFresh(t *testing.T) {
	var c Current
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if _, err := c.Fresh(now, time.Minute); !errors.Is(err, ErrNoAmount) {
		t.Fatalf("empty Fresh err = %v", err)
	}
	r := Reading{Amount: 8800, Source: SourceSerial, At: now.Add(-3 * time.Second)}
	if err := c.Set(r); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		now    time.Time
		maxAge time.Duration
		stale  bool
	}{
		{"young", now, 5 * time.Second, false},
		{"exactly max", now, 3 * time.Second, false},
		{"too old", now, 2 * time.Second, true},
		{"no limit", now.Add(time.Hour), 0, false},
		{"clock stepped back", now.Add(-time.Hour), time.Second, false},
	}
	for _, tt := range tests {
		got, err := c.Fresh(tt.now, tt.maxAge)
		if tt.stale != errors.Is(err, ErrStale) {
			t.Errorf("%s: err = %v", tt.name, err)
		}
		if got != r {
			t.Errorf("%s: reading = %+v", tt.name, got)
		}
	}
	if d := r.Describe(now); d != "¥88.00 from the customer display, 3 s ago" {
		t.Errorf("Describe = %q", d)
	}
	c.Clear()
	if _, ok := c.Get(); ok {
		t.Error("Clear left a reading")
	}
}

func TestCurrentSetRefusesInvalid(t *testing.T) {
	var c Current
	now := time.Now()
	for _, r := range []Reading{
		{Amount: 0, Source: SourceOCR, At: now},
		{Amount: -5, Source: SourceOCR, At: now},
		{Amount: money.Max + 1, Source: SourceOCR, At: now},
		{Amount: 100, Source: 0, At: now},
		{Amount: 100, Source: SourceOCR},
	} {
		if err := c.Set(r); !errors.Is(err, ErrInvalid) {
			t.Errorf("Set(%+v) err = %v", r, err)
		}
	}
	if _, ok := c.Get(); ok {
		t.Error("an invalid reading was stored")
	}
}

func TestSubscribeGetsNewest(t *testing.T) {
	var c Current
	ch, cancel := c.Subscribe()
	now := time.Now()
	for i := 1; i <= 3; i++ {
		if err := c.Set(Reading{Amount: money.Fen(i * 100), Source: SourceManual, At: now}); err != nil {
			t.Fatal(err)
		}
	}
	// Nobody read in between: only the newest is waiting.
	if r := <-ch; r.Amount != 300 {
		t.Errorf("got %v, want 3.00", r.Amount)
	}
	cancel()
	cancel() // idempotent
	if _, open := <-ch; open {
		t.Error("channel still open after cancel")
	}
	// Set after cancel must not panic on the closed channel.
	if err := c.Set(Reading{Amount: 1, Source: SourceManual, At: now}); err != nil {
		t.Fatal(err)
	}
}

func TestSubscribeConcurrent(t *testing.T) {
	var c Current
	var wg sync.WaitGroup
	const readers = 4
	for i := 0; i < readers; i++ {
		ch, cancel := c.Subscribe()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cancel()
			for r := range ch {
				if r.Amount == 500 {
					return
				}
			}
		}()
	}
	now := time.Now()
	for i := 1; i <= 500; i++ {
		_ = c.Set(Reading{Amount: money.Fen(i), Source: SourceSerial, At: now})
		c.Get()
	}
	wg.Wait()
}

// Defect 1 (issue 8): the amount a payment used is consumed; a scan later
// must not find it "fresh" and charge the next customer with it.
func TestCurrentConsumedByPayment(t *testing.T) {
	var c Current
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	if err := c.Set(Reading{Amount: 8800, Source: SourceSerial, At: t0}); err != nil {
		t.Fatal(err)
	}
	if c.Consume(9900, t0.Add(time.Second)) {
		t.Error("a payment of another amount consumed the reading")
	}
	if c.Consume(8800, t0.Add(-time.Second)) {
		t.Error("a payment started before the reading consumed it")
	}
	if !c.Consume(8800, t0.Add(time.Second)) || !c.Charged() {
		t.Fatal("the payment that used the reading did not consume it")
	}
	if c.Consume(8800, t0.Add(2*time.Second)) {
		t.Error("consumed twice")
	}
	r, err := c.Fresh(t0.Add(5*time.Second), time.Minute)
	if !errors.Is(err, ErrCharged) || r.Amount != 8800 {
		t.Fatalf("Fresh after the payment = %v, %v; want the reading with ErrCharged", r, err)
	}
	// The next sale's total (even the same amount) is fresh again.
	if err := c.Set(Reading{Amount: 8800, Source: SourceSerial, At: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fresh(t0.Add(61*time.Second), time.Minute); err != nil || c.Charged() {
		t.Errorf("a new reading after the payment: %v charged=%v", err, c.Charged())
	}
}

// With OCR the scan must wait for the reading it asked for, not take the
// old one; the wait is bounded by the context.
func TestCurrentAwait(t *testing.T) {
	var c Current
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	_ = c.Set(Reading{Amount: 100, Source: SourceOCR, At: t0})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if r, err := c.Await(ctx, t0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Await with only the old reading = %v, %v; want the deadline", r, err)
	}
	go func() { _ = c.Set(Reading{Amount: 4321, Source: SourceOCR, At: t0.Add(time.Second)}) }()
	r, err := c.Await(context.Background(), t0)
	if err != nil || r.Amount != 4321 {
		t.Fatalf("Await = %v, %v; want the new reading", r, err)
	}
	if r, err := c.Await(context.Background(), t0); err != nil || r.Amount != 4321 {
		t.Errorf("Await with a newer reading present = %v, %v", r, err)
	}
}
