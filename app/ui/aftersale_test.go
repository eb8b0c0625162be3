package ui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/receipt"
	"github.com/scanbox/scanbox/store"
)

type fakeToday struct {
	sum  DaySummary
	err  error
	days []time.Time
}

func (f *fakeToday) Summary(day time.Time) (DaySummary, error) {
	f.days = append(f.days, day)
	return f.sum, f.err
}

func labelsOf(c *fyne.Container) []string {
	var out []string
	for _, o := range c.Objects {
		out = append(out, o.(*widget.Label).Text)
	}
	return out
}

func TestTodayTotalsAndBars(t *testing.T) {
	env, _, _ := newTestEnv(t)
	var hourly [24]money.Fen
	hourly[9] = 10000 // the peak: 100.00
	hourly[12] = 5000 // half of it
	hourly[18] = 2500 // a quarter
	f := &fakeToday{sum: DaySummary{
		Channels: []ChannelSum{
			{Channel: "ALIPAY", PaidCount: 2, Paid: 5000, Net: 5000},
			{Channel: "WECHAT", PaidCount: 3, Paid: 12500, RefundCount: 1, Refunded: 1250, Net: 11250},
		},
		Total:  ChannelSum{PaidCount: 5, Paid: 17500, RefundCount: 1, Refunded: 1250, Net: 16250, Unresolved: 1},
		Hourly: hourly,
	}}
	w := NewTodayWindow(env, f)
	w.Window().Resize(fyne.NewSize(640, 560))
	w.Show()
	got := labelsOf(w.table)
	want := []string{"钱包", "笔数", "收款", "退款", "净收",
		"支付宝", "2", "50.00", "0.00", "50.00",
		"微信支付", "3", "125.00", "12.50", "112.50",
		"合计", "5", "175.00", "12.50", "162.50"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("table\n got %q\nwant %q", got, want)
	}
	if w.notes.Text != "1 笔订单或退款尚未确定，合计可能变化。" {
		t.Errorf("notes %q", w.notes.Text)
	}
	if w.peak.Text != "最高 100.00 元 (09 点)" {
		t.Errorf("peak %q", w.peak.Text)
	}
	if w.heading.Text != "2026-11-26 收款汇总" {
		t.Errorf("heading %q", w.heading.Text)
	}
	h := w.Chart().BarHeights()
	if h[9] <= 50 {
		t.Fatalf("peak bar %v is not drawn tall (chart %v)", h[9], w.Chart().Size())
	}
	near := func(a, b float32) bool { return a-b < 0.5 && b-a < 0.5 }
	if !near(h[12], h[9]/2) || !near(h[18], h[9]/4) {
		t.Errorf("bars 9/12/18 = %v/%v/%v, want 4:2:1", h[9], h[12], h[18])
	}
	for i, v := range h {
		if i != 9 && i != 12 && i != 18 && v != 0 {
			t.Errorf("hour %d without takings has a bar of %v", i, v)
		}
	}
	// Bigger window, bars scale with it.
	w.Window().Resize(fyne.NewSize(800, 760))
	if h2 := w.Chart().BarHeights(); h2[9] <= h[9] || !near(h2[12], h2[9]/2) {
		t.Errorf("after resize bars %v/%v (before %v)", h2[9], h2[12], h[9])
	}
	// A failing store is one sentence, not a table.
	f.err = store.ErrInvalid
	w.Reload()
	if len(w.table.Objects) != 0 || w.notes.Text == "" || strings.Contains(w.notes.Text, "store:") {
		t.Errorf("error shown as %q (%d cells)", w.notes.Text, len(w.table.Objects))
	}
}

func TestTodayEmptyDayEnglish(t *testing.T) {
	env, _, _ := newTestEnv(t)
	SetLanguage(English)
	defer SetLanguage(Chinese)
	w := NewTodayWindow(env, &fakeToday{})
	w.Show()
	if w.notes.Text != "Nothing taken today yet." || w.peak.Text != "" {
		t.Errorf("notes %q peak %q", w.notes.Text, w.peak.Text)
	}
	for i, v := range w.Chart().BarHeights() {
		if v != 0 {
			t.Errorf("bar %d = %v on an empty day", i, v)
		}
	}
	if got := labelsOf(w.table); strings.Join(got, "|") != "Wallet|Orders|Paid|Refunded|Net|Total|0|0.00|0.00|0.00" {
		t.Errorf("table %q", got)
	}
}

type fakeShifts struct {
	open     *ShiftInfo
	kept     []ShiftInfo
	next     int64
	printErr error
	printed  []int64
	summary  DaySummary
}

