package receipt

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
)

const fullCode = "134567890123455678" // an 18-digit WeChat-shaped code

var (
	shop   = Shop{Store: "好又多超市（人民路店）", Terminal: "SB20261201001"}
	paidAt = time.Date(2026, 12, 1, 14, 5, 6, 0, time.UTC) // 22:05:06 in China
)

func samplePayment() Payment {
	return Payment{Shop: shop, Time: paidAt, OutTradeNo: "SB202612012205060001", Channel: order.ChannelWeChat,
		Amount: 1250, TransactionID: "4200001234202612011234567890", Code: fullCode}
}

func sampleRefund() Refund {
	return Refund{Shop: shop, Time: paidAt.Add(time.Hour), OutTradeNo: "SB202612012205060001",
		OutRefundNo: "RF202612012305060001", Channel: order.ChannelAlipay, OrderAmount: 123450,
		Refund: 1250, Reason: "顾客退货：商品破损", RefundID: "50300001234", State: "成功"}
}

func sampleShift() Shift {
	return Shift{Shop: shop, ID: "S-20261201-1", Cashier: "张三",
		Opened: paidAt.Add(-8 * time.Hour), Closed: paidAt, Printed: paidAt,
		Channels: []ChannelTotal{
			{Channel: order.ChannelWeChat, PaidCount: 30, Paid: 123456, RefundCount: 2, Refunded: 2500},
			{Channel: order.ChannelAlipay, PaidCount: 12, Paid: 45000, RefundCount: 0},
			{Channel: order.ChannelECNY, PaidCount: 1, Paid: 99, RefundCount: 1, Refunded: 99},
		},
		Unresolved: 1,
	}
}

func allSlips() map[string]func(Options) Slip {
	return map[string]func(Options) Slip{
		"payment": func(o Options) Slip { return PaymentSlip(samplePayment(), o) },
		"refund":  func(o Options) Slip { return RefundSlip(sampleRefund(), o) },
		"shift":   func(o Options) Slip { return ShiftSlip(sampleShift(), o) },
	}
}

func eachOption(t *testing.T, f func(t *testing.T, o Options)) {
	for _, p := range []Paper{Paper58, Paper80} {
		for _, l := range []Lang{Chinese, English} {
			t.Run(p.String()+"/"+l.String(), func(t *testing.T) { f(t, Options{Paper: p, Lang: l}) })
		}
	}
}

