package payclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/scan"
)

// Endpoint paths of bank-api.md, appended to the base URL.
const (
	EndpointActivate  = "/merchant/info"
	EndpointMicropay  = "/pay/micropay"
	EndpointQuery     = "/pay/query"
	EndpointClose     = "/pay/close"
	EndpointPrecreate = "/pay/precreate"
	// Version 1.1.
	EndpointRefund      = "/pay/refund"
	EndpointRefundQuery = "/pay/refundquery"
	EndpointBill        = "/bill/download"
)

// ErrInvalidRequest is a request this client refuses to send because it
// breaks a field rule of bank-api.md; nothing left the machine.
var ErrInvalidRequest = errors.New("request breaks a field rule of the bank API")

// Config configures a Client. Zero values take the documented defaults.
type Config struct {
	BaseURL    string // e.g. https://pay.bank.example/device/v1
	MchID      string
	TerminalID string
	Key        []byte // the signing key from activation; never logged
	// TerminalSN is the terminal_sn activation handed out, sent as
	// device_sn. Without it (a terminal activated before bank API 1.1)
	// micropay, precreate and refund are refused locally with
	// ErrNoTerminalSN; query and close still work for old orders.
	TerminalSN string
	// DeviceID overrides the device_id derived from this PC's identity
	// (deviceid.For). Only tests set it, to play "another PC"; the
	// program leaves it empty.
	DeviceID string
	// AppVersion is sent as app_version (default version.Version, cut to
	// the API's 8 characters).
	AppVersion string
	// HTTPTimeout bounds each request (default DefaultHTTPTimeout).
	HTTPTimeout time.Duration
	// DeviceIP is sent as device_ip (default "127.0.0.1").
	DeviceIP string
	// HTTPClient defaults to a private client; redirects are never followed.
	HTTPClient *http.Client
	// Now is the clock for timestamps (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger // default slog.Default()
	// RecallWait is the pause between close calls while recall=Y
	// (default DefaultRecallWait); CloseRecalls bounds the calls
	// (default DefaultCloseRecalls).
	RecallWait   time.Duration
	CloseRecalls int
}

// Client is a Bank Device API client for one terminal. It is safe for
// concurrent use.
type Client struct {
	t            *transport
	mchID        string
	terminalID   string
	key          []byte
	deviceIP     string
	deviceSN     string
	deviceID     string
	appVersion   string
	recallWait   time.Duration
	closeRecalls int
}

var _ Bank = (*Client)(nil)

// transport is what activation and the Client share: one HTTP round trip
// with signing, verification and the response rules of bank-api.md.
type transport struct {
	base    string
	hc      *http.Client
	timeout time.Duration
	now     func() time.Time
	log     *slog.Logger
	// offset is the bank's clock minus ours, in nanoseconds, from the
	// last answer (bank-api.md's clock rule). Timestamps are ours plus it.
	offset atomic.Int64
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	t, err := newTransport(cfg.BaseURL, cfg.HTTPClient, cfg.HTTPTimeout, cfg.Now, cfg.Logger)
	if err != nil {
		return nil, err
	}
	if err := checkID("mch_id", cfg.MchID); err != nil {
		return nil, fmt.Errorf("payclient: %w", err)
	}
	if err := checkID("terminal_id", cfg.TerminalID); err != nil {
		return nil, fmt.Errorf("payclient: %w", err)
	}
	if len(cfg.Key) == 0 {
		return nil, errors.New("payclient: no signing key (activate the terminal first)")
	}
	ip := cfg.DeviceIP
	if ip == "" {
		ip = "127.0.0.1"
	}
	if net.ParseIP(ip) == nil {
		return nil, fmt.Errorf("payclient: device IP %q is not an IP address", ip)
	}
	devID, err := resolveDeviceID(cfg.DeviceID, cfg.MchID, cfg.TerminalID)
	if err != nil {
		return nil, err
	}
	if cfg.TerminalSN != "" && !validTerminalSN(cfg.TerminalSN) {
		return nil, fmt.Errorf("payclient: terminal_sn %q must be 8–32 of [0-9A-Za-z]", cfg.TerminalSN)
	}
	appVer := cfg.AppVersion
	if appVer == "" {
		appVer = defaultAppVersion()
	}
	if len(appVer) < 1 || len(appVer) > 8 || !utf8.ValidString(appVer) {
		return nil, fmt.Errorf("payclient: app_version %q must be 1–8 characters", appVer)
	}
	c := &Client{
		t:            t,
		mchID:        cfg.MchID,
		terminalID:   cfg.TerminalID,
		key:          bytes.Clone(cfg.Key),
		deviceIP:     ip,
		deviceSN:     cfg.TerminalSN,
		deviceID:     devID,
		appVersion:   appVer,
		recallWait:   cfg.RecallWait,
		closeRecalls: cfg.CloseRecalls,
	}
	if c.recallWait <= 0 {
		c.recallWait = DefaultRecallWait
	}
	if c.closeRecalls <= 0 {
		c.closeRecalls = DefaultCloseRecalls
	}
	return c, nil
}

