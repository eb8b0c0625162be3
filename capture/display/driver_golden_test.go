package display

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Golden captures of the framings real POS display drivers write. Each
// generator below writes the bytes the driver writes for a message, as
// described (with the source) in testdata/README.md; the scenarios then
// ring up sales with them. Unit prices, paid and change amounts are kept
// different from every total, so that a total list cannot pass by chance
// and the sweep test (TestAutoNeverReportsNonTotals) can tell them apart.

// msg is what a POS asks a pole to show: the kinds the drivers switch on.
type msgKind int

const (
	msgWelcome msgKind = iota
	msgPrice
	msgTotal
	msgPay
	msgChange
)

// ledDriver writes one message the way a pole's driver does.
type ledDriver func(c *captureBuilder, k msgKind, amount string)

// ledShow writes a message and records what it is.
func ledShow(c *captureBuilder, d ledDriver, k msgKind, amount string) {
	d(c, k, amount)
	switch k {
	case msgTotal:
		c.total(amount)
	case msgPrice, msgPay, msgChange:
		c.other(amount)
	}
}

// partnerCD7111: clear, then ESC s n 0x01 (1 thank-you, 2 price, 3 total,
// 4 pay, 5 change), then ESC Q A text CR; the welcome's text is the
// message itself.
func partnerCD7111(c *captureBuilder, k msgKind, amount string) {
	c.raw(ff, esc, 's', byte(k)+1, 0x01)
	if k == msgWelcome {
		amount = "Welcome"
	}
	c.raw("\x1bQA" + amount + "\r")
}

// wintecCD110: ESC s 0x01..0x04 (price, total, pay, change); the welcome
// clears and lights the thank-you lamp with US P 0x01, then writes its text.
func wintecCD110(c *captureBuilder, k msgKind, amount string) {
	if k == msgWelcome {
		c.raw(ff, us, 'P', 0x01)
		amount = "Welcome"
	} else {
		c.raw(esc, 's', byte(k))
	}
	c.raw("\x1bQA" + amount + "\r")
}

// hisenseVC110A: ESC s '1'..'4' (ASCII), then ESC Q A text CR; the welcome
// writes nothing.
func hisenseVC110A(c *captureBuilder, k msgKind, amount string) {
	if k == msgWelcome {
		return
	}
	c.raw(esc, 's', '0'+byte(k), "\x1bQA"+amount+"\r")
}

// citaqPD6108: ESC s '1'..'4'; the welcome writes ESC Q A 0.00 CR and then
// its text, under whatever lamp was lit last.
func citaqPD6108(c *captureBuilder, k msgKind, amount string) {
	if k == msgWelcome {
		c.raw("\x1bQA0.00\r")
		amount = "Welcome"
	} else {
		c.raw(esc, 's', '0'+byte(k))
	}
	c.raw("\x1bQA" + amount + "\r")
}

// ejetonVFD8C: the lamp is one bare byte '1'..'4', then ESC Q A text CR;
// the welcome writes nothing.
func ejetonVFD8C(c *captureBuilder, k msgKind, amount string) {
	if k == msgWelcome {
		return
	}
	c.raw('0'+byte(k), "\x1bQA"+amount+"\r")
}

// ledSales rings up the same three sales on any LED-8 driver: running
// totals, a refresh, cash and change, and a next sale with the same total.
func ledSales(seed uint64, d ledDriver, init string) func() *captureBuilder {
	return func() *captureBuilder {
		c := newCapture(seed, led8Noise)
		c.raw(init)
		ledShow(c, d, msgWelcome, "")
		ledShow(c, d, msgPrice, "2.50")
		ledShow(c, d, msgTotal, "7.50")
		ledShow(c, d, msgPrice, "4.00")
		ledShow(c, d, msgTotal, "11.50")
		d(c, msgTotal, "11.50") // a refresh: nothing new
		ledShow(c, d, msgPay, "20.00")
		ledShow(c, d, msgChange, "8.50")
		ledShow(c, d, msgWelcome, "")
		// Sale 2: the same total again, reported because sale 1 ended.
		ledShow(c, d, msgPrice, "11.00")
		ledShow(c, d, msgTotal, "11.50")
		ledShow(c, d, msgPay, "50.00")
		ledShow(c, d, msgChange, "38.50")
		// Sale 3: a larger total, then the welcome again.
		ledShow(c, d, msgPrice, "99.90")
		ledShow(c, d, msgTotal, "1234.50")
		ledShow(c, d, msgWelcome, "")
		return c
	}
}

