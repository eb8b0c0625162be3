package ui

import (
	"context"
	"errors"
	"image/color"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/receipt"
)

// fakeReceipts records test prints; fail is what the printer answers.
type fakeReceipts struct {
	queues  []string
	printed []string // target/paper
	fail    error
}

func (f *fakeReceipts) ReceiptPrinters() ([]string, error) { return f.queues, nil }
func (f *fakeReceipts) TestPrint(ctx context.Context, target, paper string) error {
	f.printed = append(f.printed, target+"/"+paper)
	return f.fail
}

// Issue 9 item 7: the receipt printer in Settings, with the installed
// queues offered, a test print that says in one sentence whether it
// worked, and the morning reconciliation's time checked against its range.
func TestSettingsReceiptPrinterAndReconcileTime(t *testing.T) {
	env, f, _ := newTestEnv(t)
	r := &fakeReceipts{queues: []string{"spool:EPSON TM-T82", "spool:XP-58"}}
	env.Receipts = r
	w := NewSettingsWindow(env)
	if strings.Join(w.printerOptions, "|") != "spool:EPSON TM-T82|spool:XP-58" {
		t.Fatalf("printers offered %v", w.printerOptions)
	}
	if !w.reconcileOn.Checked || w.reconcileAt.Text != "09:00" {
		t.Errorf("reconcile %v %q", w.reconcileOn.Checked, w.reconcileAt.Text)
	}

	// No printer yet: Test print says so and prints nothing.
	test.Tap(w.testPrintBtn)
	if len(r.printed) != 0 || w.PrintResult() != "请先填写或选择小票打印机。未打印。" {
		t.Errorf("no printer: %v %q", r.printed, w.PrintResult())
	}
	// A typed target in a wrong form: the forms are named.
	w.printer.SetText("COM3")
	test.Tap(w.testPrintBtn)
	if len(r.printed) != 0 || w.PrintResult() != "小票打印机：请填写 spool:打印机名、serial:COM3 或 file:路径，或留空。" {
		t.Errorf("bad form: %q", w.PrintResult())
	}
	// The printer cannot be reached: the receipt package's one sentence.
	w.printer.SetText("serial:COM3")
	w.paper.SetSelected("58mm")
	r.fail = &receipt.Error{Printer: "COM3", Kind: receipt.ErrUnavailable, Cause: errors.New("open COM3: no such file")}
	test.Tap(w.testPrintBtn)
	if strings.Join(r.printed, ",") != "serial:COM3@9600/58mm" ||
		w.PrintResult() != "无法连接小票打印机“COM3”（请检查电源和连线），未打印；收款不受影响。" ||
		w.printResult.Importance != widget.DangerImportance {
		t.Errorf("unreachable: %v %q", r.printed, w.PrintResult())
	}
	// It works.
	r.fail = nil
	w.printer.SetText("spool:XP-58")
	test.Tap(w.testPrintBtn)
	if w.PrintResult() != "测试小票已送到打印机 spool:XP-58；请看是否已打出。" || w.printResult.Importance != widget.SuccessImportance {
		t.Errorf("printed: %q", w.PrintResult())
	}

	// The time: outside the range, not a time, then a Chinese IME's "８：３０".
	for _, c := range []struct{ v, want string }{
		{"00:30", "每日对账时间：须在 01:00 到 23:59 之间"},
		{"25:00", "每日对账时间：请填写时间，如 09:00"},
		{"soon", "每日对账时间：请填写时间，如 09:00"},
		{"8:3", "每日对账时间：请填写时间，如 09:00"},
	} {
		w.reconcileAt.SetText(c.v)
		test.Tap(w.saveBtn)
		if f.saves != 0 || w.FieldError() != c.want {
			t.Errorf("%q: saves %d field error %q, want %q", c.v, f.saves, w.FieldError(), c.want)
		}
	}
	w.reconcileAt.SetText("８：３０")
	w.paymentSlips.SetChecked(true)
	test.Tap(w.saveBtn)
	got := f.settings
	if f.saves != 1 || got.ReceiptPrinter != "spool:XP-58" || got.ReceiptPaper != "58mm" || !got.PaymentSlips || got.ReconcileAt != "08:30" {
		t.Fatalf("saved %d: %+v", f.saves, got)
	}
	// Off is saved as off, and the time field is then not checked.
	w.reconcileOn.SetChecked(false)
	w.reconcileAt.SetText("")
	test.Tap(w.saveBtn)
	if f.settings.ReconcileAt != "off" || !w.reconcileAt.Disabled() {
		t.Errorf("off: %q", f.settings.ReconcileAt)
	}
	w.win.Close()
	again := NewSettingsWindow(env)
	if again.reconcileOn.Checked || again.printer.Text != "spool:XP-58" || again.paper.Selected != "58mm" || !again.paymentSlips.Checked {
		t.Errorf("reloaded: on %v printer %q paper %q", again.reconcileOn.Checked, again.printer.Text, again.paper.Selected)
	}
}