// Every slip, at both widths and in both languages: starts with ESC @ and
// Chinese mode, ends with exactly one cut, no line wider than the paper,
// and what is printed is what the preview shows.
func TestSlipsPrintAsPreviewed(t *testing.T) {
	for name, mk := range allSlips() {
		t.Run(name, func(t *testing.T) {
			eachOption(t, func(t *testing.T, o Options) {
				s := mk(o)
				b := s.Bytes()
				if !bytes.HasPrefix(b, []byte{0x1B, '@', 0x1C, '&'}) {
					t.Fatalf("slip does not start with ESC @, FS &: % x", b[:4])
				}
				p := parseESCPOS(t, b)
				if p.inits != 1 || p.cuts != 1 || p.afterCut != 0 || !bytes.HasSuffix(b, cmdFeedCut) {
					t.Fatalf("inits %d, cuts %d, %d bytes after the cut", p.inits, p.cuts, p.afterCut)
				}
				widest := 0
				for _, l := range p.lines {
					if l.cols > o.Paper.Columns() {
						t.Errorf("%d columns on %s paper: %q", l.cols, o.Paper, l.text)
					}
					widest = max(widest, l.cols)
				}
				// The rules span the paper: the layout uses the width it has.
				if widest != o.Paper.Columns() {
					t.Errorf("widest line %d columns, paper has %d", widest, o.Paper.Columns())
				}
				if got, want := p.paper(o.Paper), s.Preview(); !slices.Equal(got, want) {
					t.Fatalf("paper and preview differ:\npaper:\n%s\npreview:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			})
		})
	}
}

func TestPaymentSlipContent(t *testing.T) {
	eachOption(t, func(t *testing.T, o Options) {
		b := PaymentSlip(samplePayment(), o).Bytes()
		p := parseESCPOS(t, b)
		p.find(t, "好又多超市")
		p.find(t, "SB20261201001")
		p.find(t, "2026-12-01 22:05:06") // China time
		p.find(t, "SB202612012205060001")
		p.find(t, "4200001234202612011234567890")
		p.find(t, "1345**********5678")
		wallet := map[Lang]string{Chinese: "微信支付", English: "WeChat Pay"}[o.Lang]
		p.find(t, wallet)
		amt := p.find(t, "12.50")
		if !amt.bold || !amt.double {
			t.Errorf("amount line %q: bold %v, double %v; want both", amt.text, amt.bold, amt.double)
		}
		noCode(t, b, p)
	})
}

// noCode: neither the full code nor its hidden middle appears, in the raw
// bytes or in the printed text.
func noCode(t *testing.T, b []byte, p printout) {
	t.Helper()
	middle := fullCode[4 : len(fullCode)-4]
	text := p.dump()
	for _, s := range []string{fullCode, middle} {
		if bytes.Contains(b, []byte(s)) || strings.Contains(text, s) {
			t.Fatalf("the slip contains %q", s)
		}
	}
	// No run of the code's digits longer than the 4 that masking shows.
	for i := 0; i+5 <= len(fullCode); i++ {
		if strings.Contains(text, fullCode[i:i+5]) && !strings.Contains("4200001234202612011234567890 SB202612012205060001", fullCode[i:i+5]) {
			t.Fatalf("the slip shows 5 consecutive digits of the code: %q", fullCode[i:i+5])
		}
	}
}

func TestPaymentSlipMasksWhateverItIsGiven(t *testing.T) {
	for _, code := range []string{fullCode, " " + fullCode + "\r\n", "1345**********5678", "28" + fullCode[2:] + "12"} {
		p := samplePayment()
		p.Code = code
		s := PaymentSlip(p, Options{})
		pr := parseESCPOS(t, s.Bytes())
		line := pr.find(t, "**")
		if !regexp.MustCompile(`^\S+\s+\d{4}\*{8,}\d{4}$`).MatchString(line.text) {
			t.Errorf("code %q printed as %q", code, line.text)
		}
		if strings.Contains(s.Text(), strings.TrimSpace(code)) && !strings.Contains(code, "*") {
			t.Errorf("code %q appears in the preview", code)
		}
	}
	p := samplePayment()
	p.Code = ""
	if strings.Contains(PaymentSlip(p, Options{}).Text(), "付款码") {
		t.Error("a slip without a code still has a code line")
	}
}

func TestRefundSlipContent(t *testing.T) {
	eachOption(t, func(t *testing.T, o Options) {
		b := RefundSlip(sampleRefund(), o).Bytes()
		p := parseESCPOS(t, b)
		p.find(t, "2026-12-01 23:05:06")
		p.find(t, "RF202612012305060001")
		p.find(t, "SB202612012205060001")
		p.find(t, "50300001234")
		p.find(t, "1,234.50") // the order's amount
		p.find(t, "顾客退货")
		p.find(t, map[Lang]string{Chinese: "退款凭证", English: "REFUND"}[o.Lang])
		var refund printedLine
		for _, l := range p.lines {
			if strings.Contains(l.text, "12.50") && !strings.Contains(l.text, "1,234.50") {
				refund = l
			}
		}
		if !refund.bold || !refund.double {
			t.Errorf("refund amount line %q: bold %v, double %v; want both\n%s", refund.text, refund.bold, refund.double, p.dump())
		}
	})
}

func TestShiftSlipTotals(t *testing.T) {
	s := sampleShift()
	if got := s.Total(); got.Paid != 168555 || got.Refunded != 2599 || got.Net() != 165956 || got.PaidCount != 43 || got.RefundCount != 3 {
		t.Fatalf("total %+v", got)
	}
	eachOption(t, func(t *testing.T, o Options) {
		p := parseESCPOS(t, ShiftSlip(s, o).Bytes())
		text := p.dump()
		for _, want := range []string{"S-20261201-1", "张三", "2026-12-01 14:05:06", "2026-12-01 22:05:06",
			"1,234.56", "25.00", "1,209.56", // WeChat paid, refunded, net
			"450.00", "0.99", "0.00", // Alipay paid; e-CNY paid and net
			"1,685.55", "25.99", "1,659.56", // totals
		} {
			if !strings.Contains(text, want) {
				t.Errorf("shift slip lacks %q:\n%s", want, text)
			}
		}
		l := texts[o.Lang]
		for _, c := range []order.Channel{order.ChannelWeChat, order.ChannelAlipay, order.ChannelECNY} {
			p.find(t, l.channels[c])
		}
		if strings.Contains(text, l.channels[order.ChannelUnionPay]) {
			t.Error("a channel with no line was printed")
		}
		net := 0
		for _, ln := range p.lines {
			if strings.Contains(ln.text, "1,659.56") && ln.double && ln.bold {
				net++
			}
		}
		if net != 1 {
			t.Errorf("want the shift's net once in bold double size, got %d\n%s", net, text)
		}
		p.find(t, l.unresolvedNote[:10])
	})
	open := s
	open.Closed = time.Time{}
	if !strings.Contains(ShiftSlip(open, Options{}).Text(), "(未交班)") {
		t.Error("an open shift's summary does not say so")
	}
}

func TestWidthCountsGBKDoubleByteAsTwo(t *testing.T) {
	for s, w := range map[string]int{"": 0, "abc": 3, "微信支付": 8, "12.50 元": 8, "（）": 4, "￥": 2, "😀": 1} {
		if got := Width(s); got != w {
			t.Errorf("Width(%q) = %d, want %d", s, got, w)
		}
	}
}

func TestLongCJKWrapsWithinColumns(t *testing.T) {
	long := strings.Repeat("中文店名很长", 10) // 120 columns
	for _, paper := range []Paper{Paper58, Paper80} {
		s := Slip{Paper: paper, Lines: []Line{{Text: long, Align: Center}, {Text: long, Value: "12.50 元"}, {Text: "x" + long, Double: true}}}
		p := parseESCPOS(t, s.Bytes())
		var joined string
		for _, l := range p.lines {
			if l.cols > paper.Columns() {
				t.Errorf("%s: %d columns: %q", paper, l.cols, l.text)
			}
			joined += strings.TrimSpace(l.text)
		}
		if !strings.Contains(joined, long+"12.50 元x"+long) {
			t.Errorf("%s: wrapping lost text: %q", paper, joined)
		}
	}
}

// A store name with printer commands in it (it comes from the bank) must
// not reach the printer as commands.
func TestControlCharactersNeverReachThePrinter(t *testing.T) {
	p := samplePayment()
	p.Store = "Evil\x1b@\x1dV\x42\x00\x1b\x45\x01Shop\n2nd"
	p.TransactionID = "42\x1bE\x01"
	pr := parseESCPOS(t, PaymentSlip(p, Options{}).Bytes())
	if pr.inits != 1 || pr.cuts != 1 {
		t.Fatalf("inits %d cuts %d", pr.inits, pr.cuts)
	}
	pr.find(t, "Evil@VBEShop 2nd")
	if l := pr.find(t, "Evil"); !l.bold {
		t.Error("the store line lost its bold")
	}
}

func TestCharactersGBKLacksPrintAsQuestionMark(t *testing.T) {
	s := Slip{Lines: []Line{{Text: "店😀名 ¥"}}}
	p := parseESCPOS(t, s.Bytes())
	if p.lines[0].text != "店?名 ?" || s.Preview()[0] != "店?名 ?" {
		t.Fatalf("printed %q, previewed %q", p.lines[0].text, s.Preview()[0])
	}
}

func TestBigAmountStillFits(t *testing.T) {
	p := samplePayment()
	p.Amount = money.Max
	for _, paper := range []Paper{Paper58, Paper80} {
		pr := parseESCPOS(t, PaymentSlip(p, Options{Paper: paper}).Bytes())
		l := pr.find(t, "1,000,000.00")
		if l.cols > paper.Columns() || !l.double || !l.bold {
			t.Errorf("%s: %+v", paper, l)
		}
	}
}

func TestEnumRoundTrips(t *testing.T) {
	for _, p := range []Paper{Paper80, Paper58} {
		if got, err := ParsePaper(p.String()); err != nil || got != p {
			t.Errorf("paper %v: %v %v", p, got, err)
		}
	}
	if p, err := ParsePaper("58"); err != nil || p != Paper58 {
		t.Error("58")
	}
	if _, err := ParsePaper("76mm"); err == nil {
		t.Error("76mm accepted")
	}
	for _, l := range []Lang{Chinese, English} {
		if got, err := ParseLang(l.String()); err != nil || got != l {
			t.Errorf("lang %v: %v %v", l, got, err)
		}
	}
	if _, err := ParseLang("fr"); err == nil {
		t.Error("fr accepted")
	}
}

func BenchmarkShiftSlipBytes80(b *testing.B) {
	s := sampleShift()
	for b.Loop() {
		_ = ShiftSlip(s, Options{Paper: Paper80}).Bytes()
	}
}

func BenchmarkPaymentSlipPreview58(b *testing.B) {
	p := samplePayment()
	for b.Loop() {
		_ = PaymentSlip(p, Options{Paper: Paper58}).Preview()
	}
}
