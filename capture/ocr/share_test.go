package ocr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scanbox/scanbox/capture/ocr/ocrpipe"
	"github.com/scanbox/scanbox/capture/ocr/ocrproto"
	"github.com/scanbox/scanbox/money"
)

// The shared helper is tested with real processes: the test binary, as a
// fake helper, serves on a real endpoint with ocrpipe.ServeMain (the code
// the real helper runs), and logs its life to $SCANBOX_OCR_FAKE_LOG, one
// line per event: "start PID" (a shared helper process began), "busy PID"
// (it found another one on its name and left), "exit PID" (it ended on its
// own), "private PID" (a private helper began), "reading PID" (a hanging
// engine took a pass).

// serveArgs finds --serve NAME [--idle D] in a fake helper's arguments.
func serveArgs(args []string) (name string, idle time.Duration, ok bool) {
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "--serve":
			name, ok = args[i+1], true
		case "--idle":
			idle, _ = time.ParseDuration(args[i+1])
		}
	}
	return name, idle, ok
}

func fakeLog(event string) {
	p := os.Getenv("SCANBOX_OCR_FAKE_LOG")
	if p == "" {
		return
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %d\n", event, os.Getpid())
}

// firstFrame remembers what a fake server told its starter.
type firstFrame struct {
	w   io.Writer
	buf bytes.Buffer
}

func (f *firstFrame) Write(p []byte) (int, error) {
	if f.buf.Len() < 16 {
		f.buf.Write(p)
	}
	return f.w.Write(p)
}

// fakeServe is the fake shared helper. Modes: serve-echo answers as the
// "echo" fake does; serve-fail cannot load its engines; serve-hang-once
// hangs on the first pass any server of the test takes (a marker file
// says it was taken); serve-hang-always hangs on every pass;
// serve-hang-shared hangs on every pass of a shared server (its private
// fallback answers). SCANBOX_OCR_FAKE_PASSLIMIT sets the server's PassLimit.
func fakeServe(mode, name string, idle time.Duration) int {
	fakeLog("start")
	hung := os.Getenv("SCANBOX_OCR_FAKE_LOG") + ".hung"
	told := &firstFrame{w: os.Stdout}
	passLimit, _ := time.ParseDuration(os.Getenv("SCANBOX_OCR_FAKE_PASSLIMIT"))
	code := ocrpipe.ServeMain(name, idle, told, func() (*ocrpipe.Server, error) {
		if mode == "serve-fail" {
			return nil, errors.New("the Tesseract English data is missing: /nowhere/eng.traineddata")
		}
		echo := func(f ocrproto.Frame) (string, error) {
			hang := mode == "serve-hang-always" || mode == "serve-hang-shared"
			if mode == "serve-hang-once" {
				if m, err := os.OpenFile(hung, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600); err == nil {
					m.Close()
					hang = true
				}
			}
			if hang {
				fakeLog("reading")
				select {}
			}
			return os.Getenv(fmt.Sprintf("SCANBOX_OCR_FAKE_TEXT_%d", f.Arg)), nil
		}
		return &ocrpipe.Server{
			Version: "fake-shared",
			Route: func(f ocrproto.Frame) (int, error) {
				if f.Verb != ocrproto.VerbRead {
					return 0, fmt.Errorf("unknown request %q", f.Verb)
				}
				if f.Arg&ocrproto.FlagChinese != 0 {
					return 1, nil
				}
				return 0, nil
			},
			Engines: []ocrpipe.Engine{echo, echo},
			// The real helper's default (30 s) with the tests' short read
			// timeouts would keep a hung fake a long time.
			PassLimit: passLimit,
		}, nil
	})
	if strings.HasPrefix(told.buf.String(), ocrpipe.VerbBusy) {
		fakeLog("busy")
	} else {
		fakeLog("exit")
	}
	return code
}

type fakeEvent struct {
	what string
	pid  int
}

func fakeEvents(t *testing.T, log string) []fakeEvent {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var evs []fakeEvent
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		what, pid, ok := strings.Cut(l, " ")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(pid)
		evs = append(evs, fakeEvent{what, n})
	}
	return evs
}

