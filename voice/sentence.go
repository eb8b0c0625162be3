package voice

import (
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
)

// WalletClip is the spoken name of a wallet, or "" when there is none.
func WalletClip(c order.Channel) string {
	switch c {
	case order.ChannelWeChat:
		return ClipWeChat
	case order.ChannelAlipay:
		return ClipAlipay
	case order.ChannelUnionPay:
		return ClipUnionPay
	case order.ChannelECNY:
		return ClipECNY
	}
	return ""
}

// PaidClips is the success sentence: "微信收款一千二百三十四点五元", or
// "收款成功…元" when the wallet is not known.
func PaidClips(c order.Channel, amount money.Fen) []string {
	var out []string
	if w := WalletClip(c); w != "" {
		out = append(out, w, ClipReceived)
	} else {
		out = append(out, ClipPaidOK)
	}
	return append(out, AmountClips(amount)...)
}

// RefundedClips is the sentence of a refund the bank made:
// "退款十二点五元成功".
func RefundedClips(amount money.Fen) []string {
	out := append([]string{ClipRefund}, AmountClips(amount)...)
	return append(out, ClipSuccess)
}

// Sentence is what to say when an order reaches its state, or nil when the
// state is not announced (pending, closing, unknown: the cashier sees those
// on screen, and a voice saying "unknown" would only alarm the payer).
// The bank's channel wins over the guess from the code's shape.
func Sentence(o order.Order) []string {
	switch o.State {
	case order.StatePaid:
		ch := o.Channel
		if ch == order.ChannelNone {
			ch = o.Guess
		}
		return PaidClips(ch, o.AmountFen)
	case order.StateWaiting:
		return []string{ClipEnterPassword}
	case order.StateFailed:
		return []string{ClipPayFailed}
	case order.StateRevoked:
		return []string{ClipRevoked}
	case order.StateClosed:
		if o.Cancelled {
			return []string{ClipCancelled}
		}
		// Closed at the deadline: the payer never confirmed.
		return []string{ClipPayFailed}
	}
	return nil
}