// gb18030 encodes s as an Electron POS library does (TextEncoder-style
// gb18030, where ¥ U+00A5 is the four bytes 81 30 84 36).
func gb18030(s string) string {
	b, err := simplifiedchinese.GB18030.NewEncoder().String(s)
	if err != nil {
		panic(err)
	}
	return b
}

// padStart pads s on the left to n characters, counting characters as a
// JavaScript string does (¥ is one, whatever its bytes).
func padStart(s string, n int) string {
	return strings.Repeat(" ", max(0, n-len([]rune(s)))) + s
}

func padEnd(s string, n int) string {
	return s + strings.Repeat(" ", max(0, n-len([]rune(s))))
}

// wincorAt is the Wincor I8 driver's displayAt: ESC [ row+1 ; col H and the
// message, without a terminator (col is sent as given, 0-based).
func wincorAt(row, col int, msg string) string {
	return fmt.Sprintf("\x1b[%d;%dH%s", row+1, col, gbk(msg))
}

// ibmLine writes one full 20-cell line at cell 0 or 20 with DLE n, as a
// Logic Controls-style driver flushes a changed line.
func ibmLine(row int, text string) []byte {
	return append([]byte{dle, byte(row * 20)}, padEnd(text, 20)...)
}

// aedexBoth is AEDEX "write both lines" with the two-space attention code.
func aedexBoth(top, bottom string) string {
	return "  9" + padEnd(top, 20) + padEnd(bottom, 20) + "\r"
}