func countEvents(evs []fakeEvent, what string) int {
	n := 0
	for _, e := range evs {
		if e.what == what {
			n++
		}
	}
	return n
}

// sharedFake returns Options for a Reader sharing a fake helper of mode,
// the test's own endpoint (its name in the key), and the log; every shared
// helper the test started is killed at its end.
func sharedFake(t *testing.T, mode string) (Options, string) {
	t.Helper()
	forced := os.Getenv("SCANBOX_OCR_SHARE") == "1" // to try it where it is off (Wine)
	if err := ocrpipe.Supported(); err != nil && !forced {
		t.Skipf("no shared helper on this system: %v", err)
	}
	log := filepath.Join(t.TempDir(), "log")
	t.Setenv("SCANBOX_OCR_FAKE_LOG", log)
	if !forced {
		t.Setenv("SCANBOX_OCR_SHARE", "")
	}
	opts := Options{Command: fakeCommand(t, mode), Share: true, shareSalt: fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano())}
	t.Cleanup(func() { killStarted(t, log) })
	longAnswerWait(t)
	return opts, log
}

// longAnswerWait makes the bound on a running helper's READY a minute, so
// that a slow box cannot turn a shared read into a private one and fail a
// test that counts helpers.
func longAnswerWait(t *testing.T) {
	old := shareAnswerTimeout
	shareAnswerTimeout = time.Minute
	t.Cleanup(func() { shareAnswerTimeout = old })
}

// killStarted ends the shared helpers this test started (by pid, from the
// log) that have not ended on their own.
func killStarted(t *testing.T, log string) {
	for _, e := range fakeEvents(t, log) {
		if e.what == "start" {
			if p, err := os.FindProcess(e.pid); err == nil {
				p.Kill()
			}
		}
	}
}

func readOnce(t *testing.T, opts Options) (*Reader, Result, error) {
	t.Helper()
	r := NewReader(opts)
	t.Cleanup(func() { r.Close() })
	res, err := r.Read(context.Background(), someText())
	return r, res, err
}

// The first call starts the shared helper and reads through it; a second
// Reader (the next `scanbox amount`) reads through the same one: one helper
// process started for both.
func TestSharedSecondCallUsesServer(t *testing.T) {
	opts, log := sharedFake(t, "serve-echo")
	setFakeTexts(t, "¥12.50", "合计 ¥12.50")

	r1, res, err := readOnce(t, opts)
	if err != nil || res.Amount != 1250 {
		t.Fatalf("first read: %v, %v", res.Amount, err)
	}
	if k := r1.HelperKind(); k != HelperSharedNew {
		t.Fatalf("first Reader's helper is %q (%v), want %q", k, r1.share.why, HelperSharedNew)
	}
	if v := r1.Version(); v != "fake-shared" {
		t.Fatalf("Version = %q", v)
	}
	r1.Close()

	r2, res, err := readOnce(t, opts)
	if err != nil || res.Amount != 1250 {
		t.Fatalf("second read: %v, %v", res.Amount, err)
	}
	if k := r2.HelperKind(); k != HelperShared {
		t.Fatalf("second Reader's helper is %q (%v), want %q", k, r2.share.why, HelperShared)
	}
	evs := fakeEvents(t, log)
	if countEvents(evs, "start") != 1 || countEvents(evs, "private") != 0 {
		t.Fatalf("helper processes: %v; want one shared helper started, no private one", evs)
	}
}

// Without a client for ShareIdle the shared helper exits on its own; the
// next call starts a new one.
func TestSharedIdleExit(t *testing.T) {
	opts, log := sharedFake(t, "serve-echo")
	opts.ShareIdle = 50 * time.Millisecond
	setFakeTexts(t, "¥3.20", "¥3.20")

	r1, res, err := readOnce(t, opts)
	if err != nil || res.Amount != 320 || r1.HelperKind() != HelperSharedNew {
		t.Fatalf("first read: %v, %v, %q", res.Amount, err, r1.HelperKind())
	}
	exited := r1.share.started
	r1.Close()
	select {
	case <-exited:
	case <-time.After(60 * time.Second): // a guard against the hang, not a speed check
		t.Fatal("the shared helper did not exit once idle")
	}
	if evs := fakeEvents(t, log); countEvents(evs, "exit") != 1 {
		t.Fatalf("events %v; want the helper's own exit", evs)
	}

	r2, res, err := readOnce(t, opts)
	if err != nil || res.Amount != 320 || r2.HelperKind() != HelperSharedNew {
		t.Fatalf("read after the idle exit: %v, %v, %q; want a new shared helper", res.Amount, err, r2.HelperKind())
	}
	if evs := fakeEvents(t, log); countEvents(evs, "start") != 2 {
		t.Fatalf("events %v; want two shared helpers started", evs)
	}
}

