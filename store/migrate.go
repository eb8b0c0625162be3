package store

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/scanbox/scanbox/internal/filelock"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/scan"
)

// ErrOldJournal means an old journal file is there but is not a ScanBox
// journal at all; it is left untouched and nothing is started.
var ErrOldJournal = errors.New("store: the old journal file is not a ScanBox journal")

const (
	oldLogName     = "orders.log"
	migratedSuffix = ".migrated-"
)

// The old journal's frame format (journal/record.go): the file starts with
// "SBJOURN1"; each record is "SBJR", a little-endian length and CRC-32C of
// the payload, then the payload, one order's JSON. It is read here rather
// than through journal.Open because that decodes each record into this
// version's order.Order: fields a newer ScanBox wrote would be lost, and a
// record with a value this version does not know (a new state) would be
// taken for damage and skipped. Here every record with an intact frame is
// kept as the JSON it is.
var (
	oldFileMagic = []byte("SBJOURN1")
	oldRecMagic  = []byte("SBJR")
	castagnoli   = crc32.MakeTable(crc32.Castagnoli)
)

const (
	oldHeaderLen  = 12
	oldMaxPayload = 1 << 20
)

// oldFrame returns the payload of the intact frame at data[0], if there is one.
func oldFrame(data []byte) (payload []byte, size int, ok bool) {
	if len(data) < oldHeaderLen || !bytes.Equal(data[:4], oldRecMagic) {
		return nil, 0, false
	}
	n := int(binary.LittleEndian.Uint32(data[4:]))
	if n > oldMaxPayload || n > len(data)-oldHeaderLen {
		return nil, 0, false
	}
	p := data[oldHeaderLen : oldHeaderLen+n]
	if crc32.Checksum(p, castagnoli) != binary.LittleEndian.Uint32(data[8:]) {
		return nil, 0, false
	}
	return p, oldHeaderLen + n, true
}

