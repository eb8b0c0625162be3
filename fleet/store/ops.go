package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/scanbox/scanbox/fleet/proto"
)

// Configuration scopes, from the widest to the narrowest; a narrower
// scope's field overrides a wider one's.
const (
	ScopeAll      = "all"
	ScopeGroup    = "group"
	ScopeTerminal = "terminal"
)

// ConfigEntry is the stored settings of one scope.
type ConfigEntry struct {
	Scope, Key string
	Version    int64
	Settings   proto.Settings
	UpdatedBy  string
	UpdatedAt  time.Time
}

// SetConfig stores settings for a scope with a new fleet-wide version
// number (from a database sequence, so two instances never hand out the
// same one).
func (s *Store) SetConfig(ctx context.Context, scope, key string, set proto.Settings, by string) (int64, error) {
	if scope != ScopeAll && scope != ScopeGroup && scope != ScopeTerminal {
		return 0, fmt.Errorf("store: config scope %q", scope)
	}
	if scope == ScopeAll {
		key = ""
	}
	js, err := json.Marshal(set)
	if err != nil {
		return 0, err
	}
	var ver int64
	err = s.tx(ctx, func(t *txn) error {
		if err := t.queryRow(ctx, `INSERT INTO config_seq(at) VALUES(?) RETURNING id`, unix(time.Now())).Scan(&ver); err != nil {
			return err
		}
		_, err := t.exec(ctx, `INSERT INTO configs(scope, scope_key, version, settings_json, updated_by, updated_at) VALUES(?,?,?,?,?,?)
ON CONFLICT (scope, scope_key) DO UPDATE SET version=excluded.version, settings_json=excluded.settings_json, updated_by=excluded.updated_by, updated_at=excluded.updated_at`,
			scope, key, ver, string(js), by, unix(time.Now()))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: set config: %w", err)
	}
	return ver, nil
}

// ListConfigs returns every stored scope.
func (s *Store) ListConfigs(ctx context.Context) ([]ConfigEntry, error) {
	rows, err := s.query(ctx, `SELECT scope, scope_key, version, settings_json, updated_by, updated_at FROM configs ORDER BY scope, scope_key`)
	if err != nil {
		return nil, fmt.Errorf("store: configs: %w", err)
	}
	defer rows.Close()
	var out []ConfigEntry
	for rows.Next() {
		var c ConfigEntry
		var js string
		var at int64
		if err := rows.Scan(&c.Scope, &c.Key, &c.Version, &js, &c.UpdatedBy, &at); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(js), &c.Settings); err != nil {
			return nil, err
		}
		c.UpdatedAt = time.Unix(at, 0).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// EffectiveConfig merges the scopes that apply to a terminal. Its version
// is the highest of the merged scopes' versions (0: no configuration), so
// any change to any applicable scope makes it newer.
func (s *Store) EffectiveConfig(ctx context.Context, uid, group string) (proto.Config, error) {
	entries, err := s.ListConfigs(ctx)
	if err != nil {
		return proto.Config{}, err
	}
	return MergeConfig(entries, uid, group), nil
}

// MergeConfig computes a terminal's effective configuration from all
// stored scopes (the same rule as EffectiveConfig, for callers that keep
// the short list of scopes in memory for a moment).
func MergeConfig(entries []ConfigEntry, uid, group string) proto.Config {
	var cfg proto.Config
	for _, rank := range []string{ScopeAll, ScopeGroup, ScopeTerminal} {
		for _, e := range entries {
			if e.Scope != rank || (rank == ScopeGroup && (group == "" || e.Key != group)) || (rank == ScopeTerminal && e.Key != uid) {
				continue
			}
			mergeSettings(&cfg.Settings, e.Settings)
			if e.Version > cfg.Version {
				cfg.Version = e.Version
			}
		}
	}
	return cfg
}

func mergeSettings(dst *proto.Settings, src proto.Settings) {
	if src.PollIntervalMs != nil {
		dst.PollIntervalMs = src.PollIntervalMs
	}
	if src.PollDeadlineSec != nil {
		dst.PollDeadlineSec = src.PollDeadlineSec
	}
	if src.HeartbeatIntervalSec != nil {
		dst.HeartbeatIntervalSec = src.HeartbeatIntervalSec
	}
	if src.VoiceEnabled != nil {
		dst.VoiceEnabled = src.VoiceEnabled
	}
	if src.VoiceVolume != nil {
		dst.VoiceVolume = src.VoiceVolume
	}
	if src.POSAPIEnabled != nil {
		dst.POSAPIEnabled = src.POSAPIEnabled
	}
	if len(src.AmountSource) > 0 {
		m := map[string]string{}
		for k, v := range dst.AmountSource {
			m[k] = v
		}
		for k, v := range src.AmountSource {
			m[k] = v
		}
		dst.AmountSource = m
	}
}

// LogRequest is one support-bundle request.
type LogRequest struct {
	ID, UID, RequestedBy string
	RequestedAt          time.Time
	UploadedAt           *time.Time
	Size                 int64
}

// RequestLogs records that staff asked for a terminal's support bundle.
func (s *Store) RequestLogs(ctx context.Context, uid, by string) (string, error) {
	id := "lr" + randomToken(8)
	err := s.tx(ctx, func(t *txn) error {
		if _, err := t.exec(ctx, `INSERT INTO log_requests(id, terminal_uid, requested_by, requested_at) VALUES(?,?,?,?)`, id, uid, by, unix(time.Now())); err != nil {
			return err
		}
		// The terminal row names the oldest open request, so a heartbeat
		// learns of it without another query.
		_, err := t.exec(ctx, `UPDATE terminals SET pending_log=? WHERE uid=? AND pending_log=''`, id, uid)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: log request: %w", err)
	}
	return id, nil
}

// PendingLogRequest returns the oldest request not yet answered ("" none).
func (s *Store) PendingLogRequest(ctx context.Context, uid string) (string, error) {
	var id string
	err := s.queryRow(ctx, `SELECT id FROM log_requests WHERE terminal_uid=? AND uploaded_at IS NULL ORDER BY requested_at, id LIMIT 1`, uid).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// StoreLogBundle keeps an uploaded bundle for its request.
func (s *Store) StoreLogBundle(ctx context.Context, uid, id string, data []byte) error {
	err := s.tx(ctx, func(t *txn) error {
		res, err := t.exec(ctx, `UPDATE log_requests SET bundle=?, size=?, uploaded_at=? WHERE id=? AND terminal_uid=?`, data, len(data), unix(time.Now()), id, uid)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		next := ""
		err = t.queryRow(ctx, `SELECT id FROM log_requests WHERE terminal_uid=? AND uploaded_at IS NULL ORDER BY requested_at, id LIMIT 1`, uid).Scan(&next)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = t.exec(ctx, `UPDATE terminals SET pending_log=? WHERE uid=?`, next, uid)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("store: log bundle: %w", err)
	}
	return nil
}

// ListLogRequests returns a terminal's requests, newest first.
func (s *Store) ListLogRequests(ctx context.Context, uid string) ([]LogRequest, error) {
	rows, err := s.query(ctx, `SELECT id, terminal_uid, requested_by, requested_at, uploaded_at, size FROM log_requests WHERE terminal_uid=? ORDER BY requested_at DESC, id DESC LIMIT 50`, uid)
	if err != nil {
		return nil, fmt.Errorf("store: log requests: %w", err)
	}
	defer rows.Close()
	var out []LogRequest
	for rows.Next() {
		var l LogRequest
		var at int64
		var up sql.NullInt64
		if err := rows.Scan(&l.ID, &l.UID, &l.RequestedBy, &at, &up, &l.Size); err != nil {
			return nil, err
		}
		l.RequestedAt = time.Unix(at, 0).UTC()
		l.UploadedAt = nullTime(up)
		out = append(out, l)
	}
	return out, rows.Err()
}

// LogBundle returns an uploaded bundle.
func (s *Store) LogBundle(ctx context.Context, id string) (uid string, data []byte, err error) {
	err = s.queryRow(ctx, `SELECT terminal_uid, bundle FROM log_requests WHERE id=? AND uploaded_at IS NOT NULL`, id).Scan(&uid, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, ErrNotFound
	}
	return uid, data, err
}

// Release is a published, signed release.
type Release struct {
	Version     string
	Manifest    proto.SignedManifest
	Cohort      int
	Paused      bool
	PublishedBy string
	PublishedAt time.Time
}

// PublishRelease stores a signed manifest and its MSI (already checked by
// the caller against each other) with a cohort percentage.
func (s *Store) PublishRelease(ctx context.Context, sm proto.SignedManifest, msi []byte, cohort int, by string) error {
	js, err := json.Marshal(sm)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO releases(version, manifest_json, msi, cohort, paused, published_by, published_at) VALUES(?,?,?,?,0,?,?)
ON CONFLICT (version) DO UPDATE SET manifest_json=excluded.manifest_json, msi=excluded.msi, cohort=excluded.cohort, paused=0, published_by=excluded.published_by, published_at=excluded.published_at`,
		sm.Manifest.Version, string(js), msi, cohort, by, unix(time.Now()))
	if err != nil {
		return fmt.Errorf("store: publish: %w", err)
	}
	return nil
}

// SetRollout changes a release's cohort and pause state.
func (s *Store) SetRollout(ctx context.Context, version string, cohort int, paused bool) error {
	p := 0
	if paused {
		p = 1
	}
	res, err := s.exec(ctx, `UPDATE releases SET cohort=?, paused=? WHERE version=?`, cohort, p, version)
	if err != nil {
		return fmt.Errorf("store: rollout: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// ListReleases returns releases, newest version first (without MSIs).
func (s *Store) ListReleases(ctx context.Context) ([]Release, error) {
	rows, err := s.query(ctx, `SELECT version, manifest_json, cohort, paused, published_by, published_at FROM releases`)
	if err != nil {
		return nil, fmt.Errorf("store: releases: %w", err)
	}
	defer rows.Close()
	var out []Release
	for rows.Next() {
		var r Release
		var js string
		var paused, at int64
		if err := rows.Scan(&r.Version, &js, &r.Cohort, &paused, &r.PublishedBy, &at); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(js), &r.Manifest); err != nil {
			return nil, err
		}
		r.Paused, r.PublishedAt = paused != 0, time.Unix(at, 0).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := proto.ParseVersion(out[i].Version)
		b, _ := proto.ParseVersion(out[j].Version)
		return proto.CompareVersions(a, b) > 0
	})
	return out, nil
}

// ReleaseFile returns a release's signed manifest JSON and MSI bytes.
func (s *Store) ReleaseFile(ctx context.Context, version string) (manifest string, msi []byte, err error) {
	err = s.queryRow(ctx, `SELECT manifest_json, msi FROM releases WHERE version=?`, version).Scan(&manifest, &msi)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, ErrNotFound
	}
	return manifest, msi, err
}

// OfferFor picks the release to offer a terminal, from releases newest
// first: its pin if it has one (even while paused: a pin is a deliberate
// per-terminal choice), else the newest unpaused release whose cohort
// includes it. Only versions newer than current are offered.
func OfferFor(uid, current, pin string, releases []Release) (Release, bool) {
	cur, err := proto.ParseVersion(current)
	newer := func(v string) bool {
		pv, e := proto.ParseVersion(v)
		return e == nil && (err != nil || proto.CompareVersions(pv, cur) > 0)
	}
	if pin != "" {
		for _, r := range releases {
			if r.Version == pin && newer(r.Version) {
				return r, true
			}
		}
		return Release{}, false
	}
	for _, r := range releases {
		if !r.Paused && InCohort(uid, r.Version, r.Cohort) && newer(r.Version) {
			return r, true
		}
	}
	return Release{}, false
}

// NewestFull is the newest unpaused release at 100 %, for the
// "version behind" alert ("" if none).
func NewestFull(releases []Release) string {
	for _, r := range releases {
		if !r.Paused && r.Cohort >= 100 {
			return r.Version
		}
	}
	return ""
}