func newTransport(base string, hc *http.Client, timeout time.Duration, now func() time.Time, log *slog.Logger) (*transport, error) {
	if err := CheckBaseURL(base); err != nil {
		return nil, err
	}
	if hc == nil {
		hc = &http.Client{}
	} else {
		cp := *hc
		hc = &cp
	}
	// A redirect could lead to another host or to plain http: the answer
	// must come from the configured URL or not at all.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if timeout <= 0 {
		timeout = DefaultHTTPTimeout
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &transport{base: strings.TrimRight(base, "/"), hc: hc, timeout: timeout, now: now, log: log}, nil
}

// CheckBaseURL accepts https:// URLs, and http:// only to a loopback host
// (127.0.0.0/8, ::1, localhost); otherwise it returns an error matching
// ErrInsecureURL (or a plain error for a URL that is not usable at all).
func CheckBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("payclient: bank URL: %w", err)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("payclient: bank URL %q must be scheme://host[:port]/path", raw)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("payclient: %q: %w", raw, ErrInsecureURL)
	}
	return fmt.Errorf("payclient: bank URL %q: %w", raw, ErrInsecureURL)
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// checkID applies the 1–32 character rule of mch_id and terminal_id.
func checkID(name, v string) error {
	if len(v) < 1 || len(v) > 32 || !utf8.ValidString(v) {
		return fmt.Errorf("%w: %s must be 1–32 characters", ErrInvalidRequest, name)
	}
	return nil
}

// checkOutTradeNo applies out_trade_no's rule: 6–32 of [0-9A-Za-z_-].
func checkOutTradeNo(no string) error {
	if len(no) < 6 || len(no) > 32 {
		return fmt.Errorf("%w: out_trade_no must be 6–32 characters", ErrInvalidRequest)
	}
	for i := 0; i < len(no); i++ {
		c := no[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || c == '-') {
			return fmt.Errorf("%w: out_trade_no may hold only 0-9 A-Z a-z _ -", ErrInvalidRequest)
		}
	}
	return nil
}

func checkFeeBody(fee money.Fen, body string) error {
	if fee < 1 || fee > money.Max {
		return fmt.Errorf("%w: total_fee must be 1 to %d fen", ErrInvalidRequest, int64(money.Max))
	}
	if len(body) > 128 {
		return fmt.Errorf("%w: body is longer than 128 bytes", ErrInvalidRequest)
	}
	// JSON would carry invalid UTF-8 as U+FFFD, so the bank would check
	// the signature over other bytes than we signed.
	if !utf8.ValidString(body) {
		return fmt.Errorf("%w: body is not valid UTF-8", ErrInvalidRequest)
	}
	return nil
}

// call sends one signed request and applies the response rules of
// bank-api.md. On success it returns the verified response object. Errors:
// ErrCommunication (ErrBadSignature) or *APIError.
//
// Clock rule: the timestamp is our clock corrected by the offset measured
// from the bank's answers; a TIMESTAMP_SKEW refusal (not processed at all)
// is re-sent with the same business fields, a fresh nonce, sign and a
// timestamp corrected from its server_time, at most maxSkewResends times.
func (t *transport) call(ctx context.Context, endpoint string, req Object, key []byte) (Object, error) {
	return t.callLimit(ctx, endpoint, req, key, maxBody)
}

// maxSkewResends bounds the re-sends after TIMESTAMP_SKEW: one is enough
// once the offset is known; the second covers a clock changed meanwhile.
const maxSkewResends = 2

