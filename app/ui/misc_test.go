package ui

import (
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/go-text/typesetting/font"

	"github.com/scanbox/scanbox/assets"
	"github.com/scanbox/scanbox/msg"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/scan"
)

// Every key used in the code exists, and every entry has both languages.
func TestCatalogComplete(t *testing.T) {
	for k, v := range catalog {
		if k != "wallet." && (v[0] == "" || v[1] == "") {
			t.Errorf("%s: empty translation %q", k, v)
		}
	}
	files, _ := filepath.Glob("*.go")
	use := regexp.MustCompile(`\bTf?\("([a-z_.A-Z]+)"[,)]`)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range use.FindAllStringSubmatch(string(src), -1) {
			if _, ok := catalog[m[1]]; !ok {
				t.Errorf("%s uses missing key %q", f, m[1])
			}
		}
	}
	for _, s := range []order.State{order.StatePending, order.StateWaiting, order.StateClosing, order.StateUnknown,
		order.StatePaid, order.StateFailed, order.StateClosed, order.StateRevoked} {
		if _, ok := catalog["state."+s.String()]; !ok {
			t.Errorf("no name for state %s", s)
		}
	}
	for _, s := range DemoSamples {
		if _, ok := catalog[s.Key]; !ok {
			t.Errorf("no text for demo %s", s.Key)
		}
	}
}

// The embedded font must have a glyph for every character the UI shows:
// a missing one would be a box on a Windows PC without a CJK font.
func TestFontCoversCatalog(t *testing.T) {
	faces, err := font.ParseTTF(bytesReader(assets.FontCJK()))
	if err != nil {
		t.Fatal(err)
	}
	missing := map[rune]bool{}
	texts := [][2]string{}
	for _, v := range catalog {
		texts = append(texts, v)
	}
	for _, m := range msg.All(msg.ZH) {
		texts = append(texts, [2]string{m})
	}
	for _, v := range texts {
		for _, s := range v {
			for _, r := range s {
				if r == '\n' {
					continue
				}
				if _, ok := faces.NominalGlyph(r); !ok {
					missing[r] = true
				}
			}
		}
	}
	for r := range missing {
		t.Errorf("font has no glyph for %q (U+%04X)", r, r)
	}
	if n := len(assets.FontCJK()); n > 2_000_000 {
		t.Errorf("font is %d bytes; keep it small", n)
	}
}

func TestLanguageSwitch(t *testing.T) {
	defer SetLanguage(Chinese)
	for _, c := range []struct {
		in   string
		want Language
	}{{"zh-CN", Chinese}, {"en", English}, {"en-US", English}, {"", Chinese}, {"fr", Chinese}} {
		if got := ParseLanguage(c.in); got != c.want {
			t.Errorf("ParseLanguage(%q) = %v", c.in, got)
		}
	}
	SetLanguage(English)
	if T("menu.pay") != "Collect payment" {
		t.Error(T("menu.pay"))
	}
	SetLanguage(Chinese)
	if T("menu.pay") != "收款" {
		t.Error(T("menu.pay"))
	}
}

func TestTrayState(t *testing.T) {
	cases := []struct {
		st   Status
		want TrayState
	}{
		{Status{Activated: true}, TrayReady},
		{Status{Activated: true, Waiting: 1}, TrayWaiting},
		{Status{Activated: true, Waiting: 1, Unresolved: 1}, TrayAttention},
		{Status{Activated: true, SourceErr: "serial port gone"}, TrayAttention},
		{Status{Activated: true, Offline: true}, TrayOffline},
		{Status{Activated: true, Offline: true, Unresolved: 2}, TrayAttention},
		{Status{}, TrayOffline},
	}
	for _, c := range cases {
		if got := StateOf(c.st); got != c.want {
			t.Errorf("StateOf(%+v) = %v, want %v", c.st, got, c.want)
		}
	}
	for _, s := range []TrayState{TrayReady, TrayWaiting, TrayAttention, TrayOffline} {
		if assets.Icon(s.String()) == nil {
			t.Errorf("no icon for %v", s)
		}
	}
}

func TestMenuTable(t *testing.T) {
	var got []string
	rec := func(n string) func() { return func() { got = append(got, n) } }
	rows := MenuTable(Actions{Pay: rec("pay"), QR: rec("qr"), Orders: rec("orders"), Logs: rec("logs"),
		Settings: rec("settings"), About: rec("about"), Quit: rec("quit"),
		Today: rec("today"), Shift: rec("shift"), Reconcile: rec("reconcile")})
	m := BuildMenu(rows, TrayAttention)
	var labels []string
	for _, it := range m.Items {
		if it.IsSeparator {
			continue
		}
		labels = append(labels, it.Label)
		if it.Action != nil {
			it.Action()
		}
	}
	want := []string{"扫码收款 · 需要处理", "收款", "顾客扫码（动态码）", "最近订单", "今日汇总", "交接班", "对账", "日志", "设置", "关于", "退出"}
	if len(labels) != len(want) {
		t.Fatalf("menu %v", labels)
	}
	for i := range want {
		if labels[i] != want[i] {
			t.Errorf("item %d = %q, want %q", i, labels[i], want[i])
		}
	}
	if len(got) != 10 || got[0] != "pay" || got[3] != "today" || got[5] != "reconcile" || got[9] != "quit" {
		t.Errorf("actions ran %v", got)
	}
	if !m.Items[len(m.Items)-1].IsQuit {
		t.Error("Quit is not marked as the quit item")
	}
}

