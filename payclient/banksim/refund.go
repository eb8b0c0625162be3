package banksim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/payclient"
)

// TerminalSN is the terminal_sn the simulated bank registered for a
// terminal: derived from mch_id and terminal_id, so that tests and other
// processes can know it without activating (Options.TerminalKeys).
func TerminalSN(mchID, terminalID string) string {
	sum := sha256.Sum256([]byte(mchID + "|" + terminalID))
	return "SN" + strings.ToUpper(hex.EncodeToString(sum[:10]))
}

type refundRec struct {
	key       orderKey // terminal, out_refund_no
	order     *orderRec
	totalFee  int64 // as sent
	fee       int64
	desc      string
	behaviour RefundBehaviour
	state     payclient.RefundState
	id        string
	createdAt time.Time
	settleAt  time.Time // PROCESSING until then
	doneAt    time.Time // SUCCESS time
	charged   bool      // took from a limited refundable balance
	serial    int       // creation order among orders and refunds (bill)
}

// SetRefundBehaviour fixes how the refund with this out_refund_no settles,
// overriding the last-character rule.
func (s *Sim) SetRefundBehaviour(outRefundNo string, b RefundBehaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refundBeh[outRefundNo] = b
}

// SetRefundBalance sets the merchant's refundable balance in fen; negative
// means unlimited.
func (s *Sim) SetRefundBalance(fen money.Fen) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.balance, s.balanceLimited = int64(fen), fen >= 0
}

// RefundBalance reports the refundable balance (ok false: unlimited).
func (s *Sim) RefundBalance() (fen money.Fen, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceAll(s.now())
	return money.Fen(s.balance), s.balanceLimited
}

// RefundBehaviourCounts reports how many new refunds met each behaviour.
func (s *Sim) RefundBehaviourCounts() map[RefundBehaviour]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneMap(s.refundBehCnt)
}

// RefundExecutions counts, per "terminal/out_refund_no", how many times the
// bank executed a refund: more than one would be a double refund.
func (s *Sim) RefundExecutions() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.refundedCount))
	for k, n := range s.refundedCount {
		out[k.terminal+"/"+k.no] = n
	}
	return out
}

// refundedSum is what has left the merchant for rec: refunds not failed.
func (s *Sim) refundedSum(rec *orderRec, now time.Time) int64 {
	var sum int64
	for _, r := range rec.refunds {
		s.advanceRefund(r, now)
		if r.state != payclient.RefundFailed {
			sum += r.fee
		}
	}
	return sum
}

// advanceRefund settles a PROCESSING refund whose time has come. A failed
// refund gives its amount back to the merchant's balance.
func (s *Sim) advanceRefund(r *refundRec, now time.Time) {
	if r.state != payclient.RefundProcessing || now.Before(r.settleAt) {
		return
	}
	switch r.behaviour {
	case RefundProcessingThenFailed:
		r.state = payclient.RefundFailed
		if r.charged && s.balanceLimited {
			s.balance += r.fee
		}
	case RefundProcessingThenChange:
		r.state = payclient.RefundChange
	default:
		r.state, r.doneAt = payclient.RefundSuccess, r.settleAt
	}
}

func (s *Sim) advanceAll(now time.Time) {
	for _, r := range s.refundSeq {
		s.advanceRefund(r, now)
	}
}