func (t *transport) callLimit(ctx context.Context, endpoint string, req Object, key []byte, limit int) (Object, error) {
	for attempt := 0; ; attempt++ {
		obj, err := t.roundTrip(ctx, endpoint, req, key, limit)
		if err == nil || attempt >= maxSkewResends || !isSkew(err) || ctx.Err() != nil {
			return obj, err
		}
		t.log.LogAttrs(ctx, slog.LevelWarn, "bank refused the timestamp; re-sending with the bank's clock",
			slog.String("endpoint", endpoint), slog.Int64("clock_offset_s", int64(t.clockOffset()/time.Second)))
	}
}

func isSkew(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.ReturnCode == "FAIL" && ae.ReturnMsg == "TIMESTAMP_SKEW"
}

func (t *transport) roundTrip(ctx context.Context, endpoint string, req Object, key []byte, limit int) (Object, error) {
	req["nonce_str"] = NewNonce()
	req["timestamp"] = t.now().Add(t.clockOffset()).Unix()
	req["sign_type"] = SignHMACSHA256.String()
	delete(req, "sign")
	sign, err := Sign(req, key, SignHMACSHA256)
	if err != nil {
		return nil, err
	}
	req["sign"] = sign
	body, err := req.Encode()
	if err != nil {
		return nil, err
	}

	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/json; charset=utf-8")
	hreq.Header.Set("Accept", "application/json")
	sent := t.now()
	resp, err := t.hc.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCommunication, err)
	}
	defer resp.Body.Close()
	mid := sent.Add(t.now().Sub(sent) / 2)
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		// Date has whole seconds: the bank's clock read anywhere in that
		// second, so its middle is the best estimate.
		t.measure(ctx, d.Add(500*time.Millisecond), mid)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the answer: %w", ErrCommunication, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: HTTP status %d", ErrCommunication, resp.StatusCode)
	}
	if len(data) > limit {
		return nil, fmt.Errorf("%w: answer larger than %d bytes", ErrCommunication, limit)
	}
	obj, err := DecodeObject(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCommunication, err)
	}
	err = checkAnswer(endpoint, obj, key)
	if isSkew(err) {
		// server_time is exact to the second, and tied to this refusal.
		if st, ok := obj.Int("server_time"); ok && st > 0 {
			t.measure(ctx, time.Unix(st, 0).Add(500*time.Millisecond), mid)
		}
	}
	return obj, err
}

// offsetDeadband: the bank's clock is only known to about a second (Date
// and server_time are whole seconds, plus half the round trip); a smaller
// estimate is reported as 0 so that status does not show noise.
const offsetDeadband = 2 * time.Second

// measure records bank − local from one reading of the bank's clock taken
// at local time at. Every answer overwrites the last: a PC whose clock is
// corrected meanwhile is followed at once.
func (t *transport) measure(ctx context.Context, bank, at time.Time) {
	raw := bank.Sub(at)
	off := raw.Round(time.Second)
	if raw > -offsetDeadband && raw < offsetDeadband {
		off = 0
	}
	prev := time.Duration(t.offset.Swap(int64(off)))
	if d := off - prev; d > 5*time.Second || d < -5*time.Second {
		t.log.LogAttrs(ctx, slog.LevelWarn, "this PC's clock differs from the bank's",
			slog.Int64("clock_offset_s", int64(off/time.Second)), slog.Int64("previous_offset_s", int64(prev/time.Second)))
	}
}

func (t *transport) clockOffset() time.Duration { return time.Duration(t.offset.Load()) }

// ClockOffset is the bank's clock minus this PC's, as measured from the
// last answer (0 before any answer, and for differences under about 2 s).
// Requests are stamped with the bank's time, so payments go on with a
// wrong PC clock; status and the tray show it so that someone fixes it.
func (c *Client) ClockOffset() time.Duration { return c.t.clockOffset() }

// BankNow is this PC's clock corrected by ClockOffset: the bank's time.
func (c *Client) BankNow() time.Time { return c.t.now().Add(c.t.clockOffset()) }

