package ocr

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/image/bmp"

	"github.com/scanbox/scanbox/capture/ocr/ocrproto"
	"github.com/scanbox/scanbox/money"
)

// ErrUnavailable: the helper or the Tesseract runtime is missing or cannot
// start. The wrapping error's text is one sentence for the cashier
// ("OCR is unavailable: …"); payments go on without OCR.
var ErrUnavailable = errors.New("OCR is unavailable")

// ErrHelperFailed: the helper died or hung while reading, twice in a row.
var ErrHelperFailed = errors.New("the OCR helper stopped while reading")

// Defaults for Options.
const (
	DefaultTimeout      = 15 * time.Second
	DefaultStartTimeout = 30 * time.Second
	// recycleAfter bounds the helper's life in reads: gosseract leaks each
	// result string, so a helper kept for a whole trading day is replaced
	// now and then instead of growing.
	recycleAfter = 5000
)

// Options configure a Reader. The zero value finds the helper with
// FindHelper and lets it find its own language data.
type Options struct {
	// Command is the helper's argv; empty means FindHelper(). Tests use it to
	// run a freshly built helper, or the Windows one under wine.
	Command []string
	// Tessdata, when set, is passed to the helper as --tessdata.
	Tessdata string
	// Timeout bounds one reading; StartTimeout bounds the helper's start.
	Timeout, StartTimeout time.Duration
	// Share uses the user's shared helper (share.go): one that outlives
	// this process, started by the first call that wants it and ended
	// after ShareIdle without a client (0: a minute). For one-shot
	// callers (`scanbox amount`); when it cannot be used a private helper
	// is started as without it. SCANBOX_OCR_SHARE=0 turns it off.
	Share     bool
	ShareIdle time.Duration

	shareSalt string // tests: more of the shared helper's key
}

// Reading is one OCR pass with one Variant.
type Reading struct {
	Variant string
	Text    string
	Amount  money.Fen // 0 when Err is set
	Err     error     // why this reading gave no amount
	Elapsed time.Duration
}

// Result is what Read saw. Amount is set only when Read returns no error.
type Result struct {
	Amount   money.Fen
	Text     string    // raw text of the first reading
	Readings []Reading // in the order of Variants; the third only if it ran
	Elapsed  time.Duration
}

// Reader is one kept-alive OCR engine: it starts the helper on first use,
// reuses it for every read, and starts a new one if it dies. It is safe for
// concurrent use; reads are served one at a time.
type Reader struct {
	opts Options

	mu    sync.Mutex
	h     *helper
	reads int
	share shareState // share.go
}

// NewReader returns a Reader; it starts nothing until Start or Read.
func NewReader(opts Options) *Reader {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	return &Reader{opts: opts}
}

// Start starts the helper now if it is not running, so that a settings page
// can say at once whether OCR works. The error wraps ErrUnavailable.
func (r *Reader) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := r.ensure(ctx)
	return err
}

// Version returns the Tesseract version the running helper reported, or "".
func (r *Reader) Version() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.h == nil {
		return ""
	}
	return r.h.version
}

// Close stops the helper. The Reader may be used again afterwards.
func (r *Reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.h != nil {
		r.h.stop()
		r.h = nil
	}
	return nil
}