// oldRecord is what the import needs of one journal record, read loosely so
// that values this version does not know do not make it unreadable.
type oldRecord struct {
	OutTradeNo string    `json:"out_trade_no"`
	State      string    `json:"state"`
	AmountFen  int64     `json:"amount_fen"`
	Channel    string    `json:"channel"`
	Guess      string    `json:"guess"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// readOldJournal returns the newest record of every out_trade_no in file
// order of first appearance (the journal's "last record wins"), and how many
// frames it read and stepped over. Damage is stepped over the way the
// journal does: to the next intact frame.
func readOldJournal(data []byte) (latest [][]byte, frames, skipped int, err error) {
	if len(data) == 0 || (len(data) < len(oldFileMagic) && bytes.HasPrefix(oldFileMagic, data)) {
		return nil, 0, 0, nil // empty, or torn while it was being created
	}
	index := map[string]int{}
	pos := 0
	if bytes.HasPrefix(data, oldFileMagic) {
		pos = len(oldFileMagic)
	}
	for pos < len(data) {
		p, size, ok := oldFrame(data[pos:])
		if !ok {
			i := bytes.Index(data[pos+1:], oldRecMagic)
			if i < 0 {
				break
			}
			pos += 1 + i
			continue
		}
		pos += size
		var r oldRecord
		if json.Unmarshal(p, &r) != nil || r.OutTradeNo == "" || r.State == "" {
			skipped++
			continue
		}
		frames++
		if i, ok := index[r.OutTradeNo]; ok {
			latest[i] = p
		} else {
			index[r.OutTradeNo] = len(latest)
			latest = append(latest, p)
		}
	}
	if frames == 0 && !bytes.HasPrefix(data, oldFileMagic) {
		return nil, 0, 0, ErrOldJournal
	}
	return latest, frames, skipped, nil
}

// oldRow makes the orders row for one journal record, keeping its JSON as it is.
func oldRow(js []byte) (orderRow, error) {
	var o order.Order
	if err := json.Unmarshal(js, &o); err == nil && o.State != order.StateInvalid {
		if o.State.Terminal() && scan.IsLegacyHash(o.CodeHash) {
			// A resolved order keeps no unkeyed code hash (see Append).
			var m map[string]json.RawMessage
			if err := json.Unmarshal(js, &m); err != nil {
				return orderRow{}, err
			}
			delete(m, "code_hash")
			if js, err = json.Marshal(m); err != nil {
				return orderRow{}, err
			}
			o.CodeHash = ""
		}
		return rowOf(o, js, unknownKeys(js, orderKeys) != nil), nil
	}
	// A record this version cannot decode (e.g. a state a newer ScanBox
	// wrote): keep it whole, index what can be read, and count it as
	// unresolved (terminal=0) so that summaries show it needs a look.
	var r oldRecord
	if err := json.Unmarshal(js, &r); err != nil {
		return orderRow{}, err
	}
	ch := strings.ToUpper(r.Channel)
	if ch == "" {
		ch = strings.ToUpper(r.Guess)
	}
	if ch == "" {
		ch = order.ChannelOther.String()
	}
	terminal := false
	if st, err := order.ParseState(r.State); err == nil {
		terminal = st.Terminal()
	}
	return orderRow{no: r.OutTradeNo, state: r.State, channel: ch, terminal: terminal, amount: r.AmountFen,
		createdNs: nanos(r.CreatedAt), updatedNs: nanos(r.UpdatedAt), extra: true, doc: packDoc(js)}, nil
}

// importHook, when set (tests), runs after the import is committed and
// before the old file is renamed: returning an error stops Open there, as a
// kill at that instant would.
var importHook func() error

// importJournal imports DATA_DIR/journal/orders.log, if there is one, and
// renames it aside. See the package comment for why a kill at any step is
// harmless.
func (s *Store) importJournal() error {
	jdir := filepath.Join(s.data, journalDir)
	path := filepath.Join(jdir, oldLogName)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		// Also after a kill between the rename and the redaction below.
		s.redactOldCopies(jdir)
		return nil
	}
	// An old ScanBox may be running on this data directory right now: its
	// lock refuses us (ErrLocked) before we read a file it is writing.
	lock, err := takeLock(filepath.Join(jdir, lockName), s.data)
	if err != nil {
		return err
	}
	s.locks = append(s.locks, lock)
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("store: read old journal: %w", err)
	}
	latest, frames, skipped, err := readOldJournal(data)
	if err != nil {
		return fmt.Errorf("%w: %s (%d bytes) left untouched; move it away to start", err, path, len(data))
	}
	rows := make([]orderRow, 0, len(latest))
	for _, js := range latest {
		r, err := oldRow(js)
		if err != nil {
			skipped++
			continue
		}
		rows = append(rows, r)
	}
	now := s.opts.now().UTC()
	aside := oldLogName + migratedSuffix + now.Format("20060102T150405Z")
	err = s.write(func(tx *sql.Tx) error {
		for _, r := range rows {
			// Never replace a state the store already holds that is as new
			// or newer: a second import (after a kill before the rename)
			// changes nothing.
			if err := putOrder(tx, r, " WHERE excluded.updated_ns > orders.updated_ns"); err != nil {
				return err
			}
		}
		note, _ := json.Marshal(map[string]any{"bytes": len(data), "records": frames, "orders": len(rows),
			"skipped": skipped, "renamed_to": aside})
		_, err := tx.Exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
			"journal_import_"+now.Format(time.RFC3339Nano), string(note))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: import old journal: %w", err)
	}
	if importHook != nil {
		if err := importHook(); err != nil {
			return err
		}
	}
	if err := os.Rename(path, filepath.Join(jdir, aside)); err != nil {
		return fmt.Errorf("store: rename the imported journal aside: %w", err)
	}
	if err := filelock.SyncDir(jdir); err != nil {
		return fmt.Errorf("store: sync %s: %w", jdir, err)
	}
	s.redactOldCopies(jdir)
	s.log.Info("old journal imported", "orders", len(rows), "records", frames, "skipped", skipped, "kept_as", aside)
	return nil
}

// legacyKey is how an unkeyed code hash appears in a journal record.
var legacyKey = []byte(`"code_hash":"`)

// redactLegacy overwrites every unkeyed code hash (scan.IsLegacyHash) in a
// journal file with 'x's of the same length. The store holds what the
// hashes were for (the unresolved orders keep theirs in the database); a
// copy kept for support must not give codes away.
func redactLegacy(data []byte) []byte {
	out := data
	copied := false
	for i := 0; ; {
		j := bytes.Index(out[i:], legacyKey)
		if j < 0 {
			return out
		}
		start := i + j + len(legacyKey)
		end := start + 64
		if end < len(out) && out[end] == '"' && scan.IsLegacyHash(string(out[start:end])) {
			if !copied {
				out = append([]byte(nil), out...)
				copied = true
			}
			for k := start; k < end; k++ {
				out[k] = 'x'
			}
		}
		i = start
	}
}

// redactOldCopies redacts the old journal files kept in jdir (the imported
// log, and the journal's own .corrupt-/.torn- copies). Each is replaced
// through a temp file and a rename, so a kill leaves it whole.
func (s *Store) redactOldCopies(jdir string) {
	m, _ := filepath.Glob(filepath.Join(jdir, oldLogName+".*"))
	for _, p := range m {
		if strings.HasSuffix(p, ".tmp") || strings.HasSuffix(p, ".redact") {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		red := redactLegacy(data)
		if bytes.Equal(red, data) {
			continue
		}
		tmp := p + ".redact"
		err = writeFileSync(tmp, red)
		if err == nil {
			err = os.Rename(tmp, p)
		}
		if err == nil {
			err = filelock.SyncDir(jdir)
		}
		if err != nil {
			os.Remove(tmp)
			s.log.Error("could not redact a kept copy of the old journal", "file", filepath.Base(p), "err", err)
		}
	}
}

// writeFileSync writes a new file and fsyncs it.
func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
