package voice

import (
	"io/fs"
	"testing"

	"github.com/scanbox/scanbox/assets"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
)

func TestAmountReading(t *testing.T) {
	cases := []struct {
		amount string
		want   string
	}{
		{"0.01", "零点零一元"},
		{"0.05", "零点零五元"},
		{"0.10", "零点一元"},
		{"0.5", "零点五元"},
		{"0.99", "零点九九元"},
		{"1", "一元"},
		{"1.01", "一点零一元"},
		{"2", "二元"},
		{"9.9", "九点九元"},
		{"10", "十元"},
		{"10.00", "十元"},
		{"10.5", "十点五元"},
		{"10.05", "十点零五元"},
		{"11", "十一元"},
		{"15.8", "十五点八元"},
		{"19.99", "十九点九九元"},
		{"20", "二十元"},
		{"21", "二十一元"},
		{"99", "九十九元"},
		{"100", "一百元"},
		{"100.05", "一百点零五元"},
		{"101", "一百零一元"},
		{"110", "一百一十元"},
		{"111", "一百一十一元"},
		{"120.30", "一百二十点三元"},
		{"999", "九百九十九元"},
		{"1000", "一千元"},
		{"1001", "一千零一元"},
		{"1005", "一千零五元"},
		{"1005.00", "一千零五元"},
		{"1010", "一千零一十元"},
		{"1100", "一千一百元"},
		{"1234.50", "一千二百三十四点五元"},
		{"2008", "二千零八元"},
		{"9999.99", "九千九百九十九点九九元"},
		{"10000", "一万元"},
		{"10001", "一万零一元"},
		{"10010", "一万零一十元"},
		{"10100", "一万零一百元"},
		{"11000", "一万一千元"},
		{"12345.67", "一万二千三百四十五点六七元"},
		{"20000.20", "二万点二元"},
		{"100000", "十万元"},
		{"100000.10", "十万点一元"},
		{"100001", "十万零一元"},
		{"110000", "十一万元"},
		{"105000", "十万五千元"},
		{"150000", "十五万元"},
		{"999999.99", "九十九万九千九百九十九点九九元"},
		{"1000000", "一百万元"},
		{"1000000.00", "一百万元"},
	}
	for _, c := range cases {
		f, err := money.Parse(c.amount)
		if err != nil {
			t.Fatalf("money.Parse(%q): %v", c.amount, err)
		}
		if got := Text(AmountClips(f)); got != c.want {
			t.Errorf("%s: got %s, want %s", c.amount, got, c.want)
		}
	}
}

// The reading above 1,000,000 yuan is never needed for money.Max, but the
// grouping must stay right if the limit is raised.
func TestAmountReadingLarge(t *testing.T) {
	cases := []struct {
		yuan int64
		want string
	}{
		{12_345_678, "一千二百三十四万五千六百七十八元"},
		{20_000_500, "二千万零五百元"},
		{100_000_000, "一亿元"},
		{100_000_001, "一亿零一元"},
		{110_000_000, "一亿一千万元"},
		{1_000_010_000, "十亿零一万元"},
		{1_010_101, "一百零一万零一百零一元"},
	}
	for _, c := range cases {
		if got := Text(AmountClips(money.Fen(c.yuan * 100))); got != c.want {
			t.Errorf("%d: got %s, want %s", c.yuan, got, c.want)
		}
	}
}

func TestSentenceClips(t *testing.T) {
	amt := money.Fen(123450)
	cases := []struct {
		name string
		o    order.Order
		want []string
	}{
		{"paid wechat", order.Order{State: order.StatePaid, Channel: order.ChannelWeChat, AmountFen: amt},
			[]string{"wechat", "received", "digit_1", "thousand", "digit_2", "hundred", "digit_3", "ten", "digit_4", "point", "digit_5", "yuan"}},
		{"paid guess only", order.Order{State: order.StatePaid, Guess: order.ChannelAlipay, AmountFen: 1000},
			[]string{"alipay", "received", "ten", "yuan"}},
		{"bank channel wins", order.Order{State: order.StatePaid, Guess: order.ChannelAlipay, Channel: order.ChannelUnionPay, AmountFen: 5},
			[]string{"unionpay", "received", "digit_0", "point", "digit_0", "digit_5", "yuan"}},
		{"paid unknown wallet", order.Order{State: order.StatePaid, Channel: order.ChannelOther, AmountFen: 100500},
			[]string{"paid_ok", "digit_1", "thousand", "digit_0", "digit_5", "yuan"}},
		{"ecny", order.Order{State: order.StatePaid, Channel: order.ChannelECNY, AmountFen: 1},
			[]string{"ecny", "received", "digit_0", "point", "digit_0", "digit_1", "yuan"}},
		{"waiting", order.Order{State: order.StateWaiting}, []string{"enter_password"}},
		{"failed", order.Order{State: order.StateFailed}, []string{"pay_failed"}},
		{"revoked", order.Order{State: order.StateRevoked}, []string{"revoked"}},
		{"cancelled", order.Order{State: order.StateClosed, Cancelled: true}, []string{"cancelled"}},
		{"deadline closed", order.Order{State: order.StateClosed}, []string{"pay_failed"}},
		{"pending is silent", order.Order{State: order.StatePending}, nil},
		{"unknown is silent", order.Order{State: order.StateUnknown}, nil},
		{"closing is silent", order.Order{State: order.StateClosing}, nil},
	}
	for _, c := range cases {
		got := Sentence(c.o)
		if len(got) != len(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: got %v, want %v", c.name, got, c.want)
				break
			}
		}
	}
	if got := Text(Sentence(order.Order{State: order.StatePaid, Channel: order.ChannelWeChat, AmountFen: amt})); got != "微信收款一千二百三十四点五元" {
		t.Errorf("text = %s", got)
	}
}

// Every clip a sentence can use must ship, as a mono PCM WAV at a low rate.
func TestBuiltinClips(t *testing.T) {
	total := 0
	for _, name := range AllClips() {
		b, err := fs.ReadFile(assets.Voice(), name+".wav")
		if err != nil {
			t.Errorf("clip %s: %v", name, err)
			continue
		}
		total += len(b)
		p, err := parseWAV(b)
		if err != nil {
			t.Errorf("clip %s: %v", name, err)
			continue
		}
		if p.channels != 1 || p.rate > 16000 || p.bits != 16 {
			t.Errorf("clip %s: %d ch %d Hz %d bit, want mono ≤16 kHz 16-bit", name, p.channels, p.rate, p.bits)
		}
		if d := duration([]*pcm{p}); d < 100 || d > 3000 {
			t.Errorf("clip %s lasts %d ms", name, d)
		}
		if _, ok := clipText[name]; !ok {
			t.Errorf("clip %s has no text", name)
		}
	}
	if total > 600_000 {
		t.Errorf("clips take %d bytes; keep the committed assets small", total)
	}
}
