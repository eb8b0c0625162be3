package journal

import (
	"fmt"
	"testing"

	"github.com/scanbox/scanbox/order"
)

func baseLog(tb testing.TB) ([]byte, []order.Order) {
	data := append([]byte(nil), fileMagic...)
	var orders []order.Order
	for i := range 3 {
		o := mk(fmt.Sprintf("F%04d", i), order.StatePending, i)
		rec, err := encodeRecord(o)
		if err != nil {
			tb.Fatal(err)
		}
		data = append(data, rec...)
		orders = append(orders, o)
	}
	return data, orders
}

// FuzzScanTail: whatever follows intact records (a torn write, garbage, a
// forged record), the intact records before it are read back unchanged,
// and parsing never panics or reads out of bounds.
func FuzzScanTail(f *testing.F) {
	base, want := baseLog(f)
	rec, _ := encodeRecord(mk("F9999", order.StatePaid, 9))
	f.Add([]byte{})
	f.Add(rec[:5])
	f.Add(rec)
	f.Add(append(append([]byte("garbage"), rec...), 0xff))
	f.Add(append(append([]byte(nil), recMagic...), 0xff, 0xff, 0xff, 0x7f))
	f.Fuzz(func(t *testing.T, tail []byte) {
		data := append(append([]byte(nil), base...), tail...)
		res := scan(data)
		if res.badHeader || len(res.orders) < len(want) {
			t.Fatalf("lost intact records: %d of %d", len(res.orders), len(want))
		}
		for i, w := range want {
			if !sameOrder(res.orders[i], w) {
				t.Fatalf("record %d changed: %+v", i, res.orders[i])
			}
		}
		if res.validEnd < len(base) || res.validEnd > len(data) {
			t.Fatalf("validEnd %d outside [%d, %d]", res.validEnd, len(base), len(data))
		}
		for _, o := range res.orders {
			if o.OutTradeNo == "" || o.State == order.StateInvalid {
				t.Fatalf("invalid order accepted: %+v", o)
			}
		}
		// Re-encoding what was read and scanning again is a fixed point.
		clean := append([]byte(nil), fileMagic...)
		for _, o := range res.orders {
			r, err := encodeRecord(o)
			if err != nil {
				t.Fatal(err)
			}
			clean = append(clean, r...)
		}
		again := scan(clean)
		if len(again.orders) != len(res.orders) || again.tornTail || len(again.skipped) != 0 || again.validEnd != len(clean) {
			t.Fatalf("clean rewrite does not scan clean: %+v", again)
		}
	})
}

// FuzzScanAny: arbitrary bytes never panic the parser.
func FuzzScanAny(f *testing.F) {
	base, _ := baseLog(f)
	f.Add(base)
	f.Add([]byte("SBJOURN"))
	f.Add([]byte("not a journal"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res := scan(data)
		if res.validEnd > len(data) {
			t.Fatalf("validEnd %d > len %d", res.validEnd, len(data))
		}
	})
}

func BenchmarkRecent(b *testing.B) {
	j := mustOpen(b, testDir(b))
	defer j.Close()
	// Fill the index directly: this measures the query, not 1000 fsyncs.
	j.mu.Lock()
	for i := range DefaultRetain {
		j.apply(mk(fmt.Sprintf("R%05d", i), order.StatePaid, i))
	}
	j.mu.Unlock()
	for b.Loop() {
		if len(j.Recent(100)) != 100 {
			b.Fatal("short")
		}
	}
}
