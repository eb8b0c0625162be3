package payclient

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestSkewResendBounded: a bank that refuses every timestamp gets the
// request 1+maxSkewResends times, each with the same business fields, a
// fresh nonce and sign, and the timestamp its server_time asked for; then
// the refusal is returned (not processed: unknown, never failed).
func TestSkewResendBounded(t *testing.T) {
	local := time.Unix(1764140000, 0)
	bank := local.Add(-3 * time.Hour)
	c, hs, _ := newHandClient(t, func(path string, req map[string]any) (int, []byte) {
		return 200, signed(map[string]any{"return_code": "FAIL", "return_msg": "TIMESTAMP_SKEW", "server_time": bank.Unix()})
	})
	c.t.now = func() time.Time { return local }
	_, err := c.Micropay(context.Background(), mp)
	var ae *APIError
	if !errors.As(err, &ae) || ae.ReturnMsg != "TIMESTAMP_SKEW" || Classify(CallMicropay, nil, err) != OutcomeUnknown {
		t.Fatalf("err %v", err)
	}
	if len(hs.reqs) != 1+maxSkewResends {
		t.Fatalf("%d requests, want %d", len(hs.reqs), 1+maxSkewResends)
	}
	nonces := map[any]bool{}
	for i, r := range hs.reqs {
		for _, k := range []string{"out_trade_no", "auth_code", "total_fee", "body", "device_id", "device_sn"} {
			if r[k] != hs.reqs[0][k] {
				t.Errorf("request %d: %s changed: %v", i, k, r[k])
			}
		}
		nonces[r["nonce_str"]] = true
		want := local.Unix()
		if i > 0 {
			want = bank.Unix()
		}
		if r["timestamp"] != json.Number(strconv.FormatInt(want, 10)) {
			t.Errorf("request %d timestamp %v, want %d", i, r["timestamp"], want)
		}
	}
	if len(nonces) != len(hs.reqs) {
		t.Errorf("nonces reused: %v", nonces)
	}
	if off := c.ClockOffset(); off > -3*time.Hour+time.Second || off < -3*time.Hour-time.Second {
		t.Errorf("ClockOffset %v", off)
	}
}

// dateServer answers every request with a signed ORDERNOTEXIST and a Date
// header its function chooses.
func dateServer(t *testing.T, date func() string) (*Client, *[]map[string]any) {
	var mu sync.Mutex
	var reqs []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		dec := json.NewDecoder(r.Body)
		dec.UseNumber()
		dec.Decode(&req)
		mu.Lock()
		reqs = append(reqs, req)
		mu.Unlock()
		if d := date(); d != "" {
			w.Header().Set("Date", d)
		} else {
			w.Header()["Date"] = nil // keeps net/http from adding one
		}
		w.Write(signed(map[string]any{"return_code": "SUCCESS", "result_code": "FAIL", "err_code": "ORDERNOTEXIST"}))
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, MchID: "100000001", TerminalID: "T0001", Key: []byte(testKey), DeviceID: handDevice,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return c, &reqs
}

// TestOffsetFromDateHeader: every answer's Date header sets the offset
// (no refusal needed), small differences read as 0, a missing or garbled
// header keeps the last measurement, and the next timestamp uses it.
func TestOffsetFromDateHeader(t *testing.T) {
	local := time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)
	date := ""
	c, reqs := dateServer(t, func() string { return date })
	c.t.now = func() time.Time { return local }
	ctx := context.Background()
	for _, tc := range []struct {
		date string
		want time.Duration
	}{
		{local.Add(2 * time.Hour).Format(http.TimeFormat), 2 * time.Hour},
		{"", 2 * time.Hour},          // no header: keep
		{"yesterday", 2 * time.Hour}, // garbled: keep
		{local.Add(-90 * time.Minute).Format(http.TimeFormat), -90*time.Minute + time.Second},
		{local.Add(time.Second).Format(http.TimeFormat), 0}, // within the deadband
		{local.Add(-time.Second).Format(http.TimeFormat), 0},
	} {
		date = tc.date
		if _, err := c.Query(ctx, "T0001-000001"); errors.Is(err, ErrCommunication) {
			t.Fatal(err)
		}
		// Date is whole seconds; the estimate is within a second.
		if got := c.ClockOffset(); got-tc.want > time.Second || tc.want-got > time.Second {
			t.Errorf("Date %q: ClockOffset %v, want about %v", tc.date, got, tc.want)
		}
	}
	date = local.Add(2 * time.Hour).Format(http.TimeFormat)
	c.Query(ctx, "T0001-000001")
	c.Query(ctx, "T0001-000001")
	last := (*reqs)[len(*reqs)-1]
	ts, _ := strconv.ParseInt(string(last["timestamp"].(json.Number)), 10, 64)
	if d := time.Unix(ts, 0).Sub(local.Add(2 * time.Hour)); d > time.Second || d < -time.Second {
		t.Errorf("timestamp %d is %v from the bank's time", ts, d)
	}
	if last["device_id"] != handDevice {
		t.Errorf("query without device_id: %v", last)
	}
}
