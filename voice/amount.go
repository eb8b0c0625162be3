// Package voice composes and plays the spoken announcements: a sentence is a
// sequence of short clips ("微信", "收款", digits, units, "元") joined into one
// sound. It owns the Chinese reading of amounts and the clip names. It must
// never block a payment: playback runs on its own goroutine, drops sentences
// when it falls behind, and a missing sound device is only logged.
package voice

import (
	"strings"

	"github.com/scanbox/scanbox/money"
)

// Clip names: the file names (without ".wav") of assets/voice and of a
// folder of recorded replacements. scripts/make-voice.sh makes one per name.
const (
	ClipTen           = "ten"      // 十
	ClipHundred       = "hundred"  // 百
	ClipThousand      = "thousand" // 千
	ClipWan           = "wan"      // 万
	ClipYi            = "yi"       // 亿
	ClipPoint         = "point"    // 点
	ClipYuan          = "yuan"     // 元
	ClipWeChat        = "wechat"   // 微信
	ClipAlipay        = "alipay"   // 支付宝
	ClipUnionPay      = "unionpay" // 云闪付
	ClipECNY          = "ecny"     // 数字人民币
	ClipReceived      = "received" // 收款
	ClipPaidOK        = "paid_ok"  // 收款成功
	ClipEnterPassword = "enter_password"
	ClipPayFailed     = "pay_failed" // 支付失败
	ClipRevoked       = "revoked"    // 已撤销
	ClipCancelled     = "cancelled"  // 已取消
	ClipRefund        = "refund"     // 退款
	ClipSuccess       = "success"    // 成功
)

// digitClips[d] is the clip of digit d: "digit_0" … "digit_9".
var digitClips = [10]string{"digit_0", "digit_1", "digit_2", "digit_3", "digit_4",
	"digit_5", "digit_6", "digit_7", "digit_8", "digit_9"}

// AllClips lists every clip name a sentence can use.
func AllClips() []string {
	out := append([]string(nil), digitClips[:]...)
	return append(out, ClipTen, ClipHundred, ClipThousand, ClipWan, ClipYi, ClipPoint, ClipYuan,
		ClipWeChat, ClipAlipay, ClipUnionPay, ClipECNY, ClipReceived, ClipPaidOK,
		ClipEnterPassword, ClipPayFailed, ClipRevoked, ClipCancelled, ClipRefund, ClipSuccess)
}

// clipText is how each clip is written, so that a clip sequence can be shown
// and tested as Chinese text.
var clipText = map[string]string{
	"digit_0": "零", "digit_1": "一", "digit_2": "二", "digit_3": "三", "digit_4": "四",
	"digit_5": "五", "digit_6": "六", "digit_7": "七", "digit_8": "八", "digit_9": "九",
	ClipTen: "十", ClipHundred: "百", ClipThousand: "千", ClipWan: "万", ClipYi: "亿",
	ClipPoint: "点", ClipYuan: "元", ClipWeChat: "微信", ClipAlipay: "支付宝",
	ClipUnionPay: "云闪付", ClipECNY: "数字人民币", ClipReceived: "收款", ClipPaidOK: "收款成功",
	ClipEnterPassword: "请输入密码", ClipPayFailed: "支付失败", ClipRevoked: "已撤销",
	ClipCancelled: "已取消", ClipRefund: "退款", ClipSuccess: "成功",
}

// Text writes a clip sequence as the Chinese it speaks.
func Text(clips []string) string {
	var b strings.Builder
	for _, c := range clips {
		t, ok := clipText[c]
		if !ok {
			t = "<" + c + ">"
		}
		b.WriteString(t)
	}
	return b.String()
}

// AmountClips reads an amount the way a Chinese cash register does:
// 1234.50 → 一千二百三十四点五元, 10.00 → 十元, 1005.00 → 一千零五元,
// 0.05 → 零点零五元. Trailing zero fen are not read. Negative amounts are
// read as their absolute value (they never reach the speaker).
func AmountClips(f money.Fen) []string {
	if f < 0 {
		f = -f
	}
	yuan, fen := f.Yuan()
	var out []string
	if yuan == 0 {
		out = append(out, digitClips[0])
	} else {
		out = appendInteger(out, yuan)
	}
	if fen != 0 {
		out = append(out, ClipPoint, digitClips[fen/10])
		if fen%10 != 0 {
			out = append(out, digitClips[fen%10])
		}
	}
	return append(out, ClipYuan)
}

// appendInteger reads n > 0 in groups of four digits (个, 万, 亿). A run of
// zeros between non-zero digits is read as one 零; a number starting with
// 1 in the tens place (10–19, 10 万–19 万) drops the 一: 十, 十五, 十万.
func appendInteger(out []string, n int64) []string {
	groups := []struct {
		div  int64
		unit string
	}{{100_000_000, ClipYi}, {10_000, ClipWan}, {1, ""}}
	started, zeroPending := false, false
	for _, g := range groups {
		part := (n / g.div) % 10_000
		if g.div == 100_000_000 {
			part = n / g.div // 亿 takes everything above
		}
		if part == 0 {
			if started {
				zeroPending = true
			}
			continue
		}
		if started && (zeroPending || part < 1000) {
			out = append(out, digitClips[0])
		}
		out = appendSection(out, part, !started)
		if g.unit != "" {
			out = append(out, g.unit)
		}
		started, zeroPending = true, false
	}
	return out
}

// appendSection reads 1 ≤ n ≤ 9999 (n may exceed 9999 only for the 亿 group,
// which is then read recursively). leading says the section starts the number,
// where 一十 is said as 十.
func appendSection(out []string, n int64, leading bool) []string {
	if n >= 10_000 {
		return appendInteger(out, n)
	}
	units := [4]string{ClipThousand, ClipHundred, ClipTen, ""}
	divs := [4]int64{1000, 100, 10, 1}
	started, zero := false, false
	for i, d := range divs {
		digit := (n / d) % 10
		if digit == 0 {
			if started {
				zero = true
			}
			continue
		}
		if zero {
			out = append(out, digitClips[0])
			zero = false
		}
		if !(leading && !started && d == 10 && digit == 1) {
			out = append(out, digitClips[digit])
		}
		if units[i] != "" {
			out = append(out, units[i])
		}
		started = true
	}
	return out
}