// checkAnswer applies the return_code / result_code / sign rules.
func checkAnswer(endpoint string, obj Object, key []byte) error {
	rc, _ := obj.Str("return_code")
	signed := obj["sign"] != nil && obj["sign"] != ""
	switch rc {
	case "SUCCESS":
		if !Verify(obj, key, SignHMACSHA256) {
			return ErrBadSignature
		}
	case "FAIL":
		// An unsigned FAIL carries no business result (the server may not
		// know our key); a signed one must verify like any other answer.
		if signed && !Verify(obj, key, SignHMACSHA256) {
			return ErrBadSignature
		}
		msg, _ := obj.Str("return_msg")
		return &APIError{Endpoint: endpoint, ReturnCode: "FAIL", ReturnMsg: msg}
	default:
		return fmt.Errorf("%w: return_code %q", ErrCommunication, rc)
	}
	switch res, _ := obj.Str("result_code"); res {
	case "SUCCESS":
		return nil
	case "FAIL":
		code, _ := obj.Str("err_code")
		if code == "" {
			return garbled("result_code FAIL without err_code")
		}
		des, _ := obj.Str("err_code_des")
		return &APIError{Endpoint: endpoint, ReturnCode: "SUCCESS", ErrCode: code, ErrCodeDes: des}
	default:
		return garbled("result_code %q", res)
	}
}

// errGarbled marks a verified answer that does not make sense: a bank bug or
// a key compromise. It is a communication failure, logged loudly.
type errGarbled struct{ why string }

func (e *errGarbled) Error() string { return "garbled answer: " + e.why }
func (e *errGarbled) Unwrap() error { return ErrCommunication }

func garbled(format string, args ...any) error {
	return &errGarbled{why: fmt.Sprintf(format, args...)}
}

// logCall writes one line per request; attrs carry the request's identity.
func (t *transport) logCall(ctx context.Context, endpoint, no string, start time.Time, err error, attrs ...slog.Attr) {
	level := slog.LevelInfo
	result := "SUCCESS"
	code := ""
	var ae *APIError
	var g *errGarbled
	switch {
	case err == nil:
	case errors.As(err, &ae):
		if ae.ReturnCode == "FAIL" {
			result, code = "FAIL", ae.ReturnMsg
		} else {
			result, code = "RESULT_FAIL", ae.ErrCode
		}
	case errors.As(err, &g):
		level, result = slog.LevelError, "garbled"
	case errors.Is(err, ErrBadSignature):
		level, result = slog.LevelError, "bad_signature"
	case errors.Is(err, ErrCommunication):
		level, result = slog.LevelWarn, "communication_failure"
	default:
		level, result = slog.LevelWarn, "not_sent"
	}
	all := []slog.Attr{
		slog.String("endpoint", endpoint),
		slog.String("out_trade_no", no),
		slog.Int64("elapsed_ms", time.Since(start).Milliseconds()),
		slog.String("result", result),
	}
	if code != "" {
		all = append(all, slog.String("err_code", code))
	}
	all = append(all, attrs...)
	if err != nil && ae == nil {
		all = append(all, slog.String("err", err.Error()))
	}
	t.log.LogAttrs(ctx, level, "bank call", all...)
}

func (c *Client) base() Object {
	return Object{"mch_id": c.mchID, "terminal_id": c.terminalID}
}

// withDevice is base plus device_id: query, close and refundquery carry it
// so that the bank checks the binding.
func (c *Client) withDevice() Object {
	return Object{"mch_id": c.mchID, "terminal_id": c.terminalID, "device_id": c.deviceID}
}

// withTerminalInfo is base plus bank-api 1.1's terminal information, which
// micropay, precreate and refund must carry.
func (c *Client) withTerminalInfo() (Object, error) {
	if c.deviceSN == "" {
		return nil, ErrNoTerminalSN
	}
	return Object{
		"mch_id":      c.mchID,
		"terminal_id": c.terminalID,
		"device_type": DeviceType,
		"device_sn":   c.deviceSN,
		"device_id":   c.deviceID,
		"app_version": c.appVersion,
		"device_ip":   c.deviceIP,
	}, nil
}

// Micropay charges a scanned payment code. On success the Payment has
// TradeState TradeSuccess. Business refusals are *APIError (USERPAYING
// included); use Classify.
func (c *Client) Micropay(ctx context.Context, r MicropayRequest) (*Payment, error) {
	p, err := c.micropay(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("payclient: micropay %s: %w", r.OutTradeNo, err)
	}
	return p, nil
}

