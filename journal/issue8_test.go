package journal

// Regression tests for the journal defects of issue 8 (each failed before
// its fix).

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scanbox/scanbox/order"
	codescan "github.com/scanbox/scanbox/scan"
)

// rawFrame wraps any payload as a record with a valid checksum, the way a
// newer (or older) ScanBox version would write it.
func rawFrame(payload string) []byte {
	buf := make([]byte, headerLen+len(payload))
	copy(buf, recMagic)
	binary.LittleEndian.PutUint32(buf[4:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(buf[8:], crc32.Checksum([]byte(payload), castagnoli))
	copy(buf[headerLen:], payload)
	return buf
}

func appendRaw(t *testing.T, dir string, recs ...[]byte) {
	t.Helper()
	f, err := os.OpenFile(logPath(dir), os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if _, err := f.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
}

// Defect 7: an intact (checksum-valid) last record holding a value this
// version does not know (a newer version's pay channel, after a
// downgrade) was cut away as a torn tail, with no copy kept, and a paid
// order reverted to pending. It must be kept, its unknown values
// round-tripped through compaction and later appends.
func TestRegressionIntactRecordWithUnknownValuesKept(t *testing.T) {
	dir := testDir(t)
	j := mustOpen(t, dir)
	mustAppend(t, j, mk("A0001", order.StatePending, 1))
	mustAppend(t, j, mk("B0002", order.StatePending, 2))
	j.Close()
	newer := `{"out_trade_no":"A0001","kind":"micropay","amount_fen":101,"code_masked":"1345**********6789",` +
		`"guess":"WECHAT","channel":"DCEP","state":"paid","transaction_id":"T42","created_at":"2026-11-26T08:01:00Z",` +
		`"updated_at":"2026-11-26T08:02:00Z","refunds":[{"out_refund_no":"R1","fee":50}]}`
	newerState := `{"out_trade_no":"B0002","kind":"micropay","amount_fen":102,"state":"refunding",` +
		`"created_at":"2026-11-26T08:02:00Z","updated_at":"2026-11-26T08:03:00Z"}`
	appendRaw(t, dir, rawFrame(newer), rawFrame(newerState))
	before, _ := os.ReadFile(logPath(dir))

	j = mustOpen(t, dir)
	a, ok := j.Get("A0001")
	if !ok || a.State != order.StatePaid || a.TransactionID != "T42" || a.Channel != order.ChannelOther {
		t.Fatalf("paid order read as %+v %v: want paid, channel shown as OTHER", a, ok)
	}
	b, _ := j.Get("B0002")
	if b.State != order.StatePending {
		t.Errorf("an order in a state this version does not know must count as unresolved (query first): %v", b.State)
	}
	j.Close()
	if after, _ := os.ReadFile(logPath(dir)); !bytes.Equal(after, before) {
		t.Fatalf("the file was changed (%d → %d bytes): checksum-valid records dropped", len(before), len(after))
	}

	// Round trip: compaction and a later append keep what this version
	// does not understand.
	j = mustOpen(t, dir)
	if err := j.Compact(); err != nil {
		t.Fatal(err)
	}
	a.Message = "seen by an older version"
	mustAppend(t, j, a)
	b.State = order.StateClosed // resolved here: our state wins, the rest is kept
	mustAppend(t, j, b)
	if err := j.Compact(); err != nil {
		t.Fatal(err)
	}
	j.Close()
	data, _ := os.ReadFile(logPath(dir))
	for _, want := range []string{`"channel":"DCEP"`, `"refunds":[{"out_refund_no":"R1","fee":50}]`, `"state":"closed"`} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("after compaction and appends the journal lost %s", want)
		}
	}
	if bytes.Contains(data, []byte(`"channel":"OTHER"`)) || bytes.Contains(data, []byte(`"refunding"`)) {
		t.Errorf("fallback written over the unknown value, or a resolved order kept its old unknown state")
	}
	j = mustOpen(t, dir)
	defer j.Close()
	if a, _ := j.Get("A0001"); a.State != order.StatePaid || a.Message != "seen by an older version" {
		t.Errorf("reopened: %+v", a)
	}
}

// A checksum-valid record that is not an order at all is never dropped
// either: it is kept verbatim (for the version that wrote it, or support).
func TestRegressionOpaqueIntactRecordKept(t *testing.T) {
	dir := testDir(t)
	j := mustOpen(t, dir)
	mustAppend(t, j, mk("A0001", order.StatePaid, 1))
	j.Close()
	opaque := `{"kind":"refund","out_refund_no":"R77","refund_fee":50}`
	appendRaw(t, dir, rawFrame(opaque))
	j = mustOpen(t, dir)
	if err := j.Compact(); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, j, mk("C0003", order.StatePending, 3))
	j.Close()
	data, _ := os.ReadFile(logPath(dir))
	if !bytes.Contains(data, rawFrame(opaque)) {
		t.Fatal("a checksum-valid record was dropped")
	}
	j = mustOpen(t, dir)
	defer j.Close()
	if len(j.Recent(0)) != 2 {
		t.Errorf("orders: %v", j.Recent(0))
	}
}