func TestDemoSamples(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range DemoSamples {
		code := s.Code(r)
		ch, err := scan.Recognize(code)
		if err != nil || ch != s.Wallet || code[len(code)-1] != s.Last {
			t.Errorf("%s: %s → %v %v", s.Key, code, ch, err)
		}
		if s.Code(r) == code {
			t.Errorf("%s: the same code twice", s.Key)
		}
	}
	env, f, _ := newTestEnv(t)
	p := NewPayWindow(env)
	var scanned []string
	p.SetExtra(NewDemoPanel(r, func(c string) { scanned = append(scanned, c); emit(f.scanSubs, c) }))
	p.Show()
	test.Type(p.amountEntry, "3")
	btn := findButton(p.win.Content(), "扫码")
	if btn == nil {
		t.Fatal("no Scan button in the demo panel")
	}
	test.Tap(btn)
	if len(f.orders) != 1 || f.orders[0].Guess != order.ChannelWeChat || len(scanned) != 1 {
		t.Errorf("orders %+v", f.orders)
	}
}

func TestQRWindowFlow(t *testing.T) {
	env, f, clk := newTestEnv(t)
	f.status = Status{Activated: true, MerchantName: "演示商户", StoreName: "一号店", StaticQR: "https://qr.example/s/1"}
	f.settings.MchID, f.settings.TerminalID = "100000001", "T0001"
	w := NewQRWindow(env)
	w.Show()
	test.Type(w.amount, "66")
	test.Tap(w.makeBtn)
	if len(f.orders) != 1 || f.orders[0].Kind != order.KindPrecreate || f.orders[0].AmountFen != 6600 {
		t.Fatalf("orders %+v", f.orders)
	}
	if !w.img.Visible() || w.status.Text() != "请顾客扫描此二维码" || w.cancelBtn.Disabled() {
		t.Errorf("img %v status %q", w.img.Visible(), w.status.Text())
	}
	f.update(f.orders[0].OutTradeNo, func(o *order.Order) { o.Deadline = clk.now.Add(90 * time.Second) })
	if w.countdown.Text != "剩余 90 秒" {
		t.Errorf("countdown %q", w.countdown.Text)
	}
	test.Tap(w.cancelBtn)
	if len(f.cancelled) != 1 {
		t.Fatal("Cancel did not cancel")
	}
	f.update(f.orders[0].OutTradeNo, func(o *order.Order) { o.State = order.StateClosed; o.Cancelled = true })
	if w.status.Text() != "已取消" || w.img.Visible() {
		t.Errorf("status %q img %v", w.status.Text(), w.img.Visible())
	}
	if !findText(staticQR(f.status), "静态码每位顾客每日限额 500 元") {
		t.Error("the static QR has no limit label")
	}
	about := NewAboutWindow(env)
	if !findText(about.Content(), "演示商户 · 一号店") {
		t.Error("About does not show the merchant")
	}
	// Issue 11 item 12: About shows the merchant and terminal numbers.
	if !findText(about.Content(), "商户号 100000001 · 终端号 T0001") {
		t.Error("About does not show 商户号 and 终端号")
	}
}

func findButton(o fyne.CanvasObject, label string) *widget.Button {
	_, b := buttonIn(o, label)
	return b
}

// Issue 11 item 14: the focus shows on the blue buttons (fyne's pale blue
// tint does not), and log lines carry the date.
func TestFocusVisibleAndLogDate(t *testing.T) {
	th := NewTheme()
	focus := th.Color(theme.ColorNameFocus, theme.VariantLight)
	if focus == theme.DefaultTheme().Color(theme.ColorNameFocus, theme.VariantLight) {
		t.Error("the focus colour is fyne's default tint")
	}
	if r, g, b, a := focus.RGBA(); a == 0 || r > 0x4000 || g > 0x4000 || b > 0x4000 {
		t.Errorf("focus colour %v does not darken the blue buttons", focus)
	}
	l := LogLine{Time: time.Date(2026, 12, 1, 9, 5, 7, 0, time.Local), Level: slog.LevelInfo, Text: "x"}
	if got := formatLog(l); !strings.HasPrefix(got, "12-01 09:05:07.000") {
		t.Errorf("log line %q has no date", got)
	}
}
