package ui

import (
	"bytes"
	"fmt"
	"image"
	"io"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/scan"
)

// fakeCtrl is an in-memory Controller. Tests drive it from the test
// goroutine, so every callback (and the fyne.Do inside) runs synchronously.
type fakeCtrl struct {
	amount                                                           AmountReading
	hasAmount                                                        bool
	amountSubs, scanSubs, orderSubs, statusSubs, logSubs, serialSubs []any
	regionText                                                       string // ReadRegion's text when set
	regionErr                                                        error

	orders    []order.Order // newest last
	nextNo    int
	cancelled []string
	requeried []string
	closedNos []string
	payErr    error

	status   Status
	settings Settings
	saves    int
	logs     []LogLine
	exported int
	manual   []money.Fen
	captures int
	afterPay func(order.Order) // runs inside Pay, as the runner may
	// screen is what ReadAmountNow returns (the OCR read a scan waits for).
	screen    AmountReading
	screenErr error
	reads     int
	// requeryErr is what Requery and CloseOrder fail with (the bank down).
	requeryErr error
	voiceErr   error
	voiceTests int
}

func newFake() *fakeCtrl {
	return &fakeCtrl{settings: Settings{AmountSource: "manual", ScannerMode: "wedge", WedgeMaxGapMS: 30,
		PollInterval: 3 * time.Second, PollTimeout: 45 * time.Second, AutoCloseSec: 3, VoiceOn: true, Volume: 80,
		Language: "zh-CN", Hotkey: "Ctrl+Alt+F9", SerialBaud: 9600, SerialParity: "none", ScannerBaud: 9600,
		MaxAmountAge: 2 * time.Minute, MaxPayment: DefaultMaxPayment, ConfirmAbove: DefaultConfirmAbove}}
}

func sub[T any](list *[]any, fn func(T)) func() {
	*list = append(*list, fn)
	i := len(*list) - 1
	return func() { (*list)[i] = nil }
}

func emit[T any](list []any, v T) {
	for _, f := range list {
		if f != nil {
			f.(func(T))(v)
		}
	}
}

func (f *fakeCtrl) Amount() (AmountReading, bool)          { return f.amount, f.hasAmount }
func (f *fakeCtrl) OnAmount(fn func(AmountReading)) func() { return sub(&f.amountSubs, fn) }
func (f *fakeCtrl) SetManualAmount(a money.Fen)            { f.manual = append(f.manual, a) }
func (f *fakeCtrl) OnScan(fn func(string)) func()          { return sub(&f.scanSubs, fn) }
func (f *fakeCtrl) Wallet(code string) (order.Channel, error) {
	return scan.Recognize(code)
}
func (f *fakeCtrl) Pay(amount money.Fen, code string) (order.Order, error) {
	if f.payErr != nil {
		return order.Order{}, f.payErr
	}
	ch, _ := scan.Recognize(code)
	f.nextNo++
	o := order.Order{OutTradeNo: "SB" + string(rune('A'+f.nextNo)) + "0001", AmountFen: amount, Guess: ch,
		CodeMasked: scan.Mask(code), State: order.StatePending, CreatedAt: time.Date(2026, 11, 26, 10, 0, f.nextNo, 0, time.Local)}
	f.orders = append(f.orders, o)
	if f.afterPay != nil {
		f.afterPay(o)
	}
	return o, nil
}
func (f *fakeCtrl) Precreate(amount money.Fen) (order.Order, error) {
	f.nextNo++
	o := order.Order{OutTradeNo: "QR" + string(rune('A'+f.nextNo)), Kind: order.KindPrecreate, AmountFen: amount,
		State: order.StateWaiting, CodeURL: "weixin://wxpay/bizpayurl?pr=demo", Deadline: time.Now().Add(2 * time.Minute)}
	f.orders = append(f.orders, o)
	return o, nil
}
func (f *fakeCtrl) Cancel(no string) bool               { f.cancelled = append(f.cancelled, no); return true }
func (f *fakeCtrl) OnOrder(fn func(order.Order)) func() { return sub(&f.orderSubs, fn) }