// Every repair keeps a copy of the file as it was, the torn-tail cut too.
func TestRegressionTornTailCopiedAside(t *testing.T) {
	dir := testDir(t)
	j := mustOpen(t, dir)
	mustAppend(t, j, mk("A0001", order.StatePaid, 1))
	j.Close()
	torn := rawFrame(`{"out_trade_no":"B0002","state":"pending"}`)
	appendRaw(t, dir, torn[:len(torn)-3])
	before, _ := os.ReadFile(logPath(dir))
	j = mustOpen(t, dir)
	j.Close()
	copies, _ := filepath.Glob(filepath.Join(dir, subdir, logName+".torn-*"))
	if len(copies) != 1 {
		t.Fatalf("no copy kept before cutting the torn tail: %v", copies)
	}
	if kept, _ := os.ReadFile(copies[0]); !bytes.Equal(kept, before) {
		t.Fatal("the copy differs from the file before repair")
	}
	if after, _ := os.ReadFile(logPath(dir)); len(after) >= len(before) || strings.Contains(string(after), "B0002") {
		t.Fatal("torn tail not cut")
	}
}

// Defect 8, migration: records written before issue 8 hold the unkeyed
// SHA-256 of the payment code. Once an order is resolved its hash is of no
// use and must leave the disk: on Open for orders already resolved, on the
// Append that resolves the others. Unresolved orders keep it until then
// (it refuses a rescan of their code).
func TestRegressionLegacyCodeHashLeavesTheDisk(t *testing.T) {
	dir := testDir(t)
	legacyA, legacyB := codescan.LegacyHash("134567890123456780"), codescan.LegacyHash("284567890123456781")
	old := func(no string, s order.State, h string) string {
		return `{"out_trade_no":"` + no + `","kind":"micropay","amount_fen":100,"code_masked":"1345**********6780",` +
			`"code_hash":"` + h + `","state":"` + s.String() + `","created_at":"2026-11-26T08:01:00Z","updated_at":"2026-11-26T08:01:00Z"}`
	}
	j := mustOpen(t, dir)
	j.Close()
	appendRaw(t, dir, rawFrame(old("A0001", order.StatePending, legacyA)), rawFrame(old("A0001", order.StatePaid, legacyA)),
		rawFrame(old("B0002", order.StateUnknown, legacyB)))
	// A copy an earlier version kept beside the log holds the hashes too.
	oldCopy := filepath.Join(dir, subdir, logName+".corrupt-20261101T000000.000000000Z")
	whole, _ := os.ReadFile(logPath(dir))
	os.WriteFile(oldCopy, whole, 0o600)

	j = mustOpen(t, dir)
	data, _ := os.ReadFile(logPath(dir))
	if bytes.Contains(data, []byte(legacyA)) {
		t.Error("a resolved order's unkeyed code hash is still on disk after Open")
	}
	if c, _ := os.ReadFile(oldCopy); bytes.Contains(c, []byte(legacyA)) || bytes.Contains(c, []byte(legacyB)) || len(c) != len(whole) {
		t.Error("a kept copy of the journal still holds unkeyed code hashes")
	}
	if a, _ := j.Get("A0001"); a.CodeHash != "" || a.State != order.StatePaid {
		t.Errorf("A0001 = %+v", a)
	}
	if b, _ := j.Get("B0002"); b.CodeHash != legacyB {
		t.Errorf("an unresolved order lost its hash before it was resolved: %+v", b)
	}
	b, _ := j.Get("B0002")
	b.State = order.StateClosed
	mustAppend(t, j, b)
	j.Close()
	data, _ = os.ReadFile(logPath(dir))
	if bytes.Contains(data, []byte(legacyB)) {
		t.Error("the unkeyed hash stays on disk after its order was resolved")
	}
	j = mustOpen(t, dir)
	defer j.Close()
	if b, _ := j.Get("B0002"); b.State != order.StateClosed || b.CodeHash != "" {
		t.Errorf("B0002 = %+v", b)
	}
}
