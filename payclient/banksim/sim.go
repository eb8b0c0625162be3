// Package banksim is a strict, in-process implementation of the bank side of
// bank API 1.1 (docs/bank-api.md), for tests, the demo and crash runs:
// activation with device binding (re-activation moves the terminal, the old
// key stops working), signatures, timestamp and nonce checks with the clock
// rule (a Date header on every answer, server_time on TIMESTAMP_SKEW, a
// clock that may run ahead or behind: Options.ClockOffset), terminal
// information, terminal disabling, field rules, idempotent micropay, close
// tombstones and reversal, precreate, refunds (asynchronous, partial, the
// 20-refund limit, the merchant's refundable balance), the daily bill,
// simulated payers and refund outcomes, injected faults on every endpoint,
// and a ledger of what was really charged and refunded. It must never be
// reachable from anything but loopback, and never be used for real money.
//
// Out of process, the payer behind a payment code is chosen by the code's
// last digit: 0–3 pays at once, 4–5 types a password then pays
// (--password-delay), 6 never confirms, 7 confirms at the moment of close
// (so close reverses it), 8 has too little balance, 9 shows an expired code.
// A refund settles by its out_refund_no's last character: 4–6 processing
// then success, 7 processing then failed, 8 processing then CHANGE
// (--refund-delay), anything else at once.
//
// Loopback admin endpoints (tests, the demo, support): GET /_sim/ledger
// returns what the bank holds (LedgerReport as JSON, refunds included);
// POST /_sim/pay?out_trade_no=N makes a customer pay a dynamic QR; POST
// /_sim/disable, /_sim/enable, /_sim/revoke, /_sim/bankpay,
// /_sim/refund-balance, /_sim/refund-behaviour and /_sim/clock-offset are
// described at serveAdmin, and Admin calls them from another process.
package banksim

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/scanbox/scanbox/deviceid"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
)

var chinaTime = payclient.ChinaTime

type orderKey struct{ terminal, no string }

type orderKind int

const (
	kindMicropay orderKind = iota
	kindPrecreate
	kindTombstone // closed before the bank ever saw it
)

type orderRec struct {
	key       orderKey
	kind      orderKind
	authCode  string
	totalFee  int64
	body      string
	behaviour Behaviour
	state     payclient.TradeState
	errCode   string // why a micropay failed (PAYERROR)
	channel   order.Channel
	txID      string
	createdAt time.Time
	confirmAt time.Time // PasswordThenPay: when the payer confirms
	paidAt    time.Time
	codeURL   string
	expire    string
	refunds   []*refundRec
	revokedAt time.Time // revoked by the bank's staff (admin), not by close
	serial    int       // creation order among orders and refunds (bill)
}

// Sim is the simulated bank. It is an http.Handler serving the API under
// Options.BasePath plus GET /_sim/ledger and POST /_sim/pay.
type Sim struct {
	opts Options

	inflight sync.WaitGroup

	mu          sync.Mutex
	rng         *mrand.Rand
	keys        map[string][]byte              // terminal → signing key
	nonces      map[string]map[string]struct{} // terminal → used nonce_str
	usedCodes   map[string]bool
	disabled    map[string]bool
	orders      map[orderKey]*orderRec
	seq         []*orderRec
	recalls     map[orderKey]int
	behaviours  map[string]Behaviour
	queue       map[string][]Fault
	faultCounts map[FaultKind]int
	behCounts   map[Behaviour]int
	paidCount   map[string]int
	txSeq       int
	events      []Event

	// Version 1.1: device binding, refunds.
	clockOffset    atomic.Int64            // nanoseconds added to Options.Now
	devices        map[string]string       // terminal → bound device_id
	refunds        map[orderKey]*refundRec // (terminal, out_refund_no)
	refundSeq      []*refundRec
	refundBeh      map[string]RefundBehaviour // out_refund_no → behaviour
	refundBehCnt   map[RefundBehaviour]int
	refundedCount  map[orderKey]int // executions per (terminal, out_refund_no): >1 is a double refund
	balance        int64            // merchant's refundable balance (fen) when balanceLimited
	balanceLimited bool
	rfSeq          int
	serial         int // last serial given to an order or refund
}

// New returns a simulator with opts (zero values take defaults).
func New(opts Options) *Sim {
	opts.fill()
	seed := uint64(opts.Seed)
	if opts.Seed == 0 {
		seed = mrand.Uint64()
	}
	s := &Sim{
		opts:        opts,
		rng:         mrand.New(mrand.NewPCG(seed, seed^0x5eed)),
		keys:        map[string][]byte{},
		nonces:      map[string]map[string]struct{}{},
		usedCodes:   map[string]bool{},
		disabled:    map[string]bool{},
		orders:      map[orderKey]*orderRec{},
		recalls:     map[orderKey]int{},
		behaviours:  map[string]Behaviour{},
		queue:       map[string][]Fault{},
		faultCounts: map[FaultKind]int{},
		behCounts:   map[Behaviour]int{},
		paidCount:   map[string]int{},

		devices:       map[string]string{},
		refunds:       map[orderKey]*refundRec{},
		refundBeh:     map[string]RefundBehaviour{},
		refundBehCnt:  map[RefundBehaviour]int{},
		refundedCount: map[orderKey]int{},
	}
	for t, k := range opts.TerminalKeys {
		s.keys[t] = []byte(k)
	}
	s.clockOffset.Store(int64(opts.ClockOffset))
	if opts.RefundBalance > 0 {
		s.balance, s.balanceLimited = opts.RefundBalance, true
	}
	return s
}

