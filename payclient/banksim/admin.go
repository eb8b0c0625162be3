package banksim

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
)

// RevokeOrder is the bank's staff reversing a paid order on their side
// (the payer gets the money back; the shop's journal does not know): for
// reconciliation tests and the demo.
func (s *Sim) RevokeOrder(terminalID, outTradeNo string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.orders[orderKey{terminalID, outTradeNo}]
	if rec == nil || rec.kind == kindTombstone {
		return fmt.Errorf("banksim: no order %s/%s", terminalID, outTradeNo)
	}
	now := s.now()
	s.advance(rec, now)
	if rec.state != payclient.TradeSuccess {
		return fmt.Errorf("banksim: order %s is %v, not paid", outTradeNo, rec.state)
	}
	rec.state, rec.revokedAt = payclient.TradeRevoked, now
	return nil
}

// AddBankOnlyPayment records a paid order the shop's journal never saw (the
// customer paid, the journal lost it), created at at (zero: now), for
// reconciliation tests and the demo.
func (s *Sim) AddBankOnlyPayment(terminalID, outTradeNo string, fee money.Fen, ch order.Channel, at time.Time) error {
	if !validOutTradeNo(outTradeNo) || fee < 1 || fee > money.Max {
		return fmt.Errorf("banksim: bad bank-only payment %s of %d fen", outTradeNo, int64(fee))
	}
	if ch == order.ChannelNone {
		ch = order.ChannelWeChat
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := orderKey{terminalID, outTradeNo}
	if s.orders[k] != nil {
		return fmt.Errorf("banksim: order %s/%s exists", terminalID, outTradeNo)
	}
	if at.IsZero() {
		at = s.now()
	}
	rec := &orderRec{key: k, kind: kindMicropay, totalFee: int64(fee), createdAt: at, channel: ch, behaviour: PayAtOnce}
	s.add(rec)
	s.pay(rec, at)
	return nil
}

// BoundDevice is the device_id terminalID is bound to ("" if none).
func (s *Sim) BoundDevice(terminalID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.devices[terminalID]
}

// serveAdmin handles the loopback admin endpoints below /_sim/ other than
// ledger and pay; false means "not an admin action". Every action is POST
// with its parameters in the query string:
//
//	/_sim/disable?terminal_id=T        /_sim/enable?terminal_id=T
//	/_sim/revoke?terminal_id=T&out_trade_no=N
//	/_sim/bankpay?terminal_id=T&out_trade_no=N&total_fee=FEN[&pay_channel=ALIPAY][&time=yyyyMMddHHmmss]
//	/_sim/refund-balance?fen=N          (negative: unlimited)
//	/_sim/refund-behaviour?out_refund_no=R&behaviour=processing_failed
//	/_sim/clock-offset?offset=2h
func (s *Sim) serveAdmin(w http.ResponseWriter, r *http.Request) bool {
	action := strings.TrimPrefix(r.URL.Path, "/_sim/")
	switch action {
	case "disable", "enable", "revoke", "bankpay", "refund-balance", "refund-behaviour", "clock-offset":
	default:
		return false
	}
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return true
	}
	q := r.URL.Query()
	term := q.Get("terminal_id")
	var err error
	switch action {
	case "disable":
		s.DisableTerminal(term)
	case "enable":
		s.EnableTerminal(term)
	case "revoke":
		err = s.RevokeOrder(term, q.Get("out_trade_no"))
	case "bankpay":
		var fee int64
		var ch order.Channel
		var at time.Time
		fee, err = strconv.ParseInt(q.Get("total_fee"), 10, 64)
		if err == nil && q.Get("pay_channel") != "" {
			ch, err = order.ParseChannel(q.Get("pay_channel"))
		}
		if err == nil && q.Get("time") != "" {
			at, err = time.ParseInLocation("20060102150405", q.Get("time"), chinaTime)
		}
		if err == nil {
			err = s.AddBankOnlyPayment(term, q.Get("out_trade_no"), money.Fen(fee), ch, at)
		}
	case "refund-balance":
		var n int64
		if n, err = strconv.ParseInt(q.Get("fen"), 10, 64); err == nil {
			s.SetRefundBalance(money.Fen(n))
		}
	case "refund-behaviour":
		var b RefundBehaviour
		if b, err = ParseRefundBehaviour(q.Get("behaviour")); err == nil {
			s.SetRefundBehaviour(q.Get("out_refund_no"), b)
		}
	case "clock-offset":
		var d time.Duration
		if d, err = time.ParseDuration(q.Get("offset")); err == nil {
			s.SetClockOffset(d)
		}
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusConflict)
		return true
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"ok":true}`)
	return true
}

// Admin performs one loopback admin action (see serveAdmin's list) on a
// simulator in another process. baseURL is the API base URL or the root.
func Admin(ctx context.Context, baseURL, action string, params url.Values) error {
	root := strings.TrimSuffix(strings.TrimRight(baseURL, "/"), DefaultBasePath)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, root+"/_sim/"+action+"?"+params.Encode(), nil)
	if err != nil {
		return fmt.Errorf("banksim: %s: %w", action, err)
	}
	if !isLoopbackURL(req) {
		return errNotLoopback
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("banksim: %s: %w", action, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("banksim: %s: HTTP %d: %s", action, resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return nil
}
