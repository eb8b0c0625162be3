package store

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"

	"github.com/scanbox/scanbox/order"
)

// A doc column holds one record's whole JSON document, the same JSON the
// journal wrote, so that nothing is lost, not even fields a newer ScanBox
// added. Stored as
//
//	docRaw     '{' ... : the JSON as it is
//	docDeflate 0x01 deflate(JSON) with docDict as the preset dictionary
//
// An order's JSON is ~550 bytes, mostly key names, RFC 3339 times and a
// 64-hex-digit hash; with the dictionary it deflates to under a third, which
// is what keeps 200,000 orders well under 100 MB. The dictionary is part of
// the format: a new one needs a new tag byte, never an edit of this one.
// A payment's own writes store docRaw, and Prune deflates them once the
// order is resolved (compact.go): deflating is a fifth of a write's CPU.
const docDeflate = 0x01

// docDict is a typical order followed by a typical refund, in the key order
// encoding/json writes them; deflate finds repeats of it in every record.
var docDict = []byte(`{"out_refund_no":"RF2612011234560000000000","out_trade_no":"SB261201123456ABCDEFGH",` +
	`"refund_fen":100,"state":"refunded","refund_id":"50300000000000000000000000","reason":"",` +
	`"created_at":"2026-12-01T12:34:56.123456789+08:00","updated_at":"2026-12-01T12:34:56.123456789+08:00",` +
	`"err_code":"","message":"","mch_id":"1900000109","terminal_id":"T0001"}` +
	`{"out_trade_no":"SB261201123456ABCDEFGH","kind":"precreate","kind":"micropay","amount_fen":1250,"body":"ScanBox",` +
	`"code_masked":"1345**********6780","code_hash":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",` +
	`"guess":"ALIPAY","channel":"UNIONPAY","guess":"WECHAT","channel":"WECHAT","state":"pending","state":"paid",` +
	`"transaction_id":"4200000000202612010000000000","time_end":"20261201123456",` +
	`"created_at":"2026-12-01T12:34:56.123456789+08:00","updated_at":"2026-12-01T12:34:56.123456789+08:00",` +
	`"sent_at":"2026-12-01T12:34:56.123456789+08:00","deadline":"2026-12-01T12:34:56.123456789+08:00",` +
	`"resends":1,"err_code":"SYSTEMERROR","message":"","mch_id":"1900000109","terminal_id":"T0001","cancelled":true}`)

// docLevel is the deflate level: BestSpeed (1) ignores a preset dictionary
// in Go's compress/flate, and the dictionary is what makes small documents
// small (an order: 540 bytes → about 160 with level 4, 340 with level 1).
const docLevel = 4

var (
	writers = sync.Pool{New: func() any {
		w, err := flate.NewWriterDict(io.Discard, docLevel, docDict)
		if err != nil {
			panic("store: flate writer: " + err.Error()) // only for a bad level
		}
		return w
	}}
	readers = sync.Pool{New: func() any { return flate.NewReaderDict(bytes.NewReader(nil), docDict) }}
)

// packDoc turns a JSON document into what the doc column stores.
func packDoc(js []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(js)/2 + 8)
	buf.WriteByte(docDeflate)
	w := writers.Get().(*flate.Writer)
	w.Reset(&buf)
	// Writing to a bytes.Buffer cannot fail.
	w.Write(js)
	w.Close()
	writers.Put(w)
	return buf.Bytes()
}

// unpackDoc returns the JSON document stored in a doc column.
func unpackDoc(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("store: empty document")
	}
	switch b[0] {
	case '{':
		return b, nil
	case docDeflate:
		r := readers.Get().(io.ReadCloser)
		defer readers.Put(r)
		if err := r.(flate.Resetter).Reset(bytes.NewReader(b[1:]), docDict); err != nil {
			return nil, err
		}
		js, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("store: damaged document: %w", err)
		}
		return js, nil
	}
	return nil, fmt.Errorf("store: document format %#x unknown to this version", b[0])
}

// jsonKeys lists the JSON keys a struct type writes.
func jsonKeys(t reflect.Type) map[string]bool {
	keys := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		keys[name] = true
	}
	return keys
}

var (
	orderKeys  = jsonKeys(reflect.TypeFor[order.Order]())
	refundKeys = jsonKeys(reflect.TypeFor[Refund]())
)

// unknownKeys returns the members of the JSON object js that known lacks
// (nil if none, or if js is not an object).
func unknownKeys(js []byte, known map[string]bool) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(js, &m) != nil {
		return nil
	}
	for k := range m {
		if known[k] {
			delete(m, k)
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// mergeUnknown adds the members of extra to the JSON object js (which this
// version wrote, so it has none of them).
func mergeUnknown(js []byte, extra map[string]json.RawMessage) ([]byte, error) {
	if len(extra) == 0 {
		return js, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(js, &m); err != nil {
		return nil, err
	}
	for k, v := range extra {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return json.Marshal(m)
}
