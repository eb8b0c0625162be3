package receipt

import (
	"strconv"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/scan"
)

// ChinaTime is UTC+8 without daylight saving: the slips' clock. A fixed
// zone, so that a Windows PC without a time zone database prints the same.
var ChinaTime = time.FixedZone("CST", 8*3600)

// Options are the settings a slip is laid out with.
type Options struct {
	Paper Paper
	Lang  Lang
}

// Shop is the header of every slip.
type Shop struct {
	Store    string // the store name from activation
	Terminal string // terminal_sn, or the terminal id
}

// Payment is what a payment slip shows.
type Payment struct {
	Shop
	Time          time.Time // when the order was paid
	OutTradeNo    string
	Channel       order.Channel
	Amount        money.Fen
	TransactionID string
	// Code is the customer's payment code, full or already masked; it is
	// printed only as scan.Mask shows it, never in full. Empty to omit.
	Code string
}

// Refund is what a refund slip shows.
type Refund struct {
	Shop
	Time        time.Time // when the refund was asked for
	OutTradeNo  string
	OutRefundNo string
	Channel     order.Channel
	OrderAmount money.Fen // what the order was paid
	Refund      money.Fen // this refund
	Reason      string
	RefundID    string // the bank's refund_id, when known
	State       string // the refund's state as the cashier sees it ("成功", "processing", …)
}

// ChannelTotal is one channel's line in a shift summary.
type ChannelTotal struct {
	Channel     order.Channel
	PaidCount   int
	Paid        money.Fen
	RefundCount int
	Refunded    money.Fen
}

// Net is what the channel took after refunds.
func (c ChannelTotal) Net() money.Fen { return c.Paid - c.Refunded }

// Shift is what a shift summary shows.
type Shift struct {
	Shop
	ID         string
	Cashier    string
	Opened     time.Time
	Closed     time.Time // zero while the shift is open: printed as "now" at Printed
	Printed    time.Time
	Channels   []ChannelTotal // in the order given; the total is computed
	Unresolved int            // orders or refunds not yet known to have succeeded or failed
}

// Total sums the channels.
func (s Shift) Total() ChannelTotal {
	var t ChannelTotal
	for _, c := range s.Channels {
		t.PaidCount += c.PaidCount
		t.Paid += c.Paid
		t.RefundCount += c.RefundCount
		t.Refunded += c.Refunded
	}
	return t
}

type labels struct {
	payTitle, refundTitle, shiftTitle                                string
	terminal, time, order, refundNo, wallet, amount, txn             string
	code, paid, refund, reason, refundID, state                      string
	shiftID, cashier, opened, closed, count, refunds, net            string
	total, unresolved, unresolvedNote, yuan, open, thankYou, takings string
	channels                                                         map[order.Channel]string
}

var texts = map[Lang]labels{
	Chinese: {
		payTitle: "收款凭证", refundTitle: "退款凭证", shiftTitle: "交接班汇总",
		terminal: "终端", time: "时间", order: "订单号", refundNo: "退款单号", wallet: "支付方式",
		amount: "金额", txn: "交易号", code: "付款码", paid: "原订单金额", refund: "退款金额",
		reason: "退款原因", refundID: "银行退款号", state: "状态",
		shiftID: "班次", cashier: "收银员", opened: "开班", closed: "交班", count: "笔",
		refunds: "退款", net: "净收", total: "合计", unresolved: "未决",
		unresolvedNote: "有未决交易, 以银行结果为准", yuan: "元", open: "(未交班)",
		thankYou: "请妥善保管本凭证", takings: "收款",
		channels: map[order.Channel]string{
			order.ChannelWeChat: "微信支付", order.ChannelAlipay: "支付宝", order.ChannelUnionPay: "银联",
			order.ChannelECNY: "数字人民币", order.ChannelOther: "其他", order.ChannelNone: "未知",
		},
	},
	English: {
		payTitle: "PAYMENT", refundTitle: "REFUND", shiftTitle: "SHIFT SUMMARY",
		terminal: "Terminal", time: "Time", order: "Order", refundNo: "Refund no.", wallet: "Wallet",
		amount: "Amount", txn: "Transaction", code: "Code", paid: "Order amount", refund: "Refund",
		reason: "Reason", refundID: "Bank refund id", state: "State",
		shiftID: "Shift", cashier: "Cashier", opened: "Opened", closed: "Closed", count: "x",
		refunds: "Refunds", net: "Net", total: "Total", unresolved: "Unresolved",
		unresolvedNote: "Unresolved items: the bank's result counts", yuan: "CNY", open: "(open)",
		thankYou: "Please keep this slip", takings: "Paid",
		channels: map[order.Channel]string{
			order.ChannelWeChat: "WeChat Pay", order.ChannelAlipay: "Alipay", order.ChannelUnionPay: "UnionPay",
			order.ChannelECNY: "e-CNY", order.ChannelOther: "Other", order.ChannelNone: "Unknown",
		},
	},
}

