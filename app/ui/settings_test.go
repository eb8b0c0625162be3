package ui

import (
	"fmt"
	"image"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/scanbox/scanbox/voice"
)

func TestSettingsSaveAndReload(t *testing.T) {
	env, f, _ := newTestEnv(t)
	w := NewSettingsWindow(env)
	w.Show()
	if w.port.Options[0] != "/dev/ttyS0" {
		t.Fatalf("ports %v", w.port.Options)
	}
	w.source.SetSelected("串口（顾客显示屏）")
	w.port.SetSelected("/dev/ttyUSB0")
	w.baud.SetSelected("2400")
	w.parity.SetSelected("偶校验") // translated (issue 11 item 14)
	w.profile.SetSelected("cd5220")
	w.forward.SetSelected("/dev/ttyS0")
	w.scannerMode.SetSelected("串口模式")
	w.scannerPort.SetSelected("/dev/ttyS0")
	w.poll.SetText("1.5")
	w.deadline.SetText("60")
	w.autoClose.SetText("0")
	w.volume.SetValue(35)
	w.voiceOn.SetChecked(false)
	w.language.SetSelectedIndex(1)
	w.maxPay.SetText("５０００") // a Chinese IME's digits
	w.confirmAbove.SetText("800")
	w.maxAge.SetText("90")
	test.Tap(w.saveBtn)
	if w.status.Text != "设置已保存" || f.saves != 1 {
		t.Fatalf("status %q saves %d", w.status.Text, f.saves)
	}
	w.win.Close()

	// A new window shows what was saved.
	r := NewSettingsWindow(env)
	s, err := r.collect()
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{AmountSource: "serial", SerialPort: "/dev/ttyUSB0", SerialBaud: 2400, SerialParity: "even",
		SerialProfile: "cd5220", SerialForward: "/dev/ttyS0", ScannerMode: "serial", ScannerPort: "/dev/ttyS0",
		ScannerBaud: 9600, WedgeMaxGapMS: 30, PollInterval: 1500 * time.Millisecond, PollTimeout: 60 * time.Second,
		AutoCloseSec: 0, Hotkey: "Ctrl+Alt+F9", VoiceOn: false, Volume: 35, Language: "en",
		MaxPayment: 500000, ConfirmAbove: 80000, MaxAmountAge: 90 * time.Second,
		ReceiptPaper: "80mm", ReconcileAt: "09:00"}
	if s != want {
		t.Errorf("reloaded\n got %+v\nwant %+v", s, want)
	}
	if r.source.Selected != "串口（顾客显示屏）" || r.language.Selected != "English (en)" {
		t.Errorf("source %q language %q", r.source.Selected, r.language.Selected)
	}
}

func TestSettingsRefusesBadNumber(t *testing.T) {
	env, f, _ := newTestEnv(t)
	w := NewSettingsWindow(env)
	w.poll.SetText("soon")
	test.Tap(w.saveBtn)
	if f.saves != 0 || w.FieldError() != "查询间隔 (秒)：请输入数字" {
		t.Errorf("saves %d field error %q", f.saves, w.FieldError())
	}
}

func TestSettingsActivate(t *testing.T) {
	env, _, _ := newTestEnv(t)
	w := NewSettingsWindow(env)
	if w.activated.Text != "尚未激活" {
		t.Errorf("before: %q", w.activated.Text)
	}
	w.url.SetText("http://127.0.0.1:8080")
	w.mch.SetText("100000001")
	w.terminal.SetText("T0001")
	w.code.SetText("WRONG")
	test.Tap(w.activateBtn)
	if w.activated.Text != "激活码无效或已用过，请向银行索取新的激活码。" {
		t.Errorf("refused: %q", w.activated.Text)
	}
	w.code.SetText("DEMO-2026")
	test.Tap(w.activateBtn)
	if w.activated.Text != "已激活：演示商户 · 一号店" || w.code.Text != "" {
		t.Errorf("activated: %q code %q", w.activated.Text, w.code.Text)
	}
}

func TestSettingsSerialLiveAndOCR(t *testing.T) {
	env, f, clk := newTestEnv(t)
	w := NewSettingsWindow(env)
	w.Show()
	emit(f.serialSubs, "COM3 open")
	emit(f.serialSubs, "total 12.50 (cd5220)")
	if w.serialLive.Text != "COM3 open\ntotal 12.50 (cd5220)" {
		t.Errorf("live view %q", w.serialLive.Text)
	}
	w.regionPicked(image.Rect(10, 20, 110, 60), true)
	if w.regionLabel.Text != "10,20  100×40" || w.ocrPreview.Text != "¥ 12.50   «¥12.50»" {
		t.Errorf("region %q preview %q", w.regionLabel.Text, w.ocrPreview.Text)
	}
	// The live preview reads again on the clock only while OCR is chosen.
	w.ocrPreview.SetText("")
	clk.advance(2 * time.Second)
	if w.ocrPreview.Text != "" {
		t.Error("previewed while the source is manual")
	}
	w.source.SetSelected("屏幕识别 (OCR)")
	clk.advance(2 * time.Second)
	if w.ocrPreview.Text == "" {
		t.Error("no live preview with OCR chosen")
	}
}