func (f *fakeShifts) CurrentShift() (ShiftInfo, bool, error) {
	if f.open == nil {
		return ShiftInfo{}, false, nil
	}
	return *f.open, true, nil
}
func (f *fakeShifts) OpenShift(c string) (ShiftInfo, error) {
	if f.open != nil {
		return ShiftInfo{}, store.ErrShiftOpen
	}
	f.next++
	f.open = &ShiftInfo{ID: f.next, Cashier: c, OpenedAt: time.Date(2026, 11, 26, 8, 0, 0, 0, time.Local)}
	return *f.open, nil
}
func (f *fakeShifts) CloseShift() (ShiftInfo, error) {
	if f.open == nil {
		return ShiftInfo{}, store.ErrNoShift
	}
	sh := *f.open
	sh.ClosedAt = time.Date(2026, 11, 26, 16, 0, 0, 0, time.Local)
	sh.Summary = f.summary
	sh.Preview = receipt.ShiftSlip(receipt.Shift{ID: "1", Cashier: sh.Cashier, Opened: sh.OpenedAt, Closed: sh.ClosedAt,
		Printed: sh.ClosedAt}, receipt.Options{}).Preview()
	f.kept = append(f.kept, sh)
	f.open = nil
	return sh, nil
}
func (f *fakeShifts) PrintShift(id int64) error {
	f.printed = append(f.printed, id)
	return f.printErr
}

func TestShiftOpenClosePrint(t *testing.T) {
	env, _, _ := newTestEnv(t)
	f := &fakeShifts{printErr: &receipt.Error{Kind: receipt.ErrNoPrinter},
		summary: DaySummary{Channels: []ChannelSum{{Channel: "WECHAT", PaidCount: 2, Paid: 4000, Net: 4000}},
			Total: ChannelSum{PaidCount: 2, Paid: 4000, Net: 4000}}}
	w := NewShiftWindow(env, f)
	w.Show()
	if w.state.Text != "当前没有班次。输入收银员姓名开班。" || !w.openRow.Visible() || w.closeBtn.Visible() {
		t.Fatalf("no shift: %q open=%v close=%v", w.state.Text, w.openRow.Visible(), w.closeBtn.Visible())
	}
	// No name: nothing opened.
	test.Tap(w.openBtn)
	if w.message.Text != "请输入收银员姓名。" || f.open != nil {
		t.Errorf("empty name: %q, open %v", w.message.Text, f.open)
	}
	test.Type(w.cashier, "王芳")
	test.Tap(w.openBtn)
	if f.open == nil || f.open.Cashier != "王芳" {
		t.Fatalf("not opened: %+v", f.open)
	}
	if w.state.Text != "班次 1 · 收银员 王芳 · 11-26 08:00 开班" || w.openRow.Visible() || !w.closeBtn.Visible() {
		t.Errorf("open: %q", w.state.Text)
	}
	// A rebuilt window reads the open shift.
	if w2 := NewShiftWindow(env, f); !w2.isOpen || w2.current.Cashier != "王芳" {
		t.Errorf("a new window does not show the open shift")
	}
	test.Tap(w.closeBtn)
	if f.open != nil || len(f.kept) != 1 {
		t.Fatalf("not closed: %+v", f)
	}
	if w.state.Text != "班次 1 · 收银员 王芳 · 11-26 08:00 至 16:00（已交班，汇总已保存）" {
		t.Errorf("closed: %q", w.state.Text)
	}
	if w.summary.Text != "收款 2 笔 40.00 元 · 退款 0 笔 0.00 元 · 净收 40.00 元" {
		t.Errorf("summary %q", w.summary.Text)
	}
	if got := labelsOf(w.table); len(got) != 15 || got[5] != "微信支付" || got[7] != "40.00" {
		t.Errorf("table %q", got)
	}
	if got := strings.Join(w.preview.Lines(), "\n"); !strings.Contains(got, "王芳") || got != strings.Join(f.kept[0].Preview, "\n") || !w.prevHead.Visible() {
		t.Errorf("preview %q", got)
	}
	if !w.printBtn.Visible() {
		t.Fatal("no Print button after close")
	}
	test.Tap(w.printBtn)
	if len(f.printed) != 1 || f.printed[0] != 1 || w.message.Text != "设置中未配置小票打印机，未打印；收款不受影响。" {
		t.Errorf("print: %v %q", f.printed, w.message.Text)
	}
	f.printErr = nil
	test.Tap(w.printBtn)
	if w.message.Text != "已打印。" {
		t.Errorf("print ok: %q", w.message.Text)
	}
	// The next cashier opens a new shift from the same dialog.
	test.Type(w.cashier, "李雷")
	test.Tap(w.openBtn)
	if f.open == nil || f.open.ID != 2 || len(w.preview.Lines()) != 0 || w.prevHead.Visible() {
		t.Errorf("new shift: %+v preview %q", f.open, w.preview.Lines())
	}
	// Opening a second shift is refused in one sentence.
	f2 := &fakeShifts{}
	f2.OpenShift("甲")
	w3 := NewShiftWindow(env, f2)
	w3.isOpen = false
	w3.render()
	test.Type(w3.cashier, "乙")
	test.Tap(w3.openBtn)
	if w3.message.Text == "" || strings.Contains(w3.message.Text, "store:") {
		t.Errorf("second open: %q", w3.message.Text)
	}
}

type fakeReconcile struct {
	last   *ReconcileResult
	result ReconcileResult
	err    error
	days   []time.Time
}