var driverScenarios = []scenario{
	{name: "partner_cd7111", profile: ProfilePartner, family: ProfileLED8, autoTry: []Profile{ProfilePartner, ProfileLED8},
		build: ledSales(11, partnerCD7111, "\x1b@")},
	{name: "wintec_cd110", profile: ProfileWintec, family: ProfileLED8, build: ledSales(12, wintecCD110, "\x1b@")},
	{name: "hisense_vc110a", profile: ProfileHisense, family: ProfileLED8, build: ledSales(13, hisenseVC110A, "\x1b@")},
	{name: "citaq_pd6108", profile: ProfileCitaq, family: ProfileLED8, build: ledSales(14, citaqPD6108, "\x1b@\x0c")},
	{name: "ejeton_vfd8c", profile: ProfileEjeton, family: ProfileLED8, autoTry: []Profile{ProfileEjeton, ProfileLED8},
		build: ledSales(15, ejetonVFD8C, "")},
	{name: "wincor_ba63", profile: ProfileWincor, build: func() *captureBuilder {
		c := newCapture(16, nil)
		clear := "\x1b[2J"
		c.raw(clear, wincorAt(0, 0, "欢迎光临"))
		c.raw(clear, wincorAt(0, 0, "可乐          3.50"), wincorAt(1, 0, "合计          3.50")).other("3.50")
		// The total counts once the POS moves on (here: the next screen).
		c.raw(clear).total("3.50")
		c.raw(wincorAt(0, 0, "薯片          5.25"), wincorAt(1, 0, "合计          8.75")).other("5.25")
		c.raw(clear).total("8.75")
		c.raw(wincorAt(0, 0, "实收         20.00"), wincorAt(1, 0, "找零         11.25")).other("20.00", "11.25")
		c.raw(clear, wincorAt(0, 0, "欢迎光临"))
		// Sale 2: the same total after the sale ended, amount drawn apart
		// from its label with a cursor move, then a larger one.
		c.raw(clear, wincorAt(1, 0, "应付"), wincorAt(1, 14, "8.75"), wincorAt(0, 0, "")).total("8.75")
		c.raw(clear, wincorAt(0, 0, "单价         66.00"), wincorAt(1, 0, "应付        132.00")).other("66.00")
		c.total("132.00") // read when the line goes quiet
		return c
	}},
	{name: "ibm_surepos", profile: ProfileIBM, build: func() *captureBuilder {
		c := newCapture(17, nil)
		c.raw(0x00, 0x01) // mode select
		c.raw(ibmLine(0, "WELCOME"), ibmLine(1, ""))
		c.raw(ibmLine(0, "Cola            3.50"), ibmLine(1, "TOTAL           3.50"), ibmLine(0, "Cola            3.50")).other("3.50").total("3.50")
		c.raw(ibmLine(0, "Chips           6.00"), ibmLine(1, "TOTAL           9.50"), ibmLine(0, "Chips           6.00")).other("6.00").total("9.50")
		c.raw(ibmLine(0, "CASH           20.00"), ibmLine(1, "CHANGE         10.50"), ibmLine(0, "")).other("20.00", "10.50")
		c.raw(ibmLine(0, "TOTAL           9.50"), ibmLine(1, "")).total("9.50")
		c.raw(0x04, 0xff) // brightness: its parameter is not text
		c.raw(ibmLine(0, "PRICE          12.00"), ibmLine(1, "TOTAL          21.50")).other("12.00")
		c.total("21.50") // read when the line goes quiet
		return c
	}},
	{name: "electron_gb18030", profile: ProfileEpson, family: ProfileESCPOS, build: func() *captureBuilder {
		c := newCapture(18, nil)
		line := func(row int, s string) []byte {
			return append([]byte{us, '$', 1, byte(row)}, gb18030(s)...)
		}
		screen := func(top, bottom string) { c.raw(ff, line(1, top), line(2, bottom)) }
		c.raw("\x1b@", "\x1b=\x02")
		screen(padEnd("欢迎光临", 20), "")
		screen(padEnd("可乐", 14)+padStart("¥3.50", 6), "")
		c.other("3.50")
		// The total: 合计 alone on the top line, the amount alone below it,
		// right-aligned by character count (¥ is four bytes).
		screen(padEnd("合计", 20), padStart("¥28.50", 20))
		c.total("28.50")
		screen(padEnd("实收", 20), padStart("¥50.00", 20))
		screen(padEnd("找零", 20), padStart("¥21.50", 20))
		c.other("50.00", "21.50")
		screen(padEnd("合计", 20), padStart("¥28.50", 20))
		c.total("28.50")
		screen(padEnd("单价", 20), padStart("¥7.00", 20))
		c.other("7.00")
		screen(padEnd("合计", 20), padStart("¥1,035.50", 20))
		c.total("1035.50")
		return c
	}},
	{name: "aedex", profile: ProfileAEDEX, build: func() *captureBuilder {
		c := newCapture(19, nil)
		c.raw("!#8  \r", aedexBoth("", "")) // LCDproc's init: attention code "  ", clear
		c.raw(aedexBoth("Cola            3.50", "TOTAL           3.50")).other("3.50").total("3.50")
		c.raw(aedexBoth("Chips           2.25", "TOTAL           5.75")).other("2.25").total("5.75")
		c.raw("  1" + padEnd("CASH           10.00", 20) + "\r").other("10.00")
		c.raw("  2" + padEnd("CHANGE          4.25", 20) + "\r").other("4.25")
		c.raw(aedexBoth("THANK YOU", ""))
		c.raw(aedexBoth("", "TOTAL           5.75")).total("5.75")
		return c
	}},
}

