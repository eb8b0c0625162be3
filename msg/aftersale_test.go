package msg

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/pin"
	"github.com/scanbox/scanbox/receipt"
	"github.com/scanbox/scanbox/reconcile"
	"github.com/scanbox/scanbox/refund"
)

func TestAfterSaleSentences(t *testing.T) {
	wrong := fmt.Errorf("refund: %w", &pin.WrongError{Left: 3})
	if got := Text(ZH, wrong); got != "店长密码不对（再错 3 次将锁定退款 15 分钟），未退款。" {
		t.Errorf("wrong zh %q", got)
	}
	if got := Text(EN, wrong); !strings.Contains(got, "3 more tries") {
		t.Errorf("wrong en %q", got)
	}
	until := time.Date(2026, 12, 1, 14, 35, 0, 0, chinaTime)
	if got := Text(ZH, &pin.LockedError{Until: until}); got != "店长密码连续输错 5 次，退款已锁定到 14:35，未退款。" {
		t.Errorf("locked %q", got)
	}
	if got := Text(EN, fmt.Errorf("x: %w", &receipt.Error{Kind: receipt.ErrNoPrinter})); !strings.HasPrefix(got, "No receipt printer") {
		t.Errorf("printer %q", got)
	}
	for _, s := range afterSale {
		err := fmt.Errorf("refund: start: %w", s.err)
		if !Known(err) || Text(ZH, err) != s.t.zh || Text(EN, err) != s.t.en || s.t.zh == "" || s.t.en == "" {
			t.Errorf("%v: %q / %q", s.err, Text(ZH, err), Text(EN, err))
		}
	}
	if Text(ZH, refund.ErrOverRefund) != "退款金额超过这笔订单的可退金额，未退款。" {
		t.Error("over-refund sentence")
	}
}

// The English advice is reconcile's own sentence for the same difference
// (made by reconcile.Compare), and the Chinese is another sentence.
func TestReconcileAdviceMatchesReconcile(t *testing.T) {
	day := payclient.Day{Year: 2026, Month: 11, Day: 25}
	at := day.Start().Add(10 * time.Hour)
	paid := func(no string) order.Order {
		return order.Order{OutTradeNo: no, AmountFen: 100, State: order.StatePaid, CreatedAt: at, Channel: order.ChannelWeChat}
	}
	res := reconcile.Compare(reconcile.Input{
		Bill: &payclient.Bill{Day: day, Lines: []payclient.BillLine{
			{Time: at, OutTradeNo: "SBLOST", TotalFee: 100, TradeState: payclient.TradeSuccess, Channel: order.ChannelWeChat},
			{Time: at, OutTradeNo: "SBREV", TotalFee: 100, TradeState: payclient.TradeRevoked, Channel: order.ChannelWeChat},
		}},
		Orders: []order.Order{paid("SBREV"), paid("SBONLYHERE")},
	})
	if len(res.Differences) != 3 {
		t.Fatalf("differences %+v", res.Differences)
	}
	for _, d := range res.Differences {
		got := ReconcileAdvice(EN, d.Kind.String(), d.OutRefundNo != "", d.Bank)
		if got != d.Advice || got == "" {
			t.Errorf("%+v:\n got %q\nwant %q", d, got, d.Advice)
		}
		if zh := ReconcileAdvice(ZH, d.Kind.String(), d.OutRefundNo != "", d.Bank); zh == "" || zh == got {
			t.Errorf("%+v: no Chinese advice", d)
		}
	}
	for _, p := range reconcileAdvice {
		if p.zh == "" || p.en == "" {
			t.Errorf("advice without a language: %+v", p)
		}
	}
}
