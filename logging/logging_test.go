package logging

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// readLines returns the JSON records of one log file.
func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: line %q is not JSON: %v", path, sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestRotation(t *testing.T) {
	dir := testDir(t)
	const maxSize, files = 2000, 3
	log, _, closer, err := New(dir, Options{MaxSize: maxSize, MaxFiles: files})
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		log.Info("tick", "i", i, "pad", strings.Repeat("x", 40))
	}
	closer.Close()

	ld := LogDir(dir)
	entries, _ := os.ReadDir(ld)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{FileName, FileName + ".1", FileName + ".2"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("log dir holds %v, want %v", names, want)
	}
	// Oldest file first, the records must be contiguous and end with the last.
	var seen []int
	for i := files - 1; i >= 0; i-- {
		p := filepath.Join(ld, want[i])
		st, _ := os.Stat(p)
		if st.Size() > maxSize {
			t.Errorf("%s is %d bytes, over %d", want[i], st.Size(), maxSize)
		}
		for _, m := range readLines(t, p) {
			seen = append(seen, int(m["i"].(float64)))
		}
	}
	if len(seen) == 0 || seen[len(seen)-1] != n-1 {
		t.Fatalf("last record missing: %v", seen)
	}
	for k := 1; k < len(seen); k++ {
		if seen[k] != seen[k-1]+1 {
			t.Fatalf("records not contiguous across files at %d: %v", k, seen)
		}
	}
	if len(seen) >= n {
		t.Fatalf("nothing was dropped: rotation kept %d of %d", len(seen), n)
	}

	// A new New appends to the current file instead of truncating it.
	log, _, closer, err = New(dir, Options{MaxSize: maxSize, MaxFiles: files})
	if err != nil {
		t.Fatal(err)
	}
	before := len(readLines(t, filepath.Join(ld, FileName)))
	log.Info("again")
	closer.Close()
	if after := len(readLines(t, filepath.Join(ld, FileName))); after != before+1 && after != 1 {
		t.Fatalf("reopen: %d records, was %d", after, before)
	}
}

func TestRingWraparoundAndCursor(t *testing.T) {
	ring := NewRing(4)
	log := slog.New(NewHandler(io.Discard, ring, Options{}))
	if e, next := ring.Since(0); len(e) != 0 || next != 1 {
		t.Fatalf("empty ring: %v, %d", e, next)
	}
	for i := 1; i <= 10; i++ {
		log.Info(fmt.Sprintf("m%d", i), "i", i)
	}
	seqs := func(es []Entry) string {
		var s []string
		for _, e := range es {
			s = append(s, fmt.Sprintf("%d:%s", e.Seq, e.Msg))
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		cursor   uint64
		want     string
		wantNext uint64
	}{
		{0, "7:m7,8:m8,9:m9,10:m10", 11},
		{3, "7:m7,8:m8,9:m9,10:m10", 11}, // overwritten: the reader sees the gap (7 > 3)
		{8, "8:m8,9:m9,10:m10", 11},
		{10, "10:m10", 11},
		{11, "", 11},
		{99, "", 11},
	}
	for _, tt := range tests {
		es, next := ring.Since(tt.cursor)
		if seqs(es) != tt.want || next != tt.wantNext {
			t.Errorf("Since(%d) = %s, %d; want %s, %d", tt.cursor, seqs(es), next, tt.want, tt.wantNext)
		}
	}
	es, _ := ring.Since(10)
	if es[0].Attrs != "i=10" || es[0].Level != slog.LevelInfo || es[0].Time.IsZero() {
		t.Errorf("entry = %+v", es[0])
	}
	// Following: a reader that passes next back sees every new entry once.
	_, cur := ring.Since(0)
	log.Warn("m11")
	es, cur = ring.Since(cur)
	if seqs(es) != "11:m11" || cur != 12 || es[0].Level != slog.LevelWarn {
		t.Errorf("follow: %s, %d", seqs(es), cur)
	}
}

func TestRingWait(t *testing.T) {
	ring := NewRing(8)
	log := slog.New(NewHandler(io.Discard, ring, Options{}))

	// Nothing yet: Wait ends with the context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ring.Wait(ctx, 0); err != context.Canceled {
		t.Fatalf("Wait on empty ring with cancelled ctx = %v", err)
	}

	// A waiter is woken by the next record.
	_, cur := ring.Since(0)
	done := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		close(started)
		done <- ring.Wait(context.Background(), cur)
	}()
	<-started
	log.Info("wake up")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	es, _ := ring.Since(cur)
	if len(es) != 1 || es[0].Msg != "wake up" {
		t.Fatalf("after Wait: %+v", es)
	}
	// Something already there: Wait returns at once.
	if err := ring.Wait(ctx, cur); err != nil {
		t.Fatalf("Wait with an entry ready = %v", err)
	}
	ch := ring.Changed()
	log.Info("again")
	<-ch // closed by the add
}

