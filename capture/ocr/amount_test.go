package ocr

import (
	"errors"
	"testing"

	"github.com/scanbox/scanbox/money"
)

func TestPickAmount(t *testing.T) {
	cases := []struct {
		text string
		want money.Fen // 0: refused with ErrNoAmount
	}{
		{"¥1,234.50", 123450},
		{":¥1,234.50\n", 123450},
		{"Sit : ¥1,234.50", 123450},     // label read as letters
		{"TOTAL ¥ 88.00", 8800},         // sign apart
		{"88.00", 8800},                 // no sign
		{"4548.¥781.60", 78160},         // label debris before the sign
		{".117099.97", 11709997},        // debris point in front
		{"“mOR@M : 43139.21-", 4313921}, // debris at both ends
		{"Mt Se : 43139. 21", 4313921},  // space beside the point
		{"¥12.00 ¥12.00", 1200},         // the same amount twice
		{"1,000,000.00", 100000000},     // the limit
		{"合计 245.00元", 24500},           // 元 after the number
		{"应收金额¥245.38", 24538},          // a CJK label glued on
		{"半6572.51", 657251},            // ¥ read as a CJK character by the Chinese model
		{"去结算 Y9.57", 957},              // ¥ read as Y
		{"245.00%", 0},                  // 元 read as %: not an amount
		{"XY9.57", 0},                   // a Y inside a word is not the sign
		{"", 0},
		{"合计", 0},
		{"¥1234", 0},         // no decimals: a quantity as likely as an amount
		{"¥12.5", 0},         // one decimal
		{"12.505", 0},        // three decimals
		{"¥629..40", 0},      // garbled
		{"¥1,23.50", 0},      // misgrouped
		{"l2.50", 0},         // letter for a digit
		{"¥/26,040.22", 0},   // symbol for a digit
		{"-12.50", 0},        // a refund, never read as a charge
		{"¥12.00 ¥15.00", 0}, // two amounts
		{"12.30\n7.70", 0},   // two lines, two amounts
		{"¥0.00", 0},         // zero
		{"¥2,000,000.00", 0}, // above money.Max
		{"47 5i-¥7 64", 0},   // point lost
	}
	for _, c := range cases {
		got, err := PickAmount(c.text)
		if c.want == 0 {
			if err == nil || !errors.Is(err, ErrNoAmount) {
				t.Errorf("PickAmount(%q) = %v, %v; want ErrNoAmount", c.text, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("PickAmount(%q) = %v, %v; want %v", c.text, got, err, c.want)
		}
	}
}
