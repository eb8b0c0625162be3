// Package msg is ScanBox's one catalog of what a cashier reads about an
// error or an order outcome, in Chinese (zh-CN) and English. The tray UI
// and the CLI both call it: Text for an error (matched with errors.Is/As on
// the owning packages' sentinels and on the bank's codes), Code for an
// order's err_code, State for an order's final state. Every entry carries
// the same advice in both languages.
//
// It owns no errors of its own except ErrNotActivated (used by every
// front-end) and must never return a Go error chain: a message it does not
// know becomes one generic sentence, with package prefixes stripped in
// English and a plain Chinese sentence in Chinese (the details go to the
// log, never to the cashier).
package msg

import (
	"context"
	"errors"
	"strings"

	"github.com/scanbox/scanbox/capture"
	"github.com/scanbox/scanbox/capture/ocr"
	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/payflow"
	"github.com/scanbox/scanbox/scan"
	"github.com/scanbox/scanbox/voice"
)

// Lang is a message language.
type Lang int

// The languages. Chinese is the zero value: the cashiers are in China.
const (
	ZH Lang = iota
	EN
)

// String is the configuration's name for l.
func (l Lang) String() string {
	if l == EN {
		return "en"
	}
	return "zh-CN"
}

// ParseLang accepts "zh-CN", "en" and common spellings; anything else is
// Chinese, so that a cashier never faces an empty sentence.
func ParseLang(s string) Lang {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "en", "en-us", "en_us", "en-gb", "english":
		return EN
	}
	return ZH
}

// ErrNotActivated refuses a payment before the terminal is activated.
var ErrNotActivated = errors.New("ScanBox is not activated yet: open Settings and activate it with the bank")

type pair struct{ zh, en string }

func (p pair) in(l Lang) string {
	if l == EN {
		return p.en
	}
	return p.zh
}

