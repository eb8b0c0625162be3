package msg

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/pin"
	"github.com/scanbox/scanbox/receipt"
	"github.com/scanbox/scanbox/refund"
	"github.com/scanbox/scanbox/store"
)

// afterSale are the sentences about a refund refused before anything was
// sent, and about the manager PIN (issue 9). Checked before the general
// sentinels: a refusal wraps the runner's and the PIN's errors.
var afterSale = []struct {
	err error
	t   pair
}{
	{pin.ErrNotSet, pair{"还没有设置店长密码，不能退款；请用“scanbox pin set”设置。未退款。", "No manager PIN is set, so refunds are refused; set one with \"scanbox pin set\". Nothing was refunded."}},
	{refund.ErrNoAuthorizer, pair{"还没有设置店长密码，不能退款；请用“scanbox pin set”设置。未退款。", "No manager PIN is set, so refunds are refused; set one with \"scanbox pin set\". Nothing was refunded."}},
	{pin.ErrFormat, pair{"店长密码是 6 到 12 位数字。未退款。", "The manager PIN is 6 to 12 digits. Nothing was refunded."}},
	{pin.ErrStorage, pair{"店长密码文件无法读取，不能退款；请联系技术支持。未退款。", "The manager PIN file cannot be read, so refunds are refused; call support. Nothing was refunded."}},
	{refund.ErrOverRefund, pair{"退款金额超过这笔订单的可退金额，未退款。", "The amount is more than what is left of the order; nothing was refunded."}},
	{refund.ErrBadAmount, pair{"退款金额须在 0.01 元到订单金额之间，未退款。", "The refund must be between 0.01 yuan and the order's amount; nothing was refunded."}},
	{refund.ErrNotPaid, pair{"只有收款成功的订单才能退款，未退款。", "Only a paid order can be refunded; nothing was refunded."}},
	{refund.ErrOrderUnknown, pair{"找不到这笔订单，未退款。", "No such order; nothing was refunded."}},
	{refund.ErrUnresolved, pair{"这笔订单还有一笔退款未确定，请等它有结果后再退，不要重复退款。", "This order has a refund that is not definite yet; wait for its result before refunding again."}},
	{refund.ErrJournal, pair{"退款无法保存，因此没有发送给银行；请检查磁盘后重试。", "The refund could not be saved, so nothing was sent to the bank; check the disk and try again."}},
	{refund.ErrOtherIdentity, pair{"这笔退款属于另一个商户或终端，只能由那个终端处理。", "This refund was made under another merchant or terminal; only that terminal can finish it."}},
	{store.ErrShiftOpen, pair{"已有一个班次未交班，请先交班再开新班。", "A shift is still open; close it before opening a new one."}},
	{store.ErrNoShift, pair{"当前没有班次。", "No shift is open."}},
	{core.ErrNoHistory, pair{"此数据目录的记录不保存历史（汇总、班次、退款）。", "This data directory's record keeps no history (summaries, shifts, refunds)."}},
	{refund.ErrBusy, pair{"这笔退款正在处理中，请稍候。", "The refund is being worked on; wait a moment."}},
}

// chinaTime is the shop's time zone: a lock's end is said in it.
var chinaTime = time.FixedZone("CST", 8*3600)

