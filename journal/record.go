package journal

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"reflect"
	"slices"
	"strings"

	"github.com/scanbox/scanbox/order"
)

// On-disk format (all integers little-endian):
//
//	file   = fileMagic record*
//	record = recMagic(4) length(4) crc32c(4) payload(length)
//
// payload is the JSON of one order.Order; crc32c covers the payload. The
// per-record magic lets a reader find the next record after damage in the
// middle of the file (resync) instead of dropping everything behind it.
var (
	fileMagic = []byte("SBJOURN1")
	recMagic  = []byte("SBJR")
)

const (
	headerLen = 12
	// maxPayload bounds a record; a length field above it is damage, not a
	// record (an order's JSON is well under 4 KiB).
	maxPayload = 1 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeRecord frames one order.
func encodeRecord(o order.Order) ([]byte, error) {
	return encodeWith(o, nil)
}

// encodeWith frames one order, putting back what x kept of a record this
// version could not fully read.
func encodeWith(o order.Order, x *extras) ([]byte, error) {
	payload, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("journal: encode %s: %w", o.OutTradeNo, err)
	}
	if x != nil {
		if payload, err = x.merge(payload); err != nil {
			return nil, fmt.Errorf("journal: encode %s: %w", o.OutTradeNo, err)
		}
	}
	return frame(payload, o.OutTradeNo)
}

func frame(payload []byte, no string) ([]byte, error) {
	if len(payload) > maxPayload {
		return nil, fmt.Errorf("journal: record for %s is %d bytes, over the %d limit", no, len(payload), maxPayload)
	}
	buf := make([]byte, headerLen+len(payload))
	copy(buf, recMagic)
	binary.LittleEndian.PutUint32(buf[4:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(buf[8:], crc32.Checksum(payload, castagnoli))
	copy(buf[headerLen:], payload)
	return buf, nil
}

// record is one intact record as read: an order (with what this version
// could not read of it), or, when the payload is not an order at all, the
// opaque record bytes to keep as they are.
type record struct {
	o      order.Order
	x      *extras
	opaque []byte
}

// checkRecord reports whether an intact record (magic, length, checksum)
// starts at data[0], and its total size. Intact means intact: what the
// payload says is decided later, and never makes the record "torn".
func checkRecord(data []byte) (size int, ok bool) {
	if len(data) < headerLen || !bytes.Equal(data[:4], recMagic) {
		return 0, false
	}
	n := int(binary.LittleEndian.Uint32(data[4:]))
	if n > maxPayload || n > len(data)-headerLen {
		return 0, false
	}
	if crc32.Checksum(data[headerLen:headerLen+n], castagnoli) != binary.LittleEndian.Uint32(data[8:]) {
		return 0, false
	}
	return headerLen + n, true
}

// decodeRecord parses the record starting at data[0]. It returns ok=false
// only if the bytes there are not a whole, intact record (torn, damaged, or
// not a record at all). An intact record whose JSON holds values this
// version does not know is an order with extras; one that is not an order
// at all is opaque.
func decodeRecord(data []byte) (r record, size int, ok bool) {
	size, ok = checkRecord(data)
	if !ok {
		return r, 0, false
	}
	payload := data[headerLen:size]
	o, x, err := decodeOrder(payload)
	if err != nil {
		return record{opaque: append([]byte(nil), data[:size]...)}, size, true
	}
	return record{o: o, x: x}, size, true
}

// extras is what a record held that this version cannot represent in
// order.Order: fields it does not know, and known fields with a value it
// does not know (a newer version's pay channel or state). They are written
// back on every later record of the order, so a newer version finds them
// again after a downgrade and an upgrade.
type extras struct {
	// unknown holds fields this version has no name for, verbatim.
	unknown map[string]json.RawMessage
	// unread holds known fields whose value could not be read, verbatim;
	// fallback is the JSON of what this version put in their place. The
	// original is written back only while the field still holds the
	// fallback: once this version sets the field itself (say, the order
	// is resolved), its own value is the truth.
	unread, fallback map[string]json.RawMessage
}

// fallbacks are the values put in place of a known field's unreadable value.
// An unknown state counts as not definite: the resolver asks the bank
// (query first, never close first), which is safe whatever it was.
var fallbacks = map[string]func(*order.Order){
	"state":   func(o *order.Order) { o.State = order.StatePending },
	"channel": func(o *order.Order) { o.Channel = order.ChannelOther },
	"guess":   func(o *order.Order) { o.Guess = order.ChannelOther },
}

// orderKeys is the set of JSON keys order.Order has.
var orderKeys = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeFor[order.Order]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			m[name] = true
		}
	}
	return m
}()

