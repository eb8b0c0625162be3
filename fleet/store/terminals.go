package store

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/scanbox/scanbox/fleet/proto"
)

// Alert kinds (stable codes; the console translates them).
const (
	AlertOffline        = "offline"
	AlertDeviceChanged  = "device_changed" // copied installation
	AlertUnresolvedOld  = "unresolved_order_old"
	AlertAmountSource   = "amount_source_failing"
	AlertScanner        = "scanner_failing"
	AlertClockOffset    = "clock_offset"
	AlertFailureSpike   = "failure_rate_spike"
	AlertVersionBehind  = "version_behind"
	AlertDeviceMoved    = "scan_box_moved"
	unresolvedAlertAge  = 5 * time.Minute
	clockOffsetAlertMs  = 60_000
	spikeMinPayments    = 5
	spikeFailurePercent = 20
)

// stickyAlert kinds stay raised until staff clear them; the others follow
// the latest heartbeat.
func stickyAlert(kind string) bool { return kind == AlertDeviceChanged || kind == AlertDeviceMoved }

// OfflineAfterIntervals: a terminal is offline when it missed this many
// heartbeat intervals.
const OfflineAfterIntervals = 3

// Terminal is one enrolled installation.
type Terminal struct {
	UID              string       `json:"-"`
	MchID            string       `json:"mch_id"`
	TerminalID       string       `json:"terminal_id"`
	TerminalSN       string       `json:"terminal_sn"`
	DeviceID         string       `json:"device_id"`
	AppVersion       string       `json:"app_version"`
	OS               string       `json:"-"`
	Group            string       `json:"-"`
	EnrolledAt       time.Time    `json:"-"`
	LastSeen         time.Time    `json:"last_seen"`
	Online           bool         `json:"online"`
	Disabled         bool         `json:"-"`
	UnresolvedOrders int          `json:"unresolved_orders"`
	ConfigApplied    int64        `json:"-"`
	Pin              string       `json:"-"`
	Alerts           []string     `json:"alerts"`
	IntervalSec      int          `json:"-"`
	Hours            OpeningHours `json:"-"` // effective opening hours
	State            string       `json:"-"` // latest heartbeat JSON
}

// Heartbeat returns the decoded latest heartbeat (zero if none).
func (t Terminal) Heartbeat() proto.Heartbeat {
	var hb proto.Heartbeat
	_ = json.Unmarshal([]byte(t.State), &hb)
	return hb
}

const terminalCols = `uid, mch_id, terminal_id, terminal_sn, device_id, app_version, os, group_name, enrolled_at, last_seen, offline_after, disabled, unresolved_orders, config_applied, pin_version, alerts, interval_sec, open_min, close_min`

type scanner interface{ Scan(...any) error }

func scanTerminal(r scanner, now time.Time, withState bool) (Terminal, error) {
	var t Terminal
	var enrolled, seen, offAfter, disabled int64
	var alerts string
	dest := []any{&t.UID, &t.MchID, &t.TerminalID, &t.TerminalSN, &t.DeviceID, &t.AppVersion, &t.OS, &t.Group,
		&enrolled, &seen, &offAfter, &disabled, &t.UnresolvedOrders, &t.ConfigApplied, &t.Pin, &alerts, &t.IntervalSec, &t.Hours.Open, &t.Hours.Close}
	if withState {
		dest = append(dest, &t.State)
	}
	if err := r.Scan(dest...); err != nil {
		return Terminal{}, err
	}
	t.EnrolledAt = time.Unix(enrolled, 0).UTC()
	if seen > 0 {
		t.LastSeen = time.Unix(seen, 0).UTC()
	}
	t.Online = offAfter > now.Unix()
	t.Disabled = disabled != 0
	t.Alerts = []string{}
	if !t.Online && !t.Disabled && t.Hours.Contains(now) {
		// Offline is an alert only while the shop is open.
		t.Alerts = append(t.Alerts, AlertOffline)
	}
	if alerts != "" {
		t.Alerts = append(t.Alerts, strings.Split(alerts, ",")...)
	}
	return t, nil
}

func newUID() string { return "t" + randomToken(10) }