func (c *Client) micropay(ctx context.Context, r MicropayRequest) (p *Payment, err error) {
	start := time.Now()
	defer func() {
		c.t.logCall(ctx, EndpointMicropay, r.OutTradeNo, start, err,
			slog.String("auth_code", scan.Mask(r.AuthCode)), slog.Int64("amount_fen", int64(r.TotalFee)))
	}()
	if err := checkOutTradeNo(r.OutTradeNo); err != nil {
		return nil, err
	}
	if err := checkFeeBody(r.TotalFee, r.Body); err != nil {
		return nil, err
	}
	if r.AuthCode == "" || strings.Trim(r.AuthCode, "0123456789") != "" {
		return nil, fmt.Errorf("%w: auth_code must be digits", ErrInvalidRequest)
	}
	req, err := c.withTerminalInfo()
	if err != nil {
		return nil, err
	}
	req["out_trade_no"] = r.OutTradeNo
	req["auth_code"] = r.AuthCode
	req["total_fee"] = int64(r.TotalFee)
	req["body"] = r.Body
	obj, err := c.t.call(ctx, EndpointMicropay, req, c.key)
	if err != nil {
		return nil, err
	}
	p, err = parsePaid(obj, r.OutTradeNo, true)
	if err != nil {
		return nil, err
	}
	p.TradeState = TradeSuccess
	if p.TotalFee != r.TotalFee {
		return nil, garbled("total_fee %d differs from the request's %d", p.TotalFee, r.TotalFee)
	}
	return p, nil
}

// parsePaid reads the paid-order fields. With required, all of
// transaction_id, pay_channel, total_fee and time_end must be present;
// otherwise those present must still be well-formed. An empty string counts
// as absent, as it does for signing.
func parsePaid(obj Object, no string, required bool) (*Payment, error) {
	p := &Payment{OutTradeNo: no}
	present := func(name string) (any, bool) {
		v, ok := obj[name]
		if s, isStr := v.(string); isStr && s == "" {
			return nil, false
		}
		return v, ok
	}
	if got, ok := present("out_trade_no"); ok && got != no {
		return nil, garbled("out_trade_no %v answers a request for %s", got, no)
	}
	if v, ok := present("transaction_id"); ok || required {
		s, _ := v.(string)
		if s == "" {
			return nil, garbled("transaction_id missing or not a string")
		}
		p.TransactionID = s
	}
	if v, ok := present("pay_channel"); ok || required {
		s, _ := v.(string)
		ch, err := order.ParseChannel(s)
		if err != nil || ch == order.ChannelNone {
			return nil, garbled("pay_channel %v unknown", v)
		}
		p.Channel = ch
	}
	if v, ok := present("total_fee"); ok || required {
		n, isInt := formatIntValue(v)
		low := int64(0) // an unpaid order may report 0
		if required {
			low = 1
		}
		if !isInt || n < low || n > int64(money.Max) {
			return nil, garbled("total_fee %v missing or out of range", v)
		}
		p.TotalFee = money.Fen(n)
	}
	if v, ok := present("time_end"); ok || required {
		s, _ := v.(string)
		if _, err := time.Parse("20060102150405", s); err != nil {
			return nil, garbled("time_end %v is not yyyyMMddHHmmss", v)
		}
		p.TimeEnd = s
	}
	return p, nil
}

func parseTradeState(obj Object) (TradeState, error) {
	s, _ := obj.Str("trade_state")
	ts, err := ParseTradeState(s)
	if err != nil {
		return TradeStateNone, garbled("trade_state %q unknown", s)
	}
	return ts, nil
}

// Query asks for the current state of an order.
func (c *Client) Query(ctx context.Context, outTradeNo string) (*Payment, error) {
	p, err := c.query(ctx, outTradeNo)
	if err != nil {
		return nil, fmt.Errorf("payclient: query %s: %w", outTradeNo, err)
	}
	return p, nil
}

func (c *Client) query(ctx context.Context, no string) (p *Payment, err error) {
	start := time.Now()
	defer func() {
		attrs := []slog.Attr{}
		if p != nil {
			attrs = append(attrs, slog.String("trade_state", p.TradeState.String()))
		}
		c.t.logCall(ctx, EndpointQuery, no, start, err, attrs...)
	}()
	if err := checkOutTradeNo(no); err != nil {
		return nil, err
	}
	req := c.withDevice()
	req["out_trade_no"] = no
	obj, err := c.t.call(ctx, EndpointQuery, req, c.key)
	if err != nil {
		return nil, err
	}
	ts, err := parseTradeState(obj)
	if err != nil {
		return nil, err
	}
	p, err = parsePaid(obj, no, ts == TradeSuccess)
	if err != nil {
		return nil, err
	}
	p.TradeState = ts
	return p, nil
}

