package payclient

import (
	"errors"
	"strings"
	"testing"
)

// WeChat Pay v2's published signing example, quoted in bank-api.md.
var wechatVector = Object{
	"appid":       "wxd930ea5d5a258f4f",
	"body":        "test",
	"device_info": "1000",
	"mch_id":      "10000100",
	"nonce_str":   "ibuaiVcKdpRxkhJA",
}

const wechatKey = "192006250b4c09247ec02edce69f6a2d"

func TestSignWeChatVectors(t *testing.T) {
	s, err := SigningString(wechatVector, []byte(wechatKey))
	if err != nil {
		t.Fatal(err)
	}
	const wantString = "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&key=192006250b4c09247ec02edce69f6a2d"
	if s != wantString {
		t.Errorf("signing string\n got %s\nwant %s", s, wantString)
	}
	for _, tc := range []struct {
		typ  SignType
		want string
	}{
		{SignHMACSHA256, "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"},
		{SignMD5, "9A0A8659F005D6984697E2CA0A9CF3B7"},
	} {
		got, err := Sign(wechatVector, []byte(wechatKey), tc.typ)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%v: sign %s, want %s", tc.typ, got, tc.want)
		}
		signed := Object{"sign": tc.want}
		for k, v := range wechatVector {
			signed[k] = v
		}
		if !Verify(signed, []byte(wechatKey), tc.typ) {
			t.Errorf("%v: Verify refuses the published sign", tc.typ)
		}
		signed["sign"] = strings.ToLower(tc.want)
		if !Verify(signed, []byte(wechatKey), tc.typ) {
			t.Errorf("%v: Verify refuses the lower-case sign", tc.typ)
		}
	}
}

func TestSignRules(t *testing.T) {
	key := []byte("k")
	base := Object{"b": "2", "a": int64(1), "sign": "ignored"}
	s, _ := SigningString(base, key)
	if s != "a=1&b=2&key=k" {
		t.Errorf("got %q", s)
	}
	// Empty strings are left out; integer 0 is not.
	s, _ = SigningString(Object{"a": "", "z": int64(0), "m": "x"}, key)
	if s != "m=x&z=0&key=k" {
		t.Errorf("got %q", s)
	}
	// Byte order: upper case before lower case, "_" between.
	s, _ = SigningString(Object{"b": "1", "B": "2", "a_b": "3", "aB": "4"}, key)
	if s != "B=2&aB=4&a_b=3&b=1&key=k" {
		t.Errorf("got %q", s)
	}
	// An integer and the same digits as a string sign alike (the API
	// writes integers in decimal), and int is accepted like int64.
	a, _ := Sign(Object{"total_fee": int64(100)}, key, SignHMACSHA256)
	b, _ := Sign(Object{"total_fee": "100"}, key, SignHMACSHA256)
	c, _ := Sign(Object{"total_fee": 100}, key, SignHMACSHA256)
	if a != b || a != c {
		t.Errorf("integer and string signs differ: %s %s %s", a, b, c)
	}
	if _, err := Sign(Object{"x": 1.5}, key, SignHMACSHA256); err == nil {
		t.Error("a float value was signed")
	}
	if _, err := Sign(Object{"x": "1"}, key, SignType(9)); err == nil {
		t.Error("an unknown sign type was accepted")
	}
}

func TestVerifyRefuses(t *testing.T) {
	key := []byte("secret")
	obj := Object{"return_code": "SUCCESS", "total_fee": int64(1)}
	sign, _ := Sign(obj, key, SignHMACSHA256)
	obj["sign"] = sign
	if !Verify(obj, key, SignHMACSHA256) {
		t.Fatal("own signature refused")
	}
	cases := map[string]func(Object){
		"changed value":  func(o Object) { o["total_fee"] = int64(2) },
		"added field":    func(o Object) { o["extra"] = "x" },
		"removed field":  func(o Object) { delete(o, "total_fee") },
		"no sign":        func(o Object) { delete(o, "sign") },
		"empty sign":     func(o Object) { o["sign"] = "" },
		"not hex":        func(o Object) { o["sign"] = "ZZ" + sign[2:] },
		"truncated sign": func(o Object) { o["sign"] = sign[:len(sign)-2] },
		"sign not text":  func(o Object) { o["sign"] = int64(5) },
	}
	for name, mutate := range cases {
		o := Object{}
		for k, v := range obj {
			o[k] = v
		}
		mutate(o)
		if Verify(o, key, SignHMACSHA256) {
			t.Errorf("%s: verified", name)
		}
	}
	if Verify(obj, []byte("other"), SignHMACSHA256) {
		t.Error("verified with another key")
	}
	// Adding an empty string field does not change the signature (rule 1).
	obj["empty"] = ""
	if !Verify(obj, key, SignHMACSHA256) {
		t.Error("empty field changed the signature")
	}
}