// afterSaleText is the sentence for a PIN or refund refusal, if err is one.
func afterSaleText(l Lang, err error) (string, bool) {
	var we *pin.WrongError
	if errors.As(err, &we) {
		if l == EN {
			return fmt.Sprintf("The manager PIN is wrong (%d more tries before refunds lock for 15 minutes); nothing was refunded.", we.Left), true
		}
		return fmt.Sprintf("店长密码不对（再错 %d 次将锁定退款 15 分钟），未退款。", we.Left), true
	}
	var re *receipt.Error
	if errors.As(err, &re) {
		if l == EN {
			return re.Sentence(receipt.English), true
		}
		return re.Sentence(receipt.Chinese), true
	}
	var le *pin.LockedError
	if errors.As(err, &le) {
		until := le.Until.In(chinaTime).Format("15:04")
		if l == EN {
			return "Refunds are locked after 5 wrong manager PINs, until " + until + "; nothing was refunded.", true
		}
		return "店长密码连续输错 5 次，退款已锁定到 " + until + "，未退款。", true
	}
	switch {
	case errors.Is(err, pin.ErrWrong):
		return pair{"店长密码不对，未退款。", "The manager PIN is wrong; nothing was refunded."}.in(l), true
	case errors.Is(err, pin.ErrLocked):
		return pair{"店长密码连续输错 5 次，退款已锁定 15 分钟，未退款。", "Refunds are locked for 15 minutes after 5 wrong manager PINs; nothing was refunded."}.in(l), true
	}
	for _, s := range afterSale {
		if errors.Is(err, s.err) {
			return s.t.in(l), true
		}
	}
	return "", false
}

// reconcileAdvice are what to do about a reconciliation difference, by kind
// and side; the same advice as reconcile's English sentences.
var reconcileAdvice = map[string]pair{
	"missing_in_journal/refund": {"银行有一笔本机没有记录的退款：请向办理退款的店长核实，以银行记录为准。", "The bank made a refund ScanBox has no record of: check with the manager who made it and keep the bank's record."},
	"missing_in_journal/paid":   {"顾客已付款，但本机丢失了这笔订单：请核对这笔销售，以银行记录为准。", "The customer paid but ScanBox lost the order: check the sale for this payment and keep the bank's record."},
	"missing_in_journal/order":  {"银行有一笔本机没有记录的订单，未收到钱；请告知技术支持：本机记录丢失了它。", "The bank has an order ScanBox has no record of; no money was kept, but tell support: the journal lost it."},
	"missing_at_bank/refund":    {"本机记录了一笔银行没有的退款：顾客可能没有收到退款，请询问银行。", "ScanBox records a refund the bank has no record of: the payer may not have the money back; ask the bank."},
	"missing_at_bank/order":     {"本机记录了一笔银行没有的收款：银行确认之前不要计入这笔钱。", "ScanBox records a payment the bank has no record of: do not count this money until the bank confirms it."},
	"state/revoked":             {"银行已撤销这笔付款，钱已退回顾客：请重新收款或收回商品。", "The bank reversed this payment and the money went back to the payer: collect it again or take the goods back."},
	"state/refund":              {"银行与本机对这笔退款的状态不一致：请运行“scanbox resolve”；仍不一致时以银行为准。", "The bank and ScanBox disagree about this refund's state: run \"scanbox resolve\"; if it stays, the bank's state counts."},
	"state/order":               {"银行与本机对这笔订单的状态不一致：请运行“scanbox resolve”；仍不一致时以银行为准。", "The bank and ScanBox disagree about this order's state: run \"scanbox resolve\"; if it stays, the bank's state counts."},
	"amount/":                   {"银行与本机记录的金额不同：以银行金额为准，请询问银行。", "The bank and ScanBox record different amounts: the bank's amount counts; ask the bank about it."},
}

// ReconcileAdvice is one sentence of what to do about a reconciliation
// difference of kind (reconcile.Kind's name); refund says whether it is
// about a refund, bank is what the bank holds ("SUCCESS 12.50").
func ReconcileAdvice(l Lang, kind string, isRefund bool, bank string) string {
	key := kind + "/"
	switch kind {
	case "missing_in_journal":
		switch {
		case isRefund:
			key += "refund"
		case strings.HasPrefix(bank, "SUCCESS"):
			key += "paid"
		default:
			key += "order"
		}
	case "missing_at_bank":
		if isRefund {
			key += "refund"
		} else {
			key += "order"
		}
	case "state":
		switch {
		case isRefund:
			key += "refund"
		case strings.HasPrefix(bank, "REVOKED"):
			key += "revoked"
		default:
			key += "order"
		}
	}
	if p, ok := reconcileAdvice[key]; ok {
		return p.in(l)
	}
	return pair{"请联系银行核对这一笔。", "Check this line with the bank."}.in(l)
}