// Read reads the amount in img. It accepts an amount only when two
// independent readings (different Variants) each find exactly one amount and
// it is the same: the first two readings always run; when they do not agree
// the third runs and may agree with one of them. Otherwise the error wraps
// ErrNoAmount (or ErrUnavailable / ErrHelperFailed), and the Result still
// shows what each reading saw.
func (r *Reader) Read(ctx context.Context, img image.Image) (Result, error) {
	start := time.Now()
	var res Result
	finish := func(err error) (Result, error) {
		res.Elapsed = time.Since(start)
		if err != nil {
			res.Amount = 0
		}
		return res, err
	}
	// Seven-segment digits are read in Go, before Tesseract, which cannot.
	// Prepared once for every reading (the Go side of a read is most of
	// its cost under the race detector).
	p, err := prepare(img)
	if errors.Is(err, ErrBlank) {
		res.Readings = append(res.Readings, Reading{Variant: Variants[0].Name})
		return finish(fmt.Errorf("%w: the region is empty", ErrNoAmount))
	}
	if err != nil {
		return finish(err)
	}
	seg, segLabel, segOK := segmentsLabel(p)
	// The first two readings go to the helper together, and the helper's
	// two engines read them side by side. The Chinese pass takes longer than
	// the English one, so when the first (English) answer already shows that
	// the first two cannot agree (it found no amount), the third reading is
	// sent at once and the English engine reads it while the Chinese one is
	// still on the second: that read needs no pass after the first two. It
	// is sent only then: a third reading made for reads that do not use it
	// costs CPU that the next read waits for (docs/ocr.md, "Speed"). The
	// third reading is used only where it was used before: when the first
	// two do not agree. (LED digits need only the first two: the segment
	// reading decides.)
	ahead := Variants[:3]
	if segOK {
		ahead = Variants[:2]
	}
	first, spare, err := r.readFirst(ctx, p, ahead...)
	switch {
	case errors.Is(err, ErrBlank):
		res.Readings = append(res.Readings, Reading{Variant: Variants[0].Name})
		return finish(fmt.Errorf("%w: the region is empty", ErrNoAmount))
	case err != nil:
		return finish(err)
	}
	for i, v := range Variants {
		if i >= 2 && (segOK || agreedOK(res.Readings)) {
			break
		}
		if i == 2 && strings.HasSuffix(strings.TrimSpace(first[1]), "元") {
			// "245.00 元": the English model reads 元 as digits or %; the
			// Chinese reading saw it, so the English one reads the line
			// once more without its last glyph. Only that reading: two
			// English readings of the cut line would share its misreads
			// (765.44元 cut tight read as 165.44 by both).
			if cut, ok := dropLastGlyph(p); ok {
				rd := Reading{Variant: Variants[0].Name + "-without-yuan"}
				t0 := time.Now()
				text, err := r.readPrepared(ctx, cut, Variants[0])
				rd.Elapsed = time.Since(t0)
				if err != nil {
					return finish(err)
				}
				rd.Text = text
				rd.Amount, rd.Err = PickAmount(text)
				res.Readings = append(res.Readings, rd)
				if agreedOK(res.Readings) {
					break
				}
			}
		}
		rd := Reading{Variant: v.Name}
		var text string
		switch {
		case i < len(first):
			text = first[i]
		case i == len(first) && spare != nil:
			// The reading sent ahead; if its reply was lost (the helper
			// was replaced meanwhile) it is read again, as if never sent.
			t0 := time.Now()
			t, ok := spare(ctx)
			if !ok {
				t, err = r.readPrepared(ctx, p, v)
				if err != nil {
					return finish(err)
				}
			}
			text = t
			rd.Elapsed = time.Since(t0)
		default:
			t0 := time.Now()
			text, err = r.readPrepared(ctx, p, v)
			rd.Elapsed = time.Since(t0)
			if err != nil {
				return finish(err)
			}
		}
		rd.Text = text
		rd.Amount, rd.Err = PickAmount(text)
		res.Readings = append(res.Readings, rd)
		if i == 0 {
			res.Text = text
		}
		// A label saying the amount is change, paid, a unit price, a
		// discount or a quantity refuses the region, whatever else is read.
		// (Over LED digits Tesseract reads random characters; there the
		// label is read alone below.)
		if err := checkLabel(text); err != nil && !segOK {
			return finish(err)
		}
	}
	if segOK {
		a, err := money.Parse(seg)
		rd := Reading{Variant: "seven-segment", Text: seg, Amount: a, Err: err}
		res.Readings = append(res.Readings, rd)
		if err != nil {
			return finish(fmt.Errorf("%w: %q: %v", ErrNoAmount, seg, err))
		}
		if segLabel != nil {
			// The label beside LED digits, read alone with the Chinese model.
			text, err := r.readPrepared(ctx, segLabel, Variants[1])
			if err != nil {
				return finish(err)
			}
			res.Readings = append(res.Readings, Reading{Variant: "seven-segment-label", Text: text, Err: ErrNoAmount})
			if err := checkLabel(text); err != nil {
				return finish(err)
			}
			if !isTotalLabel(text) {
				return finish(fmt.Errorf("%w: the label beside the LED digits (%q) is not one of a total", ErrNoAmount, strings.TrimSpace(text)))
			}
		}
		// The segment reading stands alone (Tesseract reads no LED digits)
		// unless a Tesseract reading found a different amount.
		for _, o := range res.Readings {
			if o.Err == nil && o.Amount != a {
				return finish(fmt.Errorf("%w: no two readings agree (%s; %s)", ErrNoAmount, a, o.Amount))
			}
		}
		res.Amount = a
		return finish(nil)
	}
	if a, ok := agreed(res.Readings); ok {
		res.Amount = a
		return finish(nil)
	}
	var why []string
	for _, rd := range res.Readings {
		w := rd.Amount.String()
		switch {
		case rd.Err == ErrNoAmount:
			w = "nothing shaped like an amount"
		case rd.Err != nil:
			w = strings.TrimPrefix(rd.Err.Error(), ErrNoAmount.Error()+": ")
		}
		if !slices.Contains(why, w) {
			why = append(why, w)
		}
	}
	if len(why) == 1 {
		return finish(fmt.Errorf("%w: %s", ErrNoAmount, why[0]))
	}
	return finish(fmt.Errorf("%w: no two readings agree (%s)", ErrNoAmount, strings.Join(why, "; ")))
}

