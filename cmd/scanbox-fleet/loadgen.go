package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/scanbox/scanbox/fleet/proto"
	"github.com/scanbox/scanbox/fleet/sim"
)

// loadgen simulates N terminals reporting to a running server. It needs
// enrollment codes: it makes them in the server's database (--db /
// --data-dir, the same as the server's) unless --state names a file of
// terminals enrolled by an earlier run.
//
// It shares the 2 cores with the server it measures, so it spends as
// little CPU per report as it can: every report of the run is built and
// signed before the clock starts (--presign, what 50,000 terminals would
// do on their own PCs), and each worker writes the prepared bytes on its
// own kept-alive connection and parses only the status of the answer. The
// server still verifies every signature and stores every report.
func cmdLoadgen(args []string, stdout io.Writer) error {
	fs := newFlags("loadgen")
	urls := fs.String("url", "", "server URL (comma-separated: spread terminals over several instances)")
	n := fs.Int("terminals", 1000, "simulated terminals")
	interval := fs.Duration("interval", time.Minute, "report interval per terminal")
	duration := fs.Duration("duration", time.Minute, "how long to report")
	statePath := fs.String("state", "", "file of enrolled terminals to reuse (written when missing)")
	conc := fs.Int("enroll-concurrency", 16, "parallel enrollments")
	workers := fs.Int("concurrency", 64, "requests in flight at most (one connection each)")
	presign := fs.Bool("presign", true, "build and sign every report before the run (false: at send time)")
	auth := fs.String("auth", "session", "how reports are authenticated: session (HMAC in a session each terminal opens first) or signature (ed25519 per report)")
	var db dbFlags
	db.add(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *auth != "session" && *auth != "signature" {
		return usageError{"--auth is session or signature"}
	}
	if *urls == "" || *n < 1 || *interval < 10*time.Millisecond || *duration <= 0 || *workers < 1 {
		return usageError{"--url, --terminals, --interval (10ms or more) and --duration are required"}
	}
	targets := strings.Split(*urls, ",")
	hosts := make([]string, len(targets))
	for i, t := range targets {
		u, err := url.Parse(t)
		if err != nil || u.Scheme != "http" || u.Host == "" {
			return usageError{"loadgen speaks plain HTTP to servers on this machine: " + t}
		}
		hosts[i] = u.Host
	}
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
	if *auth == "session" {
		if err := openSessions(ctx, terms, *conc, *duration, stdout); err != nil {
			return err
		}
		if *statePath != "" {
			if err := saveState(*statePath, terms); err != nil {
				return err
			}
		}
	} else {
		for _, t := range terms {
			t.SessionID, t.SessionKey = "", nil
		}
	}
	tr.CloseIdleConnections()

	// Slot k is due at start + k*interval/N, for terminal k mod N: one
	// report per terminal per interval, evenly spread.
	slots := int64(float64(len(terms)) * float64(*duration) / float64(*interval))
	step := *interval / time.Duration(len(terms))
	if step <= 0 {
		step = time.Nanosecond
	}
	g := &loadGen{terms: terms, hosts: hosts, step: step, seqBase: uint64(time.Now().UnixMicro())}
	// The run starts after the preparation; the reports carry their due
	// time (in the server's clock, which on loopback is ours).
	var prepared [][]byte
	t0, cpu0 := time.Now(), cpuTime()
	start := t0.Add(time.Second)
	if *presign {
		// A generous guess of how long signing takes, so that the first
		// report is not already late when the run begins.
		start = t0.Add(time.Second + time.Duration(slots)*60*time.Microsecond)
	}
	g.start = start
	if *presign {
		prepared = make([][]byte, slots)
		var wg sync.WaitGroup
		par := runtime.GOMAXPROCS(0)
		for p := 0; p < par; p++ {
			wg.Add(1)
			go func(p int) {
				defer wg.Done()
				for k := int64(p); k < slots; k += int64(par) {
					prepared[k] = g.build(k)
				}
			}(p)
		}
		wg.Wait()
		if d := time.Since(t0); time.Now().After(start) {
			start = time.Now().Add(100 * time.Millisecond)
			g.start = start
			// The timestamps were signed for the planned start; they are
			// still inside the server's replay window if this is short.
			if time.Since(t0) > proto.ReplayWindow/2 {
				return fmt.Errorf("preparing %d reports took %s: too long for the replay window, run fewer", slots, d)
			}
		}
		fmt.Fprintf(stdout, "prepared %d signed reports in %s (cpu %s)\n", slots, time.Since(t0).Round(time.Millisecond), (cpuTime() - cpu0).Round(time.Millisecond))
	}
	cpu1 := cpuTime()
	end := start.Add(*duration)

	var sent, acked atomic.Int64
	var maxLag atomic.Int64
	hist := newHist()
	var errOnce sync.Once
	var firstErr string
	jobs := make(chan int64, 1<<16)
	var wg sync.WaitGroup
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conns := make([]*lgConn, len(hosts))
			defer func() {
				for _, c := range conns {
					if c != nil {
						c.c.Close()
					}
				}
			}()
			for k := range jobs {
				if time.Now().After(end) {
					continue // due within the run but never left: counted in due, not in sent
				}
				due := start.Add(time.Duration(k) * step)
				if lag := time.Since(due); lag > time.Duration(maxLag.Load()) {
					maxLag.Store(int64(lag))
				}
				var req []byte
				if prepared != nil {
					req = prepared[k]
					prepared[k] = nil
				} else {
					req = g.build(k)
				}
				h := int(k%int64(len(terms))) % len(hosts)
				sent.Add(1)
				t0 := time.Now()
				code, err := roundTrip(&conns[h], hosts[h], req)
				if err == nil && code == http.StatusOK {
					acked.Add(1)
					hist.add(time.Since(t0))
				} else {
					errOnce.Do(func() {
						if err != nil {
							firstErr = err.Error()
						} else {
							firstErr = fmt.Sprintf("HTTP %d", code)
						}
					})
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
	if s > 0 {
		// The generator's own CPU per report while running: on a shared
		// machine, what it takes from the server it measures.
		fmt.Fprintf(stdout, "loadgen_cpu_us_per_report=%.0f\n", float64((cpuTime()-cpu1).Microseconds())/float64(s))
	}
	if firstErr != "" {
		fmt.Fprintf(stdout, "first failure: %s\n", firstErr)
	}
	return nil
}

// loadGen builds the signed heartbeat requests of a run.
type loadGen struct {
	terms   []*sim.Terminal
	hosts   []string
	start   time.Time
	step    time.Duration
	seqBase uint64 // above every Seq an earlier run sent (they started from an earlier clock)
}

// build returns the complete HTTP/1.1 request of slot k: terminal k mod
// N's report number k/N, measured and signed at its due time.
func (g *loadGen) build(k int64) []byte {
	n := int64(len(g.terms))
	t := g.terms[k%n]
	due := g.start.Add(time.Duration(k) * g.step)
	pay := []proto.PaymentCount{{Channel: "wechat", Outcome: proto.OutcomePaid, Count: k % 3, SumFen: (k * 37) % 5000}}
	if k%50 == 0 {
		pay = append(pay, proto.PaymentCount{Channel: "alipay", Outcome: proto.OutcomeFailed, Count: 1})
	}
	hb := t.Report(pay)
	hb.Seq = g.seqBase + uint64(k/n) + 1
	hb.At = due
	body, err := json.Marshal(hb)
	if err != nil {
		panic(err) // a fixed struct of plain fields
	}
	ts := due.UnixMilli()
	b := make([]byte, 0, len(body)+400)
	b = append(b, "POST "+proto.PathHeartbeat+" HTTP/1.1\r\nHost: "...)
	b = append(b, g.hosts[int(k%n)%len(g.hosts)]...)
	b = append(b, "\r\nContent-Type: application/json\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	if t.SessionID != "" {
		mac := proto.RequestMAC(t.SessionKey, http.MethodPost, proto.PathHeartbeat, ts, proto.BodyHash(body))
		b = append(b, "\r\n"+proto.HeaderSession+": "...)
		b = append(b, t.SessionID...)
		b = append(b, "\r\n"+proto.HeaderMAC+": "...)
		b = base64.StdEncoding.AppendEncode(b, mac)
	} else {
		sig := ed25519.Sign(t.Priv, proto.SigningString(http.MethodPost, proto.PathHeartbeat, ts, proto.BodyHash(body)))
		b = append(b, "\r\n"+proto.HeaderKeyID+": "...)
		b = append(b, proto.KeyID(t.Priv.Public().(ed25519.PublicKey))...)
		b = append(b, "\r\n"+proto.HeaderSignature+": "...)
		b = base64.StdEncoding.AppendEncode(b, sig)
	}
	b = append(b, "\r\n"+proto.HeaderTimestamp+": "...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, "\r\n\r\n"...)
	return append(b, body...)
}

// lgConn is one kept-alive connection of a worker.
type lgConn struct {
	c     net.Conn
	br    *bufio.Reader
	fresh bool
}

// roundTrip writes a prepared request on the worker's connection to host
// and reads the answer's status (its body is discarded). A connection the
// server closed while idle is redialled once, before any answer was read.
func roundTrip(cp **lgConn, host string, req []byte) (int, error) {
	for attempt := 0; ; attempt++ {
		if *cp == nil {
			c, err := net.DialTimeout("tcp", host, 5*time.Second)
			if err != nil {
				return 0, err
			}
			*cp = &lgConn{c: c, br: bufio.NewReaderSize(c, 4096), fresh: true}
		}
		lc := *cp
		lc.c.SetDeadline(time.Now().Add(10 * time.Second))
		_, err := lc.c.Write(req)
		var resp *http.Response
		if err == nil {
			resp, err = http.ReadResponse(lc.br, nil)
		}
		if err != nil {
			lc.c.Close()
			*cp = nil
			if !lc.fresh && attempt == 0 && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)) {
				continue
			}
			return 0, err
		}
		lc.fresh = false
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.Close {
			lc.c.Close()
			*cp = nil
		}
		return resp.StatusCode, err
	}
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
	// An open session, reused by the next run while it lasts.
	SessionID      string    `json:"session_id,omitempty"`
	SessionKey     []byte    `json:"session_key,omitempty"`
	SessionExpires time.Time `json:"session_expires,omitempty"`
}

// openSessions opens a session for every terminal that has none lasting
// beyond the run (one signed request each, before the clock starts).
func openSessions(ctx context.Context, terms []*sim.Terminal, conc int, run time.Duration, stdout io.Writer) error {
	t0 := time.Now()
	var opened atomic.Int64
	errc := make(chan error, len(terms))
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for _, t := range terms {
		sessMu.Lock()
		exp := sessionExpiry[t]
		sessMu.Unlock()
		if t.SessionID != "" && time.Until(exp) > run+time.Hour {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(t *sim.Terminal) {
			defer wg.Done()
			defer func() { <-sem }()
			r, err := t.OpenSession(ctx)
			if err != nil {
				errc <- err
				return
			}
			sessMu.Lock()
			sessionExpiry[t] = r.ExpiresAt
			sessMu.Unlock()
			opened.Add(1)
		}(t)
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return fmt.Errorf("opening sessions: %w", err)
	}
	if n := opened.Load(); n > 0 {
		fmt.Fprintf(stdout, "opened %d sessions in %s\n", n, time.Since(t0).Round(time.Millisecond))
	}
	return nil
}

// sessionExpiry remembers when each terminal's session ends (for --state).
var (
	sessMu        sync.Mutex
	sessionExpiry = map[*sim.Terminal]time.Time{}
)

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
		if s.SessionID != "" && time.Now().Before(s.SessionExpires) {
			t.SessionID, t.SessionKey = s.SessionID, s.SessionKey
			sessionExpiry[t] = s.SessionExpires
		}
		out[i] = t
	}
	return out, nil
}

func saveState(path string, terms []*sim.Terminal) error {
	saved := make([]savedTerminal, len(terms))
	for i, t := range terms {
		saved[i] = savedTerminal{Seed: t.Priv.Seed(), Identity: t.Identity, UID: t.UID, SessionID: t.SessionID, SessionKey: t.SessionKey, SessionExpires: sessionExpiry[t]}
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
