package ui

// The after-sale windows (issue 9): refund, Today, shift handover and
// reconciliation. Each window has its own small controller interface, so
// that a window's test fakes only what that window uses and app/ adapts
// the core to each one (app/controller_aftersale.go). The same rules as for
// the other views: no bank, store or disk access here; slow calls go
// through Env.Go; every sentence a cashier reads comes from the catalogs
// (T/Tf here, msg/ for errors).

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/msg"
	"github.com/scanbox/scanbox/order"
)

// RefundLine is one refund of an order as the windows show it.
type RefundLine struct {
	OutRefundNo string
	OutTradeNo  string
	Amount      money.Fen
	// State is the store's name: pending, processing, unknown, refunded,
	// failed or change.
	State   string
	Reason  string
	At      time.Time
	Message string // the bank's or the runner's one sentence, if any
}

// RefundController is what the refund window needs.
type RefundController interface {
	// Remaining is what is left to refund of a paid order.
	Remaining(outTradeNo string) (money.Fen, error)
	// Refunds lists the order's refunds, oldest first.
	Refunds(outTradeNo string) ([]RefundLine, error)
	// Refund checks the manager PIN, journals the refund and drives it
	// until it is definite or left to the background. A non-nil error
	// means it was refused before anything was sent. Slow.
	Refund(ctx context.Context, outTradeNo string, amount money.Fen, reason, pin string) (RefundLine, error)
	// SpeakRefunded says "退款 … 元成功".
	SpeakRefunded(amount money.Fen)
}

// ChannelSum is one wallet's (or the day's) totals.
type ChannelSum struct {
	Channel     string // order.Channel's name; "" for the total
	PaidCount   int
	Paid        money.Fen
	RefundCount int
	Refunded    money.Fen
	Net         money.Fen
	Unresolved  int
	ChangeCount int
	Change      money.Fen
}

// DaySummary is a day's or a shift's takings.
type DaySummary struct {
	From, To time.Time
	Total    ChannelSum
	Channels []ChannelSum
	// Hourly is the paid amount by hour of the day (China time).
	Hourly [24]money.Fen
}

// TodayController is what the Today view needs.
type TodayController interface {
	// Summary is the summary of the China-time day of day. Slow.
	Summary(day time.Time) (DaySummary, error)
}

// ShiftInfo is one cashier shift.
type ShiftInfo struct {
	ID       int64
	Cashier  string
	OpenedAt time.Time
	ClosedAt time.Time // zero while open
	Summary  DaySummary
	// Preview is the shift slip as it would print (receipt.Slip.Preview).
	Preview []string
}

// ShiftController is what the shift handover dialog needs.
type ShiftController interface {
	// CurrentShift is the open shift, if any. Slow.
	CurrentShift() (ShiftInfo, bool, error)
	OpenShift(cashier string) (ShiftInfo, error) // slow
	// CloseShift closes the open shift and returns it with the summary it
	// keeps and its slip's preview. Slow.
	CloseShift() (ShiftInfo, error)
	// PrintShift prints the slip of a closed shift; the error says when
	// no printer is configured or the printer failed. Slow.
	PrintShift(id int64) error
}

// ReconcileDiff is one difference between the bank's bill and the journal.
type ReconcileDiff struct {
	OutTradeNo  string
	OutRefundNo string
	// Kind is reconcile.Kind's name: missing_in_journal, missing_at_bank,
	// state or amount.
	Kind    string
	Bank    string // what the bank holds, "SUCCESS 12.50"; "" nothing
	Journal string // what the journal holds, "paid 12.50"; "" nothing
}

// ReconcileResult is one day's reconciliation.
type ReconcileResult struct {
	Date         string // YYYY-MM-DD
	BankLines    int
	JournalLines int
	Diffs        []ReconcileDiff
	Provisional  bool // the bank's current day: the bill may still change
	At           time.Time
	// Background: the tray's daily run (core's status.Reconciliation),
	// which keeps no line counts. Failed: that run could not have the
	// bank's bill, so nothing was concluded (it is tried again).
	Background bool
	Failed     bool
}

// Agreed reports whether the bank and the journal agree.
func (r ReconcileResult) Agreed() bool { return !r.Failed && len(r.Diffs) == 0 }

// ReconcileController is what the reconciliation window needs.
type ReconcileController interface {
	// LastReconcile is the newest result the tray has (the morning's
	// background run, or the last one asked for).
	LastReconcile() (ReconcileResult, bool)
	// Reconcile downloads the bank's bill of day and compares. Slow.
	Reconcile(ctx context.Context, day time.Time) (ReconcileResult, error)
}

// Yesterday is the China-time day before now, what the tray reconciles.
func Yesterday(now time.Time) time.Time {
	return now.In(chinaTime).AddDate(0, 0, -1)
}

// chinaTime is the bank's and the summaries' time zone.
var chinaTime = time.FixedZone("CST", 8*3600)

