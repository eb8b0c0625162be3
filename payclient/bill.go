package payclient

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
)

// Day is a calendar day in China time, as bill_date names it.
type Day struct {
	Year  int
	Month time.Month
	Day   int
}

// DayOf is the China-time calendar day of t.
func DayOf(t time.Time) Day {
	y, m, d := t.In(ChinaTime).Date()
	return Day{y, m, d}
}

// ParseDay reads yyyyMMdd.
func ParseDay(s string) (Day, error) {
	t, err := time.ParseInLocation("20060102", s, ChinaTime)
	if err != nil || len(s) != 8 {
		return Day{}, fmt.Errorf("payclient: %q is not a yyyyMMdd date", s)
	}
	return DayOf(t), nil
}

// String writes yyyyMMdd.
func (d Day) String() string { return fmt.Sprintf("%04d%02d%02d", d.Year, int(d.Month), d.Day) }

// Start is midnight China time at the start of d.
func (d Day) Start() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, ChinaTime) }

// Before reports whether d is an earlier day than e.
func (d Day) Before(e Day) bool { return d.Start().Before(e.Start()) }

// BillHeader is the bill's first line, exactly.
const BillHeader = "time,out_trade_no,transaction_id,pay_channel,total_fee,trade_state,out_refund_no,refund_id,refund_fee,refund_state"

// Bill is the bank's record of one day for this terminal.
type Bill struct {
	Day Day
	// Provisional: the bill is of the bank's current day (or later) and
	// may still change; a past day's bill is final.
	Provisional bool
	Lines       []BillLine
}

// BillLine is one order (in its current state) or one refund.
type BillLine struct {
	Time          time.Time // when the order or refund was created, China time
	OutTradeNo    string
	TransactionID string
	Channel       order.Channel // ChannelNone when not paid or not given
	TotalFee      money.Fen
	TradeState    TradeState // TradeStateNone on a refund line that leaves it empty
	OutRefundNo   string     // non-empty on a refund line
	RefundID      string
	RefundFee     money.Fen
	RefundState   RefundState
}

// IsRefund reports whether the line is a refund (else an order).
func (l BillLine) IsRefund() bool { return l.OutRefundNo != "" }

// maxBillBody bounds a bill answer: about 100,000 lines.
const maxBillBody = 16 << 20

// DownloadBill fetches the bank's bill of day. NO_BILL (nothing that day)
// is an empty Bill, not an error. Lines are parsed strictly: a bill that
// does not follow the contract is a communication failure.
func (c *Client) DownloadBill(ctx context.Context, day Day) (*Bill, error) {
	b, err := c.downloadBill(ctx, day)
	if err != nil {
		return nil, fmt.Errorf("payclient: bill %s: %w", day, err)
	}
	return b, nil
}

func (c *Client) downloadBill(ctx context.Context, day Day) (b *Bill, err error) {
	start := time.Now()
	defer func() {
		attrs := []slog.Attr{slog.String("bill_date", day.String())}
		if b != nil {
			attrs = append(attrs, slog.Int("lines", len(b.Lines)))
		}
		c.t.logCall(ctx, EndpointBill, "", start, err, attrs...)
	}()
	if day.Year < 2000 || day.Year > 9999 || day != DayOf(day.Start()) {
		return nil, fmt.Errorf("%w: bill_date %s is not a calendar day", ErrInvalidRequest, day)
	}
	req := c.base()
	req["bill_date"] = day.String()
	b = &Bill{Day: day, Provisional: !day.Before(DayOf(c.BankNow()))}
	obj, err := c.t.callLimit(ctx, EndpointBill, req, c.key, maxBillBody)
	var ae *APIError
	if errors.As(err, &ae) && ae.ReturnCode == "SUCCESS" && ae.ErrCode == "NO_BILL" {
		return b, nil
	}
	if err != nil {
		return nil, err
	}
	text, _ := obj.Str("bill")
	count, ok := obj.Int("bill_count")
	if !ok || count < 0 {
		return nil, garbled("bill_count missing")
	}
	b.Lines, err = ParseBill(text)
	if err != nil {
		return nil, garbled("%v", err)
	}
	if int64(len(b.Lines)) != count {
		return nil, garbled("bill has %d lines, bill_count says %d", len(b.Lines), count)
	}
	return b, nil
}

// ParseBill parses the bill's CSV text (header line first).
func ParseBill(text string) ([]BillLine, error) {
	if !strings.HasPrefix(text, BillHeader+"\n") && text != BillHeader {
		return nil, fmt.Errorf("bill does not start with the header line")
	}
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = 10
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil {
		return nil, fmt.Errorf("bill header: %w", err)
	}
	var out []BillLine
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("bill: %w", err)
		}
		l, err := parseBillLine(rec)
		if err != nil {
			line, _ := r.FieldPos(0)
			return nil, fmt.Errorf("bill line %d: %w", line, err)
		}
		out = append(out, l)
	}
}

func parseBillLine(f []string) (BillLine, error) {
	var l BillLine
	var err error
	if l.Time, err = time.ParseInLocation("20060102150405", f[0], ChinaTime); err != nil {
		return l, fmt.Errorf("time %q is not yyyyMMddHHmmss", f[0])
	}
	l.OutTradeNo, l.TransactionID, l.OutRefundNo, l.RefundID = f[1], f[2], f[6], f[7]
	if checkNo("out_trade_no", l.OutTradeNo) != nil {
		return l, fmt.Errorf("out_trade_no %q malformed", l.OutTradeNo)
	}
	refund := l.OutRefundNo != ""
	if f[3] != "" {
		if l.Channel, err = order.ParseChannel(f[3]); err != nil || l.Channel == order.ChannelNone {
			return l, fmt.Errorf("pay_channel %q unknown", f[3])
		}
	}
	fen := func(s, name string, required bool) (money.Fen, error) {
		if s == "" && !required {
			return 0, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > int64(money.Max) {
			return 0, fmt.Errorf("%s %q is not an amount in fen", name, s)
		}
		return money.Fen(n), nil
	}
	if l.TotalFee, err = fen(f[4], "total_fee", !refund); err != nil {
		return l, err
	}
	if f[5] != "" || !refund {
		if l.TradeState, err = ParseTradeState(f[5]); err != nil {
			return l, fmt.Errorf("trade_state %q unknown", f[5])
		}
	}
	if !refund {
		if slices.ContainsFunc(f[7:], func(s string) bool { return s != "" }) {
			return l, fmt.Errorf("refund columns on an order line")
		}
		return l, nil
	}
	if checkNo("out_refund_no", l.OutRefundNo) != nil || l.RefundID == "" {
		return l, fmt.Errorf("refund line without a well-formed out_refund_no and refund_id")
	}
	if l.RefundFee, err = fen(f[8], "refund_fee", true); err != nil || l.RefundFee < 1 {
		return l, fmt.Errorf("refund_fee %q is not an amount in fen", f[8])
	}
	if l.RefundState, err = ParseRefundState(f[9]); err != nil {
		return l, fmt.Errorf("refund_state %q unknown", f[9])
	}
	return l, nil
}
