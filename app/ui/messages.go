package ui

import (
	"errors"

	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payflow"
	"github.com/scanbox/scanbox/scan"
)

// ErrNotActivated is what the controller returns for a payment before the
// terminal is activated.
var ErrNotActivated = errors.New("ScanBox is not activated yet: open Settings and activate it with the bank")

// zhCodeMessages are payflow's cashier sentences (payflow/messages.go) in
// Chinese, by err_code. payflow keeps the English ones for the CLI and says
// that the UI translates by state and err_code.
var zhCodeMessages = map[string]string{
	"NOTENOUGH":              "顾客余额不足，请换一种付款方式。",
	"AUTHCODEEXPIRE":         "付款码已过期，请顾客刷新付款码。",
	"AUTH_CODE_INVALID":      "付款码无效，请顾客重新出示。",
	"NOTSUPORTCARD":          "不支持顾客的卡，请换一种付款方式。",
	"PAYER_ACCOUNT_ABNORMAL": "顾客账户无法付款，请换一种付款方式。",
	"BUYER_MISMATCH":         "付款人与订单不符，请顾客换一个付款码。",
	"ORDERCLOSED":            "该订单已关闭，请重新收款。",
	"ORDERREVERSED":          "该订单已撤销，请重新收款。",
	"OUT_TRADE_NO_USED":      "订单号已被使用，请重新收款。",
	"PARAM_ERROR":            "银行拒绝了请求，请检查金额后重试。",
	"AMOUNT_LIMIT":           "金额超出顾客限额，请换一种付款方式。",
	"INVALID_REQUEST":        "请求不符合银行规则，未发送，未扣款。",
	"TIMESTAMP_SKEW":         "本机时间不正确，银行拒绝了请求；请校准 Windows 时间，之后会重新查询该订单。",
	"SIGNERROR":              "银行不接受本机签名，请联系银行重新激活终端。",
	"TERMINAL_NOT_ACTIVATED": "银行不认识此终端，请联系银行激活。",
	"TERMINAL_DISABLED":      "银行已停用此终端，请联系银行。",
	"COMM":                   "无法连接银行完成此订单，系统会在后台继续确认。",
	"PAYERROR":               "顾客支付失败，请顾客换一个付款码。",
}

var zhStateMessages = map[order.State]string{
	order.StateFailed:  "支付失败，请顾客换一个付款码。",
	order.StateClosed:  "订单已关闭，未扣款。",
	order.StateRevoked: "款项已撤销，已退回顾客。",
	order.StateUnknown: "无法连接银行完成此订单，系统会在后台继续确认。",
}

// orderMessage is the one sentence about o in the current language.
func orderMessage(o order.Order) string {
	if o.State == order.StatePaid {
		return ""
	}
	if CurrentLanguage() == English {
		return o.Message
	}
	if m, ok := zhCodeMessages[o.ErrCode]; ok {
		return m
	}
	if m, ok := zhStateMessages[o.State]; ok {
		return m
	}
	return o.Message
}

// zhErrors are the refusals before anything is sent, in Chinese.
var zhErrors = []struct {
	err error
	zh  string
}{
	{ErrNotActivated, "尚未激活，请在“设置”中向银行激活本终端。"},
	{payflow.ErrCodeUnresolved, "这个付款码还有未完成的订单，请先在“最近订单”中确认。"},
	{payflow.ErrCodeAlreadyPaid, "这个付款码已经付过款，请顾客刷新付款码。"},
	{payflow.ErrBadAmount, "金额须在 0.01 至 1,000,000.00 元之间。"},
	{payflow.ErrJournal, "订单无法保存，因此没有扣款。"},
	{payflow.ErrNotFound, "找不到该订单。"},
	{payflow.ErrFinal, "该订单已有最终结果。"},
	{payflow.ErrBusy, "该订单正在处理中。"},
	{scan.ErrNotPaymentCode, "这不是付款码，请扫描顾客的付款码。"},
}

// errorMessage is one sentence about err in the current language.
func errorMessage(err error) string {
	if CurrentLanguage() == Chinese {
		for _, e := range zhErrors {
			if errors.Is(err, e.err) {
				return e.zh
			}
		}
	}
	return oneSentence(err.Error())
}