func chineseVariant(name string) bool {
	for _, v := range Variants {
		if v.Name == name {
			return v.Chinese
		}
	}
	return false
}

func agreedOK(rs []Reading) bool {
	_, ok := agreed(rs)
	return ok
}

// agreed returns the amount two readings found, if any two did. The two
// Chinese readings do not count as two: one model misreads the same small
// decimals the same way at both scales (应收 ¥2 + .04 read as 2.64 twice).
func agreed(rs []Reading) (money.Fen, bool) {
	for i := range rs {
		for j := i + 1; j < len(rs); j++ {
			ci, cj := chineseVariant(rs[i].Variant), chineseVariant(rs[j].Variant)
			if ci && cj {
				continue
			}
			if rs[i].Err != nil || rs[j].Err != nil || rs[i].Amount != rs[j].Amount || rs[i].Amount <= 0 {
				continue
			}
			return rs[i].Amount, true
		}
	}
	return 0, false
}

// ReadText runs one OCR pass over img prepared with v and returns the raw
// text (for a live preview). A helper that dies during the pass is replaced
// and the pass tried once more.
func (r *Reader) ReadText(ctx context.Context, img image.Image, v Variant) (string, error) {
	g, err := Preprocess(img, v)
	if err != nil {
		return "", err
	}
	return r.send(ctx, g, v)
}

// readPrepared is ReadText for an image prepare already made.
func (r *Reader) readPrepared(ctx context.Context, g *image.Gray, v Variant) (string, error) {
	s, err := scaleLine(g, v)
	if err != nil {
		return "", err
	}
	return r.send(ctx, s, v)
}

func (r *Reader) send(ctx context.Context, g *image.Gray, v Variant) (string, error) {
	t, err := r.sendAll(ctx, []*image.Gray{g}, []Variant{v})
	if err != nil {
		return "", err
	}
	return t[0], nil
}

// readFirst sends the first two readings of p together (both go out before
// any answer is awaited, so the helper reads them on its two engines,
// English and Chinese, side by side) and waits for their answers. With a
// third variant, that one is sent too as soon as the first answer is in,
// if that answer found no amount (so the first two cannot agree and the
// third will be wanted); then spare returns its text when asked for it
// (false if that reply is gone: the helper was replaced, or another batch
// came between and took it out of the pipe after a newer one). Otherwise
// spare is nil.
func (r *Reader) readFirst(ctx context.Context, p *image.Gray, vs ...Variant) (texts []string, spare func(context.Context) (string, bool), err error) {
	need := min(2, len(vs))
	gs := make([]*image.Gray, need)
	for i, v := range vs[:need] {
		g, err := scaleLine(p, v)
		if err != nil {
			return nil, nil, err
		}
		gs[i] = g
	}
	var more func(ocrproto.Frame) (ocrproto.Frame, bool)
	if len(vs) > need {
		more = func(first ocrproto.Frame) (ocrproto.Frame, bool) {
			if first.Verb != ocrproto.VerbOK {
				return ocrproto.Frame{}, false
			}
			if _, err := PickAmount(string(first.Body)); err == nil {
				return ocrproto.Frame{}, false
			}
			g, err := scaleLine(p, vs[need])
			if err != nil {
				return ocrproto.Frame{}, false
			}
			f, err := readFrame(g, vs[need])
			return f, err == nil
		}
	}
	texts, h, seq, sent, err := r.sendSome(ctx, gs, vs[:need], need, more)
	if err != nil || !sent {
		return texts, nil, err
	}
	return texts, func(ctx context.Context) (string, bool) { return r.takeSpare(ctx, h, seq, vs[need]) }, nil
}

