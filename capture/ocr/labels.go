package ocr

import (
	"fmt"
	"strings"
)

// A screen often shows several amounts with a label each, and only one of
// them is the amount to charge. These are the labels of amounts that are
// not the total: change, paid or tendered, unit price, discount, quantity.
// They follow the customer-display sniffer's rules (capture/display,
// labels.go: 找零 收款 实收 CHANGE CASH are the end of a sale, 单价 PRICE
// another line's amount), widened by what screens show beside a total:
// 已付, 优惠, 折扣, 数量.
//
// OCR misreads a character now and then (找零 came out as 找夫), so a label
// is matched by any one of its distinctive characters, never only by the
// whole word: a wrongly read label must make the region refused, not
// charged. Characters that also occur in total labels (收 of 应收, 付 of
// 应付, 金额) are not distinctive and are not listed.
var notTotalRunes = map[rune]string{
	'找': "change (找零)", '零': "change (找零)",
	'实': "paid (实收)", '已': "paid (已付)",
	'单': "unit price (单价)", '价': "unit price (单价)",
	'优': "discount (优惠)", '惠': "discount (优惠)", '折': "discount (折扣)", '扣': "discount (折扣)",
	'数': "quantity (数量)", '量': "quantity (数量)",
}

// notTotalWords are the Latin labels of the same meaning, matched in upper
// case anywhere in the text, not only as whole words: OCR glues a label to
// its number (CHANGE780.64) or garbles its end (CHANGOE), and a false match
// costs a refusal, never a wrong amount.
var notTotalWords = []struct{ word, what string }{
	{"CHANG", "change"}, {"CASH", "paid"}, {"PAID", "paid"}, {"TENDER", "paid"}, {"PRICE", "unit price"},
	{"DISCOUNT", "discount"}, {"QTY", "quantity"}, {"QUANTITY", "quantity"},
}

// checkLabel returns an error wrapping ErrNoAmount when text (one reading)
// labels its amount as something other than the amount to charge.
func checkLabel(text string) error {
	for _, r := range text {
		if what, ok := notTotalRunes[r]; ok {
			return fmt.Errorf("%w: the amount is labelled as %s, not as the total", ErrNoAmount, what)
		}
	}
	if strings.Contains(text, "收款") { // the display sniffer's end-of-sale word; 收 alone is also 应收
		return fmt.Errorf("%w: the amount is labelled as paid (收款), not as the total", ErrNoAmount)
	}
	up := strings.ToUpper(text)
	for _, w := range notTotalWords {
		if strings.Contains(up, w.word) {
			return fmt.Errorf("%w: the amount is labelled as %s, not as the total", ErrNoAmount, w.what)
		}
	}
	return nil
}

// totalRunes are the characters of the labels of a total (合计 总计 应收
// 应付 应收金额 合计金额 …). In front of seven-segment digits, whose own
// reading has no second opinion, the label must be read as one of these
// (or be absent): an unreadable label might have been 找零.
const totalRunes = "合计总应收付金额"

var totalWords = []string{"TOTAL", "DUE", "AMOUNT"}

// isTotalLabel reports whether text (a label read alone) names a total.
func isTotalLabel(text string) bool {
	if checkLabel(text) != nil {
		return false
	}
	if strings.ContainsAny(text, totalRunes) {
		return true
	}
	up := strings.ToUpper(text)
	for _, w := range totalWords {
		if strings.Contains(up, w) {
			return true
		}
	}
	return false
}
