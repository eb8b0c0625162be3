package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scanbox/scanbox/fleet/proto"
	"github.com/scanbox/scanbox/fleet/sim"
)

// loadgen simulates N terminals reporting to a running server. It needs
// enrollment codes: it makes them in the server's database (--db /
// --data-dir, the same as the server's) unless --state names a file of
// terminals enrolled by an earlier run.
func cmdLoadgen(args []string, stdout io.Writer) error {
	fs := newFlags("loadgen")
	urls := fs.String("url", "", "server URL (comma-separated: spread terminals over several instances)")
	n := fs.Int("terminals", 1000, "simulated terminals")
	interval := fs.Duration("interval", time.Minute, "report interval per terminal")
	duration := fs.Duration("duration", time.Minute, "how long to report")
	statePath := fs.String("state", "", "file of enrolled terminals to reuse (written when missing)")
	conc := fs.Int("enroll-concurrency", 16, "parallel enrollments")
	workers := fs.Int("concurrency", 64, "requests in flight at most")
	var db dbFlags
	db.add(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *urls == "" || *n < 1 || *interval <= 0 || *duration <= 0 {
		return usageError{"--url, --terminals, --interval and --duration are required"}
	}
	targets := strings.Split(*urls, ",")
	tr := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256, IdleConnTimeout: 90 * time.Second}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	ctx := context.Background()

	terms, err := loadState(*statePath, targets, client)
	if err != nil {
		return err
	}
	if len(terms) < *n {
		if err := enrollMore(ctx, &db, targets, client, &terms, *n, *conc, stdout); err != nil {
			return err
		}
		if *statePath != "" {
			if err := saveState(*statePath, terms); err != nil {
				return err
			}
		}
	}
	terms = terms[:*n]

	// A scheduler hands report slots to a bounded pool of workers: slot k
	// is due at start + k*interval/N, for terminal k mod N. Bounded
	// concurrency keeps the client from opening thousands of connections
	// when the server slows down; a slot that waits for a worker counts
	// into lag_ms (how late the last report left).
	var sent, acked atomic.Int64
	var maxLag atomic.Int64
	hist := newHist()
	start := time.Now()
	end := start.Add(*duration)
	slots := int64(*duration / *interval * time.Duration(len(terms)))
	if slots < int64(len(terms)) {
		slots = int64(float64(len(terms)) * float64(*duration) / float64(*interval))
	}
	step := *interval / time.Duration(len(terms))
	if step <= 0 {
		step = time.Nanosecond
	}
	jobs := make(chan int64, 1<<16)
	var wg sync.WaitGroup
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range jobs {
				if time.Now().After(end) {
					continue // due within the run but never left: counted in due, not in sent
				}
				due := start.Add(time.Duration(k) * step)
				if lag := time.Since(due); lag > time.Duration(maxLag.Load()) {
					maxLag.Store(int64(lag))
				}
				t := terms[k%int64(len(terms))]
				pay := []proto.PaymentCount{{Channel: "wechat", Outcome: proto.OutcomePaid, Count: k % 3, SumFen: (k * 37) % 5000}}
				if k%50 == 0 {
					pay = append(pay, proto.PaymentCount{Channel: "alipay", Outcome: proto.OutcomeFailed, Count: 1})
				}
				hb := t.Report(pay)
				sent.Add(1)
				t0 := time.Now()
				if _, err := t.Heartbeat(ctx, hb); err == nil {
					acked.Add(1)
					hist.add(time.Since(t0))
				}
			}
		}()
	}
	for k := int64(0); k < slots; k++ {
		time.Sleep(time.Until(start.Add(time.Duration(k) * step)))
		if time.Now().After(end) {
			break // the rest were due but never left: "due" > "sent"
		}
		jobs <- k
	}
	close(jobs)
	wg.Wait()
	s, a := sent.Load(), acked.Load()
	fmt.Fprintf(stdout, "sent=%d acked=%d lost=%d p50_ms=%.1f p99_ms=%.1f due=%d rate_per_s=%.0f max_lag_ms=%d\n",
		s, a, s-a, hist.quantile(0.5), hist.quantile(0.99), slots, float64(s)/time.Since(start).Seconds(), time.Duration(maxLag.Load()).Milliseconds())
	return nil
}

// hist is a latency histogram in 0.1 ms steps up to 10 s.
type hist struct{ b []atomic.Uint32 }

func newHist() *hist { return &hist{b: make([]atomic.Uint32, 100001)} }

func (h *hist) add(d time.Duration) {
	i := int(d / (100 * time.Microsecond))
	if i >= len(h.b) {
		i = len(h.b) - 1
	}
	h.b[i].Add(1)
}

func (h *hist) quantile(q float64) float64 {
	var tot uint64
	for i := range h.b {
		tot += uint64(h.b[i].Load())
	}
	if tot == 0 {
		return 0
	}
	want := uint64(q*float64(tot) + 0.5)
	var acc uint64
	for i := range h.b {
		acc += uint64(h.b[i].Load())
		if acc >= want && acc > 0 {
			return float64(i+1) / 10
		}
	}
	return float64(len(h.b)) / 10
}

type savedTerminal struct {
	Seed     []byte         `json:"seed"`
	Identity proto.Identity `json:"identity"`
	UID      string         `json:"uid"`
}

func loadState(path string, targets []string, c *http.Client) ([]*sim.Terminal, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var saved []savedTerminal
	if err := json.Unmarshal(b, &saved); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]*sim.Terminal, len(saved))
	for i, s := range saved {
		t := sim.New(targets[i%len(targets)], c, s.Identity, "1.1.0")
		t.Priv = ed25519.NewKeyFromSeed(s.Seed)
		t.UID = s.UID
		out[i] = t
	}
	return out, nil
}

func saveState(path string, terms []*sim.Terminal) error {
	saved := make([]savedTerminal, len(terms))
	for i, t := range terms {
		saved[i] = savedTerminal{Seed: t.Priv.Seed(), Identity: t.Identity, UID: t.UID}
	}
	b, err := json.Marshal(saved)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

func enrollMore(ctx context.Context, db *dbFlags, targets []string, c *http.Client, terms *[]*sim.Terminal, n, conc int, stdout io.Writer) error {
	st, err := db.open(ctx)
	if err != nil {
		return fmt.Errorf("loadgen needs the server's database for enrollment codes: %w", err)
	}
	need := n - len(*terms)
	codes, err := st.CreateEnrollmentCodes(ctx, need, "loadgen")
	st.Close()
	if err != nil {
		return err
	}
	base := len(*terms)
	run := fmt.Sprintf("%x", time.Now().Unix()&0xffffff)
	newTerms := make([]*sim.Terminal, need)
	errc := make(chan error, need)
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < need; i++ {
		k := base + i
		id := proto.Identity{
			MchID: fmt.Sprintf("M%05d", k/4), TerminalID: fmt.Sprintf("T%s-%06d", run, k),
			TerminalSN: fmt.Sprintf("SN%08d", k), DeviceID: fmt.Sprintf("dev-%s-%06d", run, k),
		}
		t := sim.New(targets[k%len(targets)], c, id, "1.1.0")
		newTerms[i] = t
		wg.Add(1)
		sem <- struct{}{}
		go func(code string) {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := t.Enroll(ctx, code); err != nil {
				errc <- err
			}
		}(codes[i])
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return fmt.Errorf("enrolling: %w", err)
	}
	fmt.Fprintf(stdout, "enrolled %d terminals in %s\n", need, time.Since(t0).Round(time.Millisecond))
	*terms = append(*terms, newTerms...)
	return nil
}
