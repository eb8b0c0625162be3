package order

import (
	"encoding/json"
	"testing"
	"time"
)

func TestStateRoundTrip(t *testing.T) {
	if all := States(); len(all) != int(StateRevoked) || all[0] != StatePending || all[len(all)-1] != StateRevoked {
		t.Errorf("States() = %v", all)
	}
	for _, s := range States() {
		got, err := ParseState(s.String())
		if err != nil || got != s {
			t.Errorf("ParseState(%q) = %v, %v", s.String(), got, err)
		}
	}
	for _, bad := range []string{"", "PAID", "invalid", "done"} {
		if _, err := ParseState(bad); err == nil {
			t.Errorf("ParseState(%q) accepted", bad)
		}
	}
	if StateWaiting.Terminal() || StateUnknown.Terminal() || !StateRevoked.Terminal() || !StatePaid.Terminal() {
		t.Error("Terminal() wrong")
	}
}

func TestChannelRoundTrip(t *testing.T) {
	if all := Channels(); len(all) != int(ChannelOther) || all[0] != ChannelWeChat {
		t.Errorf("Channels() = %v", all)
	}
	for _, c := range append(Channels(), ChannelNone) {
		got, err := ParseChannel(c.String())
		if err != nil || got != c {
			t.Errorf("ParseChannel(%q) = %v, %v", c.String(), got, err)
		}
	}
	if c, err := ParseChannel("wechat"); err != nil || c != ChannelWeChat {
		t.Errorf("lower case: %v %v", c, err)
	}
	if _, err := ParseChannel("PAYPAL"); err == nil {
		t.Error("PAYPAL accepted")
	}
	if all := Kinds(); len(all) != 2 {
		t.Errorf("Kinds() = %v", all)
	}
	for _, k := range Kinds() {
		if got, err := ParseKind(k.String()); err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k, got, err)
		}
	}
}

func TestOrderJSONRoundTrip(t *testing.T) {
	o := Order{OutTradeNo: "SB1", AmountFen: 1250, State: StateWaiting, Channel: ChannelAlipay,
		CreatedAt: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC), Kind: KindPrecreate}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var back Order
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != o {
		t.Errorf("round trip: %+v != %+v (%s)", back, o, b)
	}
}