// Issue 9 item 6: the morning's background reconciliation is told once:
// agreed quietly, differences with a marker on the menu until the window
// showing each difference and what to do has been seen.
func TestReconcileAlertAfterBackgroundRun(t *testing.T) {
	env, _, _ := newTestEnv(t)
	f := &fakeReconcile{}
	a := NewReconcileAlert(env, f)
	changed := 0
	a.OnChanged = func() { changed++ }
	menuLabel := func() string {
		for _, r := range MenuTable(Actions{Reconcile: func() {}, ReconcileUnseen: a.Unseen()}) {
			if r.Key == "menu.reconcile" {
				return BuildMenu([]MenuAction{r}, TrayReady).Items[2].Label
			}
		}
		return ""
	}
	at := time.Date(2026, 11, 26, 9, 0, 5, 0, time.Local)

	// Nothing yet; a result the cashier asked for is not announced.
	test.AssertNotificationSent(t, nil, a.Check)
	f.last = &ReconcileResult{Date: "2026-11-25", At: at, BankLines: 3, JournalLines: 3}
	test.AssertNotificationSent(t, nil, a.Check)

	// The morning's run agrees: a quiet notification, no marker.
	f.last = &ReconcileResult{Date: "2026-11-25", At: at.Add(time.Minute), Background: true}
	test.AssertNotificationSent(t, fyne.NewNotification("扫码收款 · 2026-11-25 对账一致", "银行与本机记录一致。"), a.Check)
	if a.Unseen() != 0 || menuLabel() != "对账" || changed != 0 {
		t.Errorf("agreed: unseen %d menu %q changed %d", a.Unseen(), menuLabel(), changed)
	}
	// Told once.
	test.AssertNotificationSent(t, nil, a.Check)

	// The next morning: two differences.
	f.last = &ReconcileResult{Date: "2026-11-26", At: at.Add(24 * time.Hour), Background: true, Diffs: []ReconcileDiff{
		{OutTradeNo: "SB20261126LOST0001", Kind: "missing_in_journal", Bank: "SUCCESS 26.80"},
		{OutTradeNo: "SB20261126100000A2", Kind: "state", Bank: "REVOKED 88.80", Journal: "paid 88.80"},
	}}
	test.AssertNotificationSent(t, fyne.NewNotification("扫码收款 · 2026-11-26 对账有 2 处不一致", "请打开“对账”查看每一处和处理办法。"), a.Check)
	if a.Unseen() != 2 || menuLabel() != "！对账（2 处不一致）" || changed != 1 {
		t.Fatalf("differences: unseen %d menu %q changed %d", a.Unseen(), menuLabel(), changed)
	}
	bar := NewMenuBar(MenuTable(Actions{Reconcile: func() {}, ReconcileUnseen: a.Unseen()}))
	if b := bar.Objects[0].(*widget.Button); b.Text != "！对账（2 处不一致）" || b.Importance != widget.WarningImportance {
		t.Errorf("button %q", b.Text)
	}
	// The window shows that result: each difference and what to do.
	w := NewReconcileWindow(env, f)
	w.Show()
	if w.Verdict() != "！2026-11-26：有 2 处不一致（每日自动对账）。" {
		t.Errorf("verdict %q", w.Verdict())
	}
	cards := w.Cards()
	if len(cards) != 2 ||
		cards[0] != "1. 本机没有记录 · SB20261126LOST0001\n银行：已支付 26.80 · 本机：无\n顾客已付款，但本机丢失了这笔订单：请核对这笔销售，以银行记录为准。" ||
		cards[1] != "2. 状态不同 · SB20261126100000A2\n银行：已撤销 88.80 · 本机：成功 88.80\n银行已撤销这笔付款，钱已退回顾客：请重新收款或收回商品。" {
		t.Errorf("cards %q", cards)
	}
	a.Seen()
	if a.Unseen() != 0 || menuLabel() != "对账" || changed != 2 {
		t.Errorf("seen: unseen %d menu %q changed %d", a.Unseen(), menuLabel(), changed)
	}

	// A run without the bank's bill is told once that day, not every
	// minute it is tried again; the window says it is not concluded.
	f.last = &ReconcileResult{Date: "2026-11-27", At: at.Add(48 * time.Hour), Background: true, Failed: true}
	test.AssertNotificationSent(t, fyne.NewNotification("扫码收款 · 2026-11-27 自动对账未完成", "暂时取不到银行对账单，系统会自动重试；收款不受影响。"), a.Check)
	f.last = &ReconcileResult{Date: "2026-11-27", At: at.Add(48*time.Hour + time.Minute), Background: true, Failed: true}
	test.AssertNotificationSent(t, nil, a.Check)
	w.Refresh()
	if w.Verdict() != "！2026-11-27：自动对账未完成，暂时取不到银行对账单；系统会自动重试，也可以点“对账”再试。" || len(w.Cards()) != 0 {
		t.Errorf("failed: %q %q", w.Verdict(), w.Cards())
	}
}