// channelLabel is a summary channel's wallet name; "" is the total.
func channelLabel(ch string) string {
	if ch == "" {
		return T("today.total")
	}
	c, err := order.ParseChannel(ch)
	if err != nil {
		return ch
	}
	return walletName(c)
}

// refundStateName is a refund state for people.
func refundStateName(s string) string {
	if v, ok := catalog["refund.state."+s]; ok {
		return v[CurrentLanguage()]
	}
	return s
}

// reconcileAdvice is what to do about d, in the current language.
func reconcileAdvice(d ReconcileDiff) string {
	return msg.ReconcileAdvice(lang(), d.Kind, d.OutRefundNo != "", d.Bank)
}

func init() {
	for k, v := range aftersaleCatalog {
		if _, dup := catalog[k]; dup {
			panic("ui: catalog key defined twice: " + k)
		}
		catalog[k] = v
	}
}

// aftersaleCatalog is the after-sale windows' part of the catalog, merged
// into it at start (kept here so that the windows' strings live with them).
var aftersaleCatalog = map[string][2]string{
	"menu.refund":    {"退款", "Refund"},
	"menu.today":     {"今日汇总", "Today"},
	"menu.shift":     {"交接班", "Shift handover"},
	"menu.reconcile": {"对账", "Reconciliation"},

	// refund window
	"refund.title":        {"退款", "Refund"},
	"refund.button":       {"退款…", "Refund…"},
	"refund.order":        {"订单 %s · %s 元 · %s · %s", "Order %s · %s yuan · %s · %s"},
	"refund.remaining":    {"可退金额：%s 元", "Left to refund: %s yuan"},
	"refund.none_left":    {"这笔订单已全部退款。", "This order has been refunded in full."},
	"refund.amount":       {"退款金额 (元)", "Amount (yuan)"},
	"refund.reason":       {"退款原因", "Reason"},
	"refund.reason_hint":  {"如：顾客退货", "e.g. goods returned"},
	"refund.pin":          {"店长密码", "Manager PIN"},
	"refund.pin_hint":     {"6–12 位数字", "6–12 digits"},
	"refund.submit":       {"确认退款", "Refund"},
	"refund.working":      {"正在退款，请稍候…", "Refunding; please wait…"},
	"refund.done":         {"退款 %s 元成功", "%s yuan refunded"},
	"refund.failed":       {"退款失败", "Refund failed"},
	"refund.change":       {"银行无法原路退回，需银行人工处理", "The bank cannot pay it back; its staff settle it by hand"},
	"refund.pending":      {"退款结果未定，系统会在后台继续确认；不要重复退款", "The refund is not definite yet; ScanBox keeps checking it. Do not refund again"},
	"refund.over":         {"退款金额超过可退金额 %s 元，未退款。", "The amount is more than the %s yuan left to refund; nothing was refunded."},
	"refund.not_paid":     {"只有收款成功的订单才能退款。", "Only a paid order can be refunded."},
	"refund.history":      {"本单退款记录", "Refunds of this order"},
	"refund.history_none": {"（无）", "(none)"},
	"refund.line":         {"%s  %s 元  %s  %s", "%s  %s yuan  %s  %s"},
	// the bank's states in a reconciliation's differences (its bill's words)
	"reconcile.bank.order.SUCCESS":     {"已支付", "paid"},
	"reconcile.bank.order.REVOKED":     {"已撤销", "reversed"},
	"reconcile.bank.order.CLOSED":      {"已关闭", "closed"},
	"reconcile.bank.order.NOTPAY":      {"未支付", "not paid"},
	"reconcile.bank.order.USERPAYING":  {"等待顾客确认", "waiting for the payer"},
	"reconcile.bank.order.PAYERROR":    {"支付失败", "payment failed"},
	"reconcile.bank.refund.PROCESSING": {"退款处理中", "refund processing"},
	"reconcile.bank.refund.SUCCESS":    {"已退款", "refunded"},
	"reconcile.bank.refund.FAILED":     {"退款失败", "refund failed"},
	"reconcile.bank.refund.CHANGE":     {"需人工处理", "by hand (CHANGE)"},
	"refund.state.pending":             {"处理中", "pending"},
	"refund.state.processing":          {"银行处理中", "processing"},
	"refund.state.unknown":             {"结果未知", "unknown"},
	"refund.state.refunded":            {"已退款", "refunded"},
	"refund.state.failed":              {"失败", "failed"},
	"refund.state.change":              {"需人工处理", "by hand (CHANGE)"},
	"orders.refunded":                  {"已退 %s", "refunded %s"},

	// Today
	"today.title":      {"今日汇总", "Today"},
	"today.heading":    {"%s 收款汇总", "Takings of %s"},
	"today.wallet":     {"钱包", "Wallet"},
	"today.paid":       {"收款", "Paid"},
	"today.count":      {"笔数", "Orders"},
	"today.refunded":   {"退款", "Refunded"},
	"today.net":        {"净收", "Net"},
	"today.total":      {"合计", "Total"},
	"today.hourly":     {"每小时收款 (元)", "Takings by hour (yuan)"},
	"today.max":        {"最高 %s 元 (%02d 点)", "Peak %s yuan (%02d:00)"},
	"today.empty":      {"今天还没有收款。", "Nothing taken today yet."},
	"today.unresolved": {"%d 笔订单或退款尚未确定，合计可能变化。", "%d order(s) or refund(s) are not definite yet; the totals may change."},
	"today.change":     {"%d 笔退款共 %s 元需银行人工处理。", "%d refund(s) of %s yuan are settled by the bank's staff by hand."},
	"today.refresh":    {"刷新", "Refresh"},

	// shift handover
	"shift.title":        {"交接班", "Shift handover"},
	"shift.none":         {"当前没有班次。输入收银员姓名开班。", "No shift is open. Enter the cashier's name to open one."},
	"shift.cashier":      {"收银员", "Cashier"},
	"shift.cashier_hint": {"收银员姓名", "Cashier's name"},
	"shift.open":         {"开班", "Open shift"},
	"shift.opened":       {"班次 %d · 收银员 %s · %s 开班", "Shift %d · cashier %s · opened %s"},
	"shift.close":        {"交班", "Close shift"},
	"shift.closed":       {"班次 %d · 收银员 %s · %s 至 %s（已交班，汇总已保存）", "Shift %d · cashier %s · %s to %s (closed; summary kept)"},
	"shift.no_name":      {"请输入收银员姓名。", "Enter the cashier's name."},
	"shift.print":        {"打印", "Print"},
	"shift.printed":      {"已打印。", "Printed."},
	"shift.preview":      {"小票预览", "Slip preview"},
	"shift.summary":      {"收款 %d 笔 %s 元 · 退款 %d 笔 %s 元 · 净收 %s 元", "Paid %d × %s yuan · refunded %d × %s yuan · net %s yuan"},
	"shift.new":          {"开新班", "New shift"},

	// reconciliation
	"reconcile.title":                   {"对账", "Reconciliation"},
	"reconcile.day":                     {"日期", "Day"},
	"reconcile.run":                     {"对账", "Reconcile"},
	"reconcile.running":                 {"正在下载银行对账单…", "Downloading the bank's bill…"},
	"reconcile.none":                    {"还没有对账结果。", "No reconciliation yet."},
	"reconcile.agreed":                  {"%s：银行与本机记录一致（银行 %d 笔，本机 %d 笔）。", "%s: the bank and ScanBox agree (bank %d lines, ScanBox %d)."},
	"reconcile.differ":                  {"%s：有 %d 处不一致（银行 %d 笔，本机 %d 笔）。", "%s: %d difference(s) (bank %d lines, ScanBox %d)."},
	"reconcile.provisional":             {"这是银行当天的账单，之后可能还会变化。", "This is the bank's bill of the current day; it may still change."},
	"reconcile.bad_day":                 {"日期格式应为 2026-12-01。", "Enter the day as 2026-12-01."},
	"reconcile.kind.missing_in_journal": {"本机没有记录", "Missing in ScanBox"},
	"reconcile.kind.missing_at_bank":    {"银行没有记录", "Missing at the bank"},
	"reconcile.kind.state":              {"状态不同", "State differs"},
	"reconcile.kind.amount":             {"金额不同", "Amount differs"},
	"reconcile.sides":                   {"银行：%s · 本机：%s", "Bank: %s · ScanBox: %s"},
	"reconcile.nothing":                 {"无", "nothing"},
	"reconcile.at":                      {"对账时间 %s", "Reconciled at %s"},
}

