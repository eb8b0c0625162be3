package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scanbox/scanbox/internal/filelock"
	"github.com/scanbox/scanbox/journal"
	"github.com/scanbox/scanbox/order"
)

// frame frames a payload as journal/record.go does (written here
// independently, to add records the journal package itself would not write).
func frame(payload string) []byte {
	b := make([]byte, 12+len(payload))
	copy(b, "SBJR")
	binary.LittleEndian.PutUint32(b[4:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[8:], crc32.Checksum([]byte(payload), crc32.MakeTable(crc32.Castagnoli)))
	copy(b[12:], payload)
	return b
}

func rawDoc(t *testing.T, s *Store, no string) string {
	t.Helper()
	var packed []byte
	if err := s.r.QueryRow("SELECT doc FROM orders WHERE out_trade_no = ?", no).Scan(&packed); err != nil {
		t.Fatalf("doc of %s: %v", no, err)
	}
	js, err := unpackDoc(packed)
	if err != nil {
		t.Fatal(err)
	}
	return string(js)
}

func countRows(t *testing.T, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.r.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// writeOldJournal writes a real journal with journal.Open: oldOrders orders, each
// pending then resolved (one in ten left unknown), and returns what the
// journal itself reads back.
const oldOrders = 100

func writeOldJournal(t *testing.T, dir string) map[string]order.Order {
	t.Helper()
	j, err := journal.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range oldOrders {
		o := mk(fmt.Sprintf("J%04d", i), order.StatePending, i)
		if err := j.Append(o); err != nil {
			t.Fatal(err)
		}
		o.State, o.Channel, o.TransactionID = order.StatePaid, order.ChannelAlipay, fmt.Sprintf("42%08d", i)
		if i%10 == 0 {
			o.State, o.Channel, o.TransactionID = order.StateUnknown, order.ChannelNone, ""
		}
		o.UpdatedAt = o.UpdatedAt.Add(time.Second)
		if err := j.Append(o); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]order.Order{}
	for _, o := range j.Recent(0) {
		want[o.OutTradeNo] = o
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if len(want) != oldOrders {
		t.Fatalf("journal kept %d orders", len(want))
	}
	return want
}

// Records a newer ScanBox might have written: a field this version does not
// know, and a state it does not know. A torn record ends the file.
const (
	futureField = `{"out_trade_no":"J0001","kind":"micropay","amount_fen":101,"state":"paid","channel":"ALIPAY",` +
		`"created_at":"2026-12-01T10:00:01+08:00","updated_at":"2026-12-01T10:00:09+08:00","loyalty_points":17,"device_sn":"X1"}`
	// Orders journaled before issue 8, with unkeyed SHA-256 code hashes.
	legacyPaid = `{"out_trade_no":"L0001","kind":"micropay","amount_fen":300,"code_hash":"` + legacyH1 + `","state":"paid",` +
		`"channel":"WECHAT","created_at":"2026-12-01T12:00:00+08:00","updated_at":"2026-12-01T12:00:02+08:00"}`
	legacyOpen = `{"out_trade_no":"L0002","kind":"micropay","amount_fen":400,"code_hash":"` + legacyH2 + `","state":"unknown",` +
		`"guess":"WECHAT","created_at":"2026-12-01T12:01:00+08:00","updated_at":"2026-12-01T12:01:02+08:00"}`
	legacyH1    = "1111111111111111111111111111111111111111111111111111111111111111"
	legacyH2    = "2222222222222222222222222222222222222222222222222222222222222222"
	futureState = `{"out_trade_no":"J9999","kind":"micropay","amount_fen":555,"state":"partially_refunded","channel":"WECHAT",` +
		`"created_at":"2026-12-01T11:00:00+08:00","updated_at":"2026-12-01T11:00:00+08:00"}`
)

func appendFrames(t *testing.T, path string, frames ...[]byte) []byte {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range frames {
		f.Write(b)
	}
	f.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func checkImported(t *testing.T, s *Store, want map[string]order.Order) {
	t.Helper()
	for no, w := range want {
		if no == "J0001" {
			continue // replaced by the future record, checked below
		}
		got, ok := s.Get(no)
		if !ok {
			t.Fatalf("order %s not imported", no)
		}
		sameOrder(t, got, w)
	}
	if got := len(s.Unresolved()); got != oldOrders/10+1 {
		t.Fatalf("%d unresolved after import, want %d", got, oldOrders/10+1)
	}
	if n := countRows(t, s, "orders"); n != oldOrders+3 {
		t.Fatalf("%d orders rows, want %d (+ the one with a future state, + 2 legacy)", n, oldOrders+3)
	}
	// A resolved order keeps no unkeyed code hash; an open one keeps it to
	// guard a rescan of its code.
	if doc := rawDoc(t, s, "L0001"); strings.Contains(doc, "code_hash") || !strings.Contains(doc, `"amount_fen":300`) {
		t.Fatalf("resolved legacy order: %s", doc)
	}
	if o, ok := s.FindUnresolvedByCodeHash(legacyH2); !ok || o.OutTradeNo != "L0002" {
		t.Fatalf("open legacy order not found by its hash: %v", ok)
	}
	// The future record is the newest of J0001 and keeps its unknown fields.
	if o, ok := s.Get("J0001"); !ok || o.State != order.StatePaid || o.AmountFen != 101 {
		t.Fatalf("J0001 = %+v %v", o, ok)
	}
	if doc := rawDoc(t, s, "J0001"); !strings.Contains(doc, `"loyalty_points":17`) || !strings.Contains(doc, `"device_sn":"X1"`) {
		t.Fatalf("unknown fields lost: %s", doc)
	}
	// The future state is kept whole, left out of typed reads, counted unresolved.
	if doc := rawDoc(t, s, "J9999"); doc != futureState {
		t.Fatalf("future-state record changed: %s", doc)
	}
	if _, ok := s.Get("J9999"); ok {
		t.Fatal("a state this version does not know was decoded")
	}
	sum, err := s.SummaryOn(t0)
	if err != nil || sum.Total.Unresolved != oldOrders/10+2 {
		t.Fatalf("summary unresolved = %d %v, want %d", sum.Total.Unresolved, err, oldOrders/10+2)
	}
}

func TestMigrateOldJournal(t *testing.T) {
	dir := testDir(t)
	want := writeOldJournal(t, dir)
	path := filepath.Join(dir, journalDir, oldLogName)
	torn := frame(`{"out_trade_no":"J0002","state":"failed"}`)
	original := appendFrames(t, path, frame(futureField), frame(futureState), frame(legacyPaid), frame(legacyOpen),
		torn[:len(torn)-3])
	if !bytes.Contains(original, []byte(legacyH1)) {
		t.Fatal("test setup: no legacy hash in the journal")
	}

	// An old ScanBox still running on the directory: refused, nothing touched.
	lockF, err := os.OpenFile(filepath.Join(dir, journalDir, lockName), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := filelock.Lock(lockF); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("Open while the old journal is locked = %v, want ErrLocked", err)
	}
	filelock.Unlock(lockF)
	lockF.Close()

	// A kill after the import committed but before the rename.
	importHook = func() error { return errors.New("killed") }
	_, err = Open(dir)
	importHook = nil
	if err == nil || err.Error() != "killed" {
		t.Fatalf("interrupted Open = %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("old journal gone after an interrupted import: %v", err)
	}
	s := mustOpen(t, dir)
	checkImported(t, s, want)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("old journal still in place: %v", err)
	}
	aside, _ := filepath.Glob(path + migratedSuffix + "*")
	if len(aside) != 1 {
		t.Fatalf("renamed-aside files: %v", aside)
	}
	// Kept aside as it was, but for the unkeyed code hashes.
	b, _ := os.ReadFile(aside[0])
	if !bytes.Equal(b, redactLegacy(original)) || bytes.Contains(b, []byte(legacyH1)) || bytes.Contains(b, []byte(legacyH2)) ||
		len(b) != len(original) {
		t.Fatal("the journal kept aside is not the original file with its legacy hashes redacted")
	}
	// While the store is open, an old ScanBox is refused by its own lock.
	if _, err := journal.Open(dir); !errors.Is(err, journal.ErrLocked) {
		t.Fatalf("old journal.Open beside the store = %v, want ErrLocked", err)
	}
	// An update keeps the fields this version does not know.
	o, _ := s.Get("J0001")
	o.State, o.UpdatedAt = order.StateRevoked, o.UpdatedAt.Add(time.Minute)
	mustAppend(t, s, o)
	if doc := rawDoc(t, s, "J0001"); !strings.Contains(doc, `"loyalty_points":17`) || !strings.Contains(doc, `"state":"revoked"`) {
		t.Fatalf("after an update: %s", doc)
	}
	// Resolving the open legacy order drops its hash.
	l2, _ := s.Get("L0002")
	l2.State, l2.Channel = order.StatePaid, order.ChannelWeChat
	mustAppend(t, s, l2)
	if doc := rawDoc(t, s, "L0002"); strings.Contains(doc, "code_hash") {
		t.Fatalf("resolved legacy order kept its hash: %s", doc)
	}
	s.Close()

	// Reopening imports nothing again.
	s = mustOpen(t, dir)
	defer s.Close()
	if n := countRows(t, s, "orders"); n != oldOrders+3 {
		t.Fatalf("%d orders after reopen", n)
	}
	if o, _ := s.Get("J0001"); o.State != order.StateRevoked {
		t.Fatalf("reopen replaced a newer state: %v", o.State)
	}
}

func TestMigrateRefusesAForeignFile(t *testing.T) {
	dir := testDir(t)
	os.MkdirAll(filepath.Join(dir, journalDir), 0o700)
	path := filepath.Join(dir, journalDir, oldLogName)
	junk := []byte("this is not a journal, just a file someone put here\n")
	os.WriteFile(path, junk, 0o600)
	if _, err := Open(dir); !errors.Is(err, ErrOldJournal) {
		t.Fatalf("Open with a foreign orders.log = %v, want ErrOldJournal", err)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, junk) {
		t.Fatal("the foreign file was changed")
	}
}

// TestReaderAgreesWithJournal: on files the journal package wrote, with
// damage of every kind it repairs, the store's reader finds the same newest
// state of every order as journal.Open does.
func TestReaderAgreesWithJournal(t *testing.T) {
	for _, damage := range []string{"none", "torn", "middle"} {
		t.Run(damage, func(t *testing.T) {
			dir := testDir(t)
			writeOldJournal(t, dir)
			path := filepath.Join(dir, journalDir, oldLogName)
			data, _ := os.ReadFile(path)
			switch damage {
			case "torn":
				data = data[:len(data)-7]
			case "middle":
				data[len(data)/2] ^= 0xff
			}
			os.WriteFile(path, data, 0o600)
			latest, _, _, err := readOldJournal(data)
			if err != nil {
				t.Fatal(err)
			}
			j, err := journal.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			fromJournal := j.Recent(0)
			if len(latest) != len(fromJournal) {
				t.Fatalf("store reader %d orders, journal %d", len(latest), len(fromJournal))
			}
			for _, js := range latest {
				r, err := oldRow(js)
				if err != nil {
					t.Fatal(err)
				}
				o, err := decodeOrder(r.doc)
				if err != nil {
					t.Fatal(err)
				}
				jo, ok := j.Get(o.OutTradeNo)
				if !ok {
					t.Fatalf("%s only in the store reader", o.OutTradeNo)
				}
				sameOrder(t, o, jo)
			}
		})
	}
}

// TestKeptCopiesRedactedOnOpen: a kill between the rename and the redaction
// (or a copy the old journal kept) leaves an unkeyed hash in a file beside
// the journal; the next Open redacts it.
func TestKeptCopiesRedactedOnOpen(t *testing.T) {
	dir := testDir(t)
	jdir := filepath.Join(dir, journalDir)
	os.MkdirAll(jdir, 0o700)
	data := append([]byte("SBJOURN1"), frame(legacyPaid)...)
	for _, name := range []string{oldLogName + migratedSuffix + "20261201T000000Z", oldLogName + ".corrupt-20261201T000000Z"} {
		if err := os.WriteFile(filepath.Join(jdir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := mustOpen(t, dir)
	s.Close()
	for _, name := range []string{oldLogName + migratedSuffix + "20261201T000000Z", oldLogName + ".corrupt-20261201T000000Z"} {
		b, err := os.ReadFile(filepath.Join(jdir, name))
		if err != nil || bytes.Contains(b, []byte(legacyH1)) || len(b) != len(data) {
			t.Fatalf("%s not redacted: %v", name, err)
		}
	}
}