// texts are every visible text drawn under o, renderers included.
func texts(o fyne.CanvasObject) []string {
	var out []string
	for _, obj := range test.LaidOutObjects(o) {
		if v, ok := obj.(*canvas.Text); ok && v.Visible() && v.Text != "" {
			out = append(out, v.Text)
		}
	}
	return out
}

// Issue 11 item 14: the support zip's save dialog speaks the UI's
// language; fyne's file dialog said "Home", "Computer" and "保存 文件" (or
// "Save File" on an English PC) in the Chinese UI.
func TestLogsExportDialogInChinese(t *testing.T) {
	env, f, _ := newTestEnv(t)
	dir := t.TempDir()
	exportFolders = func() []string { return []string{dir} }
	written := &closeBuf{}
	var wrotePath string
	exportWriter = func(p string) (io.WriteCloser, error) { wrotePath = p; return written, nil }
	t.Cleanup(func() { exportFolders, exportWriter = defaultExportFolders, defaultExportWriter })
	w := NewLogsWindow(env)
	w.Window().Resize(fyne.NewSize(900, 560))
	w.Show()
	w.askExport()
	var all []string
	for _, o := range w.win.Canvas().Overlays().List() {
		all = append(all, texts(o)...)
	}
	joined := strings.Join(all, "|")
	for _, english := range []string{"Home", "Computer", "File", "Save", "Cancel", "Folder", "Desktop"} {
		if strings.Contains(joined, english) {
			t.Errorf("the dialog shows %q in the Chinese UI: %q", english, all)
		}
	}
	for _, want := range []string{"导出支持文件", "保存到文件夹", "文件名", "保存", "取消"} {
		found := false
		for _, s := range all {
			found = found || s == want
		}
		if !found {
			t.Errorf("no %q in the dialog: %q", want, all)
		}
	}
	save := findButton(w.win.Canvas().Overlays().Top(), "保存")
	if save == nil {
		t.Fatal("no Save button")
	}
	test.Tap(save)
	want := filepath.Join(dir, "scanbox-support-20261126-100000.zip")
	if wrotePath != want || f.exported != 1 || !written.closed || written.String() != "PK-zip" || w.status.Text != "已导出到 "+want {
		t.Errorf("export to %q (%d), status %q", wrotePath, f.exported, w.status.Text)
	}
}

