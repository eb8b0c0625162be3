package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/scanbox/scanbox/fleet/proto"
)

// ConfigApplier applies remote settings to the plug-in. Apply must be all
// or nothing (the plug-in's config.Save is an atomic rename): on error
// nothing of s may have taken effect. A nil field of s keeps the local
// value. The applier must itself refuse (with ErrIdentityChange) anything
// that would change the bank URL, merchant or terminal; the agent refuses
// such settings before calling it as well.
type ConfigApplier interface {
	ApplyRemote(ctx context.Context, s proto.Settings) error
}

// ConfigFunc adapts a function to ConfigApplier.
type ConfigFunc func(ctx context.Context, s proto.Settings) error

// ApplyRemote calls f.
func (f ConfigFunc) ApplyRemote(ctx context.Context, s proto.Settings) error { return f(ctx, s) }

// identityWords name the bank identity and its secrets: a remote
// configuration holding any of them, as a field or as an amount-source
// key, is refused whole. Compared after lower-casing and dropping '_',
// '-', '.' and spaces.
var identityWords = map[string]bool{
	"bankurl": true, "bank": true, "baseurl": true, "apiurl": true, "url": true,
	"mchid": true, "merchant": true, "merchantid": true, "mch": true,
	"terminalid": true, "terminal": true, "terminalsn": true, "deviceid": true,
	"key": true, "signingkey": true, "apikey": true, "secret": true, "activationcode": true,
	"identity": true, "areacode": true,
}

func normWord(s string) string {
	s = strings.ToLower(s)
	return strings.NewReplacer("_", "", "-", "", ".", "", " ", "").Replace(s)
}

// identityKeys returns the identity-like keys anywhere in a raw JSON value.
func identityKeys(raw json.RawMessage) []string {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return nil
	}
	found := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				if identityWords[normWord(k)] {
					found[k] = true
				}
				walk(x)
			}
		case []any:
			for _, x := range t {
				walk(x)
			}
		}
	}
	walk(v)
	var out []string
	for k := range found {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Limits of remote settings (a typo in the console must not make a
// terminal poll the bank every millisecond or never).
const (
	minPollIntervalMs    = 200
	maxPollIntervalMs    = 10_000
	minPollDeadlineSec   = 10
	maxPollDeadlineSec   = 600
	minHeartbeatInterval = 10
	maxHeartbeatInterval = 86_400
)

func checkSettings(s proto.Settings) error {
	bad := func(name string, v, lo, hi int) error {
		return fmt.Errorf("%w: %s=%d (allowed %d to %d)", ErrBadSetting, name, v, lo, hi)
	}
	if p := s.PollIntervalMs; p != nil && (*p < minPollIntervalMs || *p > maxPollIntervalMs) {
		return bad("poll_interval_ms", *p, minPollIntervalMs, maxPollIntervalMs)
	}
	if p := s.PollDeadlineSec; p != nil && (*p < minPollDeadlineSec || *p > maxPollDeadlineSec) {
		return bad("poll_deadline_sec", *p, minPollDeadlineSec, maxPollDeadlineSec)
	}
	if p := s.HeartbeatIntervalSec; p != nil && (*p < minHeartbeatInterval || *p > maxHeartbeatInterval) {
		return bad("heartbeat_interval_sec", *p, minHeartbeatInterval, maxHeartbeatInterval)
	}
	if p := s.VoiceVolume; p != nil && (*p < 0 || *p > 100) {
		return bad("voice_volume", *p, 0, 100)
	}
	return nil
}

// applyConfig applies an offered configuration newer than the applied one
// and records the outcome for the next report: the version applied, or
// why it was refused.
func (a *Agent) applyConfig(ctx context.Context, c proto.Config, raw json.RawMessage) {
	a.mu.Lock()
	applied := a.st.ConfigVersion
	a.mu.Unlock()
	if c.Version <= applied {
		return
	}
	err := a.checkConfig(c, raw)
	if err == nil {
		if a.opt.Config == nil {
			err = errors.New("agent: remote configuration is not available in this program")
		} else {
			err = a.opt.Config.ApplyRemote(ctx, c.Settings)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		msg := configRefusal(c.Version, err)
		if a.st.ConfigError != msg {
			a.log.Warn("fleet configuration refused", "config_version", c.Version, "reason", err.Error())
		}
		a.st.ConfigError = msg
		_ = a.saveStateLocked()
		return
	}
	a.st.ConfigVersion = c.Version
	a.st.ConfigError = ""
	if p := c.Settings.HeartbeatIntervalSec; p != nil {
		a.st.IntervalSec = *p
	}
	_ = a.saveStateLocked()
	a.log.Info("fleet configuration applied", "config_version", c.Version)
}

func (a *Agent) checkConfig(c proto.Config, raw json.RawMessage) error {
	if ks := identityKeys(raw); len(ks) > 0 {
		return fmt.Errorf("%w (%s)", ErrIdentityChange, strings.Join(ks, ", "))
	}
	// The typed settings too, in case raw was not available.
	for k := range c.Settings.AmountSource {
		if identityWords[normWord(k)] {
			return fmt.Errorf("%w (%s)", ErrIdentityChange, k)
		}
	}
	return checkSettings(c.Settings)
}

// configRefusal is the one sentence the fleet shows for a refused version.
func configRefusal(v int64, err error) string {
	switch {
	case errors.Is(err, ErrIdentityChange):
		detail := ""
		if i := strings.LastIndex(err.Error(), "("); i >= 0 {
			detail = " " + err.Error()[i:]
		}
		return fmt.Sprintf("configuration version %d refused: it would change the bank identity%s, which only activation changes", v, detail)
	case errors.Is(err, ErrBadSetting):
		return fmt.Sprintf("configuration version %d refused: %s", v, strings.TrimPrefix(err.Error(), ErrBadSetting.Error()+": "))
	default:
		return fmt.Sprintf("configuration version %d could not be applied on this terminal", v)
	}
}