// sentinels, most specific first (errors.Is walks the chain, so an error
// that wraps two of these gets the first listed).
var sentinels = []struct {
	err error
	t   pair
}{
	{ErrNotActivated, pair{"尚未激活，请在“设置”中向银行激活本终端。", "ScanBox is not activated yet: open Settings and activate it with the bank."}},
	{core.ErrNotActivated, pair{"尚未激活，请在“设置”中向银行激活本终端。", "ScanBox is not activated yet: open Settings and activate it with the bank."}},
	{core.ErrOwned, pair{"另一个扫码收款程序正在使用这个数据目录，请先关闭它。", "Another ScanBox program is using this data directory; close it first."}},
	{core.ErrPaymentInProgress, pair{"正在收款，请等本笔结束后再激活。", "A payment is in progress; activate again when it has finished."}},
	{core.ErrUnresolvedOrders, pair{"本终端还有未确定的订单，请先在“最近订单”中确认，再更换终端。", "Orders of this terminal are not resolved yet; resolve them in Recent orders before changing the terminal."}},
	{core.ErrActivating, pair{"正在激活终端，请稍后再试。", "The terminal is being activated; try again in a moment."}},
	{core.ErrClosed, pair{"扫码收款正在退出，未收款。", "ScanBox is shutting down; nothing was charged."}},
	{core.ErrOverLimit, pair{"金额超过本终端的单笔收款上限，未收款；请核对金额或分笔收款。", "The amount is over this terminal's per-payment maximum; nothing was charged. Check the amount or split the payment."}},
	{core.ErrIdentityChange, pair{"银行地址、商户号和终端号只能通过激活更改。", "The bank URL, merchant and terminal change only by activating the terminal."}},
	{core.ErrBadURL, pair{"银行地址不可用，请核对银行提供的地址。", "The bank URL is not usable; check the address the bank gave you."}},
	{core.ErrStorage, pair{"数据目录无法写入，请检查磁盘空间和权限。", "The data directory could not be written; check the disk space and permissions."}},
	{payflow.ErrCodeUnresolved, pair{"这个付款码还有未完成的订单，请先在“最近订单”中确认，不要重复收款。", "This payment code already has an order that is not finished; check it in Recent orders first and do not charge again."}},
	{payflow.ErrCodeAlreadyPaid, pair{"这个付款码已经付过款，请顾客刷新付款码。", "This payment code has already paid an order; ask the customer to refresh it."}},
	{payflow.ErrBadAmount, pair{"金额须在 0.01 至 1,000,000.00 元之间。", "The amount must be between 0.01 and 1,000,000.00 yuan."}},
	{payflow.ErrJournal, pair{"订单无法保存，因此没有扣款；请检查磁盘后重试。", "The order could not be saved, so nothing was charged; check the disk and try again."}},
	{payflow.ErrNotFound, pair{"找不到该订单。", "No such order."}},
	{payflow.ErrFinal, pair{"该订单已有最终结果。", "The order already has a final state."}},
	{payflow.ErrBusy, pair{"该订单正在处理中，请稍候。", "The order is being worked on; wait a moment."}},
	{scan.ErrNotPaymentCode, pair{"这不是付款码（像是商品条码），请扫描顾客手机上的付款码。", "This is not a payment code (it looks like a product barcode); scan the code on the customer's phone."}},
	{money.ErrEmpty, pair{"请输入金额。", "Enter the amount."}},
	{money.ErrSyntax, pair{"金额格式不对，请输入数字，如 12.50。", "The amount is not a number like 12.50."}},
	{money.ErrPrecision, pair{"金额最多两位小数（分）。", "The amount has more than two decimal places."}},
	{money.ErrNotPos, pair{"金额必须大于零。", "The amount must be greater than zero."}},
	{money.ErrTooLarge, pair{"金额超过 1,000,000.00 元。", "The amount is more than 1,000,000.00 yuan."}},
	{ocr.ErrNoAmount, pair{"屏幕上没有读到金额，请检查识别区域，或手工输入金额。", "No amount could be read on the screen; check the screen region or type the amount."}},
	{ocr.ErrBlank, pair{"识别区域里没有文字，请重新框选区域，或手工输入金额。", "The screen region holds no text; select the region again or type the amount."}},
	{ocr.ErrUnavailable, pair{"屏幕识别不可用，请手工输入金额；收款不受影响。", "OCR is unavailable; type the amount. Payments keep working."}},
	{ocr.ErrHelperFailed, pair{"屏幕识别程序中断，请重试或手工输入金额。", "The OCR helper stopped while reading; try again or type the amount."}},
	{voice.ErrNoPlayer, pair{"本机没有可用的声音输出，听不到语音播报；收款不受影响。", "This PC has no sound output, so results are not spoken; payments are not affected."}},
	{capture.ErrNoAmount, pair{"还没有金额，请输入金额。", "No amount has been captured yet; enter the amount."}},
	{capture.ErrCharged, pair{"这个金额已经收过款，请确认新的金额。", "This amount was already charged; confirm the new amount."}},
	{capture.ErrStale, pair{"金额读取时间太久，请确认金额。", "The captured amount is too old; confirm the amount."}},
	{config.ErrNoKey, pair{"尚未激活，请在“设置”中向银行激活本终端。", "ScanBox is not activated yet: open Settings and activate it with the bank."}},
	{config.ErrNoPendingActivation, pair{"没有待用的激活码，请输入银行提供的激活码。", "There is no pending activation code; enter the code from the bank."}},
	{config.ErrInvalid, pair{"设置有误，未保存；请检查标红的项目。", "The settings are not valid and were not saved; check the fields marked in red."}},
	{payflow.ErrOtherIdentity, pair{"这笔订单属于另一个商户或终端，只能由那个终端处理。", "This order was taken under another merchant or terminal; only that terminal can finish it."}},
	{payclient.ErrNoTerminalSN, pair{"此终端是按旧版接口激活的，请重新激活。", "This terminal was activated before bank API 1.1; activate it again."}},
	{payclient.ErrNoDeviceIdentity, pair{"无法确定本机的设备标识，银行要求绑定设备；请联系技术支持。", "This PC's identity for the bank's device binding cannot be determined; call support."}},
	{payclient.ErrDeviceMismatch, pair{"此终端已绑定到另一台电脑，请联系银行迁移终端。", "This terminal is bound to another PC; ask the bank to move it."}},
	{payclient.ErrTerminalDisabled, pair{"银行已停用此终端，请联系银行。", "The bank has disabled this terminal; call the bank."}},
	{payclient.ErrRefundNotExist, pair{"银行暂时查不到这笔退款，请稍后再查。", "The bank has no refund with this number yet; check again later."}},
	{payclient.ErrAnswerMismatch, pair{"银行的应答与订单的单号或金额不符，已当作通信失败；订单会继续确认，不要重复收款。", "The bank's answer was about another order or amount and was treated as a communication failure; the order keeps being checked. Do not charge again."}},
	{payclient.ErrInsecureURL, pair{"银行地址必须以 https:// 开头（只有本机 127.0.0.1 可以用 http）。", "The bank URL must use https (plain http is allowed only for 127.0.0.1/localhost)."}},
	{payclient.ErrInvalidRequest, pair{"请求不符合银行规则，未发送，未扣款。", "ScanBox refused to send this request because it breaks the bank's rules; nothing was charged."}},
	{payclient.ErrBadSignature, pair{"银行的应答签名不对，已当作通信失败；请联系银行。", "The bank's answer did not carry a valid signature and was treated as a communication failure; call the bank."}},
	{payclient.ErrCommunication, pair{"无法连接银行，请检查网络；未确认的订单会在后台继续确认。", "The bank cannot be reached; check the network. Unconfirmed orders keep being checked in the background."}},
	// Least specific last: what activation wraps is matched first.
	{core.ErrActivationFailed, pair{"激活未成功，请核对银行地址、商户号、终端号和激活码后重试。", "Activation failed; check the bank URL, merchant, terminal and activation code, then try again."}},
	{context.DeadlineExceeded, pair{"银行在规定时间内没有应答，请检查网络后重试。", "The bank did not answer in time; check the network and try again."}},
}