// Issue 11 item 11: selecting an order marks its whole row, not the one
// cell clicked: every cell of the row is drawn on the selection colour, and
// the other rows are not.
func TestOrdersSelectionMarksWholeRow(t *testing.T) {
	env, f, _ := newTestEnv(t)
	for i := range 3 {
		o, _ := f.Pay(money.Fen(1000+100*i), wechatCode)
		f.update(o.OutTradeNo, func(o *order.Order) { o.State = order.StatePaid; o.Channel = order.ChannelWeChat })
	}
	w := NewOrdersWindow(env)
	w.Window().Resize(fyne.NewSize(1100, 520))
	w.Show()
	w.table.Select(widget.TableCellID{Row: 1, Col: 3})
	if w.selected != 1 {
		t.Fatalf("selected %d", w.selected)
	}
	img := w.win.Canvas().Capture()
	// Where the cells are: the table's place, the header row, then rows of
	// the template's height, with a separator between rows and columns.
	origin := fyne.CurrentApp().Driver().AbsolutePositionForObject(w.table)
	rowH := newOrderCell().MinSize().Height
	sep := theme.Padding() // fyne's table spaces its cells by the padding
	bgAt := func(row, col int) color.Color {
		x := origin.X + 3
		for _, wd := range orderColumnWidths[:col] {
			x += wd + sep
		}
		y := origin.Y + (rowH+sep)*float32(row+1) + rowH/2
		// 3 px into the cell, left of its text: the cell's background.
		return img.At(int(x), int(y))
	}
	same := func(a, b color.Color) bool {
		r1, g1, b1, _ := a.RGBA()
		r2, g2, b2, _ := b.RGBA()
		return r1 == r2 && g1 == g2 && b1 == b2
	}
	tapped := bgAt(1, 3)
	other := bgAt(0, 3)
	if same(tapped, other) {
		t.Fatalf("the selected cell is not marked: %v vs %v", tapped, other)
	}
	for col := range orderColumns {
		if c := bgAt(1, col); !same(c, tapped) {
			t.Errorf("column %d of the selected row is drawn %v, the clicked cell %v", col, c, tapped)
		}
		if c := bgAt(2, col); same(c, tapped) {
			t.Errorf("column %d of another row is drawn selected", col)
		}
	}
}

// Issue 11 item 4's note "that scan was not used" is about the payment in
// progress: once it has ended the note goes, and the next scan charges.
func TestPayWindowRefusedScanNoteClearsWhenPaymentEnds(t *testing.T) {
	env, f, clk := newTestEnv(t)
	p := NewPayWindow(env)
	p.Show()
	test.Type(p.amountEntry, "15.5")
	p.charge(wechatCode)
	no := f.orders[0].OutTradeNo
	f.update(no, func(o *order.Order) { o.State, o.Deadline = order.StateWaiting, clk.now.Add(time.Minute) })
	emit(f.scanSubs, alipayCode)
	if p.note.Text != "正在处理当前订单，刚才的扫码没有使用。请等本笔结束后再扫。" || !p.note.Visible() {
		t.Fatalf("note %q", p.note.Text)
	}
	f.update(no, func(o *order.Order) { o.State = order.StatePaid; o.Channel = order.ChannelWeChat })
	if p.note.Text != "" || p.note.Visible() {
		t.Errorf("after the payment ended the note still says %q", p.note.Text)
	}
}
