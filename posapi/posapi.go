// Package posapi is the optional integration API for POS software: JSON over
// HTTP on 127.0.0.1 only, behind a bearer token kept in the data directory
// (readable by the owner only). It sets the amount, starts a payment and
// follows it to its final state, cancels, and lists orders and the status,
// all through the owning instance's core (docs/pos-api.md).
//
// It owns the HTTP surface, the token and the peer/origin checks. It must
// never hold payment logic, listen on anything but loopback, or log the
// token or a full payment code.
package posapi

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/scanbox/scanbox/capture"
	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payflow"
	"github.com/scanbox/scanbox/scan"
)

// DefaultPort is the port when the configuration names none.
const DefaultPort = 8765

// TokenFile is the bearer token in the data directory, mode 0600.
const TokenFile = "pos-api.token"

// MaxWait bounds one long poll.
const MaxWait = 60 * time.Second

// Exit codes: the API's errors and results carry the CLI's (cli-contract).
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitUnknown = 3
)

// NewToken makes a fresh token and stores it in dir (replacing the old one,
// which stops working): what enabling the API does.
func NewToken(dir string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("posapi: %w", err)
	}
	tok := hex.EncodeToString(b)
	tmp, err := os.CreateTemp(dir, ".pos-api-token-")
	if err != nil {
		return "", fmt.Errorf("posapi: %w", err)
	}
	defer os.Remove(tmp.Name())
	// Restricted before the token is written, so it is never readable by
	// others, not even for a moment.
	if err := restrictToOwner(tmp.Name()); err != nil {
		tmp.Close()
		return "", fmt.Errorf("posapi: %w", err)
	}
	if _, err := tmp.WriteString(tok + "\n"); err != nil {
		tmp.Close()
		return "", fmt.Errorf("posapi: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("posapi: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("posapi: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, TokenFile)); err != nil {
		return "", fmt.Errorf("posapi: %w", err)
	}
	return tok, nil
}

// ReadToken reads the token enabling stored.
func ReadToken(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, TokenFile))
	if err != nil {
		return "", fmt.Errorf("posapi: no token (enable the POS API first): %w", err)
	}
	t := strings.TrimSpace(string(b))
	if len(t) < 32 {
		return "", errors.New("posapi: the token file is damaged; enable the POS API again")
	}
	return t, nil
}

// Server is a running POS API.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan error
}

// Start listens on 127.0.0.1:port (0: DefaultPort; tests pass -1 for any
// free port) and serves h.
func Start(h *Handler, port int) (*Server, error) {
	switch {
	case port == 0:
		port = DefaultPort
	case port < 0:
		port = 0
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("posapi: cannot listen on 127.0.0.1:%d: %w", port, err)
	}
	s := &Server{ln: ln, done: make(chan error, 1),
		srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: MaxWait + 30*time.Second}}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr is where it listens.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Shutdown stops it, waiting for requests in progress until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close() // long polls still open when ctx ended
	}
	<-s.done
	return err
}

// Handler is the API over one core.
type Handler struct {
	c       *core.Core
	token   string
	origins map[string]bool
	log     *slog.Logger
	mux     *http.ServeMux
}

// NewHandler serves c's API to callers that present token. Browser
// origins in allowOrigins (comma or space separated) may call it (CORS).
func NewHandler(c *core.Core, token, allowOrigins string) *Handler {
	h := &Handler{c: c, token: token, origins: map[string]bool{}, log: c.Log().With("component", "pos_api"),
		mux: http.NewServeMux()}
	for _, o := range strings.FieldsFunc(allowOrigins, func(r rune) bool { return r == ',' || r == ' ' }) {
		h.origins[strings.TrimRight(o, "/")] = true
	}
	h.mux.HandleFunc("GET /v1/status", h.status)
	h.mux.HandleFunc("PUT /v1/amount", h.setAmount)
	h.mux.HandleFunc("POST /v1/payments", h.pay)
	h.mux.HandleFunc("GET /v1/orders/{no}", h.order)
	h.mux.HandleFunc("POST /v1/orders/{no}/cancel", h.cancel)
	h.mux.HandleFunc("GET /v1/orders", h.recent)
	return h
}