// decodeOrder reads an order from a record's JSON. The common case (every
// key and value known) is one strict Unmarshal; otherwise each field is
// read alone and what cannot be read is kept in extras. It fails only for
// a payload that is not an order at all (not a JSON object, no number).
func decodeOrder(payload []byte) (order.Order, *extras, error) {
	var o order.Order
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err == nil && o.OutTradeNo != "" && o.State != order.StateInvalid {
		return o, nil, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(payload, &fields); err != nil {
		return order.Order{}, nil, err
	}
	o = order.Order{}
	x := &extras{}
	known := map[string]json.RawMessage{}
	for k, v := range fields {
		if !orderKeys[k] {
			setRaw(&x.unknown, k, v)
			continue
		}
		var probe order.Order
		if err := json.Unmarshal(oneField(k, v), &probe); err != nil {
			setRaw(&x.unread, k, v)
			continue
		}
		known[k] = v
	}
	body, _ := json.Marshal(known)
	if err := json.Unmarshal(body, &o); err != nil {
		return order.Order{}, nil, err
	}
	if o.OutTradeNo == "" {
		return order.Order{}, nil, errors.New("no out_trade_no")
	}
	if o.State == order.StateInvalid && x.unread["state"] == nil {
		// No state at all: there is nothing to write back, but it is not
		// definite either.
		o.State = order.StatePending
	}
	if len(x.unread) > 0 {
		enc, _ := json.Marshal(o)
		var now map[string]json.RawMessage
		json.Unmarshal(enc, &now)
		for k := range x.unread {
			if f := fallbacks[k]; f != nil {
				f(&o)
				enc, _ = json.Marshal(o)
				json.Unmarshal(enc, &now)
			}
			setRaw(&x.fallback, k, now[k]) // nil: the field is omitted
		}
	}
	if len(x.unknown) == 0 && len(x.unread) == 0 {
		x = nil
	}
	return o, x, nil
}

func oneField(k string, v json.RawMessage) []byte {
	key, _ := json.Marshal(k)
	return slices.Concat([]byte("{"), key, []byte(":"), v, []byte("}"))
}

func setRaw(m *map[string]json.RawMessage, k string, v json.RawMessage) {
	if *m == nil {
		*m = map[string]json.RawMessage{}
	}
	(*m)[k] = v
}

// merge puts x's kept values into an order's JSON (see extras).
func (x *extras) merge(payload []byte) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, err
	}
	for k, v := range x.unknown {
		if _, set := m[k]; !set {
			m[k] = v
		}
	}
	for k, v := range x.unread {
		if cur, set := m[k]; bytes.Equal(cur, x.fallback[k]) || (!set && x.fallback[k] == nil) {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

// nextRecord finds the first offset > from where an intact record starts, or -1.
func nextRecord(data []byte, from int) int {
	for p := from + 1; p < len(data); {
		i := bytes.Index(data[p:], recMagic)
		if i < 0 {
			return -1
		}
		p += i
		if _, ok := checkRecord(data[p:]); ok {
			return p
		}
		p++
	}
	return -1
}

// scanResult is what parsing a whole journal file found.
type scanResult struct {
	records []record // every intact record, in file order
	// orders are the records' orders (opaque records left out).
	orders []order.Order
	// validEnd is the offset just after the last intact record (the file is
	// cut there when only the tail is damaged).
	validEnd int
	// tornTail is true when bytes after validEnd were dropped.
	tornTail bool
	// skipped lists damaged ranges in the middle that were stepped over.
	skipped [][2]int
	// badHeader is true when the file does not start with fileMagic.
	badHeader bool
}

// scan parses a journal file. Policy (documented in the package comment):
// damage at the end is a torn write and is cut away; damage followed by
// intact records is skipped over (resync) so that later good records are
// never dropped silently. "Intact" is the checksum's verdict alone: a
// record whose JSON this version cannot read is kept, never cut.
func scan(data []byte) scanResult {
	var r scanResult
	pos := len(fileMagic)
	if !bytes.HasPrefix(data, fileMagic) {
		if len(data) < len(fileMagic) && bytes.HasPrefix(fileMagic, data) {
			// Torn while the file was being created.
			r.tornTail = len(data) > 0
			return r
		}
		r.badHeader = true
		pos = 0
		if _, ok := checkRecord(data); !ok {
			pos = nextRecord(data, 0)
			if pos < 0 {
				return r
			}
			r.skipped = append(r.skipped, [2]int{0, pos})
		}
	}
	r.validEnd = pos
	for pos < len(data) {
		rec, size, ok := decodeRecord(data[pos:])
		if ok {
			r.records = append(r.records, rec)
			if rec.opaque == nil {
				r.orders = append(r.orders, rec.o)
			}
			pos += size
			r.validEnd = pos
			continue
		}
		next := nextRecord(data, pos)
		if next < 0 {
			r.tornTail = true
			break
		}
		r.skipped = append(r.skipped, [2]int{pos, next})
		pos = next
	}
	return r
}