// readFrame is the READ request for g read with v.
func readFrame(g *image.Gray, v Variant) (ocrproto.Frame, error) {
	var buf bytes.Buffer
	if err := bmp.Encode(&buf, g); err != nil {
		return ocrproto.Frame{}, fmt.Errorf("ocr: encode BMP: %w", err)
	}
	return ocrproto.Frame{Verb: ocrproto.VerbRead, Arg: v.arg(), Body: buf.Bytes()}, nil
}

// takeSpare returns the reply to batch seq's request that was not waited
// for, receiving it now if it is still in the pipe.
func (r *Reader) takeSpare(ctx context.Context, h *helper, seq uint64, v Variant) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.h != h || h.exited() {
		return "", false
	}
	var f ocrproto.Frame
	switch {
	case h.owed > 0 && h.seq == seq:
		got, err := h.receive(ctx, r.opts.Timeout)
		if err != nil {
			h.stop()
			r.h = nil
			r.avoidShared()
			return "", false
		}
		h.owed--
		f = got
	case h.spare != nil && h.spareSeq == seq:
		f = *h.spare
		h.spare = nil
	default:
		return "", false
	}
	if f.Verb != ocrproto.VerbOK {
		// An ERR is read again the ordinary way, which reports it.
		return "", false
	}
	return string(f.Body), true
}

// sendAll sends one READ per image, then collects the answers in order. A
// helper that dies or hangs is replaced and the whole batch tried once more.
func (r *Reader) sendAll(ctx context.Context, gs []*image.Gray, vs []Variant) ([]string, error) {
	t, _, _, _, err := r.sendSome(ctx, gs, vs, len(gs), nil)
	return t, err
}

// sendSome is sendAll that waits for the first need answers only; the
// others stay owed by the helper (helper.owed) for takeSpare. With more
// set, it is given the first answer, and the request it returns, if any, is
// sent then and owed too (sent says so).
func (r *Reader) sendSome(ctx context.Context, gs []*image.Gray, vs []Variant, need int, more func(ocrproto.Frame) (ocrproto.Frame, bool)) ([]string, *helper, uint64, bool, error) {
	fail := func(err error) ([]string, *helper, uint64, bool, error) { return nil, nil, 0, false, err }
	reqs := make([]ocrproto.Frame, len(gs))
	for i, g := range gs {
		f, err := readFrame(g, vs[i])
		if err != nil {
			return fail(err)
		}
		reqs[i] = f
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ {
		h, err := r.ensure(ctx)
		if err != nil {
			return fail(err)
		}
		replies, sent, err := h.exchangeSome(ctx, reqs, need, r.opts.Timeout, more)
		if err != nil {
			// Out of step, dead or hung: this helper is finished. A shared
			// one that failed is not reached again by this Reader: the
			// retry (and every later read) uses a private helper, so one
			// stuck shared server cannot fail this user's reads for good.
			h.stop()
			r.h = nil
			r.avoidShared()
			if ctx.Err() != nil {
				return fail(fmt.Errorf("ocr: %w", ctx.Err()))
			}
			lastErr = err
			continue
		}
		r.reads += len(reqs)
		if sent {
			r.reads++
		}
		if r.reads >= recycleAfter {
			h.stop()
			r.h, r.reads = nil, 0
		}
		texts := make([]string, len(replies))
		for i, reply := range replies {
			if reply.Verb == ocrproto.VerbErr {
				if vs[i].Chinese && strings.Contains(string(reply.Body), "Chinese data") {
					// Without the label model no label can be checked, and an
					// unchecked label may be the change: OCR is off, not guessing.
					return fail(fmt.Errorf("%w: %s", ErrUnavailable, oneLine(string(reply.Body))))
				}
				return fail(fmt.Errorf("ocr: the helper refused the image: %s", reply.Body))
			}
			if reply.Verb != ocrproto.VerbOK {
				return fail(fmt.Errorf("ocr: the helper answered %q", reply.Verb))
			}
			texts[i] = string(reply.Body)
		}
		return texts, h, h.seq, sent, nil
	}
	return fail(fmt.Errorf("%w: %v", ErrHelperFailed, lastErr))
}

// ensure returns the running helper, starting one if needed. r.mu is held.
func (r *Reader) ensure(ctx context.Context) (*helper, error) {
	if r.h != nil && !r.h.exited() {
		return r.h, nil
	}
	if r.h != nil {
		r.h.stop()
		r.h = nil
	}
	argv, err := r.helperArgv()
	if err != nil {
		return nil, err
	}
	h, err := r.start(ctx, argv)
	if err != nil {
		return nil, err
	}
	r.h, r.reads = h, 0
	return h, nil
}

// helperArgv is the command that starts the helper. A relative Tessdata
// is made absolute: a shared helper runs in its own folder, and the
// endpoint's key (shareKey) must name the same data for every caller.
func (r *Reader) helperArgv() ([]string, error) {
	argv := r.opts.Command
	if len(argv) == 0 {
		p, err := FindHelper()
		if err != nil {
			return nil, err
		}
		argv = []string{p}
	}
	if td := r.opts.Tessdata; td != "" {
		if abs, err := filepath.Abs(td); err == nil {
			td = abs
		}
		argv = append(append([]string(nil), argv...), "--tessdata", td)
	}
	return argv, nil
}

// helper is one running scanbox-ocr process, or a connection to the
// shared one (cmd nil; stdin and stdout are the connection).
type helper struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stdout  io.Closer
	out     *bufio.Reader
	stderr  *tail
	done    chan struct{} // closed when the process has exited
	waitErr error
	version string

	// Replies to requests sent but not waited for (Read's third reading),
	// in stream order after the ones waited for; seq numbers the batches.
	// A batch sent before they were taken takes them out of the pipe and
	// keeps the last as spare, tagged with its batch. Guarded by Reader.mu.
	owed     int
	seq      uint64
	spare    *ocrproto.Frame
	spareSeq uint64
}