func (o Options) labels() labels {
	if l, ok := texts[o.Lang]; ok {
		return l
	}
	return texts[Chinese]
}

func (l labels) channel(c order.Channel) string {
	if n, ok := l.channels[c]; ok {
		return n
	}
	return c.String()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(ChinaTime).Format("2006-01-02 15:04:05")
}

func (l labels) money(f money.Fen) string { return f.Grouped() + " " + l.yuan }

func header(l labels, title string, s Shop) []Line {
	out := []Line{}
	if s.Store != "" {
		out = append(out, Line{Text: s.Store, Align: Center, Bold: true})
	}
	out = append(out, Line{Text: title, Align: Center, Bold: true, Double: true}, Line{Rule: true})
	if s.Terminal != "" {
		out = append(out, Line{Text: l.terminal, Value: s.Terminal})
	}
	return out
}

func kv(label, value string) []Line {
	if value == "" {
		return nil
	}
	return []Line{{Text: label, Value: value}}
}

// PaymentSlip lays out a payment slip.
func PaymentSlip(p Payment, o Options) Slip {
	l := o.labels()
	lines := header(l, l.payTitle, p.Shop)
	lines = append(lines, kv(l.time, stamp(p.Time))...)
	lines = append(lines, kv(l.order, p.OutTradeNo)...)
	lines = append(lines, kv(l.wallet, l.channel(p.Channel))...)
	if p.Code != "" {
		lines = append(lines, kv(l.code, scan.Mask(p.Code))...)
	}
	lines = append(lines, kv(l.txn, p.TransactionID)...)
	lines = append(lines,
		Line{Rule: true},
		Line{Text: l.amount, Value: l.money(p.Amount), Bold: true, Double: true},
		Line{Rule: true},
		Line{Text: l.thankYou, Align: Center},
	)
	return Slip{Paper: o.Paper, Lines: lines}
}

// RefundSlip lays out a refund slip.
func RefundSlip(r Refund, o Options) Slip {
	l := o.labels()
	lines := header(l, l.refundTitle, r.Shop)
	lines = append(lines, kv(l.time, stamp(r.Time))...)
	lines = append(lines, kv(l.order, r.OutTradeNo)...)
	lines = append(lines, kv(l.refundNo, r.OutRefundNo)...)
	lines = append(lines, kv(l.wallet, l.channel(r.Channel))...)
	lines = append(lines, kv(l.refundID, r.RefundID)...)
	lines = append(lines, kv(l.state, r.State)...)
	if r.OrderAmount > 0 {
		lines = append(lines, kv(l.paid, l.money(r.OrderAmount))...)
	}
	lines = append(lines, kv(l.reason, r.Reason)...)
	lines = append(lines,
		Line{Rule: true},
		Line{Text: l.refund, Value: l.money(r.Refund), Bold: true, Double: true},
		Line{Rule: true},
		Line{Text: l.thankYou, Align: Center},
	)
	return Slip{Paper: o.Paper, Lines: lines}
}

// ShiftSlip lays out a shift summary: per channel the paid count and sum,
// the refunds and the net, then the totals.
func ShiftSlip(s Shift, o Options) Slip {
	l := o.labels()
	lines := header(l, l.shiftTitle, s.Shop)
	lines = append(lines, kv(l.shiftID, s.ID)...)
	lines = append(lines, kv(l.cashier, s.Cashier)...)
	lines = append(lines, kv(l.opened, stamp(s.Opened))...)
	if s.Closed.IsZero() {
		lines = append(lines, kv(l.closed, stamp(s.Printed)+" "+l.open)...)
	} else {
		lines = append(lines, kv(l.closed, stamp(s.Closed))...)
	}
	block := func(name string, c ChannelTotal, bold bool) []Line {
		return []Line{
			{Text: name, Bold: true},
			{Text: "  " + l.takings + " " + strconv.Itoa(c.PaidCount) + l.count, Value: l.money(c.Paid), Bold: bold},
			{Text: "  " + l.refunds + " " + strconv.Itoa(c.RefundCount) + l.count, Value: l.money(c.Refunded), Bold: bold},
			{Text: "  " + l.net, Value: l.money(c.Net()), Bold: true},
		}
	}
	lines = append(lines, Line{Rule: true})
	for _, c := range s.Channels {
		lines = append(lines, block(l.channel(c.Channel), c, false)...)
	}
	lines = append(lines, Line{Rule: true})
	lines = append(lines, block(l.total, s.Total(), true)...)
	lines = append(lines, Line{Text: l.net, Value: l.money(s.Total().Net()), Bold: true, Double: true})
	if s.Unresolved > 0 {
		lines = append(lines,
			Line{Text: l.unresolved, Value: strconv.Itoa(s.Unresolved), Bold: true},
			Line{Text: l.unresolvedNote})
	}
	lines = append(lines, Line{Rule: true})
	if !s.Printed.IsZero() {
		lines = append(lines, Line{Text: stamp(s.Printed), Align: Center})
	}
	return Slip{Paper: o.Paper, Lines: lines}
}
