package ocr

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/scanbox/scanbox/capture/ocr/ocrpipe"
	"github.com/scanbox/scanbox/capture/ocr/ocrproto"
	"github.com/scanbox/scanbox/version"
)

// The shared helper (Options.Share): a one-shot `scanbox amount --source
// ocr` pays Tesseract's start (two models, about 0.6 s of CPU) on every
// call unless the helper outlives it. So the first call starts
// `scanbox-ocr --serve NAME` detached, on an endpoint of this user
// (capture/ocr/ocrpipe: an abstract Unix socket checked with SO_PEERCRED, or
// a named pipe for this user only), and reads through it; later calls
// connect to it; it exits after a minute without a client. NAME carries a
// key of the helper build (its path, size and time, ScanBox's version, the
// language data settings), so a server of another build is never used.
//
// Anything amiss — no endpoint support, another user's process on the
// name, a server that does not answer READY within shareAnswerTimeout, a
// server that cannot start — and the Reader starts a private helper as it
// always did, which also reports a missing runtime or language data in its
// usual words.

// Kinds of helper a Reader reads with (HelperKind).
const (
	HelperPrivate   = "private"    // its own process, ended with the Reader
	HelperShared    = "shared"     // a shared helper that was already running
	HelperSharedNew = "shared-new" // a shared helper this Reader started
)

// shareAnswerTimeout bounds the wait for a running shared helper's READY.
// A running one answers at once (its models are loaded); one that does not
// is hung, or under Wine, whose pipes connect but never complete the
// server's accept. Short: a private helper is the fallback. (A variable
// for the tests, which must not fail on a slow box.)
var shareAnswerTimeout = 3 * time.Second

// shareState is what a Reader knows of the shared helper.
type shareState struct {
	kind string // Helper*, of the current helper
	why  error  // why the last attempt to share fell back to private
	// started is closed when the shared helper this Reader started exits
	// (tests wait for the idle exit on it); nil if it started none.
	started chan struct{}
	pid     int
	// avoid is set when a shared helper failed this Reader mid-read (no
	// answer in time, hung up, out of step): from then on it reads with
	// a private helper.
	avoid bool
}

// avoidShared stops this Reader from reaching a shared helper again once
// the current one (a shared one) has failed it. r.mu is held.
func (r *Reader) avoidShared() {
	if r.share.kind == HelperShared || r.share.kind == HelperSharedNew {
		r.share.avoid = true
		r.share.why = errors.New("the shared OCR helper failed a read")
	}
}

// HelperKind says which helper the Reader last started or reached:
// HelperPrivate, HelperShared, HelperSharedNew, or "" before the first.
func (r *Reader) HelperKind() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.share.kind
}

// sharingEnabled reads SCANBOX_OCR_SHARE: 0/off/no/false turns the shared
// helper off (support, tests); 1/on/yes/true uses it even where
// ocrpipe.Supported says no (to test the fallback under Wine).
func sharingEnabled() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv("SCANBOX_OCR_SHARE"))) {
	case "0", "off", "no", "false":
		return false
	case "1", "on", "yes", "true":
		return true
	}
	return ocrpipe.Supported() == nil
}

// start starts the helper for ensure: the shared one when wanted and
// usable, else a private one.
func (r *Reader) start(ctx context.Context, argv []string) (*helper, error) {
	if r.opts.Share && !r.share.avoid && sharingEnabled() {
		h, kind, err := r.startShared(ctx, argv)
		if err == nil {
			r.share.kind, r.share.why = kind, nil
			return h, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ocr: starting the helper: %w", ctx.Err())
		}
		r.share.why = err
	}
	h, err := startHelper(ctx, argv, r.opts.StartTimeout)
	if err == nil {
		r.share.kind = HelperPrivate
	}
	return h, err
}

// startShared connects to the shared helper, starting it when none runs.
func (r *Reader) startShared(ctx context.Context, argv []string) (*helper, string, error) {
	name := ocrpipe.Endpoint(shareKey(argv, r.opts.shareSalt))
	h, err := connectShared(ctx, name, shareAnswerTimeout)
	if err == nil {
		return h, HelperShared, nil
	}
	if !errors.Is(err, ocrpipe.ErrNoServer) {
		return nil, "", err
	}
	verb, pid, exited, err := spawnShared(ctx, argv, name, r.opts.ShareIdle, r.opts.StartTimeout)
	if err != nil {
		return nil, "", err
	}
	kind, wait := HelperSharedNew, shareAnswerTimeout
	if verb == ocrpipe.VerbBusy {
		// Another call started one at the same moment and holds the name;
		// ours has exited. That one may still be loading its models.
		kind, wait = HelperShared, r.opts.StartTimeout
	}
	h, err = connectShared(ctx, name, wait)
	if err != nil {
		return nil, "", err
	}
	if kind == HelperSharedNew {
		r.share.started, r.share.pid = exited, pid
	}
	return h, kind, nil
}

// connectShared dials the endpoint and waits for READY, at most wait.
func connectShared(ctx context.Context, name string, wait time.Duration) (*helper, error) {
	dctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	c, err := ocrpipe.Dial(dctx, name)
	if err != nil {
		return nil, err
	}
	h := &helper{stdin: c, stdout: c, out: bufio.NewReader(c), stderr: &tail{}, done: make(chan struct{})}
	f, err := h.receive(ctx, wait)
	switch {
	case err != nil:
		h.stop()
		return nil, fmt.Errorf("the shared OCR helper did not answer: %s", connDeathReason(err))
	case f.Verb != ocrproto.VerbReady:
		h.stop()
		return nil, fmt.Errorf("the shared OCR helper answered %q instead of READY", f.Verb)
	}
	h.version = string(f.Body)
	return h, nil
}