func startHelper(ctx context.Context, argv []string, timeout time.Duration) (*helper, error) {
	// Our own pipes rather than cmd.StdoutPipe: exec closes those as soon as
	// the process exits, which would lose an ERR frame sent just before.
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	h := &helper{stdin: inW, stdout: outR, out: bufio.NewReader(outR), stderr: &tail{}, done: make(chan struct{})}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, h.stderr
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
	cmd.SysProcAttr = helperSysProcAttr()
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("%w: the helper %s could not be started (%v)", ErrUnavailable, argv[0], unwrapExec(err))
	}
	h.cmd = cmd
	go func() {
		h.waitErr = cmd.Wait()
		close(h.done)
	}()

	f, err := h.receive(ctx, timeout)
	switch {
	case err != nil && ctx.Err() != nil:
		// The caller gave up while the helper was starting: that is not a
		// missing OCR runtime, and must not be reported as one.
		h.stop()
		return nil, fmt.Errorf("ocr: starting the helper: %w", ctx.Err())
	case err != nil:
		h.stop()
		return nil, fmt.Errorf("%w: %s", ErrUnavailable, h.deathReason(err))
	case f.Verb == ocrproto.VerbErr:
		h.stop()
		return nil, fmt.Errorf("%w: %s", ErrUnavailable, oneLine(string(f.Body)))
	case f.Verb != ocrproto.VerbReady:
		h.stop()
		return nil, fmt.Errorf("%w: the helper spoke an unknown protocol (%q)", ErrUnavailable, f.Verb)
	}
	h.version = string(f.Body)
	return h, nil
}

// exchange sends one request and waits for its reply.
func (h *helper) exchange(ctx context.Context, req ocrproto.Frame, timeout time.Duration) (ocrproto.Frame, error) {
	fs, err := h.exchangeAll(ctx, []ocrproto.Frame{req}, timeout)
	if err != nil {
		return ocrproto.Frame{}, err
	}
	return fs[0], nil
}

// exchangeAll sends the requests and waits for their replies, in order;
// timeout bounds each reply.
func (h *helper) exchangeAll(ctx context.Context, reqs []ocrproto.Frame, timeout time.Duration) ([]ocrproto.Frame, error) {
	fs, _, err := h.exchangeSome(ctx, reqs, len(reqs), timeout, nil)
	return fs, err
}