// now is the bank's clock: Options.Now plus the clock offset (a bank whose
// clock differs from the shop PC's, as support staff reproduce it).
func (s *Sim) now() time.Time { return s.opts.Now().Add(time.Duration(s.clockOffset.Load())) }

// SetClockOffset moves the bank's clock relative to Options.Now.
func (s *Sim) SetClockOffset(d time.Duration) { s.clockOffset.Store(int64(d)) }

// Now is the bank's clock.
func (s *Sim) Now() time.Time { return s.now() }

// Options returns the effective options (defaults filled in).
func (s *Sim) Options() Options { return s.opts }

// SetBehaviour fixes the payer behind authCode, overriding the last-digit rule.
func (s *Sim) SetBehaviour(authCode string, b Behaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.behaviours[authCode] = b
}

// SetKey provisions a terminal's signing key (as activation would).
func (s *Sim) SetKey(terminalID string, key []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[terminalID] = append([]byte(nil), key...)
}

// DisableTerminal makes micropay, precreate, refund and activation of
// terminalID answer TERMINAL_DISABLED; query, close, refundquery and the
// bill keep working so that open orders can be settled.
func (s *Sim) DisableTerminal(terminalID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disabled[terminalID] = true
}

// EnableTerminal undoes DisableTerminal.
func (s *Sim) EnableTerminal(terminalID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.disabled, terminalID)
}

// InjectFault queues f for the next request to endpoint (e.g.
// payclient.EndpointMicropay). Queued faults come before random ones.
func (s *Sim) InjectFault(endpoint string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue[endpoint] = append(s.queue[endpoint], f)
}

// FaultCounts reports how many faults of each kind were applied.
func (s *Sim) FaultCounts() map[FaultKind]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneMap(s.faultCounts)
}

// BehaviourCounts reports how many new micropay orders met each payer
// behaviour.
func (s *Sim) BehaviourCounts() map[Behaviour]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneMap(s.behCounts)
}

// PaidCountByCode reports how many orders were ever paid per auth_code
// (reversed ones included): more than one means a double charge.
func (s *Sim) PaidCountByCode() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneMap(s.paidCount)
}

// WaitIdle waits until no API request is being handled (e.g. a FaultSlow
// request released by its Hold). Call it only when no new requests start.
func (s *Sim) WaitIdle() { s.inflight.Wait() }

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// PayPrecreated makes the simulated customer pay the precreated order with
// this out_trade_no (on whichever terminal created it).
func (s *Sim) PayPrecreated(outTradeNo string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var found *orderRec
	for _, r := range s.seq {
		if r.key.no == outTradeNo && r.kind == kindPrecreate {
			if found != nil {
				return fmt.Errorf("banksim: %s was precreated on several terminals", outTradeNo)
			}
			found = r
		}
	}
	if found == nil {
		return fmt.Errorf("banksim: no precreated order %s", outTradeNo)
	}
	now := s.now()
	s.advance(found, now)
	if found.state != payclient.TradeNotPay {
		return fmt.Errorf("banksim: order %s is %v, not payable", outTradeNo, found.state)
	}
	s.pay(found, now)
	return nil
}

