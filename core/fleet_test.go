package core

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scanbox/scanbox/capture/usbdev"
	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/fleet/proto"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
	"github.com/scanbox/scanbox/refund"
)

func intp(n int) *int    { return &n }
func boolp(b bool) *bool { return &b }

// Remote settings land in config.json in one save; anything that cannot
// apply (an unknown amount-source key, a value config refuses) leaves the
// configuration exactly as it was, and the bank identity never moves.
func TestFleetApplyRemoteAllOrNothing(t *testing.T) {
	_, url := simtest.NewServer(t, banksim.Options{})
	dir := t.TempDir()
	c, err := Open(dir, Options{Kind: KindServe, Background: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := activate(t, c, url, banksim.DefaultTerminalID); err != nil {
		t.Fatal(err)
	}
	before := c.Config()
	ctx := context.Background()
	err = c.applyRemote(ctx, proto.Settings{PollIntervalMs: intp(500), VoiceVolume: intp(21),
		AmountSource: map[string]string{"source": "manual", "bank_url_typo": "x"}})
	if err == nil || !strings.Contains(err.Error(), "bank_url_typo") {
		t.Fatalf("unknown amount-source key: %v", err)
	}
	err = c.applyRemote(ctx, proto.Settings{PollIntervalMs: intp(500), AmountSource: map[string]string{"source": "carrier-pigeon"}})
	if err == nil {
		t.Fatal("an unknown amount source was applied")
	}
	if got, _ := config.Load(dir); got != before || c.Config() != before {
		t.Fatalf("a refused configuration changed something:\n%+v\n%+v", got, before)
	}

	err = c.applyRemote(ctx, proto.Settings{PollIntervalMs: intp(500), PollDeadlineSec: intp(30), VoiceEnabled: boolp(false),
		VoiceVolume: intp(21), AmountSource: map[string]string{"max_amount_age": "90s", "serial.baud": "19200", "ocr.region": "1,2,30,40"}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := config.Load(dir)
	if got.PollInterval.D() != 500*time.Millisecond || got.PollTimeout.D() != 30*time.Second || got.Voice || got.Volume != 21 ||
		got.Amount.MaxAmountAge.D() != 90*time.Second || got.Amount.Serial.Baud != 19200 || got.Amount.OCR != (config.OCRRegion{X: 1, Y: 2, W: 30, H: 40}) {
		t.Errorf("applied: %+v", got)
	}
	if got.BankURL != before.BankURL || got.MchID != before.MchID || got.TerminalID != before.TerminalID || got.TerminalSN != before.TerminalSN {
		t.Errorf("the bank identity moved: %+v", got)
	}

	// POS API on needs the program's token hook; without one it is refused.
	old := FleetPOSToken
	defer func() { FleetPOSToken = old }()
	FleetPOSToken = nil
	if err := c.applyRemote(ctx, proto.Settings{POSAPIEnabled: boolp(true)}); err == nil || c.Config().POSAPI.Enabled {
		t.Fatalf("POS API enabled without a token: %v", err)
	}
	var calls []bool
	FleetPOSToken = func(string, bool) error { calls = append(calls, true); return nil }
	if err := c.applyRemote(ctx, proto.Settings{POSAPIEnabled: boolp(true)}); err != nil || !c.Config().POSAPI.Enabled || len(calls) != 1 {
		t.Fatalf("POS API on: %v, %+v, %d token calls", err, c.Config().POSAPI, len(calls))
	}
}

// An order is counted once per outcome however often its change is heard,
// an unknown one again when it is resolved, and pending states not at all.
func TestFleetCountOrders(t *testing.T) {
	a := &fakeCounter{pay: map[string][2]int64{}, errs: map[string]int{}}
	seen := &counted{seen: map[string]string{}}
	paid := order.Order{OutTradeNo: "A1", State: order.StatePaid, Channel: order.ChannelWeChat, AmountFen: 1234}
	for range 3 {
		countOrder(a, seen, paid)
	}
	countOrder(a, seen, order.Order{OutTradeNo: "B1", State: order.StateWaiting, Guess: order.ChannelAlipay, AmountFen: 500})
	countOrder(a, seen, order.Order{OutTradeNo: "B1", State: order.StateUnknown, Guess: order.ChannelAlipay, AmountFen: 500})
	countOrder(a, seen, order.Order{OutTradeNo: "B1", State: order.StatePaid, Channel: order.ChannelAlipay, AmountFen: 500})
	countOrder(a, seen, order.Order{OutTradeNo: "C1", State: order.StateFailed, Guess: order.ChannelWeChat, AmountFen: 700, ErrCode: "AUTHCODEEXPIRE"})

	b, _ := json.Marshal(a.pay)
	want := `{"alipay/paid":[1,500],"alipay/unknown":[1,500],"wechat/failed":[1,700],"wechat/paid":[1,1234]}`
	if string(b) != want {
		t.Errorf("counts %s\nwant   %s", b, want)
	}
	if a.errs["order_unknown"] != 1 || a.errs["bank_authcodeexpire"] != 1 || len(a.errs) != 2 {
		t.Errorf("errors %v", a.errs)
	}
}

// A refund is counted once, when the payer has the money back, on the
// channel of the order it refunds; processing, failed and CHANGE refunds
// are not takings given back.
func TestFleetCountRefunds(t *testing.T) {
	a := &fakeCounter{pay: map[string][2]int64{}, errs: map[string]int{}}
	seen := &counted{seen: map[string]string{}}
	orders := map[string]order.Order{"A1": {OutTradeNo: "A1", State: order.StatePaid, Channel: order.ChannelAlipay, AmountFen: 2000}}
	get := func(no string) (order.Order, bool) { o, ok := orders[no]; return o, ok }
	r := refund.Refund{OutRefundNo: "R1", OutTradeNo: "A1", RefundFen: 500, State: refund.StateProcessing}
	countRefund(a, seen, r, get)
	r.State = refund.StateRefunded
	for range 3 {
		countRefund(a, seen, r, get)
	}
	countRefund(a, seen, refund.Refund{OutRefundNo: "R2", OutTradeNo: "A1", RefundFen: 300, State: refund.StateFailed}, get)
	countRefund(a, seen, refund.Refund{OutRefundNo: "R3", OutTradeNo: "A1", RefundFen: 200, State: refund.StateChange}, get)
	countRefund(a, seen, refund.Refund{OutRefundNo: "R4", OutTradeNo: "GONE", RefundFen: 100, State: refund.StateRefunded}, get)
	b, _ := json.Marshal(a.pay)
	if want := `{"alipay/refunded":[1,500],"unknown/refunded":[1,100]}`; string(b) != want {
		t.Errorf("counts %s\nwant   %s", b, want)
	}
}

// The report's voice state: off by configuration, unknown without a
// speaking front-end or before anything was spoken, then what the speaker
// says.
func TestFleetVoiceState(t *testing.T) {
	c := &Core{}
	if got := c.voiceState(false); got.State != proto.StateOff {
		t.Errorf("voice off: %+v", got)
	}
	if got := c.voiceState(true); got.State != proto.StateUnknown {
		t.Errorf("no speaker: %+v", got)
	}
	var played bool
	var err error
	c.SetVoiceHealth(func() (bool, error) { return played, err })
	if got := c.voiceState(true); got.State != proto.StateUnknown {
		t.Errorf("nothing spoken yet: %+v", got)
	}
	played = true
	if got := c.voiceState(true); got.State != proto.StateOK {
		t.Errorf("a sentence played: %+v", got)
	}
	played, err = false, errors.New("voice: no sound player available")
	if got := c.voiceState(true); got.State != proto.StateFailing {
		t.Errorf("playback failing: %+v", got)
	}
	if got := c.voiceState(false); got.State != proto.StateOff {
		t.Errorf("failing but switched off: %+v", got)
	}
}

// The report names the attached scan box when usbdev has a sure answer,
// for the scanner as configured, and leaves the fields empty otherwise (no
// answer, or the lookup failing: the report still goes out).
func TestFleetSnapshotScanBox(t *testing.T) {
	c, err := Open(t.TempDir(), Options{Kind: KindServe})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	old := scanBoxLookup
	defer func() { scanBoxLookup = old }()
	var asked usbdev.Want
	scanBoxLookup = func(_ context.Context, w usbdev.Want) (usbdev.Device, bool, error) {
		asked = w
		return usbdev.Device{VIDPID: "1EAB:0D10", Serial: "NLS0012345", Vendor: "Newland", Kind: usbdev.KindScanner}, true, nil
	}
	s := c.fleetSnapshot(context.Background())
	if s.Scanner.USBVIDPID != "1EAB:0D10" || s.Scanner.USBSerial != "NLS0012345" || s.Scanner.Model == "" {
		t.Errorf("scanner %+v", s.Scanner)
	}
	if asked.Mode != c.Config().Scanner.Mode.String() {
		t.Errorf("asked for %+v with the scanner configured as %v", asked, c.Config().Scanner.Mode)
	}
	for _, fake := range []func(context.Context, usbdev.Want) (usbdev.Device, bool, error){
		func(context.Context, usbdev.Want) (usbdev.Device, bool, error) { return usbdev.Device{}, false, nil },
		func(context.Context, usbdev.Want) (usbdev.Device, bool, error) {
			return usbdev.Device{VIDPID: "FFFF:0001"}, false, usbdev.ErrEnumerate
		},
	} {
		scanBoxLookup = fake
		if s := c.fleetSnapshot(context.Background()); s.Scanner.USBVIDPID != "" || s.Scanner.USBSerial != "" || s.Scanner.Model != "" {
			t.Errorf("no sure answer, yet %+v", s.Scanner)
		}
	}
}

type fakeCounter struct {
	pay  map[string][2]int64
	errs map[string]int
}

func (f *fakeCounter) CountPayment(ch, outcome string, amount money.Fen) {
	v := f.pay[ch+"/"+outcome]
	f.pay[ch+"/"+outcome] = [2]int64{v[0] + 1, v[1] + int64(amount)}
}

func (f *fakeCounter) CountError(code string) { f.errs[code]++ }

// A data directory whose fleet state is damaged opens, pays and closes as
// usual: the fleet is off, payments are not.
func TestFleetBrokenStateLeavesPayments(t *testing.T) {
	_, url := simtest.NewServer(t, banksim.Options{})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fleet.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Open(dir, Options{Kind: KindServe, Background: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Fleet() != nil {
		t.Fatal("an agent runs on a damaged fleet state")
	}
	if err := activate(t, c, url, banksim.DefaultTerminalID); err != nil {
		t.Fatal(err)
	}
	o, err := c.Pay(100, "134567890123456780")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if o, err = c.Wait(ctx, o.OutTradeNo); err != nil || o.State != order.StatePaid {
		t.Fatalf("payment with a broken fleet: %+v, %v", o, err)
	}
}

// A joined data directory started on another PC reports that PC's
// device_id (so the fleet sees the copy); every other field of the agent's
// state is kept.
func TestFleetIdentityRefreshed(t *testing.T) {
	_, url := simtest.NewServer(t, banksim.Options{})
	dir := t.TempDir()
	c, err := Open(dir, Options{Kind: KindCLI})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := activate(t, c, url, banksim.DefaultTerminalID); err != nil {
		t.Fatal(err)
	}
	cur, err := c.FleetIdentity()
	if err != nil {
		t.Skipf("no machine identity here: %v", err)
	}
	enrolled := cur
	enrolled.DeviceID = strings.Repeat("ab", 32)
	state := map[string]any{"url": "http://fleet.example", "terminal_uid": "tu-1", "seq": 41, "identity": enrolled, "future_field": "kept"}
	b, _ := json.Marshal(state)
	os.WriteFile(filepath.Join(dir, "fleet.json"), b, 0o644)
	c.refreshFleetIdentity()
	var got struct {
		URL      string         `json:"url"`
		Seq      int            `json:"seq"`
		Identity proto.Identity `json:"identity"`
		Future   string         `json:"future_field"`
	}
	b, _ = os.ReadFile(filepath.Join(dir, "fleet.json"))
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Identity != cur || got.Seq != 41 || got.URL != "http://fleet.example" || got.Future != "kept" {
		t.Errorf("after refresh: %s", b)
	}
	// Another terminal enrolled than the one activated: left alone.
	other := enrolled
	other.TerminalID = "T9999"
	state["identity"] = other
	b, _ = json.Marshal(state)
	os.WriteFile(filepath.Join(dir, "fleet.json"), b, 0o644)
	c.refreshFleetIdentity()
	b2, _ := os.ReadFile(filepath.Join(dir, "fleet.json"))
	if string(b2) != string(b) {
		t.Errorf("another terminal's enrollment was rewritten: %s", b2)
	}
}