// ServeHTTP checks the peer, the origin and the token before anything.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !loopbackPeer(r.RemoteAddr) {
		// A request that reached us from another machine: the listener
		// binds 127.0.0.1, so this is a proxy or a misconfiguration.
		h.log.Warn("request from a non-loopback peer refused", "peer", r.RemoteAddr)
		writeErr(w, http.StatusForbidden, "FORBIDDEN", "only programs on this PC may use the POS API", exitUsage)
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		if !h.origins[origin] {
			writeErr(w, http.StatusForbidden, "FORBIDDEN", "this web origin is not allowed to use the POS API", exitUsage)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Vary", "Origin")
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, PUT")
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	if !localHost(r.Host) {
		// DNS rebinding: a page on evil.example resolved to 127.0.0.1.
		writeErr(w, http.StatusForbidden, "FORBIDDEN", "the Host header must name 127.0.0.1 or localhost", exitUsage)
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(h.token)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scanbox"`)
		writeErr(w, http.StatusUnauthorized, "UNAUTHORIZED", "a valid bearer token is required (see pos-api.token in the data directory)", exitUsage)
		return
	}
	h.mux.ServeHTTP(w, r)
}

func loopbackPeer(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func localHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// apiError is every refusal: a code, the cashier-style sentence, and the
// exit code the CLI gives for the same failure.
type apiError struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	ExitCode int    `json:"exit_code"`
	// OutTradeNo names the order that already took the money
	// (CODE_ALREADY_PAID).
	OutTradeNo string `json:"out_trade_no,omitempty"`
}