// ServeHTTP routes the API and the /_sim endpoints.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// bank-api 1.1: every answer carries the bank's clock.
	w.Header().Set("Date", s.now().UTC().Format(http.TimeFormat))
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, "/_sim/") && s.serveAdmin(w, r):
	case p == "/_sim/ledger":
		if r.Method != http.MethodGet {
			http.Error(w, "GET only", http.StatusMethodNotAllowed)
			return
		}
		s.serveLedger(w)
	case p == "/_sim/pay":
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		if err := s.PayPrecreated(r.URL.Query().Get("out_trade_no")); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"paid":true}`)
	case strings.HasPrefix(p, s.opts.BasePath+"/"):
		ep := strings.TrimPrefix(p, s.opts.BasePath)
		switch ep {
		case payclient.EndpointActivate, payclient.EndpointMicropay, payclient.EndpointQuery,
			payclient.EndpointClose, payclient.EndpointPrecreate,
			payclient.EndpointRefund, payclient.EndpointRefundQuery, payclient.EndpointBill:
		default:
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		if !jsonContentType(r.Header.Get("Content-Type")) {
			http.Error(w, "Content-Type must be application/json; charset=utf-8", http.StatusUnsupportedMediaType)
			return
		}
		s.serveAPI(w, r, ep)
	default:
		http.NotFound(w, r)
	}
}

func jsonContentType(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}

// reply is an answer before encoding; key nil means unsigned.
type reply struct {
	obj payclient.Object
	key []byte
}

func (s *Sim) serveAPI(w http.ResponseWriter, r *http.Request, ep string) {
	s.inflight.Add(1)
	defer s.inflight.Done()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	f := s.nextFault(ep)
	ev := Event{Endpoint: ep, Fault: f.Kind}
	if req, err := payclient.DecodeObject(body); err == nil {
		ev.TerminalID, _ = req.Str("terminal_id")
		ev.OutTradeNo, _ = req.Str("out_trade_no")
		ev.OutRefundNo, _ = req.Str("out_refund_no")
	}
	// Deferred so that it also runs when a fault aborts the handler.
	defer func() { s.record(ev) }()
	switch f.Kind {
	case FaultRequestLost:
		panic(http.ErrAbortHandler) // the server drops the connection
	case FaultHTTP5xx:
		http.Error(w, "503 service unavailable (simulated gateway)", http.StatusServiceUnavailable)
		return
	case FaultForgedSuccess:
		s.write(w, s.forge(ep, body))
		return
	case FaultSlow:
		if f.Hold != nil {
			<-f.Hold
		} else {
			d := f.Delay
			if d <= 0 {
				d = s.opts.SlowDelay
			}
			time.Sleep(d)
		}
	}
	rep, ok := s.handle(ep, body, f)
	if !ok {
		ev.Answer = "HTTP 400"
		http.Error(w, "body is not a flat JSON object", http.StatusBadRequest)
		return
	}
	ev.Answer = answerName(rep.obj)
	switch f.Kind {
	case FaultResponseLost:
		panic(http.ErrAbortHandler)
	case FaultNotJSON:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<html><body><h1>Gateway maintenance</h1></body></html>")
		return
	case FaultBadSignature:
		s.writeTampered(w, rep)
		return
	case FaultSystemError:
		if rc, _ := rep.obj.Str("return_code"); rc == "SUCCESS" && rep.key != nil {
			rep.obj = bizFail("SYSTEMERROR", "simulated system error")
		}
	}
	s.write(w, rep)
}

// Event is one API request as the bank saw it.
type Event struct {
	Time       time.Time // bank clock
	Endpoint   string
	TerminalID string
	OutTradeNo string
	// OutRefundNo is set on refund and refundquery requests.
	OutRefundNo string
	Fault       FaultKind
	// Answer is what the bank decided ("SUCCESS", an err_code,
	// "FAIL:<return_msg>", "HTTP 400"), whether or not a fault then kept it
	// from the client; "" when the request was never processed.
	Answer string
}

// maxEvents bounds the event log of a long soak run.
const maxEvents = 100000

func (s *Sim) record(ev Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev.Time = s.now()
	if len(s.events) >= maxEvents {
		s.events = append(s.events[:0], s.events[maxEvents/2:]...)
	}
	s.events = append(s.events, ev)
	s.opts.Logger.Info("banksim request", "endpoint", ev.Endpoint, "out_trade_no", ev.OutTradeNo,
		"fault", ev.Fault.String(), "result", ev.Answer)
}

// Events returns the requests handled so far, oldest first (the most
// recent 50,000 at least).
func (s *Sim) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

func answerName(o payclient.Object) string {
	if rc, _ := o.Str("return_code"); rc == "FAIL" {
		msg, _ := o.Str("return_msg")
		return "FAIL:" + msg
	}
	if code, _ := o.Str("err_code"); code != "" {
		return code
	}
	return "SUCCESS"
}

// nextFault takes a queued fault, or draws one at FaultRate, and counts it
// if it applies to ep.
func (s *Sim) nextFault(ep string) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	var f Fault
	if q := s.queue[ep]; len(q) > 0 {
		f, s.queue[ep] = q[0], q[1:]
	} else if s.opts.FaultRate > 0 && ep != payclient.EndpointActivate && s.rng.Float64() < s.opts.FaultRate {
		if len(s.opts.Faults) > 0 {
			f = s.opts.Faults[s.rng.IntN(len(s.opts.Faults))]
		} else {
			f = Fault{Kind: FaultKind(1 + s.rng.IntN(len(faultKindNames)-1))}
		}
		if f.Kind == FaultSlow && f.Hold != nil {
			f.Hold = nil // a shared Hold cannot be meant for random draws
		}
	}
	if f.Kind == FaultRecall && ep != payclient.EndpointClose {
		f = Fault{}
	}
	if f.Kind != FaultNone {
		s.faultCounts[f.Kind]++
	}
	return f
}

func (s *Sim) write(w http.ResponseWriter, rep reply) {
	data := s.encode(rep, false)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(data)
}

func (s *Sim) writeTampered(w http.ResponseWriter, rep reply) {
	data := s.encode(rep, true)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(data)
}

// encode adds nonce_str, sometimes an unknown field, the sign, and writes
// the fields in a random order: clients must depend on neither.
func (s *Sim) encode(rep reply, tamper bool) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	obj := rep.obj
	obj["nonce_str"] = payclient.NewNonce()
	if s.rng.IntN(2) == 0 {
		obj["sim_trace_id"] = fmt.Sprintf("trace-%d", s.rng.Uint32())
	}
	if rep.key != nil {
		sign, err := payclient.Sign(obj, rep.key, payclient.SignHMACSHA256)
		if err != nil {
			panic(err) // the simulator built a bad object: a bug here
		}
		if tamper {
			b := []byte(sign)
			if b[0] == 'A' {
				b[0] = 'B'
			} else {
				b[0] = 'A'
			}
			sign = string(b)
		}
		obj["sign"] = sign
	}
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	slices.Sort(names)
	s.rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	data, err := obj.EncodeOrdered(names)
	if err != nil {
		panic(err)
	}
	return data
}

func retFail(msg string) payclient.Object {
	return payclient.Object{"return_code": "FAIL", "return_msg": msg}
}

func bizFail(code, des string) payclient.Object {
	return payclient.Object{"return_code": "SUCCESS", "result_code": "FAIL", "err_code": code, "err_code_des": des}
}

func success(fields payclient.Object) payclient.Object {
	fields["return_code"] = "SUCCESS"
	fields["result_code"] = "SUCCESS"
	return fields
}

// forge builds a SUCCESS answer that was never applied, signed with a key
// the client does not have.
func (s *Sim) forge(ep string, body []byte) reply {
	req, _ := payclient.DecodeObject(body)
	no, _ := req.Str("out_trade_no")
	fee, ok := req.Int("total_fee")
	if !ok {
		fee = 1
	}
	now := s.now().In(chinaTime).Format("20060102150405")
	var obj payclient.Object
	switch ep {
	case payclient.EndpointMicropay:
		obj = payclient.Object{"out_trade_no": no, "transaction_id": "4200000000FORGED", "pay_channel": "WECHAT", "total_fee": fee, "time_end": now}
	case payclient.EndpointQuery:
		obj = payclient.Object{"out_trade_no": no, "trade_state": "SUCCESS", "transaction_id": "4200000000FORGED", "pay_channel": "WECHAT", "total_fee": fee, "time_end": now}
	case payclient.EndpointClose:
		obj = payclient.Object{"out_trade_no": no, "trade_state": "CLOSED", "recall": "N"}
	case payclient.EndpointPrecreate:
		obj = payclient.Object{"out_trade_no": no, "code_url": "https://forged.example/qr", "expire_time": now}
	case payclient.EndpointRefund, payclient.EndpointRefundQuery:
		rno, _ := req.Str("out_refund_no")
		rfee, ok := req.Int("refund_fee")
		if !ok {
			rfee = 1
		}
		obj = payclient.Object{"out_trade_no": no, "out_refund_no": rno, "refund_id": "5000000000FORGED", "refund_fee": rfee,
			"refund_state": "SUCCESS", "refund_time": now}
	case payclient.EndpointBill:
		obj = payclient.Object{"bill": payclient.BillHeader + "\n", "bill_count": int64(0)}
	default:
		obj = payclient.Object{"merchant_name": "forged", "store_name": "forged", "static_qr": "https://forged.example", "key_cipher": "AAAA", "key_nonce": "AAAAAAAAAAAAAAAA"}
	}
	return reply{obj: success(obj), key: []byte(randomKey())}
}

func randomKey() string {
	return payclient.NewNonce() + payclient.NewNonce()[:8]
}

// handle checks and applies one request. ok is false when the body could
// not be parsed at all (HTTP 400, per bank-api.md).
func (s *Sim) handle(ep string, body []byte, f Fault) (rep reply, ok bool) {
	req, err := payclient.DecodeObject(body)
	if err != nil {
		return reply{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	mch, _ := req.Str("mch_id")
	term, _ := req.Str("terminal_id")
	if !validID(mch) || !validID(term) {
		return reply{obj: retFail("PARAM_ERROR: mch_id and terminal_id must be 1-32 characters")}, true
	}
	if ep == payclient.EndpointActivate {
		return s.activate(req, mch, term, now), true
	}
	key := s.keys[term]
	if mch != s.opts.MchID || key == nil {
		// The bank shares no key with this terminal: unsigned answer.
		return reply{obj: retFail("TERMINAL_NOT_ACTIVATED")}, true
	}
	if msg := s.authenticate(req, term, key, now); msg != "" {
		return s.authRefusal(msg, key, now), true
	}
	var obj payclient.Object
	switch ep {
	case payclient.EndpointMicropay, payclient.EndpointPrecreate, payclient.EndpointRefund:
		if code, des := s.checkTerminalInfo(req, mch, term); code != "" {
			return reply{obj: bizFail(code, des), key: key}, true
		}
	case payclient.EndpointQuery, payclient.EndpointClose, payclient.EndpointRefundQuery:
		if code, des := s.checkDeviceIfSent(req, term); code != "" {
			return reply{obj: bizFail(code, des), key: key}, true
		}
	}
	switch ep {
	case payclient.EndpointMicropay:
		obj = s.micropay(req, term, now)
	case payclient.EndpointQuery:
		obj = s.query(req, term, now)
	case payclient.EndpointClose:
		obj = s.close(req, term, now, f)
	case payclient.EndpointPrecreate:
		obj = s.precreate(req, term, now)
	case payclient.EndpointRefund:
		obj = s.refund(req, term, now)
	case payclient.EndpointRefundQuery:
		obj = s.refundQuery(req, term, now)
	case payclient.EndpointBill:
		obj = s.bill(req, term, now)
	}
	return reply{obj: obj, key: key}, true
}

// authRefusal answers a request that failed authentication: SIGNERROR
// unsigned (the client most likely holds a key we no longer have), the
// rest signed; TIMESTAMP_SKEW carries server_time (bank-api 1.1).
func (s *Sim) authRefusal(msg string, key []byte, now time.Time) reply {
	if msg == msgSignError {
		return reply{obj: retFail(msg)}
	}
	obj := retFail(msg)
	if msg == msgSkew {
		obj["server_time"] = now.Unix()
	}
	return reply{obj: obj, key: key}
}

// msgSkew is the return_msg of a request outside the timestamp tolerance.
const msgSkew = "TIMESTAMP_SKEW"

// checkTerminalInfo applies bank-api 1.1's terminal information rules and
// the device binding to micropay, precreate and refund; it returns an
// err_code, or "".
func (s *Sim) checkTerminalInfo(req payclient.Object, mch, term string) (code, des string) {
	dt, _ := req.Str("device_type")
	sn, _ := req.Str("device_sn")
	id, _ := req.Str("device_id")
	ver, _ := req.Str("app_version")
	ip, _ := req.Str("device_ip")
	switch {
	case dt != payclient.DeviceType:
		return "PARAM_ERROR", "device_type must be 11"
	case sn == "":
		return "PARAM_ERROR", "device_sn missing"
	case sn != TerminalSN(mch, term):
		return "PARAM_ERROR", "device_sn is not this terminal's terminal_sn"
	case !deviceid.Valid(id):
		return "PARAM_ERROR", "device_id must be 64 lowercase hex characters"
	case len(ver) < 1 || len(ver) > 8:
		return "PARAM_ERROR", "app_version must be 1-8 characters"
	case net.ParseIP(ip) == nil:
		return "PARAM_ERROR", "device_ip must be an IP address"
	}
	if code, des := s.checkBinding(term, id); code != "" {
		return code, des
	}
	if s.disabled[term] {
		return "TERMINAL_DISABLED", "the bank has disabled this terminal"
	}
	return "", ""
}

// checkDeviceIfSent: query, close and refundquery may carry device_id; if
// they do, it is checked.
func (s *Sim) checkDeviceIfSent(req payclient.Object, term string) (code, des string) {
	id, _ := req.Str("device_id")
	if id == "" {
		return "", ""
	}
	if !deviceid.Valid(id) {
		return "PARAM_ERROR", "device_id must be 64 lowercase hex characters"
	}
	return s.checkBinding(term, id)
}

// checkBinding refuses a device other than the bound one. A terminal
// provisioned without activation (Options.TerminalKeys, SetKey) is bound
// to the first device that uses it.
func (s *Sim) checkBinding(term, id string) (code, des string) {
	bound := s.devices[term]
	if bound == "" {
		s.devices[term] = id
		return "", ""
	}
	if bound != id {
		return "DEVICE_MISMATCH", "this terminal is bound to another device"
	}
	return "", ""
}

// authenticate checks sign_type, sign, timestamp and nonce, in that order,
// so that an unauthenticated request cannot use up a nonce. It returns the
// return_msg of a refusal, or "".
func (s *Sim) authenticate(req payclient.Object, term string, key []byte, now time.Time) string {
	if st, _ := req.Str("sign_type"); st != payclient.SignHMACSHA256.String() {
		return "PARAM_ERROR: sign_type must be HMAC-SHA256"
	}
	if !payclient.Verify(req, key, payclient.SignHMACSHA256) {
		return msgSignError
	}
	ts, ok := req.Int("timestamp")
	if !ok {
		return "PARAM_ERROR: timestamp must be an integer"
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxSkew || d < -MaxSkew {
		return msgSkew
	}
	nonce, _ := req.Str("nonce_str")
	if len(nonce) < 16 || len(nonce) > 32 || strings.Trim(nonce, alnum) != "" {
		return "PARAM_ERROR: nonce_str must be 16-32 of [0-9A-Za-z]"
	}
	used := s.nonces[term]
	if used == nil {
		used = map[string]struct{}{}
		s.nonces[term] = used
	}
	if _, seen := used[nonce]; seen {
		return "REPLAY: nonce_str already used by this terminal"
	}
	used[nonce] = struct{}{}
	return ""
}

// msgSignError is answered unsigned: a client that signs wrongly most likely
// holds the wrong key, and would take our signature for a forgery.
const msgSignError = "SIGNERROR"

const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func validID(v string) bool { return len(v) >= 1 && len(v) <= 32 }

func validOutTradeNo(no string) bool {
	return len(no) >= 6 && len(no) <= 32 && strings.Trim(no, alnum+"_-") == ""
}

func (s *Sim) activate(req payclient.Object, mch, term string, now time.Time) reply {
	code, _ := req.Str("activation_code")
	if !slices.Contains(s.opts.ActivationCodes, code) || (s.opts.SingleUse && s.usedCodes[code]) {
		return reply{obj: retFail("ACTIVATION_INVALID")} // no shared key: unsigned
	}
	ckey := []byte(code)
	if msg := s.authenticate(req, term, ckey, now); msg != "" {
		return s.authRefusal(msg, ckey, now)
	}
	if mch != s.opts.MchID || !slices.Contains(s.opts.Terminals, term) || s.disabled[term] {
		return reply{obj: bizFail("TERMINAL_DISABLED", "terminal not enabled for this merchant"), key: ckey}
	}
	devID, _ := req.Str("device_id")
	if !deviceid.Valid(devID) {
		return reply{obj: bizFail("PARAM_ERROR", "device_id must be 64 lowercase hex characters"), key: ckey}
	}
	key := []byte(randomKey())
	nonce := make([]byte, 12)
	rand.Read(nonce)
	kc, kn, err := payclient.WrapKey(code, mch, term, key, nonce)
	if err != nil {
		panic(err)
	}
	// Binding (or moving, 换机) the terminal to this device; the old key
	// stops working.
	s.keys[term] = key
	s.devices[term] = devID
	if s.opts.SingleUse {
		s.usedCodes[code] = true
	}
	return reply{obj: success(payclient.Object{
		"merchant_name": s.opts.MerchantName,
		"store_name":    s.opts.StoreName,
		"static_qr":     s.opts.StaticQR,
		"key_cipher":    kc,
		"key_nonce":     kn,
		"terminal_sn":   TerminalSN(mch, term),
		"area_code":     s.opts.AreaCode,
	}), key: ckey}
}

// channelOf routes a payment code by bank-api.md's shape table.
func channelOf(code string) order.Channel {
	n := len(code)
	p := ""
	if n >= 2 {
		p = code[:2]
	}
	switch {
	case n == 18 && p >= "10" && p <= "15":
		return order.ChannelWeChat
	case n >= 16 && n <= 24 && p >= "25" && p <= "30":
		return order.ChannelAlipay
	case n == 19 && p == "62":
		return order.ChannelUnionPay
	case n == 19 && p == "01":
		return order.ChannelECNY
	}
	return order.ChannelNone
}

func (s *Sim) micropay(req payclient.Object, term string, now time.Time) payclient.Object {
	no, _ := req.Str("out_trade_no")
	auth, _ := req.Str("auth_code")
	fee, feeOK := req.Int("total_fee")
	body, _ := req.Str("body")
	switch {
	case !validOutTradeNo(no):
		return bizFail("PARAM_ERROR", "out_trade_no must be 6-32 of [0-9A-Za-z_-]")
	case auth == "" || len(auth) > 64 || strings.Trim(auth, "0123456789") != "":
		return bizFail("PARAM_ERROR", "auth_code must be digits")
	case !feeOK || fee < 1 || fee > int64(money.Max):
		return bizFail("PARAM_ERROR", "total_fee must be an integer from 1 to 100000000")
	case len(body) > 128 || !utf8.ValidString(body):
		return bizFail("PARAM_ERROR", "body must be UTF-8 of at most 128 bytes")
	}
	if s.opts.AmountLimit > 0 && fee > s.opts.AmountLimit {
		return bizFail("AMOUNT_LIMIT", "amount above this merchant's limit")
	}
	k := orderKey{term, no}
	if rec := s.orders[k]; rec != nil {
		if rec.kind == kindTombstone {
			return bizFail("ORDERCLOSED", "order closed")
		}
		if rec.kind != kindMicropay || rec.authCode != auth || rec.totalFee != fee {
			return bizFail("OUT_TRADE_NO_USED", "out_trade_no already used with other parameters")
		}
		s.advance(rec, now)
		switch rec.state {
		case payclient.TradeSuccess:
			return bizFail("ORDERPAID", "order already paid")
		case payclient.TradeUserPaying:
			return bizFail("USERPAYING", "waiting for the payer to enter the password")
		case payclient.TradeClosed:
			return bizFail("ORDERCLOSED", "order closed")
		case payclient.TradeRevoked:
			return bizFail("ORDERREVERSED", "order reversed")
		default:
			return bizFail(rec.errCode, "payment failed")
		}
	}
	rec := &orderRec{key: k, kind: kindMicropay, authCode: auth, totalFee: fee, body: body, createdAt: now}
	s.add(rec)
	rec.channel = channelOf(auth)
	if rec.channel == order.ChannelNone {
		rec.state, rec.errCode = payclient.TradePayError, "AUTH_CODE_INVALID"
		return bizFail(rec.errCode, "not a payment code")
	}
	b, set := s.behaviours[auth]
	if !set || b == BehaviourByCode {
		b = behaviourFromCode(auth)
	}
	rec.behaviour = b
	s.behCounts[b]++
	switch b {
	case PayAtOnce:
		s.pay(rec, now)
		return success(paidFields(rec))
	case PasswordThenPay:
		rec.state, rec.confirmAt = payclient.TradeUserPaying, now.Add(s.opts.PasswordDelay)
	case NeverConfirm, ConfirmAtClose:
		rec.state = payclient.TradeUserPaying
	case InsufficientBalance:
		rec.state, rec.errCode = payclient.TradePayError, "NOTENOUGH"
		return bizFail(rec.errCode, "insufficient balance")
	case CodeExpired:
		rec.state, rec.errCode = payclient.TradePayError, "AUTHCODEEXPIRE"
		return bizFail(rec.errCode, "payment code expired")
	}
	return bizFail("USERPAYING", "waiting for the payer to enter the password")
}

func (s *Sim) add(rec *orderRec) {
	s.serial++
	rec.serial = s.serial
	s.orders[rec.key] = rec
	s.seq = append(s.seq, rec)
}

func paidFields(rec *orderRec) payclient.Object {
	return payclient.Object{
		"out_trade_no":   rec.key.no,
		"transaction_id": rec.txID,
		"pay_channel":    rec.channel.String(),
		"total_fee":      rec.totalFee,
		"time_end":       rec.paidAt.In(chinaTime).Format("20060102150405"),
	}
}

func (s *Sim) pay(rec *orderRec, now time.Time) {
	s.txSeq++
	rec.state = payclient.TradeSuccess
	rec.paidAt = now
	rec.txID = fmt.Sprintf("4200%s%010d", now.In(chinaTime).Format("20060102"), s.txSeq)
	if rec.channel == order.ChannelNone {
		rec.channel = order.ChannelWeChat // a precreated QR scanned with WeChat
	}
	if rec.authCode != "" {
		s.paidCount[rec.authCode]++
	}
}

// advance applies what happened since the last look: a payer confirming
// after the password delay, a customer paying a precreated QR.
func (s *Sim) advance(rec *orderRec, now time.Time) {
	switch {
	case rec.state == payclient.TradeUserPaying && rec.behaviour == PasswordThenPay && !now.Before(rec.confirmAt):
		s.pay(rec, rec.confirmAt)
	case rec.kind == kindPrecreate && rec.state == payclient.TradeNotPay && s.opts.AutoPayAfter > 0 &&
		!now.Before(rec.createdAt.Add(s.opts.AutoPayAfter)):
		s.pay(rec, rec.createdAt.Add(s.opts.AutoPayAfter))
	}
}

func (s *Sim) query(req payclient.Object, term string, now time.Time) payclient.Object {
	no, _ := req.Str("out_trade_no")
	if !validOutTradeNo(no) {
		return bizFail("PARAM_ERROR", "out_trade_no must be 6-32 of [0-9A-Za-z_-]")
	}
	rec := s.orders[orderKey{term, no}]
	if rec == nil {
		return bizFail("ORDERNOTEXIST", "no such order")
	}
	s.advance(rec, now)
	return success(stateFields(rec))
}

func stateFields(rec *orderRec) payclient.Object {
	obj := payclient.Object{"out_trade_no": rec.key.no}
	if rec.state == payclient.TradeSuccess || rec.state == payclient.TradeRevoked && rec.txID != "" {
		obj = paidFields(rec)
	}
	obj["trade_state"] = rec.state.String()
	return obj
}

func (s *Sim) close(req payclient.Object, term string, now time.Time, f Fault) payclient.Object {
	no, _ := req.Str("out_trade_no")
	if !validOutTradeNo(no) {
		return bizFail("PARAM_ERROR", "out_trade_no must be 6-32 of [0-9A-Za-z_-]")
	}
	k := orderKey{term, no}
	rec := s.orders[k]
	if f.Kind == FaultRecall {
		n := f.Recalls
		if n <= 0 {
			n = DefaultRecalls
		}
		s.recalls[k] = n
	}
	if s.recalls[k] > 0 {
		s.recalls[k]--
		st := payclient.TradeNotPay.String()
		if rec != nil {
			s.advance(rec, now)
			st = rec.state.String()
		}
		return success(payclient.Object{"out_trade_no": no, "trade_state": st, "recall": "Y"})
	}
	if rec == nil {
		// Tombstone: a delayed micropay with this number must not charge.
		rec = &orderRec{key: k, kind: kindTombstone, state: payclient.TradeClosed, createdAt: now}
		s.add(rec)
	}
	s.advance(rec, now)
	switch rec.state {
	case payclient.TradeUserPaying, payclient.TradeNotPay:
		if rec.behaviour == ConfirmAtClose && rec.kind == kindMicropay {
			// The payer confirmed just as the cashier gave up: the bank
			// sees it paid and must reverse it.
			s.pay(rec, now)
			rec.state = payclient.TradeRevoked
		} else {
			rec.state = payclient.TradeClosed
		}
	case payclient.TradeSuccess:
		if len(rec.refunds) > 0 || now.Sub(rec.paidAt) > s.opts.ReverseWindow {
			return bizFail("REVERSE_EXPIRE", "too late to reverse")
		}
		rec.state = payclient.TradeRevoked
	case payclient.TradePayError:
		rec.state = payclient.TradeClosed
	}
	obj := stateFields(rec)
	obj["recall"] = "N"
	return success(obj)
}

func (s *Sim) precreate(req payclient.Object, term string, now time.Time) payclient.Object {
	no, _ := req.Str("out_trade_no")
	fee, feeOK := req.Int("total_fee")
	body, _ := req.Str("body")
	switch {
	case !validOutTradeNo(no):
		return bizFail("PARAM_ERROR", "out_trade_no must be 6-32 of [0-9A-Za-z_-]")
	case !feeOK || fee < 1 || fee > int64(money.Max):
		return bizFail("PARAM_ERROR", "total_fee must be an integer from 1 to 100000000")
	case len(body) > 128 || !utf8.ValidString(body):
		return bizFail("PARAM_ERROR", "body must be UTF-8 of at most 128 bytes")
	}
	if s.opts.AmountLimit > 0 && fee > s.opts.AmountLimit {
		return bizFail("AMOUNT_LIMIT", "amount above this merchant's limit")
	}
	k := orderKey{term, no}
	rec := s.orders[k]
	switch {
	case rec == nil:
		rec = &orderRec{key: k, kind: kindPrecreate, totalFee: fee, body: body, createdAt: now,
			state:   payclient.TradeNotPay,
			codeURL: "https://pay.bank.example/qr/dyn/" + payclient.NewNonce(),
			expire:  now.Add(2 * time.Hour).In(chinaTime).Format("20060102150405")}
		s.add(rec)
	case rec.kind == kindTombstone:
		return bizFail("ORDERCLOSED", "order closed")
	case rec.kind != kindPrecreate || rec.totalFee != fee || rec.body != body:
		return bizFail("OUT_TRADE_NO_USED", "out_trade_no already used with other parameters")
	}
	return success(payclient.Object{"out_trade_no": no, "code_url": rec.codeURL, "expire_time": rec.expire})
}

// LedgerEntry is one order as the bank holds it.
type LedgerEntry struct {
	TerminalID    string               `json:"terminal_id"`
	OutTradeNo    string               `json:"out_trade_no"`
	AuthCode      string               `json:"auth_code,omitempty"`
	TotalFee      money.Fen            `json:"total_fee"`
	State         payclient.TradeState `json:"-"`
	TransactionID string               `json:"transaction_id,omitempty"`
	Channel       order.Channel        `json:"channel,omitempty"`
	PaidAt        time.Time            `json:"paid_at,omitzero"`
	// Refunded is the sum of the order's refunds that did not fail
	// (PROCESSING, SUCCESS, CHANGE): money that has left the merchant.
	Refunded money.Fen `json:"refunded,omitempty"`
}

// MarshalJSON writes State by name (TradeState has no text form of its own).
func (e LedgerEntry) MarshalJSON() ([]byte, error) {
	type plain LedgerEntry // drops the method: no recursion
	return json.Marshal(struct {
		plain
		State string `json:"state"`
	}{plain(e), e.State.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *LedgerEntry) UnmarshalJSON(data []byte) error {
	type plain LedgerEntry
	var v struct {
		plain
		State string `json:"state"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	st, err := payclient.ParseTradeState(v.State)
	if err != nil {
		return err
	}
	*e = LedgerEntry(v.plain)
	e.State = st
	return nil
}