// TestAutoNeverReportsNonTotals sweeps every golden capture under auto
// detection at every chunk size: what auto reports is exactly the
// capture's totals or, for a dialect it cannot tell apart, nothing; never
// a unit price, paid or change amount.
func TestAutoNeverReportsNonTotals(t *testing.T) {
	for _, sc := range allScenarios() {
		c := sc.build()
		notTotal := map[string]bool{}
		for _, o := range c.others {
			if !slices.Contains(c.want, o) {
				notTotal[o] = true
			}
		}
		for _, n := range []int{1, 2, 3, 7, 0} {
			p, _ := NewParser(ProfileAuto, 20)
			got := feedChunks(p, c.buf.Bytes(), n)
			for _, g := range got {
				if notTotal[g] {
					t.Errorf("%s under auto, chunks of %d: reported %s, which the display showed as a unit price, paid or change amount", sc.name, n, g)
				}
			}
			if len(got) > 0 && !slices.Equal(got, c.want) {
				t.Errorf("%s under auto, chunks of %d: %v, want %v or nothing", sc.name, n, got, c.want)
			}
		}
	}
	// The sweep is only worth something if the new captures do show such
	// amounts.
	for _, sc := range driverScenarios {
		if len(sc.build().others) == 0 {
			t.Errorf("%s shows no unit price, paid or change amount", sc.name)
		}
	}
}

// TestLEDDialectsDisagree shows why auto must not guess: the same Partner
// bytes read with the common LED-8 dialect report the unit prices, and the
// common dialect's captures read as Partner report paid amounts or
// nothing. Each capture reads right only with its own profile.
func TestLEDDialectsDisagree(t *testing.T) {
	byName := map[string]*captureBuilder{}
	for _, sc := range driverScenarios {
		byName[sc.name] = sc.build()
	}
	amounts := func(p Profile, data []byte) []string {
		ev, err := Totals(p, 20, data)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range ev {
			out = append(out, e.Amount.String())
		}
		return out
	}
	partner := byName["partner_cd7111"]
	if got := amounts(ProfileLED8, partner.buf.Bytes()); !slices.Equal(got, []string{"2.50", "4.00", "11.00", "99.90"}) {
		t.Errorf("partner capture as led8 = %v: expected the unit prices (the wrong amounts auto must avoid)", got)
	}
	if got := amounts(ProfilePartner, partner.buf.Bytes()); !slices.Equal(got, partner.want) {
		t.Errorf("partner capture as partner = %v, want %v", got, partner.want)
	}
	wintec := byName["wintec_cd110"]
	if got := amounts(ProfilePartner, wintec.buf.Bytes()); slices.Equal(got, wintec.want) {
		t.Errorf("wintec capture reads the same as partner: the dialects would not disagree")
	}
	ejeton := byName["ejeton_vfd8c"]
	if got := amounts(ProfileLED8, ejeton.buf.Bytes()); len(got) != 0 {
		t.Errorf("ejeton capture as led8 = %v: a number without a lamp must not be reported", got)
	}
}

// TestGB18030CellWidth: an amount padded to 20 characters with a four-byte
// ¥ stays on its line (it used to wrap onto the label's line and erase it).
func TestGB18030CellWidth(t *testing.T) {
	data := append([]byte{us, '$', 1, 1}, gb18030(padEnd("合计", 20))...)
	data = append(data, us, '$', 1, 2)
	data = append(data, gb18030(padStart("¥28.50", 20))...)
	p := newScreen(dialectESCPOS, 20, ProfileEpson)
	var got []Event
	p.Feed(data, func(e Event) { got = append(got, e) })
	p.Flush(func(e Event) { got = append(got, e) })
	if len(got) != 1 || got[0].Amount != 2850 {
		t.Fatalf("events %+v; lines %q / %q", got, decodeLine(p.lines[0]), decodeLine(p.lines[1]))
	}
	if l := decodeLine(p.lines[1]); l != padStart("¥28.50", 20) {
		t.Errorf("bottom line %q", l)
	}
	// A cursor move counts cells, not bytes: overwrite the 3rd cell after ¥.
	q := newScreen(dialectESCPOS, 20, ProfileEpson)
	q.Feed([]byte(gb18030("¥12.00")), func(Event) {})
	q.Feed([]byte{us, '$', 2, 1, '9'}, func(Event) {})
	if l := decodeLine(q.lines[0]); l != "¥92.00" {
		t.Errorf("after a cursor move: %q", l)
	}
}