func writeErr(w http.ResponseWriter, status int, code, msg string, exit int) {
	writeJSON(w, status, map[string]apiError{"error": {Code: code, Message: msg, ExitCode: exit}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// payError maps a refusal before anything was sent to the CLI's codes.
// amount is what the refused request asked to charge (0: the current
// amount, already consumed, or none).
func payError(w http.ResponseWriter, err error, amount money.Fen) {
	var paid *payflow.AlreadyPaidError
	switch {
	case errors.Is(err, core.ErrNotActivated):
		writeErr(w, http.StatusConflict, "NOT_ACTIVATED", "ScanBox is not activated yet", exitUsage)
	case errors.Is(err, payflow.ErrCodeUnresolved):
		writeErr(w, http.StatusConflict, "CODE_UNRESOLVED", core.OneLine(err.Error()), exitUnknown)
	case errors.As(err, &paid) && (amount == 0 || amount == paid.Order.AmountFen):
		// Codes are single-use: the same code for the same amount (or for
		// the amount the first attempt consumed) is this sale sent again.
		// Exit 1 would tell the POS that nothing was charged.
		writeJSON(w, http.StatusConflict, map[string]apiError{"error": {Code: "CODE_ALREADY_PAID",
			Message: fmt.Sprintf("this payment code has already paid order %s (%s yuan); do not take the money again",
				paid.Order.OutTradeNo, paid.Order.AmountFen),
			ExitCode: exitUnknown, OutTradeNo: paid.Order.OutTradeNo}})
	case errors.Is(err, payflow.ErrCodeAlreadyPaid):
		writeErr(w, http.StatusConflict, "CODE_ALREADY_PAID", core.OneLine(err.Error()), exitFailed)
	case errors.Is(err, payflow.ErrBadAmount):
		writeErr(w, http.StatusBadRequest, "BAD_AMOUNT", core.OneLine(err.Error()), exitUsage)
	case errors.Is(err, payflow.ErrJournal):
		writeErr(w, http.StatusInternalServerError, "JOURNAL", core.OneLine(err.Error()), exitUsage)
	case errors.Is(err, core.ErrActivating), errors.Is(err, core.ErrClosed):
		writeErr(w, http.StatusServiceUnavailable, "BUSY", core.OneLine(err.Error()), exitUsage)
	default:
		// scan.Recognize's refusals: a product barcode, a URL.
		writeErr(w, http.StatusUnprocessableEntity, "NOT_A_PAYMENT_CODE", core.OneLine(err.Error()), exitFailed)
	}
}

// Order is one order as the API shows it: `pay --json`'s fields plus
// `orders --json`'s.
type Order struct {
	OutTradeNo    string `json:"out_trade_no"`
	State         string `json:"state"`       // paid, failed, closed, revoked, unknown (as `pay --json`)
	OrderState    string `json:"order_state"` // the journal's state: pending, waiting, closing, … (as `orders --json`)
	Final         bool   `json:"final"`
	ExitCode      int    `json:"exit_code"` // what `scanbox pay` would exit with for this state
	AmountFen     int64  `json:"amount_fen"`
	Channel       string `json:"channel"`
	TransactionID string `json:"transaction_id"`
	CodeMasked    string `json:"code_masked"`
	CreatedAt     string `json:"created_at"`
	UpdatedAt     string `json:"updated_at"`
	ErrCode       string `json:"err_code,omitempty"`
	Error         string `json:"error"`
}

func toOrder(o order.Order) Order {
	out := Order{OutTradeNo: o.OutTradeNo, OrderState: o.State.String(), Final: o.State.Terminal(),
		AmountFen: int64(o.AmountFen), Channel: o.Channel.String(), TransactionID: o.TransactionID,
		CodeMasked: o.CodeMasked, CreatedAt: o.CreatedAt.Format(time.RFC3339), UpdatedAt: o.UpdatedAt.Format(time.RFC3339),
		ErrCode: o.ErrCode}
	switch o.State {
	case order.StatePaid:
		out.State, out.ExitCode = "paid", exitOK
	case order.StateFailed, order.StateClosed, order.StateRevoked:
		out.State, out.ExitCode, out.Error = o.State.String(), exitFailed, o.Message
	default:
		out.State, out.ExitCode = "unknown", exitUnknown
		out.Error = o.Message
	}
	return out
}

func (h *Handler) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.c.Status())
}

type amountRequest struct {
	Amount    string `json:"amount"`     // yuan, "12.50"
	AmountFen *int64 `json:"amount_fen"` // or fen
}

func (a amountRequest) fen() (money.Fen, error) {
	switch {
	case a.AmountFen != nil && a.Amount != "":
		return 0, errors.New("give amount or amount_fen, not both")
	case a.AmountFen != nil:
		return money.Fen(*a.AmountFen), nil
	case a.Amount != "":
		return money.Parse(a.Amount)
	}
	return 0, nil
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeErr(w, http.StatusBadRequest, "USAGE", "the request body is not the JSON this endpoint takes: "+core.OneLine(err.Error()), exitUsage)
		return false
	}
	return true
}

// setAmount is the POS saying the total (what the customer display shows).
func (h *Handler) setAmount(w http.ResponseWriter, r *http.Request) {
	var req amountRequest
	if !decode(w, r, &req) {
		return
	}
	f, err := req.fen()
	if err == nil && f == 0 {
		err = errors.New("amount is required")
	}
	if err == nil {
		err = h.c.Amount().Set(capture.Reading{Amount: f, Source: capture.SourceManual, At: time.Now()})
	}
	if err != nil {
		writeErr(w, http.StatusBadRequest, "BAD_AMOUNT", core.OneLine(err.Error()), exitUsage)
		return
	}
	h.c.Changed()
	writeJSON(w, http.StatusOK, map[string]int64{"amount_fen": int64(f)})
}

type payRequest struct {
	amountRequest
	Code string `json:"code"`
}