// afterSaleKeys are the tray menu rows of the after-sale windows.
var afterSaleKeys = map[string]bool{"menu.today": true, "menu.shift": true, "menu.reconcile": true}

// SplitMenu separates the after-sale rows from the others: the pay
// window's button row keeps its width with the others, and the after-sale
// rows get a row of their own (NewMenuBar) under it.
func SplitMenu(rows []MenuAction) (others, afterSale []MenuAction) {
	for _, r := range rows {
		if afterSaleKeys[r.Key] {
			afterSale = append(afterSale, r)
		} else {
			others = append(others, r)
		}
	}
	return others, afterSale
}

// NewMenuBar is a row of small buttons for rows, as the pay window's.
func NewMenuBar(rows []MenuAction) *fyne.Container {
	bar := container.NewHBox()
	UpdateMenuBar(bar, rows)
	return bar
}

// UpdateMenuBar builds bar's buttons again from rows (a marker changed).
// A row with a marker is shown as a warning.
func UpdateMenuBar(bar *fyne.Container, rows []MenuAction) {
	bar.Objects = nil
	for _, r := range rows {
		if r.Action == nil || r.Quit {
			continue
		}
		b := widget.NewButton(r.Text(), r.Action)
		b.Importance = widget.LowImportance
		if r.Label != "" {
			b.Importance = widget.WarningImportance
		}
		bar.Objects = append(bar.Objects, b)
	}
	bar.Refresh()
}