func TestRedaction(t *testing.T) {
	dir := testDir(t)
	log, ring, closer, err := New(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const code = "134567890123456789"
	secrets := []string{"S3CRET-KEY-VALUE", "SIGNATURE-HEX", "ACTIVATION-9876", "CIPHER-B64", "GROUP-SECRET", "WITH-KEY", "PASSWORD-1"}
	log.With("signing_key", "WITH-KEY").Info("activated",
		"key", "S3CRET-KEY-VALUE",
		"sign", "SIGNATURE-HEX",
		"activation_code", "ACTIVATION-9876",
		"key_cipher", "CIPHER-B64",
		"auth_code", code,
		"hotkey", "Ctrl+Alt+F9",
		"err_code", "USERPAYING",
		"mch_id", "M100",
		slog.Group("secret", "inner", "GROUP-SECRET"),
		slog.Group("req", "code", code, "adminPassword", "PASSWORD-1"),
	)
	closer.Close()
	raw, _ := os.ReadFile(filepath.Join(LogDir(dir), FileName))
	es, _ := ring.Since(0)
	if len(es) != 1 {
		t.Fatalf("ring has %d entries", len(es))
	}
	for name, out := range map[string]string{"file": string(raw), "ring": es[0].Attrs} {
		for _, s := range append(secrets, code) {
			if strings.Contains(out, s) {
				t.Errorf("%s output contains %q:\n%s", name, s, out)
			}
		}
		for _, s := range []string{"1345**********6789", "Ctrl+Alt+F9", "USERPAYING", "M100", Redacted} {
			if !strings.Contains(out, s) {
				t.Errorf("%s output lacks %q:\n%s", name, s, out)
			}
		}
	}
	recs := readLines(t, filepath.Join(LogDir(dir), FileName))
	if recs[0]["auth_code"] != "1345**********6789" || recs[0]["key"] != Redacted || recs[0]["signing_key"] != Redacted {
		t.Errorf("file record = %v", recs[0])
	}
	if req := recs[0]["req"].(map[string]any); req["code"] != "1345**********6789" || req["adminPassword"] != Redacted {
		t.Errorf("group req = %v", req)
	}
}

func TestIsSecret(t *testing.T) {
	tests := map[string]bool{
		"key": true, "Key": true, "signing_key": true, "signingKey": true, "key_cipher": true, "key_nonce": true,
		"sign": true, "sign_type": true, "X-Sign": true, "secret": true, "client_secret": true,
		"activation_code": true, "password": true, "Authorization": true,
		"hotkey": false, "keyboard": false, "monkey": false, "signal": false, "design": false,
		"order_no": false, "code_masked": false, "err_code": false, "nonce_str": false,
	}
	for k, want := range tests {
		if got := isSecret(k); got != want {
			t.Errorf("isSecret(%q) = %v, want %v", k, got, want)
		}
	}
}

func TestTextFormatAndLevel(t *testing.T) {
	dir := testDir(t)
	lv := new(slog.LevelVar)
	lv.Set(slog.LevelWarn)
	log, ring, closer, err := New(dir, Options{Text: true, Level: lv})
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown", "order_no", "A1")
	lv.Set(slog.LevelDebug)
	log.Debug("now shown")
	closer.Close()
	raw, _ := os.ReadFile(filepath.Join(LogDir(dir), FileName))
	s := string(raw)
	if strings.Contains(s, "hidden") || !strings.Contains(s, `msg=shown order_no=A1`) || !strings.Contains(s, `msg="now shown"`) {
		t.Fatalf("text log:\n%s", s)
	}
	if es, _ := ring.Since(0); len(es) != 2 {
		t.Fatalf("ring has %d entries, want 2", len(es))
	}
}

func TestLoggingAfterCloseReachesRing(t *testing.T) {
	log, ring, closer, err := New(testDir(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	closer.Close()
	log.Error("after close")
	if es, _ := ring.Since(0); len(es) != 1 || es[0].Msg != "after close" {
		t.Fatalf("ring = %+v", es)
	}
	if err := closer.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestAlsoWriter(t *testing.T) {
	var sb safeBuffer
	log, _, closer, err := New(testDir(t), Options{Also: &sb})
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	log.Info("to both", "auth_code", "134567890123456789")
	if out := sb.String(); !strings.Contains(out, "to both") || strings.Contains(out, "134567890123456789") {
		t.Fatalf("also writer got %q", out)
	}
}

type safeBuffer struct {
	mu sync.Mutex
	sb strings.Builder
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.Write(p)
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.String()
}

func TestConcurrentWriters(t *testing.T) {
	dir := testDir(t)
	log, ring, closer, err := New(dir, Options{MaxSize: 8 << 10, MaxFiles: 50, RingSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 200
	const total = writers * each
	// A follower reads the ring while writers write, until it has seen the
	// last entry. The ring (64) is smaller than the total, so it may skip
	// overwritten entries, but it must never see one twice or out of order.
	// The timeout only keeps a broken Wait from hanging the test run.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	followed := make(chan uint64, 1)
	go func() {
		var cur, last uint64
		for last < total {
			if err := ring.Wait(ctx, cur); err != nil {
				break
			}
			var es []Entry
			es, cur = ring.Since(cur)
			for _, e := range es {
				if e.Seq <= last {
					t.Errorf("follower saw seq %d after %d", e.Seq, last)
				}
				last = e.Seq
			}
		}
		followed <- last
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := log.With("writer", w).WithGroup("g")
			for i := range each {
				l.Info("concurrent", "i", i, "key", "nope")
			}
		}()
	}
	wg.Wait()
	if last := <-followed; last != total {
		t.Fatalf("follower stopped at seq %d, want %d", last, total)
	}
	closer.Close()

	files, _ := filepath.Glob(filepath.Join(LogDir(dir), FileName+"*"))
	if len(files) < 2 {
		t.Fatalf("no rotation under concurrency: %v", files)
	}
	count := map[string]int{}
	for _, f := range files {
		for _, m := range readLines(t, f) {
			g := m["g"].(map[string]any)
			if g["key"] != Redacted {
				t.Fatalf("unredacted under concurrency: %v", m)
			}
			count[fmt.Sprint(m["writer"])]++
		}
	}
	for w := range writers {
		if count[fmt.Sprint(w)] != each {
			t.Errorf("writer %d: %d records in files, want %d", w, count[fmt.Sprint(w)], each)
		}
	}
}