// A client that keeps its connection keeps the helper: idle counts from
// the last client's leaving, not from the start.
func TestSharedBusyClientKeepsServer(t *testing.T) {
	opts, log := sharedFake(t, "serve-echo")
	opts.ShareIdle = 50 * time.Millisecond
	setFakeTexts(t, "¥3.20", "¥3.20")
	r, res, err := readOnce(t, opts)
	if err != nil || res.Amount != 320 {
		t.Fatal(res.Amount, err)
	}
	time.Sleep(300 * time.Millisecond) // six idle periods, connected
	res, err = r.Read(context.Background(), someText())
	if err != nil || res.Amount != 320 {
		t.Fatal(res.Amount, err)
	}
	if evs := fakeEvents(t, log); countEvents(evs, "start") != 1 || countEvents(evs, "exit") != 0 {
		t.Fatalf("events %v; want one helper, still running while its client is connected", evs)
	}
}

// A helper that cannot load its engines tells its starter, which reads
// with a private helper (the one that reports why OCR is unavailable, when
// it is).
func TestSharedStartFailureFallsBack(t *testing.T) {
	opts, log := sharedFake(t, "serve-fail")
	setFakeTexts(t, "¥8.00", "¥8.00")
	r, res, err := readOnce(t, opts)
	if err != nil || res.Amount != 800 || r.HelperKind() != HelperPrivate {
		t.Fatalf("got %v, %v, %q; want 8.00 from a private helper", res.Amount, err, r.HelperKind())
	}
	if r.share.why == nil || !strings.Contains(r.share.why.Error(), "English data is missing") {
		t.Fatalf("why = %v", r.share.why)
	}
	if evs := fakeEvents(t, log); countEvents(evs, "private") != 1 || countEvents(evs, "start") != 1 {
		t.Fatalf("events %v", evs)
	}
}

func TestSharedDisabledByEnv(t *testing.T) {
	opts, log := sharedFake(t, "serve-echo")
	t.Setenv("SCANBOX_OCR_SHARE", "0")
	setFakeTexts(t, "¥8.00", "¥8.00")
	r, res, err := readOnce(t, opts)
	if err != nil || res.Amount != 800 || r.HelperKind() != HelperPrivate {
		t.Fatalf("got %v, %v, %q", res.Amount, err, r.HelperKind())
	}
	if evs := fakeEvents(t, log); countEvents(evs, "start") != 0 {
		t.Fatalf("events %v; SCANBOX_OCR_SHARE=0 must start no shared helper", evs)
	}
}