// returnMsgs are the bank's return_msg values of a refused request
// (return_code FAIL) that a cashier can act on.
var returnMsgs = map[string]pair{
	"ACTIVATION_INVALID":     {"激活码无效或已用过，请向银行索取新的激活码。", "The activation code is wrong or used up; ask the bank for a new one."},
	"TERMINAL_NOT_ACTIVATED": {"银行不认识此终端，请联系银行激活。", "The bank does not know this terminal; ask the bank to activate it."},
	"TERMINAL_DISABLED":      {"银行已停用此终端，请联系银行。", "The bank has disabled this terminal; call the bank."},
	"SIGNERROR":              {"银行不接受本机签名，请联系银行重新激活终端。", "The bank did not accept ScanBox's signature; ask the bank to activate this terminal again."},
	"TIMESTAMP_SKEW":         {"本机时间不正确，银行拒绝了请求；请校准 Windows 时间，之后会重新查询该订单。", "The bank refused the request because this PC's clock is wrong; set the Windows time correctly, then the order is checked again."},
}

// codes are the sentences about an order by its err_code (payflow's codes
// and the bank's err_code values).
var codes = map[string]pair{
	"NOTENOUGH":              {"顾客余额不足，请换一种付款方式。", "The customer's balance is not enough; ask for another payment method."},
	"AUTHCODEEXPIRE":         {"付款码已过期，请顾客刷新付款码。", "The payment code has expired; ask the customer to refresh it."},
	"AUTH_CODE_INVALID":      {"付款码无效，请顾客重新出示。", "This is not a valid payment code; ask the customer to show it again."},
	"NOTSUPORTCARD":          {"不支持顾客的卡，请换一种付款方式。", "The customer's card is not supported; ask for another payment method."},
	"PAYER_ACCOUNT_ABNORMAL": {"顾客账户无法付款，请换一种付款方式。", "The customer's account cannot pay; ask for another payment method."},
	"BUYER_MISMATCH":         {"付款人与订单不符，请顾客换一个付款码。", "The payer does not match this order; ask for another payment code."},
	"ORDERCLOSED":            {"该订单已关闭，请重新收款。", "This order was already closed; start a new payment."},
	"ORDERREVERSED":          {"该订单已撤销，请重新收款。", "This order was already reversed; start a new payment."},
	"OUT_TRADE_NO_USED":      {"订单号已被使用，请重新收款。", "The order number was already used with other details; start a new payment."},
	"PARAM_ERROR":            {"银行拒绝了请求，请检查金额后重试。", "The bank refused the request; check the amount and try again."},
	"AMOUNT_LIMIT":           {"金额超出顾客限额，请换一种付款方式。", "The amount is over the customer's limit; ask for another payment method."},
	"INVALID_REQUEST":        {"请求不符合银行规则，未发送，未扣款。", "ScanBox refused to send this request because it breaks the bank's rules; nothing was charged."},
	"TIMESTAMP_SKEW":         returnMsgs["TIMESTAMP_SKEW"],
	"SIGNERROR":              returnMsgs["SIGNERROR"],
	"TERMINAL_NOT_ACTIVATED": returnMsgs["TERMINAL_NOT_ACTIVATED"],
	"TERMINAL_DISABLED":      returnMsgs["TERMINAL_DISABLED"],
	payflow.CodeComm:         {"结果未知：无法连接银行完成此订单。请顾客看手机是否已扣款；系统会在后台继续确认，不要重复收款。", "Outcome unknown: the bank could not be reached to finish this order. Ask the customer to look at the phone; ScanBox keeps checking it. Do not charge again."},
	"PAYERROR":               {"顾客支付失败，请顾客换一个付款码。", "The customer's payment failed; ask for another payment code."},
	payclient.CodeRecall:     {"银行还没有关闭这笔订单，系统会继续确认；不要重复收款。", "The bank has not finished closing this order yet; ScanBox keeps checking it. Do not charge again."},
}