// exchangeSome sends the requests and waits for the first need replies;
// the rest stay owed. Replies still owed from the batch before are taken
// out of the pipe after the requests are sent (so that an engine the owed
// reading does not hold starts on its new request at once), the last of
// them kept as h.spare (stream order). With more set, it is given the first
// reply, and the request it returns, if any, is sent then and owed (sent).
func (h *helper) exchangeSome(ctx context.Context, reqs []ocrproto.Frame, need int, timeout time.Duration, more func(ocrproto.Frame) (ocrproto.Frame, bool)) (replies []ocrproto.Frame, sent bool, err error) {
	for _, req := range reqs {
		if err := ocrproto.Write(h.stdin, req); err != nil {
			return nil, false, fmt.Errorf("send: %s", h.deathReason(err))
		}
	}
	for ; h.owed > 0; h.owed-- {
		f, err := h.receive(ctx, timeout)
		if err != nil {
			return nil, false, fmt.Errorf("receive: %s", h.deathReason(err))
		}
		h.spare, h.spareSeq = &f, h.seq
	}
	h.seq++
	h.owed = len(reqs) - need
	out := make([]ocrproto.Frame, 0, need)
	for i := range need {
		f, err := h.receive(ctx, timeout)
		if err != nil {
			return nil, false, fmt.Errorf("receive: %s", h.deathReason(err))
		}
		out = append(out, f)
		if i == 0 && more != nil {
			if req, ok := more(f); ok {
				if err := ocrproto.Write(h.stdin, req); err != nil {
					return nil, false, fmt.Errorf("send: %s", h.deathReason(err))
				}
				h.owed++
				sent = true
			}
		}
	}
	return out, sent, nil
}

var errTimeout = errors.New("no answer in time")

// statusDLLNotFound is Windows' STATUS_DLL_NOT_FOUND, the exit status of a
// process whose DLL could not be loaded before main.
const statusDLLNotFound = 0xC0000135

// receive reads one frame, giving up at the timeout or when ctx ends; after
// giving up the helper must be stopped, as its stream is out of step.
func (h *helper) receive(ctx context.Context, timeout time.Duration) (ocrproto.Frame, error) {
	type got struct {
		f   ocrproto.Frame
		err error
	}
	ch := make(chan got, 1)
	go func() {
		f, err := ocrproto.Read(h.out)
		ch <- got{f, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case g := <-ch:
		return g.f, g.err
	case <-t.C:
		h.stop() // unblocks the reading goroutine
		return ocrproto.Frame{}, errTimeout
	case <-ctx.Done():
		h.stop()
		return ocrproto.Frame{}, ctx.Err()
	}
}

func (h *helper) exited() bool {
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}

// stop ends the process (closing stdin first lets it exit on its own) and
// releases the pipes. It is safe to call more than once.
func (h *helper) stop() {
	h.stdin.Close()
	if h.cmd == nil {
		h.hangUp()
		return
	}
	select {
	case <-h.done:
	case <-time.After(500 * time.Millisecond):
		h.cmd.Process.Kill()
		<-h.done
	}
	h.stdout.Close()
}

// deathReason explains err from the pipe, preferring what the process said
// on stderr before it died (a missing shared library, a crash).
func (h *helper) deathReason(err error) string {
	if h.cmd == nil {
		return connDeathReason(err)
	}
	if errors.Is(err, errTimeout) {
		return "the helper gave no answer in time"
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, os.ErrClosed) || isBrokenPipe(err) {
		select {
		case <-h.done:
		case <-time.After(2 * time.Second):
		}
		msg := "the helper exited"
		var ee *exec.ExitError
		if h.exited() && errors.As(h.waitErr, &ee) && uint32(ee.ExitCode()) == statusDLLNotFound {
			// Windows says nothing on stderr when a DLL is missing.
			msg = "the helper cannot start because a DLL it needs (Tesseract's) is missing"
		} else if h.exited() && h.waitErr != nil {
			msg += " (" + h.waitErr.Error() + ")"
		}
		if s := h.stderr.firstLine(); s != "" {
			msg += ": " + s
		}
		return msg
	}
	return err.Error()
}

func isBrokenPipe(err error) bool {
	return err != nil && strings.Contains(err.Error(), "broken pipe")
}

func unwrapExec(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return s
}

// tail keeps the first and last bytes a helper wrote to stderr: enough to
// quote why it died, bounded however much it prints.
type tail struct {
	mu    sync.Mutex
	first []byte
	last  []byte
}

const tailMax = 2048

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := tailMax - len(t.first); room > 0 {
		t.first = append(t.first, p[:min(room, len(p))]...)
	}
	t.last = append(t.last, p...)
	if len(t.last) > tailMax {
		t.last = t.last[len(t.last)-tailMax:]
	}
	return len(p), nil
}

// firstLine returns the first non-empty line written, trimmed.
func (t *tail) firstLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, l := range strings.Split(string(t.first), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			if len(l) > 200 {
				l = l[:200] + "…"
			}
			return l
		}
	}
	return ""
}