// spawnShared starts `argv --serve name` detached (its own session or
// process group, no window, stdin and stderr on the null device, nothing of
// ours inherited but a pipe for its first frame) and waits, at most
// timeout, for that frame: READY (it serves now) or BUSY (another server
// holds the name; it has exited). Anything else is an error: the caller
// falls back to a private helper. exited is closed when the process ends.
func spawnShared(ctx context.Context, argv []string, name string, idle, timeout time.Duration) (verb string, pid int, exited chan struct{}, err error) {
	outR, outW, err := os.Pipe()
	if err != nil {
		return "", 0, nil, err
	}
	defer outR.Close()
	args := append(append([]string(nil), argv[1:]...), "--serve", name)
	if idle > 0 {
		args = append(args, "--idle", idle.String())
	}
	// It runs in its own folder, not our working directory (a long-lived
	// process there would keep it busy: Windows cannot delete a folder in
	// use), so every path it is given is absolute (--tessdata already is:
	// Reader.helperArgv).
	cmd := exec.Command(argv[0], args...)
	cmd.Stdout = outW // Stdin and Stderr nil: the null device
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
	for _, e := range []string{"SCANBOX_TESSDATA", "TESSDATA_PREFIX"} {
		if v := os.Getenv(e); v != "" && !filepath.IsAbs(v) {
			if abs, err := filepath.Abs(v); err == nil {
				cmd.Env = append(cmd.Env, e+"="+abs)
			}
		}
	}
	cmd.SysProcAttr = detachedSysProcAttr()
	if p, err := exec.LookPath(argv[0]); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			cmd.Path, cmd.Dir = abs, filepath.Dir(abs)
		}
	}
	err = cmd.Start()
	outW.Close()
	if err != nil {
		return "", 0, nil, fmt.Errorf("the shared OCR helper could not be started: %v", unwrapExec(err))
	}
	ended := make(chan struct{})
	go func() {
		cmd.Wait() // reaps it when it ends, whenever that is
		close(ended)
	}()
	type got struct {
		f   ocrproto.Frame
		err error
	}
	ch := make(chan got, 1)
	go func() {
		f, err := ocrproto.Read(bufio.NewReader(outR))
		ch <- got{f, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	var g got
	select {
	case g = <-ch:
	case <-t.C:
		cmd.Process.Kill()
		return "", 0, nil, errors.New("the shared OCR helper did not start in time")
	case <-ctx.Done():
		cmd.Process.Kill()
		return "", 0, nil, ctx.Err()
	}
	switch {
	case g.err != nil:
		cmd.Process.Kill() // a garbled first frame: it may still run
		return "", 0, nil, fmt.Errorf("the shared OCR helper exited at start: %v", g.err)
	case g.f.Verb == ocrproto.VerbReady || g.f.Verb == ocrpipe.VerbBusy:
		return g.f.Verb, cmd.Process.Pid, ended, nil
	case g.f.Verb == ocrproto.VerbErr:
		return "", 0, nil, fmt.Errorf("the shared OCR helper cannot serve: %s", oneLine(string(g.f.Body)))
	default:
		cmd.Process.Kill()
		return "", 0, nil, fmt.Errorf("the shared OCR helper spoke an unknown protocol (%q)", g.f.Verb)
	}
}

// shareKey names the helper build and what it reads with: a helper binary
// replaced (another size or time), another ScanBox version, other language
// data, and the endpoint is another one.
func shareKey(argv []string, salt string) string {
	h := sha256.New()
	fmt.Fprintf(h, "ocrpipe/1\x00%s\x00%s\x00", version.Version, salt)
	for i, a := range argv {
		p := a
		if i == 0 {
			if lp, err := exec.LookPath(a); err == nil {
				p = lp
			}
		}
		if abs, err := filepath.Abs(p); err == nil {
			if st, err := os.Stat(abs); err == nil && st.Mode().IsRegular() {
				if real, err := filepath.EvalSymlinks(abs); err == nil {
					abs = real
				}
				p = abs + "\x00" + strconv.FormatInt(st.Size(), 10) + "\x00" + strconv.FormatInt(st.ModTime().UnixNano(), 10)
			}
		}
		fmt.Fprintf(h, "%s\x00", p)
	}
	for _, e := range []string{"SCANBOX_TESSDATA", "TESSDATA_PREFIX"} {
		fmt.Fprintf(h, "%s=%s\x00", e, os.Getenv(e))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// hangUp ends a connection to the shared helper (stdin, the connection, is
// closed by stop). Reader.mu serialises it.
func (h *helper) hangUp() {
	select {
	case <-h.done:
	default:
		close(h.done)
	}
}

// connDeathReason is deathReason for a connection to the shared helper.
func connDeathReason(err error) string {
	switch {
	case errors.Is(err, errTimeout):
		return "the shared helper gave no answer in time"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, os.ErrClosed) || isBrokenPipe(err):
		return "the shared helper went away"
	}
	return err.Error()
}
