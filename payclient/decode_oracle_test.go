package payclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"testing"
)

// decodeObjectJSON is DecodeObject as it was written on encoding/json's
// Decoder: the reference the hand-written scanner must agree with.
func decodeObjectJSON(data []byte) (Object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("does not start with {")
	}
	obj := Object{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errors.New("bad field name")
		}
		if _, dup := obj[name]; dup {
			return nil, errors.New("dup")
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, err
		}
		switch v := tok.(type) {
		case string:
			obj[name] = v
		case json.Number:
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return nil, err
			}
			obj[name] = n
		default:
			return nil, errors.New("type")
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, errors.New("not closed")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("after")
	}
	return obj, nil
}

var oracleSeeds = []string{
	`{"a":"x","n":1}`, `{}`, ` { } `, "{\n\"a\"\t:\r\"b\"}", `{"a":{"b":1}}`, `{"a":1.5}`, `{"a":1e3}`, `{"a":1E3}`, `{"a":-0}`,
	`{"a":01}`, `{"a":-}`, `{"a":--1}`, `{"a":9223372036854775807}`, `{"a":9223372036854775808}`, `{"a":-9223372036854775808}`,
	`{"k":"\u00e9&="}`, `{"k":"\ud800"}`, `{"k":"\"\\\/\b\f\n\r\t"}`, `{"k":"\x"}`, "{\"k\":\"\xff\xfe\"}", "{\"k\":\"é中\"}",
	"{\"k\":\"a\x01\"}", `{"a":"1","a":"2"}`, `{"a":"1","\u0061":"2"}`, `{"a":"1",}`, `{,}`, `{"a" "b"}`, `{"a":"1"}x`,
	`{"a":"1"} {}`, `{"a":"1"`, `{"a":`, `{"a`, `{`, ``, `[]`, `"x"`, `{"a":true}`, `{"a":null}`, `{"a":[1]}`,
	`{"a":"1"}  `, `{"a":1,"b":-2,"c":"3"}`, `{"a":"\\"}`, `{"a":"\"}`,
}

// TestDecodeObjectOracle: the scanner and encoding/json agree on every seed.
func TestDecodeObjectOracle(t *testing.T) {
	for _, s := range oracleSeeds {
		compareWithOracle(t, []byte(s))
	}
}

func compareWithOracle(t *testing.T, data []byte) {
	t.Helper()
	got, err1 := DecodeObject(data)
	want, err2 := decodeObjectJSON(data)
	if (err1 == nil) != (err2 == nil) {
		t.Fatalf("%q: scanner err %v, encoding/json err %v", data, err1, err2)
	}
	if err1 != nil {
		if !errors.Is(err1, ErrNotFlat) {
			t.Fatalf("%q: %v is not ErrNotFlat", data, err1)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: scanner %#v, encoding/json %#v", data, got, want)
	}
}

// FuzzDecodeObjectOracle compares the scanner with encoding/json on any
// input (go test -fuzz FuzzDecodeObjectOracle ./payclient/).
func FuzzDecodeObjectOracle(f *testing.F) {
	for _, s := range oracleSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { compareWithOracle(t, data) })
}

// benchAnswer is a micropay SUCCESS answer as the simulator writes it.
var benchAnswer = []byte(`{"sim_trace_id":"trace-12345","time_end":"20261126150405","nonce_str":"Zk3VQn8c1mX0aPqR7tLw2YbE","return_code":"SUCCESS","out_trade_no":"T0001-20261126-0001","total_fee":1250,"transaction_id":"42002026112600000001","result_code":"SUCCESS","pay_channel":"WECHAT","sign":"6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"}`)

func BenchmarkDecodeObject(b *testing.B) {
	b.Run("scanner", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeObject(benchAnswer); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeObjectJSON(benchAnswer); err != nil {
				b.Fatal(err)
			}
		}
	})
}