func (f *fakeReconcile) LastReconcile() (ReconcileResult, bool) {
	if f.last == nil {
		return ReconcileResult{}, false
	}
	return *f.last, true
}
func (f *fakeReconcile) Reconcile(ctx context.Context, day time.Time) (ReconcileResult, error) {
	f.days = append(f.days, day)
	return f.result, f.err
}

func TestReconcileDifferences(t *testing.T) {
	env, _, _ := newTestEnv(t)
	f := &fakeReconcile{result: ReconcileResult{Date: "2026-11-25", BankLines: 4, JournalLines: 3, Diffs: []ReconcileDiff{
		{OutTradeNo: "SB1", Kind: "missing_in_journal", Bank: "SUCCESS 12.50"},
		{OutTradeNo: "SB2", Kind: "state", Bank: "REVOKED 30.00", Journal: "paid 30.00"},
	}}}
	w := NewReconcileWindow(env, f)
	w.Show()
	if w.verdict.Text != "还没有对账结果。" || w.day.Text != "2026-11-25" {
		t.Errorf("before: %q day %q", w.verdict.Text, w.day.Text)
	}
	test.Tap(w.run)
	if len(f.days) != 1 || f.days[0].Format(time.DateOnly) != "2026-11-25" {
		t.Fatalf("reconciled %v", f.days)
	}
	if w.verdict.Text != "！2026-11-25：有 2 处不一致（银行 4 笔，本机 3 笔）。" {
		t.Errorf("verdict %q", w.verdict.Text)
	}
	if len(w.list.Objects) != 2 {
		t.Fatalf("%d cards", len(w.list.Objects))
	}
	title, sides, advice := DiffText(f.result.Diffs[0])
	if title != "本机没有记录 · SB1" || sides != "银行：已支付 12.50 · 本机：无" ||
		advice != "顾客已付款，但本机丢失了这笔订单：请核对这笔销售，以银行记录为准。" {
		t.Errorf("diff 1: %q / %q / %q", title, sides, advice)
	}
	_, sides, advice = DiffText(f.result.Diffs[1])
	if advice != "银行已撤销这笔付款，钱已退回顾客：请重新收款或收回商品。" {
		t.Errorf("diff 2 advice %q", advice)
	}
	// Both sides in the cashier's words, not the bill's SUCCESS/REVOKED.
	if sides != "银行：已撤销 30.00 · 本机：成功 30.00" {
		t.Errorf("diff 2 sides %q", sides)
	}
	card := w.list.Objects[1].(*fyne.Container)
	if card.Objects[0].(*widget.Label).Text != "2. 状态不同 · SB2" || card.Objects[2].(*widget.Label).Text != advice {
		t.Errorf("card 2 %q", card.Objects[0].(*widget.Label).Text)
	}

	// A clean day says so; a bad day is refused before any download.
	f.result = ReconcileResult{Date: "2026-11-24", BankLines: 7, JournalLines: 7}
	w.day.SetText("2026-11-24")
	test.Tap(w.run)
	if w.verdict.Text != "√ 2026-11-24：银行与本机记录一致（银行 7 笔，本机 7 笔）。" || len(w.list.Objects) != 0 ||
		w.verdict.Importance != widget.SuccessImportance {
		t.Errorf("clean: %q, %d cards", w.verdict.Text, len(w.list.Objects))
	}
	w.day.SetText("24.11.2026")
	test.Tap(w.run)
	if w.verdict.Text != "日期格式应为 2026-12-01。" || len(f.days) != 2 {
		t.Errorf("bad day: %q, %d runs", w.verdict.Text, len(f.days))
	}
	f.err = errors.New("payclient: bill 20261124: connection refused")
	w.day.SetText("2026-11-24")
	test.Tap(w.run)
	if strings.Contains(w.verdict.Text, "payclient") || w.verdict.Importance != widget.DangerImportance {
		t.Errorf("error: %q", w.verdict.Text)
	}
}

func TestReconcileOpensOnLastResultEnglish(t *testing.T) {
	env, _, _ := newTestEnv(t)
	SetLanguage(English)
	defer SetLanguage(Chinese)
	f := &fakeReconcile{last: &ReconcileResult{Date: "2026-11-25", BankLines: 2, JournalLines: 1,
		Diffs: []ReconcileDiff{{OutTradeNo: "SB9", OutRefundNo: "RF9", Kind: "missing_at_bank", Journal: "refunded 5.00"}}}}
	w := NewReconcileWindow(env, f)
	if w.verdict.Text != "！2026-11-25: 1 difference(s) (bank 2 lines, ScanBox 1)." {
		t.Errorf("verdict %q", w.verdict.Text)
	}
	title, sides, advice := DiffText(f.last.Diffs[0])
	if title != "Missing at the bank · RF9 (SB9)" || sides != "Bank: nothing · ScanBox: refunded 5.00" ||
		advice != "ScanBox records a refund the bank has no record of: the payer may not have the money back; ask the bank." {
		t.Errorf("%q / %q / %q", title, sides, advice)
	}
}
