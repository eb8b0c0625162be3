package journal

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"

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
	payload, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("journal: encode %s: %w", o.OutTradeNo, err)
	}
	if len(payload) > maxPayload {
		return nil, fmt.Errorf("journal: record for %s is %d bytes, over the %d limit", o.OutTradeNo, len(payload), maxPayload)
	}
	buf := make([]byte, headerLen+len(payload))
	copy(buf, recMagic)
	binary.LittleEndian.PutUint32(buf[4:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(buf[8:], crc32.Checksum(payload, castagnoli))
	copy(buf[headerLen:], payload)
	return buf, nil
}

// decodeRecord parses the record starting at data[0]. It returns the order
// and the record's total size, or ok=false if the bytes there are not a whole,
// intact record (torn, damaged, or not a record at all).
func decodeRecord(data []byte) (o order.Order, size int, ok bool) {
	if len(data) < headerLen || !bytes.Equal(data[:4], recMagic) {
		return o, 0, false
	}
	n := int(binary.LittleEndian.Uint32(data[4:]))
	if n > maxPayload || n > len(data)-headerLen {
		return o, 0, false
	}
	payload := data[headerLen : headerLen+n]
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(data[8:]) {
		return o, 0, false
	}
	if err := json.Unmarshal(payload, &o); err != nil || o.OutTradeNo == "" || o.State == order.StateInvalid {
		return order.Order{}, 0, false
	}
	return o, headerLen + n, true
}

// nextRecord finds the first offset > from where an intact record starts, or -1.
func nextRecord(data []byte, from int) int {
	for p := from + 1; p < len(data); {
		i := bytes.Index(data[p:], recMagic)
		if i < 0 {
			return -1
		}
		p += i
		if _, _, ok := decodeRecord(data[p:]); ok {
			return p
		}
		p++
	}
	return -1
}

// scanResult is what parsing a whole journal file found.
type scanResult struct {
	orders []order.Order // every intact record, in file order
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
// never dropped silently.
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
		if _, _, ok := decodeRecord(data); !ok {
			pos = nextRecord(data, 0)
			if pos < 0 {
				return r
			}
			r.skipped = append(r.skipped, [2]int{0, pos})
		}
	}
	r.validEnd = pos
	for pos < len(data) {
		o, size, ok := decodeRecord(data[pos:])
		if ok {
			r.orders = append(r.orders, o)
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