func TestRegionPickerMapsToScreenPixels(t *testing.T) {
	newTestEnv(t)
	shot := image.NewRGBA(image.Rect(0, 0, 1920, 1080))
	var got image.Rectangle
	var ok bool
	p := NewRegionPicker(shot, func(r image.Rectangle, k bool) { got, ok = r, k })
	w := test.NewTempWindow(t, p)
	w.SetPadded(false)
	w.Resize(fyne.NewSize(960, 540)) // half scale
	p.Resize(fyne.NewSize(960, 540))
	p.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(110, 60)}, Dragged: fyne.NewDelta(10, 10)})
	p.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(300, 100)}, Dragged: fyne.NewDelta(190, 40)})
	p.DragEnd()
	if !ok || got != image.Rect(200, 100, 600, 200) {
		t.Errorf("picked %v ok=%v, want (200,100)-(600,200)", got, ok)
	}
	// Esc after a pick does nothing more; a fresh picker cancels cleanly.
	ok = true
	q := NewRegionPicker(shot, func(r image.Rectangle, k bool) { ok = k })
	q.Cancel()
	if ok {
		t.Error("Cancel reported a region")
	}
}

// Issue 8 defect 2: Save never writes the bank identity; the fields are
// read-only once activated and feed Activate only.
func TestSettingsSaveKeepsBankIdentity(t *testing.T) {
	env, f, _ := newTestEnv(t)
	f.settings.BankURL, f.settings.MchID, f.settings.TerminalID = "https://bank.example/v1", "100000001", "T0001"
	f.status = Status{Activated: true, MerchantName: "演示商户", StoreName: "一号店"}
	w := NewSettingsWindow(env)
	if !w.url.Disabled() || !w.mch.Disabled() || !w.terminal.Disabled() || !w.activateBtn.Disabled() {
		t.Fatal("the bank fields of an activated terminal are editable")
	}
	test.Tap(w.changeBtn)
	if w.terminal.Disabled() || w.activateBtn.Disabled() {
		t.Fatal("Change terminal did not open the fields for activation")
	}
	w.terminal.SetText("T0002")
	w.mch.SetText("999")
	test.Tap(w.saveBtn)
	if f.saves != 1 {
		t.Fatalf("saves %d", f.saves)
	}
	if got := f.settings; got.TerminalID != "T0001" || got.MchID != "100000001" || got.BankURL != "https://bank.example/v1" {
		t.Errorf("Save wrote the bank identity: %s %s %s", got.BankURL, got.MchID, got.TerminalID)
	}
}

// Issue 11 item 12: every numeric field is checked against its range.
func TestSettingsRanges(t *testing.T) {
	env, f, _ := newTestEnv(t)
	w := NewSettingsWindow(env)
	for _, c := range []struct {
		e    *widget.Entry
		v    string
		want string
	}{
		{w.deadline, "99999", "等待时限 (秒)：须在 10 到 300 之间"},
		{w.poll, "0", "查询间隔 (秒)：须在 1 到 30 之间"},
		{w.autoClose, "-1", "成功后自动关闭 (秒，0 不关闭)：须在 0 到 60 之间"},
		{w.wedgeGap, "5000", "按键间隔上限 (毫秒)：须在 5 到 200 之间"},
		{w.maxPay, "2000000", "单笔上限 (元)：须在 0.01 到 1,000,000.00 之间"},
		{w.maxAge, "5", "金额有效期 (秒)：须在 10 到 1800 之间"},
	} {
		old := c.e.Text
		c.e.SetText(c.v)
		test.Tap(w.saveBtn)
		if f.saves != 0 || w.FieldError() != c.want {
			t.Errorf("%s: saves %d field error %q, want %q", c.v, f.saves, w.FieldError(), c.want)
		}
		c.e.SetText(old)
	}
	w.confirmAbove.SetText("20000")
	w.maxPay.SetText("10000")
	test.Tap(w.saveBtn)
	if f.saves != 0 || w.FieldError() != "超过此金额需确认 (元，0 不确认)：须在 0.00 到 10,000.00 之间" {
		t.Errorf("confirm above the maximum: %q", w.FieldError())
	}
}

// Issue 11 item 12: 试听 on a PC without sound says so.
func TestSettingsVoiceTestReports(t *testing.T) {
	env, f, clk := newTestEnv(t)
	w := NewSettingsWindow(env)
	f.voiceErr = fmt.Errorf("voice: play \"x\": %w", voice.ErrNoPlayer)
	w.testVoice()
	clk.advance(2 * time.Second)
	if f.voiceTests != 1 || w.status.Text != "本机没有可用的声音输出，听不到语音播报；收款不受影响。" {
		t.Errorf("tests %d status %q", f.voiceTests, w.status.Text)
	}
	f.voiceErr = nil
	w.testVoice()
	clk.advance(5 * time.Second)
	if w.status.Text != "已播放试听语音" {
		t.Errorf("status %q", w.status.Text)
	}
}