func TestDecodeObject(t *testing.T) {
	good := `{"a":"x","n":100,"neg":-5,"u":"\u4e2d"}`
	obj, err := DecodeObject([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := obj.Int("n"); !ok || n != 100 {
		t.Errorf("n = %v", obj["n"])
	}
	if n, ok := obj.Int("neg"); !ok || n != -5 {
		t.Errorf("neg = %v", obj["neg"])
	}
	if s, _ := obj.Str("u"); s != "中" {
		t.Errorf("u = %q", s)
	}
	if _, ok := obj.Int("a"); ok {
		t.Error("a string read as an integer")
	}
	bad := []string{
		``, `[]`, `"x"`, `{"a":{"b":"c"}}`, `{"a":["x"]}`, `{"a":1.5}`, `{"a":1e3}`,
		`{"a":true}`, `{"a":null}`, `{"a":"1","a":"2"}`, `{"a":"1"} {}`, `{"a":"1"`,
		`{"a":99999999999999999999}`, `<html>`, `{"a":"1"}x`,
	}
	for _, b := range bad {
		if _, err := DecodeObject([]byte(b)); !errors.Is(err, ErrNotFlat) {
			t.Errorf("%s: err %v, want ErrNotFlat", b, err)
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	obj := Object{"body": "<a&b>", "total_fee": int64(12345), "z": 7, "q": `"quoted"`}
	data, err := obj.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "<a&b>") {
		t.Errorf("HTML escaped: %s", data)
	}
	back, err := DecodeObject(data)
	if err != nil {
		t.Fatal(err)
	}
	if back["body"] != "<a&b>" || back["total_fee"] != int64(12345) || back["z"] != int64(7) || back["q"] != `"quoted"` {
		t.Errorf("round trip: %v", back)
	}
	if _, err := (Object{"f": 1.5}).Encode(); err == nil {
		t.Error("float encoded")
	}
	// EncodeOrdered skips names that are not in the object.
	data, _ = Object{"b": "2"}.EncodeOrdered([]string{"a", "b", "c"})
	if string(data) != `{"b":"2"}` {
		t.Errorf("got %s", data)
	}
}

func TestSignTypeRoundTrip(t *testing.T) {
	for _, st := range []SignType{SignHMACSHA256, SignMD5} {
		back, err := ParseSignType(st.String())
		if err != nil || back != st {
			t.Errorf("%v: %v %v", st, back, err)
		}
	}
	if _, err := ParseSignType("hmac-sha256"); err == nil {
		t.Error("lower case accepted")
	}
}

func TestNewNonce(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		n := NewNonce()
		if len(n) < 16 || len(n) > 32 || strings.Trim(n, nonceAlphabet) != "" {
			t.Fatalf("bad nonce %q", n)
		}
		if seen[n] {
			t.Fatalf("nonce %q repeated", n)
		}
		seen[n] = true
	}
}

func BenchmarkSign(b *testing.B) {
	obj := Object{
		"mch_id": "100000001", "terminal_id": "T0001", "nonce_str": "ibuaiVcKdpRxkhJAibuaiVcK",
		"timestamp": int64(1764140000), "sign_type": "HMAC-SHA256", "out_trade_no": "T0001202611260001",
		"auth_code": "134567890123456780", "total_fee": int64(1250), "body": "收银台", "device_ip": "192.168.1.20",
	}
	key := []byte("0123456789abcdefghijABCDEFGHIJ01")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(obj, key, SignHMACSHA256); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzDecodeObject: no input panics the decoder, and whatever it accepts
// encodes back to an object that decodes and signs identically.
func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{`{"a":"x","n":1}`, `{}`, `{"a":{"b":1}}`, `{"a":1.5}`, `{"k":"\u00e9&="}`, `{"a":-0}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := DecodeObject(data)
		if err != nil {
			return
		}
		enc, err := obj.Encode()
		if err != nil {
			t.Fatalf("accepted %q but cannot encode: %v", data, err)
		}
		back, err := DecodeObject(enc)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", enc, err)
		}
		s1, _ := Sign(obj, []byte("k"), SignHMACSHA256)
		s2, _ := Sign(back, []byte("k"), SignHMACSHA256)
		if s1 != s2 {
			t.Fatalf("sign changed across encode: %q vs %q", data, enc)
		}
	})
}
