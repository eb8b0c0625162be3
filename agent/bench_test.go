package agent

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/scanbox/scanbox/fleet/proto"
)

// BenchmarkBeat: one report measured, queued on disk and delivered to the
// real fleet server (SQLite) on loopback.
func BenchmarkBeat(b *testing.B) {
	f := startFleetB(b)
	a, err := New(Options{DataDir: b.TempDir(), Version: "1.1.0", Status: statusWith(1)})
	if err != nil {
		b.Fatal(err)
	}
	codes, _ := f.st.CreateEnrollmentCodes(context.Background(), 1, "bench")
	if err := a.Join(context.Background(), f.url, codes[0], testIdentity); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a.CountPayment("wechat", proto.OutcomePaid, 100)
		if err := a.Beat(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueuePushFull: queueing one report while the fleet is down and
// the queue is at its 1 MiB bound (the whole file is rewritten).
func BenchmarkQueuePushFull(b *testing.B) {
	q, _ := openQueue(b.TempDir()+"/q", 1000, 1<<20)
	hb := proto.Heartbeat{OS: strings.Repeat("x", 900)}
	for q.size < 1<<20-2000 {
		q.push(hb)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q.push(hb)
	}
}

// BenchmarkSanitizeBundle: a 4 MiB support zip of log lines.
func BenchmarkSanitizeBundle(b *testing.B) {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	w, _ := z.Create("logs/scanbox.log")
	for i := 0; w != nil && i < 40_000; i++ {
		fmt.Fprintf(w, `{"time":"2026-12-01T09:30:00Z","level":"INFO","msg":"payment paid","order_no":"SB2026120100%04d","code":"1345**********6789","amount_fen":%d}`+"\n", i, i)
	}
	z.Close()
	secrets := [][]byte{[]byte("0123456789abcdef0123456789abcdef")}
	b.SetBytes(40_000 * 110)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := SanitizeBundle(buf.Bytes(), secrets); err != nil {
			b.Fatal(err)
		}
	}
}