// Whatever holds the endpoint and does not speak as a shared helper of
// this user — silent (hung, or Wine's pipes), hanging up, speaking
// garbage — the Reader reads with a private helper, and starts no shared
// one beside the squatter.
func TestSharedBadEndpointFallsBack(t *testing.T) {
	for _, c := range []struct {
		name  string
		serve func(net.Conn)
		why   string
	}{
		{"silent", func(c net.Conn) { io.Copy(io.Discard, c) }, "did not answer"},
		{"hangs up", func(c net.Conn) { c.Close() }, "did not answer"},
		{"garbage", func(c net.Conn) { c.Write([]byte("HELLO THERE\n")); io.Copy(io.Discard, c) }, "did not answer"},
		{"not READY", func(c net.Conn) {
			ocrproto.Write(c, ocrproto.Frame{Verb: ocrproto.VerbOK, Body: []byte("¥99.99")})
			io.Copy(io.Discard, c)
		}, "instead of READY"},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts, log := sharedFake(t, "serve-echo")
			shareAnswerTimeout = 500 * time.Millisecond // the bound a silent endpoint meets
			setFakeTexts(t, "¥8.00", "¥8.00")
			ln, err := ocrpipe.Listen(ocrpipe.Endpoint(shareKey(opts.Command, opts.shareSalt)))
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			defer wg.Wait()
			defer ln.Close()
			var mu sync.Mutex
			var conns []net.Conn
			defer func() {
				mu.Lock()
				for _, c := range conns {
					c.Close()
				}
				mu.Unlock()
			}()
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					cn, err := ln.Accept()
					if err != nil {
						return
					}
					mu.Lock()
					conns = append(conns, cn)
					mu.Unlock()
					wg.Add(1)
					go func() { defer wg.Done(); c.serve(cn) }()
				}
			}()
			r, res, err := readOnce(t, opts)
			if err != nil || res.Amount != 800 || r.HelperKind() != HelperPrivate {
				t.Fatalf("got %v, %v, %q; want 8.00 from a private helper", res.Amount, err, r.HelperKind())
			}
			if r.share.why == nil || !strings.Contains(r.share.why.Error(), c.why) {
				t.Fatalf("why = %v; want %q", r.share.why, c.why)
			}
			if evs := fakeEvents(t, log); countEvents(evs, "start") != 0 || countEvents(evs, "private") != 1 {
				t.Fatalf("events %v", evs)
			}
		})
	}
}

// Several first calls at once: one shared helper stays (the others that
// started found it on the name and left), every call reads right, none
// privately.
func TestSharedConcurrentFirstCalls(t *testing.T) {
	opts, log := sharedFake(t, "serve-echo")
	setFakeTexts(t, "¥45.60", "应收 ¥45.60", "45.60")
	const n = 6
	var wg sync.WaitGroup
	kinds := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := NewReader(opts)
			defer r.Close()
			for range 3 {
				res, err := r.Read(context.Background(), someText())
				if err == nil && res.Amount != 4560 {
					err = fmt.Errorf("read %v", res.Amount)
				}
				if err != nil {
					errs[i] = err
					return
				}
			}
			kinds[i] = r.HelperKind()
		}()
	}
	close(start)
	wg.Wait()
	newOnes := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("client %d: %v", i, errs[i])
		}
		switch kinds[i] {
		case HelperSharedNew:
			newOnes++
		case HelperShared:
		default:
			t.Errorf("client %d read with a %q helper", i, kinds[i])
		}
	}
	evs := fakeEvents(t, log)
	if newOnes != 1 || countEvents(evs, "start")-countEvents(evs, "busy") != 1 || countEvents(evs, "private") != 0 {
		t.Fatalf("%d clients started the helper they used; events %v; want one helper staying", newOnes, evs)
	}
}

// The shared helper killed while it reads for a client: the read is made
// again (a new shared helper, or a private one) and gives the right amount,
// or, when every helper dies (serve-hang-always: every helper, shared or
// private, hangs and is killed), fails with one sentence — never an amount
// it did not read.
func TestSharedServerKilledMidRead(t *testing.T) {
	for _, c := range []struct {
		mode string
		ok   bool
	}{{"serve-hang-once", true}, {"serve-hang-always", false}} {
		t.Run(c.mode, func(t *testing.T) {
			opts, log := sharedFake(t, c.mode)
			setFakeTexts(t, "¥61.30", "合计 ¥61.30")
			r := NewReader(opts)
			defer r.Close()
			type got struct {
				res Result
				err error
			}
			done := make(chan got, 1)
			go func() {
				res, err := r.Read(context.Background(), someText())
				done <- got{res, err}
			}()
			killed := map[int]bool{}
			guard := time.After(60 * time.Second) // against a hang, not a speed check
			var g got
		wait:
			for {
				select {
				case g = <-done:
					break wait
				case <-guard:
					t.Fatal("the read never ended")
				case <-time.After(10 * time.Millisecond):
				}
				for _, e := range fakeEvents(t, log) {
					if e.what == "reading" && !killed[e.pid] {
						killed[e.pid] = true
						if p, err := os.FindProcess(e.pid); err == nil {
							p.Kill()
						}
					}
				}
			}
			if len(killed) == 0 {
				t.Fatal("no helper was killed")
			}
			if c.ok {
				if g.err != nil || g.res.Amount != 6130 {
					t.Fatalf("got %v, %v; want 61.30 read again", g.res.Amount, g.err)
				}
				return
			}
			if g.err == nil || g.res.Amount != money.Fen(0) {
				t.Fatalf("got %v, %v; want an error and no amount", g.res.Amount, g.err)
			}
			if !errors.Is(g.err, ErrHelperFailed) || strings.Contains(g.err.Error(), "\n") {
				t.Fatalf("error %q; want ErrHelperFailed in one line", g.err)
			}
			t.Logf("error: %v", g.err)
		})
	}
}