// Close closes an order, calling again while the bank answers recall=Y: at
// most CloseRecalls calls, RecallWait apart. If it never finishes, the last
// answer is returned with Recall set and a nil error (Classify: unknown).
func (c *Client) Close(ctx context.Context, outTradeNo string) (*Payment, error) {
	var last *Payment
	for i := 0; i < c.closeRecalls; i++ {
		if i > 0 {
			t := time.NewTimer(c.recallWait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf("payclient: close %s: %w: %w", outTradeNo, ErrCommunication, ctx.Err())
			case <-t.C:
			}
		}
		p, err := c.close(ctx, outTradeNo)
		if err != nil {
			return nil, fmt.Errorf("payclient: close %s: %w", outTradeNo, err)
		}
		last = p
		if !p.Recall {
			return p, nil
		}
	}
	c.t.log.LogAttrs(ctx, slog.LevelWarn, "close did not finish", slog.String("endpoint", EndpointClose),
		slog.String("out_trade_no", outTradeNo), slog.Int("calls", c.closeRecalls))
	return last, nil
}

func (c *Client) close(ctx context.Context, no string) (p *Payment, err error) {
	start := time.Now()
	defer func() {
		attrs := []slog.Attr{}
		if p != nil {
			attrs = append(attrs, slog.String("trade_state", p.TradeState.String()), slog.Bool("recall", p.Recall))
		}
		c.t.logCall(ctx, EndpointClose, no, start, err, attrs...)
	}()
	if err := checkOutTradeNo(no); err != nil {
		return nil, err
	}
	req := c.withDevice()
	req["out_trade_no"] = no
	obj, err := c.t.call(ctx, EndpointClose, req, c.key)
	if err != nil {
		return nil, err
	}
	ts, err := parseTradeState(obj)
	if err != nil {
		return nil, err
	}
	recall, _ := obj.Str("recall")
	if recall != "Y" && recall != "N" {
		return nil, garbled("recall %q is neither Y nor N", recall)
	}
	if recall == "N" && ts != TradeClosed && ts != TradeRevoked {
		return nil, garbled("finished close reports trade_state %v", ts)
	}
	p, err = parsePaid(obj, no, false)
	if err != nil {
		return nil, err
	}
	p.TradeState = ts
	p.Recall = recall == "Y"
	return p, nil
}

// Precreate asks for a dynamic QR code for the payer to scan.
func (c *Client) Precreate(ctx context.Context, r PrecreateRequest) (*Precreated, error) {
	p, err := c.precreate(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("payclient: precreate %s: %w", r.OutTradeNo, err)
	}
	return p, nil
}

func (c *Client) precreate(ctx context.Context, r PrecreateRequest) (p *Precreated, err error) {
	start := time.Now()
	defer func() {
		c.t.logCall(ctx, EndpointPrecreate, r.OutTradeNo, start, err, slog.Int64("amount_fen", int64(r.TotalFee)))
	}()
	if err := checkOutTradeNo(r.OutTradeNo); err != nil {
		return nil, err
	}
	if err := checkFeeBody(r.TotalFee, r.Body); err != nil {
		return nil, err
	}
	req, err := c.withTerminalInfo()
	if err != nil {
		return nil, err
	}
	req["out_trade_no"] = r.OutTradeNo
	req["total_fee"] = int64(r.TotalFee)
	req["body"] = r.Body
	obj, err := c.t.call(ctx, EndpointPrecreate, req, c.key)
	if err != nil {
		return nil, err
	}
	if got, ok := obj["out_trade_no"]; ok && got != r.OutTradeNo {
		return nil, garbled("out_trade_no %v answers a request for %s", got, r.OutTradeNo)
	}
	if v, ok := obj["total_fee"]; ok {
		if n, isInt := formatIntValue(v); !isInt || n != int64(r.TotalFee) {
			return nil, garbled("total_fee %v differs from the request's %d", v, r.TotalFee)
		}
	}
	codeURL, _ := obj.Str("code_url")
	if codeURL == "" {
		return nil, garbled("code_url missing")
	}
	exp, _ := obj.Str("expire_time")
	if _, err := time.Parse("20060102150405", exp); err != nil {
		return nil, garbled("expire_time %q is not yyyyMMddHHmmss", exp)
	}
	return &Precreated{CodeURL: codeURL, ExpireTime: exp}, nil
}
