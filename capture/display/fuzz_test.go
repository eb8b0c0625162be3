package display

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/scanbox/scanbox/money"
)

var fixedTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// FuzzParsers feeds arbitrary bytes to every profile: no panic, only valid
// totals, bounded memory, and the same totals whether the bytes come whole
// or one by one (the property every golden test relies on).
//
//	go test ./capture/display -run '^$' -fuzz FuzzParsers -fuzztime 60s
func FuzzParsers(f *testing.F) {
	for _, sc := range allScenarios() {
		if data, err := os.ReadFile(filepath.Join("testdata", sc.name+".bin")); err == nil {
			f.Add(data, uint8(3))
		}
	}
	f.Add([]byte("\x1bQA\x1bs\x02\x1bQA1.00\r"), uint8(1))
	f.Add([]byte("\x1b&\x04\x20\x7e\xff"), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		for prof := range numProfiles {
			whole, _ := NewParser(prof, 20)
			cut, _ := NewParser(prof, 20)
			a := feedEvents(whole, data, 0)
			b := feedEvents(cut, data, int(chunk%16)+1)
			if len(a) != len(b) {
				t.Fatalf("%v: %d totals whole, %d in chunks of %d", prof, len(a), len(b), chunk%16+1)
			}
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("%v: total %d differs: %+v vs %+v", prof, i, a[i], b[i])
				}
				if a[i].Amount <= 0 || a[i].Amount > money.Max || a[i].Kind != KindTotal || a[i].Profile == ProfileAuto {
					t.Fatalf("%v: invalid event %+v", prof, a[i])
				}
			}
			if n := buffered(whole); n > 4*maxLine+4*maxPending {
				t.Fatalf("%v: %d bytes held", prof, n)
			}
		}
	})
}

func feedEvents(p Parser, data []byte, n int) []Event {
	var out []Event
	emit := func(e Event) { out = append(out, e) }
	if n <= 0 {
		n = max(len(data), 1)
	}
	for i := 0; i < len(data); i += n {
		p.Feed(data[i:min(i+n, len(data))], emit)
	}
	p.Flush(emit)
	return out
}