// pay starts a payment and answers at once with the journaled order (202);
// follow it with GET /v1/orders/{no}?wait=30s. Without an amount in the
// request, the amount set by PUT /v1/amount is charged, and consumed.
func (h *Handler) pay(w http.ResponseWriter, r *http.Request) {
	var req payRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Code == "" {
		writeErr(w, http.StatusBadRequest, "USAGE", "code is required", exitUsage)
		return
	}
	if _, err := scan.Recognize(req.Code); err != nil {
		payError(w, err, 0)
		return
	}
	f, err := req.fen()
	if err != nil {
		writeErr(w, http.StatusBadRequest, "BAD_AMOUNT", core.OneLine(err.Error()), exitUsage)
		return
	}
	var o order.Order
	if f == 0 {
		// The current amount, if fresh (one set long ago may be the
		// previous customer's), consumed by this payment in the same step.
		o, err = h.c.PayCurrent(req.Code, h.c.Config().Amount.MaxAmountAge.D())
		if errors.Is(err, core.ErrNoFreshAmount) {
			// The same request sent again after its first attempt consumed
			// the amount: say what that attempt did, not "failed".
			if cerr := h.c.CheckCode(req.Code); errors.Is(cerr, payflow.ErrCodeUnresolved) || errors.Is(cerr, payflow.ErrCodeAlreadyPaid) {
				payError(w, cerr, 0)
				return
			}
			writeErr(w, http.StatusConflict, "NO_AMOUNT", "no fresh amount to charge: send amount, or PUT /v1/amount first ("+core.OneLine(strings.TrimPrefix(err.Error(), core.ErrNoFreshAmount.Error()+": "))+")", exitFailed)
			return
		}
	} else {
		o, err = h.c.Pay(f, req.Code)
	}
	if err != nil {
		payError(w, err, f)
		return
	}
	h.log.Info("payment started", "out_trade_no", o.OutTradeNo, "amount_fen", int64(o.AmountFen), "code", o.CodeMasked)
	w.Header().Set("Location", "/v1/orders/"+o.OutTradeNo)
	writeJSON(w, http.StatusAccepted, toOrder(o))
}

// order returns one order; with ?wait=D (at most MaxWait) it waits until
// the order is final, left unknown, or D passes: a long poll.
func (h *Handler) order(w http.ResponseWriter, r *http.Request) {
	no := r.PathValue("no")
	o, ok := h.c.Journal().Get(no)
	if !ok {
		writeErr(w, http.StatusNotFound, "NOT_FOUND", "no such order", exitUsage)
		return
	}
	if s := r.URL.Query().Get("wait"); s != "" && !o.State.Terminal() {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			writeErr(w, http.StatusBadRequest, "USAGE", "wait must be a duration such as 30s", exitUsage)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), min(d, MaxWait))
		defer cancel()
		if got, err := h.c.Wait(ctx, no); err == nil {
			o = got
		} else if cur, ok := h.c.Journal().Get(no); ok {
			o = cur
		}
	}
	writeJSON(w, http.StatusOK, toOrder(o))
}

// cancel is the cashier's Cancel: the order stops waiting and is closed.
func (h *Handler) cancel(w http.ResponseWriter, r *http.Request) {
	no := r.PathValue("no")
	o, ok := h.c.Journal().Get(no)
	if !ok {
		writeErr(w, http.StatusNotFound, "NOT_FOUND", "no such order", exitUsage)
		return
	}
	run, err := h.c.Runner()
	if err != nil {
		payError(w, err, 0)
		return
	}
	if o.State.Terminal() || !run.Cancel(no) {
		writeErr(w, http.StatusConflict, "NOT_IN_FLIGHT", "the order is not being paid right now, so there is nothing to cancel", exitFailed)
		return
	}
	h.log.Info("payment cancelled by the POS", "out_trade_no", no)
	cur, _ := h.c.Journal().Get(no)
	writeJSON(w, http.StatusAccepted, toOrder(cur))
}

func (h *Handler) recent(w http.ResponseWriter, r *http.Request) {
	n := 100
	if s := r.URL.Query().Get("limit"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > 10000 {
			writeErr(w, http.StatusBadRequest, "USAGE", "limit must be between 1 and 10000", exitUsage)
			return
		}
		n = v
	}
	os := h.c.Journal().Recent(n)
	out := make([]Order, 0, len(os))
	for _, o := range os {
		out = append(out, toOrder(o))
	}
	writeJSON(w, http.StatusOK, out)
}