// The endpoint names the helper build: a helper binary replaced (another
// time or size), another ScanBox version or other language data, and the
// key changes, so a server of the old build is never used.
func TestShareKeyNamesTheBuild(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "scanbox-ocr")
	if err := os.WriteFile(bin, []byte("build one"), 0o755); err != nil {
		t.Fatal(err)
	}
	k := shareKey([]string{bin}, "")
	if shareKey([]string{bin}, "") != k {
		t.Fatal("the key is not stable")
	}
	if err := os.Chtimes(bin, time.Now(), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	k2 := shareKey([]string{bin}, "")
	if k2 == k {
		t.Fatal("a helper with another time has the same key")
	}
	if err := os.WriteFile(bin, []byte("build number two"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(bin, time.Now(), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if shareKey([]string{bin}, "") == k2 {
		t.Fatal("a helper of another size has the same key")
	}
	k3 := shareKey([]string{bin}, "")
	t.Setenv("SCANBOX_TESSDATA", dir)
	if shareKey([]string{bin}, "") == k3 {
		t.Fatal("other language data, same key")
	}
	if shareKey([]string{bin, "--tessdata", dir}, "") == shareKey([]string{bin}, "") {
		t.Fatal("another --tessdata, same key")
	}
}

// And for real: a helper rebuilt while its server runs is not served by it.
func TestSharedNewBuildStartsItsOwn(t *testing.T) {
	opts, log := sharedFake(t, "serve-echo")
	setFakeTexts(t, "¥5.00", "¥5.00")
	// A copy of the fake helper, to "rebuild" it.
	bin := filepath.Join(t.TempDir(), "helper")
	b, err := os.ReadFile(opts.Command[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	opts.Command = []string{bin}
	r1, _, err := readOnce(t, opts)
	if err != nil || r1.HelperKind() != HelperSharedNew {
		t.Fatal(err, r1.HelperKind())
	}
	r1.Close()
	if err := os.Chtimes(bin, time.Now(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r2, _, err := readOnce(t, opts)
	if err != nil || r2.HelperKind() != HelperSharedNew {
		t.Fatalf("after the rebuild: %v, %q; want a new shared helper", err, r2.HelperKind())
	}
	if evs := fakeEvents(t, log); countEvents(evs, "start") != 2 {
		t.Fatalf("events %v", evs)
	}
}

// The real helper shared: the second Reader reads through the first one's
// helper, with the same result as a private helper.
func TestRealHelperShared(t *testing.T) {
	argv := realHelper(t)
	if err := ocrpipe.Supported(); err != nil {
		t.Skipf("no shared helper on this system: %v", err)
	}
	t.Setenv("SCANBOX_OCR_SHARE", "")
	longAnswerWait(t)
	img := decodePNG(t, filepath.Join("testdata", "corpus", "r001.png")) // ¥ 58.59
	opts := Options{Command: argv, Tessdata: testTessdata(), Share: true, shareSalt: fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano())}
	r1 := NewReader(opts)
	res, err := r1.Read(context.Background(), img)
	if strings.HasPrefix(filepath.Base(argv[0]), "wine") {
		// scripts/test-ocr-wine.sh: this Linux client and the Windows
		// helper under Wine speak different endpoints (an abstract socket
		// name is no pipe name), so the helper refuses to serve and the
		// read must fall back to a private helper, and be right.
		r1.Close()
		if err != nil || res.Amount != 5859 || r1.HelperKind() != HelperPrivate || r1.share.why == nil {
			t.Fatalf("a Windows helper under Wine: %v, %v, %q (%v); want 58.59 read privately after the refusal", res.Amount, err, r1.HelperKind(), r1.share.why)
		}
		t.Logf("a Windows helper under Wine cannot serve this Linux client (%v): read privately", r1.share.why)
		return
	}
	if err != nil || res.Amount != 5859 || r1.HelperKind() != HelperSharedNew {
		t.Fatalf("first read: %v, %v, %q (%v)", res.Amount, err, r1.HelperKind(), r1.share.why)
	}
	pid, exited, ver := r1.share.pid, r1.share.started, r1.Version()
	r1.Close()
	t.Cleanup(func() {
		// It is ours, and its idle minute would outlive the test.
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill()
		}
		<-exited
	})
	r2 := NewReader(opts)
	defer r2.Close()
	for range 2 {
		res, err = r2.Read(context.Background(), img)
		if err != nil || res.Amount != 5859 || r2.HelperKind() != HelperShared {
			t.Fatalf("second Reader: %v, %v, %q (%v)", res.Amount, err, r2.HelperKind(), r2.share.why)
		}
	}
	if r2.Version() != ver || ver == "" {
		t.Fatalf("versions %q / %q", ver, r2.Version())
	}
}

// A shared helper stuck inside a pass (no answer, the connection open):
// the read times out, is made again with a private helper (never the same
// stuck server, so one hung server cannot fail this user's reads for good),
// and the stuck server ends itself after its PassLimit, freeing the name
// for a fresh one.
func TestSharedHelperHungFallsBackAndEnds(t *testing.T) {
	opts, log := sharedFake(t, "serve-hang-shared")
	t.Setenv("SCANBOX_OCR_FAKE_PASSLIMIT", "500ms")
	opts.Timeout = 300 * time.Millisecond
	setFakeTexts(t, "¥8.00", "合计 ¥8.00")
	r := NewReader(opts)
	defer r.Close()
	res, err := r.Read(context.Background(), someText())
	if err != nil || res.Amount != 800 || r.HelperKind() != HelperPrivate {
		t.Fatalf("got %v, %v with %q; want 8.00 read by a private helper", res.Amount, err, r.HelperKind())
	}
	// Later reads of this Reader stay private.
	if res, err = r.Read(context.Background(), someText()); err != nil || res.Amount != 800 || r.HelperKind() != HelperPrivate {
		t.Fatalf("second read: %v, %v with %q", res.Amount, err, r.HelperKind())
	}
	r.mu.Lock()
	ended := r.share.started
	r.mu.Unlock()
	if ended == nil {
		t.Fatal("the Reader did not start the shared helper")
	}
	select {
	case <-ended:
	case <-time.After(60 * time.Second): // a guard against a hang, not a speed check
		t.Fatalf("the stuck shared helper never ended; events %v", fakeEvents(t, log))
	}
	evs := fakeEvents(t, log)
	if countEvents(evs, "start") != 1 || countEvents(evs, "private") != 1 {
		t.Fatalf("events %v; want one shared start and one private fallback", evs)
	}
}

// A helper named by a relative path with a folder (SCANBOX_OCR=sub/helper)
// is shared too: the server runs in its own folder, so the path it is
// started by, and the language data path, are made absolute first.
func TestSharedRelativeHelperPath(t *testing.T) {
	opts, _ := sharedFake(t, "serve-echo")
	setFakeTexts(t, "¥5.00", "合计 ¥5.00")
	dir := t.TempDir()
	b, err := os.ReadFile(opts.Command[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "helper"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	opts.Command = append([]string{filepath.Join("sub", "helper")}, opts.Command[1:]...)
	r, res, err := readOnce(t, opts)
	if err != nil || res.Amount != 500 || r.HelperKind() != HelperSharedNew {
		t.Fatalf("got %v, %v with %q (why: %v); want 5.00 through a shared helper it started", res.Amount, err, r.HelperKind(), r.share.why)
	}
	if got, err := NewReader(Options{Command: []string{"h"}, Tessdata: "td"}).helperArgv(); err != nil || len(got) != 3 || got[2] != filepath.Join(dir, "td") {
		t.Fatalf("helper argv with a relative --tessdata: %q, %v", got, err)
	}
}