// Enroll consumes a single-use code and registers the terminal's key. The
// same installation enrolling again (same mch_id, terminal_id and device)
// keeps its uid and gets the new key. Another device presenting a terminal
// that is already enrolled becomes a second row, and both rows are flagged
// AlertDeviceChanged: a copied installation, for staff to disable.
func (s *Store) Enroll(ctx context.Context, req proto.EnrollRequest, now time.Time) (uid string, err error) {
	if len(req.PublicKey) != ed25519.PublicKeySize {
		return "", fmt.Errorf("store: enroll: bad public key")
	}
	keyID := proto.KeyID(req.PublicKey)
	err = s.tx(ctx, func(t *txn) error {
		res, err := t.exec(ctx, `UPDATE enrollment_codes SET used_at=?, used_by=? WHERE code_hash=? AND used_at IS NULL`,
			unix(now), req.Identity.MchID+"/"+req.Identity.TerminalID, hashSecret(normCode(req.Code)))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrCodeInvalid
		}
		rows, err := t.query(ctx, `SELECT uid, device_id FROM terminals WHERE mch_id=? AND terminal_id=? AND disabled=0`,
			req.Identity.MchID, req.Identity.TerminalID)
		if err != nil {
			return err
		}
		var others []string
		for rows.Next() {
			var u, dev string
			if err := rows.Scan(&u, &dev); err != nil {
				rows.Close()
				return err
			}
			if dev == req.Identity.DeviceID && uid == "" {
				uid = u
			} else {
				others = append(others, u)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if uid != "" {
			_, err = t.exec(ctx, `UPDATE terminals SET key_id=?, pubkey=?, terminal_sn=?, app_version=?, os=?, last_ts_ms=0, last_seq=0 WHERE uid=?`,
				keyID, []byte(req.PublicKey), req.Identity.TerminalSN, req.AppVersion, req.OS, uid)
		} else {
			uid = newUID()
			_, err = t.exec(ctx, `INSERT INTO terminals(uid, mch_id, terminal_id, terminal_sn, device_id, key_id, pubkey, app_version, os, enrolled_at) VALUES(?,?,?,?,?,?,?,?,?,?)`,
				uid, req.Identity.MchID, req.Identity.TerminalID, req.Identity.TerminalSN, req.Identity.DeviceID, keyID, []byte(req.PublicKey), req.AppVersion, req.OS, unix(now))
			if err == nil {
				err = t.refreshHours(ctx, " WHERE uid=?", []any{uid})
			}
		}
		if err != nil {
			return err
		}
		if len(others) > 0 {
			detail := AlertDetail("device_reenrolled", "device", req.Identity.DeviceID)
			for _, u := range append(others, uid) {
				if err := t.raiseAlert(ctx, u, AlertDeviceChanged, detail, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrCodeInvalid) {
			return "", err
		}
		return "", fmt.Errorf("store: enroll: %w", err)
	}
	return uid, nil
}

// raiseAlert adds kind to a terminal's alert set (and the history) unless
// it is already raised.
func (t *txn) raiseAlert(ctx context.Context, uid, kind, detail string, now time.Time) error {
	var cur string
	if err := t.queryRow(ctx, `SELECT alerts FROM terminals WHERE uid=?`, uid).Scan(&cur); err != nil {
		return err
	}
	set := splitSet(cur)
	if set[kind] {
		return nil
	}
	set[kind] = true
	if _, err := t.exec(ctx, `UPDATE terminals SET alerts=? WHERE uid=?`, joinSet(set), uid); err != nil {
		return err
	}
	_, err := t.exec(ctx, `INSERT INTO alerts(terminal_uid, kind, detail, raised_at) VALUES(?,?,?,?)`, uid, kind, detail, unix(now))
	return err
}

func splitSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Split(s, ",") {
		if k != "" {
			m[k] = true
		}
	}
	return m
}

func joinSet(m map[string]bool) string {
	ks := make([]string, 0, len(m))
	for k, v := range m {
		if v {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// AgentKey is what authenticating an agent request needs.
type AgentKey struct {
	UID       string
	PublicKey ed25519.PublicKey
	LastTsMs  int64
	Disabled  bool
}

// AgentKeyByID looks up a terminal key.
func (s *Store) AgentKeyByID(ctx context.Context, keyID string) (AgentKey, error) {
	var k AgentKey
	var pub []byte
	var dis int64
	err := s.queryRow(ctx, `SELECT uid, pubkey, last_ts_ms, disabled FROM terminals WHERE key_id=?`, keyID).Scan(&k.UID, &pub, &k.LastTsMs, &dis)
	if errors.Is(err, sql.ErrNoRows) {
		return AgentKey{}, ErrNotFound
	}
	if err != nil {
		return AgentKey{}, fmt.Errorf("store: agent key: %w", err)
	}
	k.PublicKey, k.Disabled = pub, dis != 0
	return k, nil
}

// AgentKeys calls f for every terminal key (the server warms its key
// cache with them at start, so that the first report of each terminal
// after a restart does not cost a lookup).
func (s *Store) AgentKeys(ctx context.Context, f func(keyID string, k AgentKey)) error {
	rows, err := s.query(ctx, `SELECT key_id, uid, pubkey FROM terminals`)
	if err != nil {
		return fmt.Errorf("store: agent keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var k AgentKey
		var pub []byte
		if err := rows.Scan(&id, &k.UID, &pub); err != nil {
			return fmt.Errorf("store: agent keys: %w", err)
		}
		k.PublicKey = pub
		f(id, k)
	}
	return rows.Err()
}

// TouchAuth advances a key's last accepted timestamp (compare-and-set, so
// two instances cannot both accept the same request). Used by agent
// requests other than heartbeats, which do it inside Heartbeat.
func (s *Store) TouchAuth(ctx context.Context, uid string, tsMs int64) error {
	res, err := s.exec(ctx, `UPDATE terminals SET last_ts_ms=? WHERE uid=? AND last_ts_ms < ?`, tsMs, uid, tsMs)
	if err != nil {
		return fmt.Errorf("store: touch: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrReplay
	}
	return nil
}

// EvaluateAlerts derives the state-following alert kinds from a heartbeat.
// newestFull is the newest release rolled out to everyone ("" if none).
func EvaluateAlerts(hb proto.Heartbeat, now time.Time, newestFull string) []string {
	var out []string
	for _, r := range evaluateAlerts(hb, now, newestFull) {
		out = append(out, r.kind)
	}
	return out
}

// raised is an alert kind with its detail (see AlertDetail).
type raised struct{ kind, detail string }

func evaluateAlerts(hb proto.Heartbeat, now time.Time, newestFull string) []raised {
	var out []raised
	if hb.OldestUnresolvedAt != nil && now.Sub(*hb.OldestUnresolvedAt) > unresolvedAlertAge {
		out = append(out, raised{AlertUnresolvedOld, AlertDetail("unresolved_old", "min", strconv.Itoa(int(now.Sub(*hb.OldestUnresolvedAt)/time.Minute)))})
	}
	for _, a := range hb.AmountSources {
		if a.State == proto.StateFailing {
			out = append(out, raised{AlertAmountSource, AlertDetail("amount_source", "name", a.Name)})
			break
		}
	}
	if hb.Scanner.State == proto.StateFailing {
		d := AlertDetail("scanner")
		if hb.Scanner.Port != "" {
			d = AlertDetail("scanner_port", "port", hb.Scanner.Port)
		}
		out = append(out, raised{AlertScanner, d})
	}
	if hb.ClockOffsetKnown && (hb.ClockOffsetMs > clockOffsetAlertMs || hb.ClockOffsetMs < -clockOffsetAlertMs) {
		out = append(out, raised{AlertClockOffset, AlertDetail("clock_offset", "sec", strconv.FormatInt(hb.ClockOffsetMs/1000, 10))})
	}
	var ok, bad int64
	for _, p := range hb.Payments {
		switch p.Outcome {
		case proto.OutcomePaid:
			ok += p.Count
		case proto.OutcomeFailed, proto.OutcomeUnknown:
			bad += p.Count
		}
	}
	if ok+bad >= spikeMinPayments && bad*100 >= (ok+bad)*spikeFailurePercent {
		out = append(out, raised{AlertFailureSpike, AlertDetail("failure_spike", "bad", strconv.FormatInt(bad, 10), "total", strconv.FormatInt(ok+bad, 10))})
	}
	if newestFull != "" {
		if cur, err := proto.ParseVersion(hb.AppVersion); err == nil {
			if nv, err := proto.ParseVersion(newestFull); err == nil && proto.CompareVersions(cur, nv) < 0 {
				out = append(out, raised{AlertVersionBehind, AlertDetail("version_behind", "current", hb.AppVersion, "newest", newestFull)})
			}
		}
	}
	return out
}

// An alert's detail is stored as a message code and its arguments,
// "m=CODE&key=value…" (URL query encoding), never as a sentence: the
// console renders it in the reader's language (message "detail_CODE",
// with {key} replaced). ParseAlertDetail reads it back; details stored by
// earlier versions (plain English) do not parse and are shown as stored.

// AlertDetail encodes a detail message code with key, value pairs.
func AlertDetail(code string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	if len(v) == 0 {
		return "m=" + url.QueryEscape(code)
	}
	return "m=" + url.QueryEscape(code) + "&" + v.Encode()
}

// ParseAlertDetail decodes what AlertDetail encoded; ok is false for a
// detail that is not in that form.
func ParseAlertDetail(detail string) (code string, args map[string]string, ok bool) {
	if !strings.HasPrefix(detail, "m=") {
		return "", nil, false
	}
	v, err := url.ParseQuery(detail)
	if err != nil || v.Get("m") == "" {
		return "", nil, false
	}
	args = map[string]string{}
	for k := range v {
		if k != "m" {
			args[k] = v.Get(k)
		}
	}
	return v.Get("m"), args, true
}

// HeartbeatResult is what the API answers from.
type HeartbeatResult struct {
	Disabled    bool
	Counted     bool // false: a duplicate or older report, acked but not counted
	IntervalSec int
	Group       string
	Pin         string
	AppVersion  string
	PendingLog  string // id of the oldest unanswered log request, "" none
}

// HeartbeatItem is one authenticated report for HeartbeatBatch.
type HeartbeatItem struct {
	UID        string
	KeyID      string // the key that signed it ("" skips the check)
	TsMs       int64
	HB         proto.Heartbeat
	Now        time.Time
	NewestFull string
	// State is HB as JSON, when the caller has it (marshalled outside
	// the group commit, which is one goroutine); nil: marshalled here.
	State []byte
}

// HeartbeatOutcome is the result of one item.
type HeartbeatOutcome struct {
	Res HeartbeatResult
	Err error // ErrReplay, ErrNotFound, or the batch's error
}

// Heartbeat stores one inspection report from an authenticated terminal
// (see HeartbeatBatch).
func (s *Store) Heartbeat(ctx context.Context, uid string, tsMs int64, hb proto.Heartbeat, now time.Time, newestFull string) (HeartbeatResult, error) {
	out := s.HeartbeatBatch(ctx, []HeartbeatItem{{UID: uid, TsMs: tsMs, HB: hb, Now: now, NewestFull: newestFull}})
	return out[0].Res, out[0].Err
}

// HeartbeatBatch stores reports in one transaction (group commit: one
// commit for many terminals is what lets SQLite take hundreds a second).
// Per report: advance the key's timestamp (refusing a replay), keep it as
// the latest state if its Seq is the highest so far, add its counts into
// the hourly roll-up once, record alert transitions. A refused report does
// not write anything and does not affect the others; a database error
// fails the whole batch (nothing was acked, agents send again). Rows are
// locked in uid order so two instances' batches cannot deadlock.
//
// The decisions are the same on both databases (decide). SQLite writes
// each report's rows as it goes (in-process calls are cheap); PostgreSQL
// reads and writes the batch's terminal rows and roll-ups with one
// statement each (unnest), since there every statement is a round trip.
func (s *Store) HeartbeatBatch(ctx context.Context, items []HeartbeatItem) []HeartbeatOutcome {
	out := make([]HeartbeatOutcome, len(items))
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return items[order[a]].UID < items[order[b]].UID })
	run := s.heartbeatsEach
	if s.d == Postgres {
		run = s.heartbeatsBulk
	}
	err := s.tx(ctx, func(t *txn) error { return run(ctx, t, items, order, out) })
	if err != nil {
		for i := range out {
			out[i] = HeartbeatOutcome{Err: fmt.Errorf("store: heartbeat: %w", err)}
		}
	}
	return out
}

// hbRow is what a report is checked against: a terminal row, as read at
// the start of the batch and updated by each report of the batch.
type hbRow struct {
	dev, alerts, serial, keyID, sn string
	lastSeq, lastTs                int64
	disabled                       bool
	res                            HeartbeatResult
}

const hbRowCols = `uid, device_id, last_seq, last_ts_ms, alerts, scanner_serial, disabled, group_name, pin_version, interval_sec, key_id, app_version, pending_log, terminal_sn`

func scanHBRow(r scanner) (string, *hbRow, error) {
	var uid string
	var disabled int64
	w := &hbRow{}
	err := r.Scan(&uid, &w.dev, &w.lastSeq, &w.lastTs, &w.alerts, &w.serial, &disabled, &w.res.Group, &w.res.Pin, &w.res.IntervalSec, &w.keyID, &w.res.AppVersion, &w.res.PendingLog, &w.sn)
	w.disabled = disabled != 0
	return uid, w, err
}

// hbWrite is what one accepted report changes.
type hbWrite struct {
	uid                string
	ts, seen, offAfter int64
	counted            bool
	hb                 *proto.Heartbeat
	seq                int64
	unresolved         int
	alerts, state      string
	newSN              *string  // terminal_sn changed
	raised             []raised // alert kinds raised by it
	cleared            []string // and cleared
	device             bool     // a scan box serial to record in the stock
	now                time.Time
}

// decide checks one report against its terminal's row and says what it
// changes, updating row for the batch's next report of the same terminal.
func decide(row *hbRow, it HeartbeatItem) (HeartbeatResult, *hbWrite, error) {
	hb, now := &it.HB, it.Now
	if it.KeyID != "" && row.keyID != it.KeyID {
		// Re-enrolled since the caller looked the key up: the old key
		// no longer speaks for this terminal.
		return HeartbeatResult{}, nil, ErrNotFound
	}
	if it.TsMs <= row.lastTs {
		return HeartbeatResult{}, nil, ErrReplay
	}
	res := row.res
	res.Disabled = row.disabled
	interval := res.IntervalSec
	if interval <= 0 {
		interval = int(proto.DefaultHeartbeatInterval / time.Second)
	}
	w := &hbWrite{uid: it.UID, ts: it.TsMs, seen: unix(now), offAfter: now.Unix() + int64(OfflineAfterIntervals*interval), hb: hb, now: now}
	row.lastTs = it.TsMs
	if uint64(row.lastSeq) >= hb.Seq || row.disabled {
		return res, w, nil
	}
	res.Counted = true
	res.AppVersion = hb.AppVersion
	old := splitSet(row.alerts)
	next := map[string]bool{}
	for k := range old {
		if stickyAlert(k) {
			next[k] = true
		}
	}
	details := map[string]string{}
	for _, r := range evaluateAlerts(*hb, now, it.NewestFull) {
		next[r.kind] = true
		details[r.kind] = r.detail
	}
	if hb.Identity.DeviceID != row.dev {
		next[AlertDeviceChanged] = true
		details[AlertDeviceChanged] = AlertDetail("device_reported", "device", hb.Identity.DeviceID, "enrolled", row.dev)
	}
	state := it.State
	if state == nil {
		var err error
		if state, err = json.Marshal(hb); err != nil {
			return res, nil, err
		}
	}
	w.counted, w.seq, w.state, w.alerts = true, int64(hb.Seq), string(state), joinSet(next)
	w.unresolved = hb.UnresolvedOrders + hb.UnresolvedRefunds
	if hb.Identity.TerminalSN != row.sn {
		sn := hb.Identity.TerminalSN
		w.newSN = &sn
	}
	for _, k := range sortedKeys(next) {
		if !old[k] {
			w.raised = append(w.raised, raised{k, details[k]})
		}
	}
	for _, k := range sortedKeys(old) {
		if !next[k] {
			w.cleared = append(w.cleared, k)
		}
	}
	w.device = hb.Scanner.USBSerial != "" && hb.Scanner.USBSerial != row.serial
	row.lastSeq, row.alerts, row.sn, row.res.AppVersion, row.serial = w.seq, w.alerts, hb.Identity.TerminalSN, hb.AppVersion, hb.Scanner.USBSerial
	return res, w, nil
}

func sortedKeys(m map[string]bool) []string {
	ks := make([]string, 0, len(m))
	for k, v := range m {
		if v {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

// heartbeatsEach is the batch on SQLite: each report read, decided and
// written in turn.
func (s *Store) heartbeatsEach(ctx context.Context, t *txn, items []HeartbeatItem, order []int, out []HeartbeatOutcome) error {
	for _, i := range order {
		it := items[i]
		_, row, err := scanHBRow(t.queryRow(ctx, `SELECT `+hbRowCols+` FROM terminals WHERE uid=?`, it.UID))
		if errors.Is(err, sql.ErrNoRows) {
			out[i] = HeartbeatOutcome{Err: ErrNotFound}
			continue
		}
		if err != nil {
			return err
		}
		res, w, err := decide(row, it)
		if errors.Is(err, ErrReplay) || errors.Is(err, ErrNotFound) {
			out[i] = HeartbeatOutcome{res, err}
			continue
		}
		if err != nil {
			return err
		}
		if err := t.writeHeartbeat(ctx, w); err != nil {
			return err
		}
		if err := t.sideEffects(ctx, w); err != nil {
			return err
		}
		out[i] = HeartbeatOutcome{Res: res}
	}
	return nil
}

func (t *txn) writeHeartbeat(ctx context.Context, w *hbWrite) error {
	if !w.counted {
		_, err := t.exec(ctx, `UPDATE terminals SET last_ts_ms=?, last_seen=?, offline_after=? WHERE uid=?`, w.ts, w.seen, w.offAfter, w.uid)
		return err
	}
	hb := w.hb
	_, err := t.exec(ctx, `UPDATE terminals SET last_ts_ms=?, last_seen=?, offline_after=?, last_seq=?, app_version=?, os=?, unresolved_orders=?, config_applied=?, alerts=?, state_json=?, scanner_model=?, scanner_serial=? WHERE uid=?`,
		w.ts, w.seen, w.offAfter, w.seq, hb.AppVersion, hb.OS, w.unresolved, hb.ConfigVersion, w.alerts, w.state, hb.Scanner.Model, hb.Scanner.USBSerial, w.uid)
	if err != nil {
		return err
	}
	d := hourOf(*hb, w.now)
	_, err = t.exec(ctx, `INSERT INTO hourly(terminal_uid, hour, reports, paid_count, paid_fen, failed_count, unknown_count, error_count) VALUES(?,?,1,?,?,?,?,?)
ON CONFLICT (terminal_uid, hour) DO UPDATE SET reports=hourly.reports+1, paid_count=hourly.paid_count+excluded.paid_count, paid_fen=hourly.paid_fen+excluded.paid_fen,
failed_count=hourly.failed_count+excluded.failed_count, unknown_count=hourly.unknown_count+excluded.unknown_count, error_count=hourly.error_count+excluded.error_count`,
		w.uid, d.hour, d.paid, d.paidFen, d.failed, d.unknown, d.errs)
	return err
}

// sideEffects are the rarer writes of a counted report: a changed serial
// number, alert transitions, the device stock.
func (t *txn) sideEffects(ctx context.Context, w *hbWrite) error {
	if !w.counted {
		return nil
	}
	if w.newSN != nil {
		// Only now: naming an indexed column in SET rewrites its index entry.
		if _, err := t.exec(ctx, `UPDATE terminals SET terminal_sn=? WHERE uid=?`, *w.newSN, w.uid); err != nil {
			return err
		}
	}
	for _, r := range w.raised {
		if _, err := t.exec(ctx, `INSERT INTO alerts(terminal_uid, kind, detail, raised_at) VALUES(?,?,?,?)`, w.uid, r.kind, r.detail, w.seen); err != nil {
			return err
		}
	}
	for _, k := range w.cleared {
		if _, err := t.exec(ctx, `UPDATE alerts SET cleared_at=? WHERE terminal_uid=? AND kind=? AND cleared_at IS NULL`, w.seen, w.uid, k); err != nil {
			return err
		}
	}
	if w.device {
		return t.seeDevice(ctx, w.uid, *w.hb, w.now)
	}
	return nil
}

// heartbeatsBulk is the batch on PostgreSQL: the batch's terminal rows
// read and locked with one statement, decided in memory, and written with
// one statement for the terminals and one for the roll-ups; the rare side
// effects follow row by row.
func (s *Store) heartbeatsBulk(ctx context.Context, t *txn, items []HeartbeatItem, order []int, out []HeartbeatOutcome) error {
	var uids []string
	for _, i := range order {
		if len(uids) == 0 || uids[len(uids)-1] != items[i].UID {
			uids = append(uids, items[i].UID)
		}
	}
	rows, err := t.query(ctx, `SELECT `+hbRowCols+` FROM terminals WHERE uid = ANY(?) ORDER BY uid FOR UPDATE`, uids)
	if err != nil {
		return err
	}
	byUID := map[string]*hbRow{}
	for rows.Next() {
		uid, row, err := scanHBRow(rows)
		if err != nil {
			rows.Close()
			return err
		}
		byUID[uid] = row
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// The last write of each terminal carries its final row; a touch after
	// a counted report keeps the counted fields.
	final := map[string]*hbWrite{}
	var effects []*hbWrite
	type hkey struct {
		uid  string
		hour int64
	}
	hours := map[hkey]*hourDelta{}
	var hourKeys []hkey
	for _, i := range order {
		it := items[i]
		row, ok := byUID[it.UID]
		if !ok {
			out[i] = HeartbeatOutcome{Err: ErrNotFound}
			continue
		}
		res, w, err := decide(row, it)
		if errors.Is(err, ErrReplay) || errors.Is(err, ErrNotFound) {
			out[i] = HeartbeatOutcome{res, err}
			continue
		}
		if err != nil {
			return err
		}
		out[i] = HeartbeatOutcome{Res: res}
		if f, ok := final[w.uid]; ok && f.counted && !w.counted {
			f.ts, f.seen, f.offAfter = w.ts, w.seen, w.offAfter
		} else {
			final[w.uid] = w
		}
		if w.counted {
			effects = append(effects, w)
			d := hourOf(*w.hb, w.now)
			k := hkey{w.uid, d.hour}
			if h, ok := hours[k]; ok {
				h.add(d)
			} else {
				d.reports = 1
				hours[k] = &d
				hourKeys = append(hourKeys, k)
			}
		}
	}
	var tu, cu []string
	var tts, tseen, toff []int64
	var cts, cseen, coff, cseq, cunres, ccfg []int64
	var cver, cos, calerts, cstate, cmodel, cserial []string
	for _, uid := range uids {
		w, ok := final[uid]
		if !ok {
			continue
		}
		if !w.counted {
			tu, tts, tseen, toff = append(tu, uid), append(tts, w.ts), append(tseen, w.seen), append(toff, w.offAfter)
			continue
		}
		hb := w.hb
		cu, cts, cseen, coff, cseq = append(cu, uid), append(cts, w.ts), append(cseen, w.seen), append(coff, w.offAfter), append(cseq, w.seq)
		cunres, ccfg = append(cunres, int64(w.unresolved)), append(ccfg, hb.ConfigVersion)
		cver, cos, calerts, cstate = append(cver, hb.AppVersion), append(cos, hb.OS), append(calerts, w.alerts), append(cstate, w.state)
		cmodel, cserial = append(cmodel, hb.Scanner.Model), append(cserial, hb.Scanner.USBSerial)
	}
	if len(tu) > 0 {
		if _, err := t.exec(ctx, `UPDATE terminals AS t SET last_ts_ms=v.ts, last_seen=v.seen, offline_after=v.off
FROM unnest(?::text[], ?::bigint[], ?::bigint[], ?::bigint[]) AS v(uid, ts, seen, off) WHERE t.uid=v.uid`, tu, tts, tseen, toff); err != nil {
			return err
		}
	}
	if len(cu) > 0 {
		if _, err := t.exec(ctx, `UPDATE terminals AS t SET last_ts_ms=v.ts, last_seen=v.seen, offline_after=v.off, last_seq=v.seq, app_version=v.ver, os=v.os,
unresolved_orders=v.unres, config_applied=v.cfg, alerts=v.alerts, state_json=v.state, scanner_model=v.model, scanner_serial=v.serial
FROM unnest(?::text[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[])
AS v(uid, ts, seen, off, seq, ver, os, unres, cfg, alerts, state, model, serial) WHERE t.uid=v.uid`,
			cu, cts, cseen, coff, cseq, cver, cos, cunres, ccfg, calerts, cstate, cmodel, cserial); err != nil {
			return err
		}
	}
	if len(hourKeys) > 0 {
		hu := make([]string, len(hourKeys))
		var hh, hr, hp, hf, hfl, hun, he []int64
		for i, k := range hourKeys {
			d := hours[k]
			hu[i] = k.uid
			hh, hr, hp, hf = append(hh, k.hour), append(hr, d.reports), append(hp, d.paid), append(hf, d.paidFen)
			hfl, hun, he = append(hfl, d.failed), append(hun, d.unknown), append(he, d.errs)
		}
		if _, err := t.exec(ctx, `INSERT INTO hourly(terminal_uid, hour, reports, paid_count, paid_fen, failed_count, unknown_count, error_count)
SELECT * FROM unnest(?::text[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[])
ON CONFLICT (terminal_uid, hour) DO UPDATE SET reports=hourly.reports+excluded.reports, paid_count=hourly.paid_count+excluded.paid_count, paid_fen=hourly.paid_fen+excluded.paid_fen,
failed_count=hourly.failed_count+excluded.failed_count, unknown_count=hourly.unknown_count+excluded.unknown_count, error_count=hourly.error_count+excluded.error_count`,
			hu, hh, hr, hp, hf, hfl, hun, he); err != nil {
			return err
		}
	}
	for _, w := range effects {
		if err := t.sideEffects(ctx, w); err != nil {
			return err
		}
	}
	return nil
}

// hourDelta is what one or more reports add to a terminal's hour.
type hourDelta struct{ hour, reports, paid, paidFen, failed, unknown, errs int64 }

func (h *hourDelta) add(d hourDelta) {
	h.reports++
	h.paid += d.paid
	h.paidFen += d.paidFen
	h.failed += d.failed
	h.unknown += d.unknown
	h.errs += d.errs
}

// hourOf is a report's counts and the hour it was measured in (clamped to
// now: an agent clock in the future must not create future hours).
func hourOf(hb proto.Heartbeat, now time.Time) hourDelta {
	at := hb.At
	if at.IsZero() || at.After(now) {
		at = now
	}
	d := hourDelta{hour: at.Unix() / 3600 * 3600}
	for _, p := range hb.Payments {
		switch p.Outcome {
		case proto.OutcomePaid:
			d.paid += p.Count
			d.paidFen += p.SumFen
		case proto.OutcomeFailed:
			d.failed += p.Count
		case proto.OutcomeUnknown:
			d.unknown += p.Count
		}
	}
	for _, n := range hb.Errors {
		d.errs += int64(n)
	}
	return d
}

// seeDevice updates the device stock with the scan box a terminal reports;
// a box seen at another merchant before is flagged as moved.
func (t *txn) seeDevice(ctx context.Context, uid string, hb proto.Heartbeat, now time.Time) error {
	var prevMch, prevUID string
	err := t.queryRow(ctx, `SELECT mch_id, terminal_uid FROM devices WHERE serial=?`, hb.Scanner.USBSerial).Scan(&prevMch, &prevUID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = t.exec(ctx, `INSERT INTO devices(serial, model, vid_pid, terminal_uid, mch_id, first_seen, last_seen) VALUES(?,?,?,?,?,?,?)`,
			hb.Scanner.USBSerial, hb.Scanner.Model, hb.Scanner.USBVIDPID, uid, hb.Identity.MchID, unix(now), unix(now))
		return err
	case err != nil:
		return err
	}
	moved := 0
	if prevMch != hb.Identity.MchID {
		moved = 1
	}
	if _, err := t.exec(ctx, `UPDATE devices SET model=?, vid_pid=?, terminal_uid=?, mch_id=?, last_seen=?, moves=moves+? WHERE serial=?`,
		hb.Scanner.Model, hb.Scanner.USBVIDPID, uid, hb.Identity.MchID, unix(now), moved, hb.Scanner.USBSerial); err != nil {
		return err
	}
	if moved == 1 {
		return t.raiseAlert(ctx, uid, AlertDeviceMoved, AlertDetail("scan_box_moved", "serial", hb.Scanner.USBSerial, "mch", prevMch), now)
	}
	return nil
}

// ClearAlert clears a (sticky) alert of a terminal by staff.
func (s *Store) ClearAlert(ctx context.Context, uid, kind string, now time.Time) error {
	return s.tx(ctx, func(t *txn) error {
		var cur string
		if err := t.queryRow(ctx, `SELECT alerts FROM terminals WHERE uid=?`, uid).Scan(&cur); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		set := splitSet(cur)
		delete(set, kind)
		if _, err := t.exec(ctx, `UPDATE terminals SET alerts=? WHERE uid=?`, joinSet(set), uid); err != nil {
			return err
		}
		_, err := t.exec(ctx, `UPDATE alerts SET cleared_at=? WHERE terminal_uid=? AND kind=? AND cleared_at IS NULL`, unix(now), uid, kind)
		return err
	})
}

// SetDisabled disables or re-enables a terminal. A disabled terminal's
// reports are acked but no longer stored, and it is told it is disabled.
func (s *Store) SetDisabled(ctx context.Context, uid string, disabled bool) error {
	v := 0
	if disabled {
		v = 1
	}
	res, err := s.exec(ctx, `UPDATE terminals SET disabled=? WHERE uid=?`, v, uid)
	if err != nil {
		return fmt.Errorf("store: disable: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetGroup puts a terminal in a configuration group (and gives it the
// group's opening hours, if the group has its own).
func (s *Store) SetGroup(ctx context.Context, uid, group string) error {
	return s.tx(ctx, func(t *txn) error {
		if _, err := t.exec(ctx, `UPDATE terminals SET group_name=? WHERE uid=?`, group, uid); err != nil {
			return err
		}
		return t.refreshHours(ctx, " WHERE uid=?", []any{uid})
	})
}

// SetPin pins a terminal to a release version ("" removes the pin).
func (s *Store) SetPin(ctx context.Context, uid, version string) error {
	res, err := s.exec(ctx, `UPDATE terminals SET pin_version=? WHERE uid=?`, version, uid)
	if err != nil {
		return fmt.Errorf("store: pin: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Filter selects terminals for the list.
type Filter struct {
	Q     string // prefix of mch_id, terminal_id, terminal_sn or device_id
	State string // "", "online", "offline", "alert", "disabled"
	After string // keyset cursor from Page.Next
	Limit int
}

// Page is one page of terminals.
type Page struct {
	Terminals []Terminal
	Total     int
	Next      string // cursor of the next page, "" at the end
}

func (s *Store) filterWhere(f Filter, now time.Time) (string, []any) {
	var conds []string
	var args []any
	if f.Q != "" {
		// Prefix match on each identifier, as index ranges (a LIKE
		// '%q%' would read all 50,000 rows twice per page).
		hi := f.Q + "\U0010FFFF"
		conds = append(conds, `((mch_id >= ? AND mch_id < ?) OR (terminal_id >= ? AND terminal_id < ?) OR (terminal_sn >= ? AND terminal_sn < ?) OR (device_id >= ? AND device_id < ?))`)
		args = append(args, f.Q, hi, f.Q, hi, f.Q, hi, f.Q, hi)
	}
	switch f.State {
	case "online":
		conds = append(conds, `offline_after > ? AND disabled=0`)
		args = append(args, now.Unix())
	case "offline":
		conds = append(conds, `offline_after <= ? AND disabled=0`)
		args = append(args, now.Unix())
	case "alert":
		conds = append(conds, `(alerts <> '' OR (offline_after <= ? AND `+inHoursSQL+`)) AND disabled=0`)
		args = append(append(args, now.Unix()), inHoursArgs(now)...)
	case "disabled":
		conds = append(conds, `disabled=1`)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// ListTerminals pages through terminals ordered by merchant and terminal.
// Paging is by keyset (no OFFSET), so page 500 costs what page 1 costs.
func (s *Store) ListTerminals(ctx context.Context, f Filter, now time.Time) (Page, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 50
	}
	where, args := s.filterWhere(f, now)
	var p Page
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM terminals`+where, args...).Scan(&p.Total); err != nil {
		return Page{}, fmt.Errorf("store: count: %w", err)
	}
	if f.After != "" {
		parts := strings.SplitN(f.After, "\x1f", 3)
		if len(parts) == 3 {
			c := `(mch_id, terminal_id, uid) > (?, ?, ?)`
			if where == "" {
				where = " WHERE " + c
			} else {
				where += " AND " + c
			}
			args = append(args, parts[0], parts[1], parts[2])
		}
	}
	rows, err := s.query(ctx, `SELECT `+terminalCols+` FROM terminals`+where+` ORDER BY mch_id, terminal_id, uid LIMIT ?`, append(args, f.Limit+1)...)
	if err != nil {
		return Page{}, fmt.Errorf("store: list: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		t, err := scanTerminal(rows, now, false)
		if err != nil {
			return Page{}, fmt.Errorf("store: list: %w", err)
		}
		p.Terminals = append(p.Terminals, t)
	}
	if err := rows.Err(); err != nil {
		return Page{}, err
	}
	if len(p.Terminals) > f.Limit {
		p.Terminals = p.Terminals[:f.Limit]
		last := p.Terminals[f.Limit-1]
		p.Next = last.MchID + "\x1f" + last.TerminalID + "\x1f" + last.UID
	}
	return p, nil
}

// EachTerminal calls f for every terminal (CSV report, API), in order.
func (s *Store) EachTerminal(ctx context.Context, now time.Time, withState bool, f func(Terminal) error) error {
	cols := terminalCols
	if withState {
		cols += ", state_json"
	}
	rows, err := s.query(ctx, `SELECT `+cols+` FROM terminals ORDER BY mch_id, terminal_id, uid`)
	if err != nil {
		return fmt.Errorf("store: terminals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		t, err := scanTerminal(rows, now, withState)
		if err != nil {
			return err
		}
		if err := f(t); err != nil {
			return err
		}
	}
	return rows.Err()
}

// GetTerminal returns one terminal with its latest state.
func (s *Store) GetTerminal(ctx context.Context, uid string, now time.Time) (Terminal, error) {
	t, err := scanTerminal(s.queryRow(ctx, `SELECT `+terminalCols+`, state_json FROM terminals WHERE uid=?`, uid), now, true)
	if errors.Is(err, sql.ErrNoRows) {
		return Terminal{}, ErrNotFound
	}
	if err != nil {
		return Terminal{}, fmt.Errorf("store: terminal: %w", err)
	}
	return t, nil
}

// Alert is one alert occurrence.
type Alert struct {
	ID         int64
	UID        string
	MchID      string
	TerminalID string
	Kind       string
	Detail     string
	RaisedAt   time.Time
	ClearedAt  *time.Time
}

// ListAlerts returns alerts newest first: open ones only, or all of one
// terminal when uid is set.
func (s *Store) ListAlerts(ctx context.Context, uid string, openOnly bool, limit int) ([]Alert, error) {
	q := `SELECT a.id, a.terminal_uid, t.mch_id, t.terminal_id, a.kind, a.detail, a.raised_at, a.cleared_at FROM alerts a JOIN terminals t ON t.uid=a.terminal_uid`
	var conds []string
	var args []any
	if uid != "" {
		conds = append(conds, "a.terminal_uid=?")
		args = append(args, uid)
	}
	if openOnly {
		conds = append(conds, "a.cleared_at IS NULL")
	}
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY a.raised_at DESC, a.id DESC LIMIT ?"
	rows, err := s.query(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: alerts: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		var a Alert
		var raised int64
		var cleared sql.NullInt64
		if err := rows.Scan(&a.ID, &a.UID, &a.MchID, &a.TerminalID, &a.Kind, &a.Detail, &raised, &cleared); err != nil {
			return nil, err
		}
		a.RaisedAt = time.Unix(raised, 0).UTC()
		a.ClearedAt = nullTime(cleared)
		out = append(out, a)
	}
	return out, rows.Err()
}

// CountOffline counts enabled terminals that missed their heartbeats:
// all of them, and those whose shop is open now (the "offline" alert).
func (s *Store) CountOffline(ctx context.Context, now time.Time) (all, inHours int, err error) {
	err = s.queryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN `+inHoursSQL+` THEN 1 ELSE 0 END), 0) FROM terminals WHERE offline_after <= ? AND disabled=0`,
		append(inHoursArgs(now), now.Unix())...).Scan(&all, &inHours)
	return all, inHours, err
}

// Hour is a roll-up bucket.
type Hour struct {
	Hour         time.Time
	Reports      int64
	PaidCount    int64
	PaidFen      int64
	FailedCount  int64
	UnknownCount int64
	ErrorCount   int64
}

// Hourly returns roll-ups since since, oldest first: of one terminal, or
// summed over the fleet when uid is "".
func (s *Store) Hourly(ctx context.Context, uid string, since time.Time) ([]Hour, error) {
	q := `SELECT hour, SUM(reports), SUM(paid_count), SUM(paid_fen), SUM(failed_count), SUM(unknown_count), SUM(error_count) FROM hourly WHERE hour >= ?`
	args := []any{since.Unix() / 3600 * 3600}
	if uid != "" {
		q += " AND terminal_uid=?"
		args = append(args, uid)
	}
	q += " GROUP BY hour ORDER BY hour"
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: hourly: %w", err)
	}
	defer rows.Close()
	var out []Hour
	for rows.Next() {
		var h Hour
		var hr int64
		if err := rows.Scan(&hr, &h.Reports, &h.PaidCount, &h.PaidFen, &h.FailedCount, &h.UnknownCount, &h.ErrorCount); err != nil {
			return nil, err
		}
		h.Hour = time.Unix(hr, 0).UTC()
		out = append(out, h)
	}
	return out, rows.Err()
}

// Worst is a terminal ranked by failed + unknown payments.
type Worst struct {
	UID, MchID, TerminalID string
	Failed, Unknown, Paid  int64
}

// WorstTerminals ranks terminals by failed and unknown payments since since.
func (s *Store) WorstTerminals(ctx context.Context, since time.Time, limit int) ([]Worst, error) {
	rows, err := s.query(ctx, `SELECT h.terminal_uid, t.mch_id, t.terminal_id, SUM(h.failed_count), SUM(h.unknown_count), SUM(h.paid_count) AS p
FROM hourly h JOIN terminals t ON t.uid=h.terminal_uid WHERE h.hour >= ? GROUP BY h.terminal_uid, t.mch_id, t.terminal_id
HAVING SUM(h.failed_count)+SUM(h.unknown_count) > 0 ORDER BY SUM(h.failed_count)+SUM(h.unknown_count) DESC, h.terminal_uid LIMIT ?`, since.Unix()/3600*3600, limit)
	if err != nil {
		return nil, fmt.Errorf("store: worst: %w", err)
	}
	defer rows.Close()
	var out []Worst
	for rows.Next() {
		var w Worst
		if err := rows.Scan(&w.UID, &w.MchID, &w.TerminalID, &w.Failed, &w.Unknown, &w.Paid); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// Device is one scan box in the stock.
type Device struct {
	Serial, Model, VIDPID, UID, MchID string
	FirstSeen, LastSeen               time.Time
	Moves                             int
}

// ListDevices returns the device stock by model and serial.
func (s *Store) ListDevices(ctx context.Context, limit int) ([]Device, error) {
	rows, err := s.query(ctx, `SELECT serial, model, vid_pid, terminal_uid, mch_id, first_seen, last_seen, moves FROM devices ORDER BY model, serial LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: devices: %w", err)
	}
	defer rows.Close()
	var out []Device
	for rows.Next() {
		var d Device
		var fs, ls int64
		if err := rows.Scan(&d.Serial, &d.Model, &d.VIDPID, &d.UID, &d.MchID, &fs, &ls, &d.Moves); err != nil {
			return nil, err
		}
		d.FirstSeen, d.LastSeen = time.Unix(fs, 0).UTC(), time.Unix(ls, 0).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// InCohort says whether a terminal is among the first pct percent of a
// release's rollout: a stable hash of release and terminal, so raising the
// percentage only adds terminals and each release picks its own first ones.
func InCohort(uid, version string, pct int) bool {
	sum := sha256.Sum256([]byte("scanbox-cohort\n" + version + "\n" + uid))
	return int(binary.BigEndian.Uint64(sum[:8])%100) < pct
}