// update changes a stored order and tells subscribers, as the runner does.
func (f *fakeCtrl) update(no string, change func(*order.Order)) order.Order {
	for i := range f.orders {
		if f.orders[i].OutTradeNo == no {
			change(&f.orders[i])
			emit(f.orderSubs, f.orders[i])
			return f.orders[i]
		}
	}
	panic("no order " + no)
}
func (f *fakeCtrl) Recent(n int) []order.Order {
	var out []order.Order
	for i := len(f.orders) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, f.orders[i])
	}
	return out
}
func (f *fakeCtrl) Requery(no string) (order.Order, error) {
	f.requeried = append(f.requeried, no)
	if f.requeryErr != nil {
		return order.Order{}, f.requeryErr
	}
	return f.update(no, func(o *order.Order) { o.State = order.StatePaid }), nil
}
func (f *fakeCtrl) CloseOrder(no string) (order.Order, error) {
	f.closedNos = append(f.closedNos, no)
	return f.update(no, func(o *order.Order) { o.State = order.StateClosed }), nil
}
func (f *fakeCtrl) Status() Status                  { return f.status }
func (f *fakeCtrl) OnStatus(fn func(Status)) func() { return sub(&f.statusSubs, fn) }
func (f *fakeCtrl) Logs(after uint64, max int) []LogLine {
	var out []LogLine
	for _, l := range f.logs {
		if l.Seq > after && len(out) < max {
			out = append(out, l)
		}
	}
	return out
}
func (f *fakeCtrl) OnLog(fn func(struct{})) func() { return sub(&f.logSubs, fn) }
func (f *fakeCtrl) addLog(l LogLine) {
	l.Seq = uint64(len(f.logs) + 1)
	f.logs = append(f.logs, l)
	emit(f.logSubs, struct{}{})
}
func (f *fakeCtrl) ExportSupport(w io.Writer) error {
	f.exported++
	_, err := io.Copy(w, bytes.NewReader([]byte("PK-zip")))
	return err
}
func (f *fakeCtrl) Settings() Settings { return f.settings }
func (f *fakeCtrl) SaveSettings(s Settings) error {
	f.saves++
	f.settings = s
	return nil
}
func (f *fakeCtrl) Activate(url, mch, terminal, code string) (Status, error) {
	if code != "DEMO-2026" {
		return Status{}, fmt.Errorf("activation failed: %w", fmt.Errorf("payclient: activate %s/%s: %w", mch, terminal,
			&payclient.APIError{Endpoint: "/merchant/info", ReturnCode: "FAIL", ReturnMsg: "ACTIVATION_INVALID"}))
	}
	f.settings.BankURL, f.settings.MchID, f.settings.TerminalID = url, mch, terminal
	f.status = Status{Activated: true, MerchantName: "演示商户", StoreName: "一号店", StaticQR: "https://qr.example/static"}
	return f.status, nil
}
func (f *fakeCtrl) SerialPorts() ([]string, error) {
	return []string{"/dev/ttyS0", "/dev/ttyUSB0"}, nil
}
func (f *fakeCtrl) SerialProfiles() []string            { return []string{"auto", "cd5220", "escpos"} }
func (f *fakeCtrl) OnSerialLine(fn func(string)) func() { return sub(&f.serialSubs, fn) }
func (f *fakeCtrl) CaptureScreen() (image.Image, error) {
	return image.NewRGBA(image.Rect(0, 0, 800, 600)), nil
}
func (f *fakeCtrl) ReadRegion(r image.Rectangle) (string, money.Fen, error) {
	if f.regionErr != nil || f.regionText != "" {
		return f.regionText, 1250, f.regionErr
	}
	return "¥12.50", 1250, nil
}
func (f *fakeCtrl) TestVoice()        { f.voiceTests++ }
func (f *fakeCtrl) VoiceError() error { return f.voiceErr }
func (f *fakeCtrl) CaptureNow()       { f.captures++ }
func (f *fakeCtrl) ReadAmountNow() (AmountReading, error) {
	f.reads++
	if f.screenErr != nil {
		return AmountReading{}, f.screenErr
	}
	f.amount, f.hasAmount = f.screen, true
	emit(f.amountSubs, f.screen)
	return f.screen, nil
}
func (f *fakeCtrl) DataDir() string { return "/tmp/scanbox-test" }

// manualClock drives Env.Every by hand.
type manualClock struct {
	now   time.Time
	ticks map[int]func()
	next  int
}

func (c *manualClock) every(_ time.Duration, fn func()) func() {
	c.next++
	id := c.next
	c.ticks[id] = fn
	return func() { delete(c.ticks, id) }
}

// advance moves the clock by d, firing every ticker once per second passed.
func (c *manualClock) advance(d time.Duration) {
	for s := time.Duration(0); s < d; s += time.Second {
		c.now = c.now.Add(time.Second)
		for _, fn := range c.ticks {
			fn()
		}
	}
}

func newTestEnv(t *testing.T) (*Env, *fakeCtrl, *manualClock) {
	t.Helper()
	a := test.NewTempApp(t)
	a.Settings().SetTheme(NewTheme())
	SetLanguage(Chinese)
	f := newFake()
	clk := &manualClock{now: time.Date(2026, 11, 26, 10, 0, 0, 0, time.Local), ticks: map[int]func(){}}
	env := &Env{App: a, Ctrl: f, Now: func() time.Time { return clk.now }, Go: func(fn func()) { fn() }, Every: clk.every}
	return env, f, clk
}