// states are the sentences about an order by state when its err_code says
// nothing more. One vocabulary: closed when the payer did not confirm in
// time, cancelled by the cashier, reversed after payment.
var states = map[order.State]pair{
	order.StatePaid:    {"收款成功。", "Payment received."},
	order.StateFailed:  {"支付失败，请顾客换一个付款码。", "The payment failed; ask the customer for another payment code."},
	order.StateClosed:  {"订单已关闭，未扣款。", "The order was closed; no money was taken."},
	order.StateRevoked: {"款项已撤销，已退回顾客。", "The payment was reversed; the money went back to the customer."},
	order.StateUnknown: codes[payflow.CodeComm],
}

// closedHow tells the two ways an order closes without money apart.
var closedHow = map[bool]pair{
	true:  {"收银员已取消订单，未扣款。", "Cancelled by the cashier; no money was taken."},
	false: {"顾客未在时限内确认，订单已关闭，未扣款。", "Closed: the payer did not confirm in time; no money was taken."},
}

// closedNotReceived: closed because the micropay never reached the bank
// (the connection was down), not because the payer did not confirm.
var closedNotReceived = pair{"银行未收到这笔付款（网络中断），订单已关闭，未扣款，可以重新收款。",
	"The bank never received this payment (the connection was down); the order is closed and no money was taken. Charge again."}

// Text is one sentence about err in l: the catalog's, or a generic one.
func Text(l Lang, err error) string {
	if err == nil {
		return ""
	}
	var ae *payclient.APIError
	if errors.As(err, &ae) {
		if p, ok := returnMsgs[ae.ReturnMsg]; ok {
			return p.in(l)
		}
		if p, ok := codes[ae.ErrCode]; ok {
			return p.in(l)
		}
	}
	if t, ok := afterSaleText(l, err); ok {
		return t
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.t.in(l)
		}
	}
	if l == EN {
		return StripPrefixes(err.Error())
	}
	return "操作未完成，详情已记入日志；如果反复出现，请导出支持文件联系技术支持。"
}

// Known reports whether Text has a specific sentence for err (not the
// generic one), for callers that add their own context to the rest.
func Known(err error) bool {
	var ae *payclient.APIError
	if errors.As(err, &ae) {
		if _, ok := returnMsgs[ae.ReturnMsg]; ok {
			return true
		}
		if _, ok := codes[ae.ErrCode]; ok {
			return true
		}
	}
	if _, ok := afterSaleText(EN, err); ok {
		return true
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return true
		}
	}
	return false
}

// Code is the sentence for an order's err_code, if the catalog has one.
func Code(l Lang, code string) (string, bool) {
	p, ok := codes[code]
	return p.in(l), ok
}

// Order is the one sentence about o's outcome in l ("" while it is still
// being worked on and nothing went wrong).
func Order(l Lang, o order.Order) string {
	if o.State == order.StatePaid {
		return states[order.StatePaid].in(l)
	}
	if o.State == order.StateClosed && o.ErrCode == "" {
		return closedHow[o.Cancelled].in(l)
	}
	if o.State == order.StateClosed && o.ErrCode == payflow.CodeNotReceived {
		return closedNotReceived.in(l)
	}
	if p, ok := codes[o.ErrCode]; ok {
		return p.in(l)
	}
	if p, ok := states[o.State]; ok {
		return p.in(l)
	}
	return ""
}

// StripPrefixes removes Go package prefixes ("payclient: ", "config: not
// saved: ") and keeps the rest on one line: what the English fallback of
// Text shows.
func StripPrefixes(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	for {
		head, rest, ok := strings.Cut(s, ": ")
		if !ok || !isPrefix(head) {
			break
		}
		s = rest
	}
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

// isPrefix: a lower-case Go identifier or a short lower-case phrase such as
// "not saved" or "activation failed" (a prefix, not the sentence itself).
func isPrefix(h string) bool {
	if h == "" || len(h) > 24 {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == ' ' || r == '_' || r == '.' || r == '/') {
			return false
		}
	}
	return true
}

// All returns every sentence of the catalog in l, for checks such as "the
// UI font has a glyph for every character".
func All(l Lang) []string {
	var out []string
	for _, s := range sentinels {
		out = append(out, s.t.in(l))
	}
	for _, m := range []map[string]pair{returnMsgs, codes} {
		for _, p := range m {
			out = append(out, p.in(l))
		}
	}
	for _, p := range states {
		out = append(out, p.in(l))
	}
	for _, p := range closedHow {
		out = append(out, p.in(l))
	}
	for _, s := range afterSale {
		out = append(out, s.t.in(l))
	}
	for _, p := range reconcileAdvice {
		out = append(out, p.in(l))
	}
	return out
}