func (s *Sim) refund(req payclient.Object, term string, now time.Time) payclient.Object {
	no, _ := req.Str("out_trade_no")
	rno, _ := req.Str("out_refund_no")
	total, totalOK := req.Int("total_fee")
	fee, feeOK := req.Int("refund_fee")
	desc, _ := req.Str("refund_desc")
	switch {
	case !validOutTradeNo(no):
		return bizFail("PARAM_ERROR", "out_trade_no must be 6-32 of [0-9A-Za-z_-]")
	case !validOutTradeNo(rno):
		return bizFail("PARAM_ERROR", "out_refund_no must be 6-32 of [0-9A-Za-z_-]")
	case !totalOK || total < 1 || total > int64(money.Max):
		return bizFail("PARAM_ERROR", "total_fee must be an integer from 1 to 100000000")
	case !feeOK || fee < 1 || fee > int64(money.Max):
		return bizFail("PARAM_ERROR", "refund_fee must be an integer from 1 to 100000000")
	case len(desc) > 80 || !utf8.ValidString(desc):
		return bizFail("PARAM_ERROR", "refund_desc must be UTF-8 of at most 80 bytes")
	}
	rk := orderKey{term, rno}
	if r := s.refunds[rk]; r != nil {
		// Idempotent: the same refund again answers its current state.
		if r.order.key.no != no || r.totalFee != total || r.fee != fee || r.desc != desc {
			return bizFail("OUT_REFUND_NO_USED", "out_refund_no already used with other parameters")
		}
		s.advanceRefund(r, now)
		return success(refundFields(r, false))
	}
	rec := s.orders[orderKey{term, no}]
	if rec == nil || rec.kind == kindTombstone {
		return bizFail("ORDERNOTEXIST", "no such order")
	}
	s.advance(rec, now)
	if rec.state != payclient.TradeSuccess {
		return bizFail("TRADE_STATE_ERROR", "the order is "+rec.state.String()+", not paid")
	}
	if now.Sub(rec.paidAt) > RefundExpiry {
		return bizFail("REFUND_EXPIRE", "the order is older than 365 days")
	}
	if total != rec.totalFee {
		return bizFail("REFUND_FEE_INVALID", "total_fee is not the order's amount")
	}
	if len(rec.refunds) >= MaxRefunds {
		return bizFail("REFUND_LIMIT", "the order already has 20 refunds")
	}
	if left := rec.totalFee - s.refundedSum(rec, now); fee > left {
		return bizFail("REFUND_FEE_INVALID", fmt.Sprintf("refund_fee exceeds what is left of the order (%d fen)", left))
	}
	s.advanceAll(now)
	if s.balanceLimited && fee > s.balance {
		return bizFail("NOTENOUGH", "the merchant's refundable balance is insufficient today")
	}
	b, set := s.refundBeh[rno]
	if !set {
		b = s.opts.Refunds
	}
	if b == RefundByNumber {
		b = refundBehaviourFromNumber(rno)
	}
	s.rfSeq++
	r := &refundRec{key: rk, order: rec, totalFee: total, fee: fee, desc: desc, behaviour: b, createdAt: now,
		id: fmt.Sprintf("5000%s%010d", now.In(chinaTime).Format("20060102"), s.rfSeq)}
	if b == RefundAtOnce {
		r.state, r.doneAt = payclient.RefundSuccess, now
	} else {
		r.state, r.settleAt = payclient.RefundProcessing, now.Add(s.opts.RefundDelay)
	}
	if s.balanceLimited {
		s.balance -= fee
		r.charged = true
	}
	s.serial++
	r.serial = s.serial
	rec.refunds = append(rec.refunds, r)
	s.refunds[rk] = r
	s.refundSeq = append(s.refundSeq, r)
	s.refundedCount[rk]++
	s.refundBehCnt[b]++
	return success(refundFields(r, false))
}

func refundFields(r *refundRec, query bool) payclient.Object {
	obj := payclient.Object{
		"out_trade_no":  r.order.key.no,
		"out_refund_no": r.key.no,
		"refund_id":     r.id,
		"refund_fee":    r.fee,
		"refund_state":  r.state.String(),
	}
	if query && r.state == payclient.RefundSuccess {
		obj["refund_time"] = r.doneAt.In(chinaTime).Format("20060102150405")
	}
	return obj
}

func (s *Sim) refundQuery(req payclient.Object, term string, now time.Time) payclient.Object {
	rno, _ := req.Str("out_refund_no")
	if !validOutTradeNo(rno) {
		return bizFail("PARAM_ERROR", "out_refund_no must be 6-32 of [0-9A-Za-z_-]")
	}
	r := s.refunds[orderKey{term, rno}]
	if r == nil {
		return bizFail("REFUNDNOTEXIST", "no such refund")
	}
	s.advanceRefund(r, now)
	return success(refundFields(r, true))
}

// RefundEntry is one refund as the bank holds it.
type RefundEntry struct {
	TerminalID  string                `json:"terminal_id"`
	OutTradeNo  string                `json:"out_trade_no"`
	OutRefundNo string                `json:"out_refund_no"`
	RefundID    string                `json:"refund_id"`
	RefundFee   money.Fen             `json:"refund_fee"`
	State       payclient.RefundState `json:"state"`
	Behaviour   RefundBehaviour       `json:"behaviour"`
	CreatedAt   time.Time             `json:"created_at"`
}

// Refunds lists every refund the bank executed, oldest first, in its
// current state.
func (s *Sim) Refunds() []RefundEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := make([]RefundEntry, 0, len(s.refundSeq))
	for _, r := range s.refundSeq {
		s.advanceRefund(r, now)
		out = append(out, RefundEntry{TerminalID: r.key.terminal, OutTradeNo: r.order.key.no, OutRefundNo: r.key.no,
			RefundID: r.id, RefundFee: money.Fen(r.fee), State: r.state, Behaviour: r.behaviour, CreatedAt: r.createdAt})
	}
	return out
}
