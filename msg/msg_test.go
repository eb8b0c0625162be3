package msg

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/payflow"
	"github.com/scanbox/scanbox/scan"
)

// ASCII words a Chinese sentence may carry: names the cashier sees on the
// screen or types.
var allowedLatin = map[string]bool{"https": true, "http": true, "Windows": true}

var latinWord = regexp.MustCompile(`[A-Za-z]{2,}`)

func allPairs() map[string]pair {
	all := map[string]pair{}
	for i, s := range sentinels {
		all[fmt.Sprintf("sentinel %d (%v)", i, s.err)] = s.t
	}
	for k, p := range returnMsgs {
		all["return_msg "+k] = p
	}
	for k, p := range codes {
		all["code "+k] = p
	}
	for k, p := range states {
		all["state "+k.String()] = p
	}
	for k, p := range closedHow {
		all[fmt.Sprint("closed cancelled=", k)] = p
	}
	all["closed not received"] = closedNotReceived
	return all
}

// Issue 8 defect 11: every entry in both languages, no English inside the
// Chinese, and the advice (what to do) kept in both.
func TestCatalogComplete(t *testing.T) {
	for name, p := range allPairs() {
		if p.zh == "" || p.en == "" {
			t.Errorf("%s: missing a language: %+v", name, p)
			continue
		}
		for _, w := range latinWord.FindAllString(p.zh, -1) {
			if !allowedLatin[w] {
				t.Errorf("%s: English %q in the Chinese text %q", name, w, p.zh)
			}
		}
		// Advice parity: an English sentence that tells the cashier what to
		// do ("; ask…", "; check…") has a second clause in Chinese too.
		if strings.Contains(p.en, ";") && !strings.ContainsAny(p.zh, "，；") {
			t.Errorf("%s: the Chinese %q drops the advice of %q", name, p.zh, p.en)
		}
		if strings.Contains(strings.ToLower(p.en), "do not charge again") != strings.Contains(p.zh, "不要重复收款") {
			t.Errorf("%s: 'do not charge again' in one language only: %q / %q", name, p.en, p.zh)
		}
	}
}

func TestTextNoGoPrefixes(t *testing.T) {
	cases := []struct {
		err    error
		zh, en string
	}{
		{fmt.Errorf("scan: %w", scan.ErrNotPaymentCode), "这不是付款码（像是商品条码），请扫描顾客手机上的付款码。", "This is not a payment code (it looks like a product barcode); scan the code on the customer's phone."},
		{fmt.Errorf("activation failed: %w", fmt.Errorf("payclient: activate M/T: %w", &payclient.APIError{Endpoint: "/merchant/info", ReturnCode: "FAIL", ReturnMsg: "ACTIVATION_INVALID"})),
			"激活码无效或已用过，请向银行索取新的激活码。", "The activation code is wrong or used up; ask the bank for a new one."},
		{fmt.Errorf("config: not saved: %w: poll_timeout must be 10s..300s", config.ErrInvalid), "设置有误，未保存；请检查标红的项目。", "The settings are not valid and were not saved; check the fields marked in red."},
		{fmt.Errorf("payflow: %w", payflow.ErrCodeUnresolved), "这个付款码还有未完成的订单，请先在“最近订单”中确认，不要重复收款。", "This payment code already has an order that is not finished; check it in Recent orders first and do not charge again."},
		{money.ErrPrecision, "金额最多两位小数（分）。", "The amount has more than two decimal places."},
		{ErrNotActivated, "尚未激活，请在“设置”中向银行激活本终端。", "ScanBox is not activated yet: open Settings and activate it with the bank."},
	}
	for _, c := range cases {
		if got := Text(ZH, c.err); got != c.zh {
			t.Errorf("Text(ZH, %v) = %q, want %q", c.err, got, c.zh)
		}
		if got := Text(EN, c.err); got != c.en {
			t.Errorf("Text(EN, %v) = %q, want %q", c.err, got, c.en)
		}
		if !Known(c.err) {
			t.Errorf("Known(%v) = false", c.err)
		}
	}
	// A sentinel that wraps another gets its own sentence, not the wider one.
	if got := Text(ZH, fmt.Errorf("payflow: query: %w", payclient.ErrAnswerMismatch)); got == Text(ZH, payclient.ErrCommunication) {
		t.Errorf("ErrAnswerMismatch reads as a plain communication failure: %q", got)
	}
	if got := Text(EN, payclient.ErrNoTerminalSN); got != "This terminal was activated before bank API 1.1; activate it again." {
		t.Errorf("ErrNoTerminalSN %q", got)
	}
	// Activation's wrapper gives way to the cause it wraps.
	wrapped := fmt.Errorf("core: %w: %w", core.ErrActivationFailed, &payclient.APIError{ReturnCode: "FAIL", ReturnMsg: "ACTIVATION_INVALID"})
	if got := Text(ZH, wrapped); got != "激活码无效或已用过，请向银行索取新的激活码。" {
		t.Errorf("activation cause %q", got)
	}
	if got := Text(ZH, fmt.Errorf("core: %w: %w", core.ErrActivationFailed, errors.New("x"))); got != "激活未成功，请核对银行地址、商户号、终端号和激活码后重试。" {
		t.Errorf("activation generic %q", got)
	}
	// An error the catalog does not know: no package prefix in English, no
	// English at all in Chinese.
	odd := fmt.Errorf("ocr: read: %w", errors.New("tesseract exited with status 3"))
	if got := Text(EN, odd); got != "Tesseract exited with status 3" {
		t.Errorf("fallback EN %q", got)
	}
	if got := Text(ZH, odd); latinWord.MatchString(got) || got == "" {
		t.Errorf("fallback ZH %q", got)
	}
	if Known(odd) || Text(ZH, nil) != "" {
		t.Error("Known(odd) or Text(nil)")
	}
}

func TestOrderVocabulary(t *testing.T) {
	timeout := order.Order{State: order.StateClosed}
	cancelled := order.Order{State: order.StateClosed, Cancelled: true}
	if Order(ZH, timeout) == Order(ZH, cancelled) || Order(EN, timeout) == Order(EN, cancelled) {
		t.Errorf("closed on timeout and cancelled by the cashier read the same: %q / %q", Order(ZH, timeout), Order(ZH, cancelled))
	}
	if got := Order(ZH, order.Order{State: order.StateFailed, ErrCode: "NOTENOUGH"}); got != "顾客余额不足，请换一种付款方式。" {
		t.Errorf("NOTENOUGH %q", got)
	}
	if got, _ := Code(EN, "NOTENOUGH"); got != "The customer's balance is not enough; ask for another payment method." {
		t.Errorf("Code EN %q", got)
	}
	lost := order.Order{State: order.StateClosed, ErrCode: payflow.CodeNotReceived}
	if z := Order(ZH, lost); z == Order(ZH, timeout) || !strings.Contains(z, "银行未收到") {
		t.Errorf("closed because the bank never received it reads %q", z)
	}
	u := Order(ZH, order.Order{State: order.StateUnknown})
	if !strings.Contains(u, "看手机") || !strings.Contains(u, "不要重复收款") {
		t.Errorf("unknown without advice: %q", u)
	}
	if ParseLang("en") != EN || ParseLang("zh-CN") != ZH || ParseLang("") != ZH || ParseLang(EN.String()) != EN || ParseLang(ZH.String()) != ZH {
		t.Error("ParseLang round trip")
	}
}