// Ledger lists every order the bank holds, oldest first, including
// tombstones (closed numbers never seen before).
func (s *Sim) Ledger() []LedgerEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := make([]LedgerEntry, 0, len(s.seq))
	for _, r := range s.seq {
		s.advance(r, now)
		e := LedgerEntry{
			TerminalID: r.key.terminal, OutTradeNo: r.key.no, AuthCode: r.authCode,
			TotalFee: money.Fen(r.totalFee), State: r.state, TransactionID: r.txID,
			Channel: r.channel, PaidAt: r.paidAt, Refunded: money.Fen(s.refundedSum(r, now)),
		}
		if r.txID == "" {
			e.Channel = order.ChannelNone
		}
		out = append(out, e)
	}
	return out
}

// LedgerReport is the body of GET /_sim/ledger.
type LedgerReport struct {
	Entries []LedgerEntry `json:"entries"`
	Refunds []RefundEntry `json:"refunds"`
	// RefundExecutions counts executions per out_refund_no ("terminal/no"):
	// more than one means a refund made twice.
	RefundExecutions map[string]int    `json:"refund_executions"`
	PaidCountByCode  map[string]int    `json:"paid_count_by_code"`
	FaultCounts      map[FaultKind]int `json:"fault_counts"`
}

func (s *Sim) serveLedger(w http.ResponseWriter) {
	rep := LedgerReport{Entries: s.Ledger(), Refunds: s.Refunds(), RefundExecutions: s.RefundExecutions(),
		PaidCountByCode: s.PaidCountByCode(), FaultCounts: s.FaultCounts()}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(rep)
}

var errNotLoopback = errors.New("banksim: the simulator listens on loopback only")
