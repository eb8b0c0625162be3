package store_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/scanbox/scanbox/fleet/internal/fleettest"
	"github.com/scanbox/scanbox/fleet/proto"
	"github.com/scanbox/scanbox/fleet/store"
)

var ctx = context.Background()

func enrollReq(t testing.TB, code, mch, tid, dev string) proto.EnrollRequest {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return proto.EnrollRequest{Code: code, PublicKey: pub, AppVersion: "1.1.0",
		Identity: proto.Identity{MchID: mch, TerminalID: tid, TerminalSN: "SN-" + tid, DeviceID: dev}}
}

func codes(t *testing.T, st *store.Store, n int) []string {
	c, err := st.CreateEnrollmentCodes(ctx, n, "test")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEnrollmentSingleUse(t *testing.T) {
	fleettest.Each(t, func(t *testing.T, st *store.Store, _ string) {
		c := codes(t, st, 1)[0]
		now := time.Now()
		uid, err := st.Enroll(ctx, enrollReq(t, c, "M1", "T1", "dev1"), now)
		if err != nil || uid == "" {
			t.Fatalf("first use: %q %v", uid, err)
		}
		if _, err := st.Enroll(ctx, enrollReq(t, c, "M1", "T2", "dev2"), now); !errors.Is(err, store.ErrCodeInvalid) {
			t.Fatalf("second use of a code: %v, want ErrCodeInvalid", err)
		}
		if _, err := st.Enroll(ctx, enrollReq(t, "nope-nope-nope-nope", "M1", "T3", "dev3"), now); !errors.Is(err, store.ErrCodeInvalid) {
			t.Fatalf("unknown code: %v", err)
		}
		// Dashes and case do not matter.
		c2 := codes(t, st, 1)[0]
		if _, err := st.Enroll(ctx, enrollReq(t, "  "+toUpperNoDash(c2), "M1", "T4", "dev4"), now); err != nil {
			t.Fatalf("code typed without dashes: %v", err)
		}
	})
}

func toUpperNoDash(s string) string {
	out := []byte{}
	for _, c := range []byte(s) {
		if c == '-' {
			continue
		}
		if c >= 'a' && c <= 'z' {
			c -= 32
		}
		out = append(out, c)
	}
	return string(out)
}

func TestCopiedInstallationAlert(t *testing.T) {
	fleettest.Each(t, func(t *testing.T, st *store.Store, _ string) {
		cs := codes(t, st, 3)
		now := time.Now()
		uid1, err := st.Enroll(ctx, enrollReq(t, cs[0], "M1", "T1", "pc-A"), now)
		if err != nil {
			t.Fatal(err)
		}
		// The same PC re-enrolling (reinstall) keeps its uid, no alert.
		again, err := st.Enroll(ctx, enrollReq(t, cs[1], "M1", "T1", "pc-A"), now)
		if err != nil || again != uid1 {
			t.Fatalf("re-enrollment: %q %v, want %q", again, err, uid1)
		}
		tm, _ := st.GetTerminal(ctx, uid1, now)
		if slices.Contains(tm.Alerts, store.AlertDeviceChanged) {
			t.Fatal("re-enrollment from the same device raised the copy alert")
		}
		// Another PC presenting the same terminal: both flagged.
		uid2, err := st.Enroll(ctx, enrollReq(t, cs[2], "M1", "T1", "pc-B"), now)
		if err != nil || uid2 == uid1 {
			t.Fatalf("copy: %q %v", uid2, err)
		}
		for _, u := range []string{uid1, uid2} {
			tm, err := st.GetTerminal(ctx, u, now)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(tm.Alerts, store.AlertDeviceChanged) {
				t.Errorf("terminal %s alerts %v, want %s", u, tm.Alerts, store.AlertDeviceChanged)
			}
		}
		al, err := st.ListAlerts(ctx, "", true, 10)
		if err != nil || len(al) != 2 {
			t.Fatalf("open alerts %v %v, want 2", al, err)
		}
		// Staff disable the copy; it is reported disabled from now on.
		if err := st.SetDisabled(ctx, uid2, true); err != nil {
			t.Fatal(err)
		}
		k := key(t, st, uid2)
		res, err := st.Heartbeat(ctx, uid2, time.Now().UnixMilli(), proto.Heartbeat{Seq: 1, Identity: proto.Identity{DeviceID: "pc-B"}}, time.Now(), "")
		if err != nil || !res.Disabled || res.Counted {
			t.Fatalf("disabled terminal heartbeat: %+v %v (key %v)", res, err, k.Disabled)
		}
	})
}

func key(t *testing.T, st *store.Store, uid string) store.AgentKey {
	tm, err := st.GetTerminal(ctx, uid, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_ = tm
	return store.AgentKey{UID: uid, Disabled: tm.Disabled}
}

func TestHeartbeatCopiedDataDir(t *testing.T) {
	// The data directory (with its key) copied to another PC: the same key
	// reports from another device id.
	fleettest.Each(t, func(t *testing.T, st *store.Store, _ string) {
		uid, err := st.Enroll(ctx, enrollReq(t, codes(t, st, 1)[0], "M1", "T1", "pc-A"), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		hb := proto.Heartbeat{Seq: 1, At: now, AppVersion: "1.1.0", Identity: proto.Identity{MchID: "M1", TerminalID: "T1", DeviceID: "pc-A"}}
		if _, err := st.Heartbeat(ctx, uid, now.UnixMilli(), hb, now, ""); err != nil {
			t.Fatal(err)
		}
		tm, _ := st.GetTerminal(ctx, uid, now)
		if len(tm.Alerts) != 0 {
			t.Fatalf("healthy heartbeat alerts %v", tm.Alerts)
		}
		hb.Seq, hb.Identity.DeviceID = 2, "pc-B"
		if _, err := st.Heartbeat(ctx, uid, now.UnixMilli()+1, hb, now, ""); err != nil {
			t.Fatal(err)
		}
		tm, _ = st.GetTerminal(ctx, uid, now)
		if !slices.Contains(tm.Alerts, store.AlertDeviceChanged) {
			t.Fatalf("alerts %v, want %s", tm.Alerts, store.AlertDeviceChanged)
		}
		// Sticky: a later report from pc-A does not clear it; staff do.
		hb.Seq, hb.Identity.DeviceID = 3, "pc-A"
		st.Heartbeat(ctx, uid, now.UnixMilli()+2, hb, now, "")
		tm, _ = st.GetTerminal(ctx, uid, now)
		if !slices.Contains(tm.Alerts, store.AlertDeviceChanged) {
			t.Fatal("device-changed alert cleared by a heartbeat")
		}
		if err := st.ClearAlert(ctx, uid, store.AlertDeviceChanged, now); err != nil {
			t.Fatal(err)
		}
		tm, _ = st.GetTerminal(ctx, uid, now)
		if slices.Contains(tm.Alerts, store.AlertDeviceChanged) {
			t.Fatal("clear did not clear")
		}
	})
}

func TestHeartbeatReplayAndRollups(t *testing.T) {
	fleettest.Each(t, func(t *testing.T, st *store.Store, _ string) {
		uid, err := st.Enroll(ctx, enrollReq(t, codes(t, st, 1)[0], "M1", "T1", "pc-A"), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		// 10:00 in China: within the default opening hours, so that
		// missing reports raises "offline" (see TestOfflineOpeningHours).
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, store.ChinaTime)
		id := proto.Identity{MchID: "M1", TerminalID: "T1", DeviceID: "pc-A"}
		pay := []proto.PaymentCount{{Channel: "wechat", Outcome: proto.OutcomePaid, Count: 3, SumFen: 1500}, {Channel: "alipay", Outcome: proto.OutcomeUnknown, Count: 1, SumFen: 100}}
		ts := now.UnixMilli()
		hb := proto.Heartbeat{Seq: 10, At: now, Identity: id, AppVersion: "1.1.0", Payments: pay, UnresolvedOrders: 2}
		res, err := st.Heartbeat(ctx, uid, ts, hb, now, "")
		if err != nil || !res.Counted {
			t.Fatalf("%+v %v", res, err)
		}
		// Same timestamp again: a replay.
		if _, err := st.Heartbeat(ctx, uid, ts, hb, now, ""); !errors.Is(err, store.ErrReplay) {
			t.Fatalf("replayed timestamp: %v", err)
		}
		// The same report re-sent (queued copy) with a new timestamp: acked,
		// not counted twice.
		res, err = st.Heartbeat(ctx, uid, ts+1, hb, now, "")
		if err != nil || res.Counted {
			t.Fatalf("duplicate seq: %+v %v", res, err)
		}
		// A newer report adds up.
		hb.Seq = 11
		hb.Payments = pay[:1]
		if _, err := st.Heartbeat(ctx, uid, ts+2, hb, now, ""); err != nil {
			t.Fatal(err)
		}
		hs, err := st.Hourly(ctx, uid, now.Add(-time.Hour))
		if err != nil || len(hs) != 1 {
			t.Fatalf("hourly %v %v", hs, err)
		}
		if h := hs[0]; h.Reports != 2 || h.PaidCount != 6 || h.PaidFen != 3000 || h.UnknownCount != 1 {
			t.Fatalf("roll-up %+v", h)
		}
		tm, _ := st.GetTerminal(ctx, uid, now)
		if !tm.Online || tm.UnresolvedOrders != 2 || tm.LastSeen.IsZero() {
			t.Fatalf("latest state %+v", tm)
		}
		if tm2, _ := st.GetTerminal(ctx, uid, now.Add(4*time.Minute)); tm2.Online || !slices.Contains(tm2.Alerts, store.AlertOffline) {
			t.Fatalf("after 4 missed minutes: online=%v alerts=%v", tm2.Online, tm2.Alerts)
		}
	})
}

func TestEvaluateAlerts(t *testing.T) {
	now := time.Now()
	old := now.Add(-6 * time.Minute)
	hb := proto.Heartbeat{
		AppVersion: "1.0.0", OldestUnresolvedAt: &old, ClockOffsetKnown: true, ClockOffsetMs: -90_000,
		AmountSources: []proto.AmountSourceState{{Name: "ocr", State: proto.StateFailing}},
		Scanner:       proto.ScannerState{State: proto.StateFailing},
		Payments:      []proto.PaymentCount{{Outcome: proto.OutcomePaid, Count: 4}, {Outcome: proto.OutcomeFailed, Count: 1}},
	}
	got := store.EvaluateAlerts(hb, now, "1.1.0")
	want := []string{store.AlertUnresolvedOld, store.AlertAmountSource, store.AlertScanner, store.AlertClockOffset, store.AlertFailureSpike, store.AlertVersionBehind}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	fresh := now.Add(-time.Minute)
	healthy := proto.Heartbeat{AppVersion: "1.1.0", OldestUnresolvedAt: &fresh, ClockOffsetKnown: true, ClockOffsetMs: 500,
		Payments: []proto.PaymentCount{{Outcome: proto.OutcomePaid, Count: 40}, {Outcome: proto.OutcomeFailed, Count: 1}}}
	if got := store.EvaluateAlerts(healthy, now, "1.1.0"); len(got) != 0 {
		t.Fatalf("healthy: %v", got)
	}
}

func TestListTerminalsPaging(t *testing.T) {
	fleettest.Each(t, func(t *testing.T, st *store.Store, _ string) {
		cs := codes(t, st, 25)
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, store.ChinaTime) // shops open
		var uids []string
		for i, c := range cs {
			uid, err := st.Enroll(ctx, enrollReq(t, c, fmt.Sprintf("M%02d", i/5), fmt.Sprintf("T%02d", i), fmt.Sprintf("d%02d", i)), now)
			if err != nil {
				t.Fatal(err)
			}
			uids = append(uids, uid)
		}
		// Five report (online), one is disabled.
		for i := 0; i < 5; i++ {
			st.Heartbeat(ctx, uids[i], now.UnixMilli(), proto.Heartbeat{Seq: 1, At: now, Identity: proto.Identity{DeviceID: fmt.Sprintf("d%02d", i)}}, now, "")
		}
		st.SetDisabled(ctx, uids[24], true)
		var seen []string
		f := store.Filter{Limit: 10}
		for pages := 0; ; pages++ {
			p, err := st.ListTerminals(ctx, f, now)
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != 25 {
				t.Fatalf("total %d", p.Total)
			}
			for _, tm := range p.Terminals {
				seen = append(seen, tm.TerminalID)
			}
			if p.Next == "" {
				break
			}
			f.After = p.Next
			if pages > 5 {
				t.Fatal("paging does not end")
			}
		}
		if len(seen) != 25 || !slices.IsSorted(seen) || seen[0] != "T00" {
			t.Fatalf("pages gave %v", seen)
		}
		for state, want := range map[string]int{"online": 5, "offline": 19, "disabled": 1, "alert": 19} {
			p, err := st.ListTerminals(ctx, store.Filter{State: state}, now)
			if err != nil || p.Total != want {
				t.Errorf("state %s: %d %v, want %d", state, p.Total, err, want)
			}
		}
		// At 23:00 the shops are closed: still offline, but no alert.
		night := now.Add(13 * time.Hour)
		for state, want := range map[string]int{"offline": 24, "alert": 0} {
			p, err := st.ListTerminals(ctx, store.Filter{State: state}, night)
			if err != nil || p.Total != want {
				t.Errorf("at 23:00, state %s: %d %v, want %d", state, p.Total, err, want)
			}
		}
		p, err := st.ListTerminals(ctx, store.Filter{Q: "M03"}, now)
		if err != nil || p.Total != 5 {
			t.Errorf("search M03: %d %v", p.Total, err)
		}
		p, err = st.ListTerminals(ctx, store.Filter{Q: "%"}, now)
		if err != nil || p.Total != 0 {
			t.Errorf("search %%: %d %v (wildcard taken literally)", p.Total, err)
		}
		p, err = st.ListTerminals(ctx, store.Filter{Q: "T1"}, now)
		if err != nil || p.Total != 10 {
			t.Errorf("search prefix T1: %d %v, want 10 (T10..T19)", p.Total, err)
		}
		p, err = st.ListTerminals(ctx, store.Filter{Q: "d03"}, now)
		if err != nil || p.Total != 1 {
			t.Errorf("search device d03: %d %v", p.Total, err)
		}
	})
}

func TestConfigMerge(t *testing.T) {
	fleettest.Each(t, func(t *testing.T, st *store.Store, _ string) {
		uid, _ := st.Enroll(ctx, enrollReq(t, codes(t, st, 1)[0], "M1", "T1", "d"), time.Now())
		st.SetGroup(ctx, uid, "north")
		i := func(n int) *int { return &n }
		b := func(v bool) *bool { return &v }
		v1, err := st.SetConfig(ctx, store.ScopeAll, "", proto.Settings{PollIntervalMs: i(2000), VoiceEnabled: b(true)}, "ann")
		if err != nil {
			t.Fatal(err)
		}
		v2, _ := st.SetConfig(ctx, store.ScopeGroup, "north", proto.Settings{PollIntervalMs: i(3000)}, "ann")
		v3, _ := st.SetConfig(ctx, store.ScopeGroup, "south", proto.Settings{PollIntervalMs: i(9000)}, "ann")
		if !(v1 < v2 && v2 < v3) {
			t.Fatalf("versions %d %d %d not increasing", v1, v2, v3)
		}
		c, err := st.EffectiveConfig(ctx, uid, "north")
		if err != nil {
			t.Fatal(err)
		}
		if c.Version != v2 || *c.Settings.PollIntervalMs != 3000 || !*c.Settings.VoiceEnabled {
			t.Fatalf("effective %+v", c)
		}
		v4, _ := st.SetConfig(ctx, store.ScopeTerminal, uid, proto.Settings{VoiceEnabled: b(false)}, "ann")
		c, _ = st.EffectiveConfig(ctx, uid, "north")
		if c.Version != v4 || *c.Settings.PollIntervalMs != 3000 || *c.Settings.VoiceEnabled {
			t.Fatalf("with terminal override %+v", c)
		}
	})
}

func TestReleaseOffer(t *testing.T) {
	mk := func(v string, cohort int, paused bool) store.Release {
		return store.Release{Version: v, Cohort: cohort, Paused: paused}
	}
	rels := []store.Release{mk("1.3.0", 0, false), mk("1.2.0", 100, false)}
	if r, ok := store.OfferFor("t1", "1.1.0", "", rels); !ok || r.Version != "1.2.0" {
		t.Fatalf("offer %v %v", r.Version, ok)
	}
	if _, ok := store.OfferFor("t1", "1.2.0", "", rels); ok {
		t.Fatal("offered what runs")
	}
	rels[1].Paused = true
	if _, ok := store.OfferFor("t1", "1.1.0", "", rels); ok {
		t.Fatal("paused release offered")
	}
	// A pin wins over cohort and pause.
	if r, ok := store.OfferFor("t1", "1.1.0", "1.3.0", rels); !ok || r.Version != "1.3.0" {
		t.Fatal("pin not offered")
	}
	// Cohort: about pct % of terminals, and growing the cohort only adds.
	in10, in50 := 0, 0
	for i := 0; i < 2000; i++ {
		uid := fmt.Sprintf("t%d", i)
		a, b := store.InCohort(uid, "1.3.0", 10), store.InCohort(uid, "1.3.0", 50)
		if a && !b {
			t.Fatal("terminal left the cohort when it grew")
		}
		if a {
			in10++
		}
		if b {
			in50++
		}
	}
	if in10 < 140 || in10 > 260 || in50 < 900 || in50 > 1100 {
		t.Fatalf("cohort sizes %d/2000 at 10%%, %d/2000 at 50%%", in10, in50)
	}
	if store.NewestFull(rels) != "" {
		t.Fatal("paused release counted as rolled out")
	}
}

func TestStaffStorage(t *testing.T) {
	fleettest.Each(t, func(t *testing.T, st *store.Store, _ string) {
		if err := st.AddUser(ctx, "ann", store.RoleAdmin, "h"); err != nil {
			t.Fatal(err)
		}
		if err := st.AddUser(ctx, "ann", store.RoleViewer, "h"); !errors.Is(err, store.ErrExists) {
			t.Fatalf("duplicate user: %v", err)
		}
		u, _ := st.UserByName(ctx, "ann")
		tok, err := st.CreateToken(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := st.UserByToken(ctx, tok); err != nil || got.Name != "ann" {
			t.Fatalf("token: %v %v", got, err)
		}
		if _, err := st.UserByToken(ctx, tok+"x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("wrong token accepted")
		}
		sid, _ := st.CreateSession(ctx, u.ID, "en")
		se, err := st.SessionByID(ctx, sid)
		if err != nil || se.User.Name != "ann" || se.CSRF == "" || se.Lang != "en" {
			t.Fatalf("session %+v %v", se, err)
		}
		st.DeleteSession(ctx, sid)
		if _, err := st.SessionByID(ctx, sid); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("session survived logout")
		}
		for i := 0; i < 3; i++ {
			st.AddLoginFailure(ctx, "user:ann")
		}
		if n, _ := st.LoginFailures(ctx, "user:ann", time.Now().Add(-time.Minute)); n != 3 {
			t.Fatalf("failures %d", n)
		}
		st.Audit(ctx, "ann", "login", "127.0.0.1", "")
		a, err := st.ListAudit(ctx, 10)
		if err != nil || len(a) != 1 || a[0].Action != "login" {
			t.Fatalf("audit %v %v", a, err)
		}
		for _, r := range []string{"admin", "operator", "viewer"} {
			role, err := store.ParseRole(r)
			if err != nil || role.String() != r {
				t.Errorf("role %s round trip: %v %v", r, role, err)
			}
		}
		if _, err := store.ParseRole("root"); err == nil {
			t.Error("unknown role parsed")
		}
		if store.RoleViewer.AtLeast(store.RoleOperator) || !store.RoleAdmin.AtLeast(store.RoleOperator) {
			t.Error("role order")
		}
	})
}

func TestLogBundles(t *testing.T) {
	fleettest.Each(t, func(t *testing.T, st *store.Store, _ string) {
		uid, _ := st.Enroll(ctx, enrollReq(t, codes(t, st, 1)[0], "M1", "T1", "d"), time.Now())
		id, err := st.RequestLogs(ctx, uid, "bob")
		if err != nil {
			t.Fatal(err)
		}
		if p, _ := st.PendingLogRequest(ctx, uid); p != id {
			t.Fatalf("pending %q want %q", p, id)
		}
		if err := st.StoreLogBundle(ctx, "other", id, []byte("zip")); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("another terminal answered the request")
		}
		if err := st.StoreLogBundle(ctx, uid, id, []byte("zip")); err != nil {
			t.Fatal(err)
		}
		if p, _ := st.PendingLogRequest(ctx, uid); p != "" {
			t.Fatal("still pending")
		}
		u, data, err := st.LogBundle(ctx, id)
		if err != nil || u != uid || string(data) != "zip" {
			t.Fatalf("bundle %q %q %v", u, data, err)
		}
		ls, _ := st.ListLogRequests(ctx, uid)
		if len(ls) != 1 || ls[0].RequestedBy != "bob" || ls[0].UploadedAt == nil {
			t.Fatalf("requests %+v", ls)
		}
	})
}

func TestParseOpeningHours(t *testing.T) {
	for in, want := range map[string]store.OpeningHours{
		"08:00-22:00": {480, 1320}, " 9:30 - 21:00 ": {570, 1260}, "22:00-02:00": {1320, 120}, "00:00-24:00": {0, 1440},
	} {
		got, err := store.ParseOpeningHours(in)
		if err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
		if again, _ := store.ParseOpeningHours(got.String()); again != got {
			t.Errorf("%q: %v does not round-trip through %q", in, got, got.String())
		}
	}
	for _, bad := range []string{"", "8-22", "08:00", "08:00-08:00", "24:00-08:00", "08:60-22:00", "25:00-26:00", "08:00-24:01", "ab:cd-ef:gh"} {
		if _, err := store.ParseOpeningHours(bad); !errors.Is(err, store.ErrBadHours) {
			t.Errorf("%q accepted: %v", bad, err)
		}
	}
	cst := func(h, m int) time.Time { return time.Date(2026, 12, 1, h, m, 0, 0, store.ChinaTime) }
	day, night := store.OpeningHours{480, 1320}, store.OpeningHours{1320, 120}
	for _, c := range []struct {
		h    store.OpeningHours
		at   time.Time
		open bool
	}{
		{day, cst(7, 59), false}, {day, cst(8, 0), true}, {day, cst(21, 59), true}, {day, cst(22, 0), false},
		{night, cst(21, 0), false}, {night, cst(23, 0), true}, {night, cst(1, 59), true}, {night, cst(2, 0), false},
		{store.OpeningHours{0, 1440}, cst(3, 0), true},
		// The zone is China's whatever the time's own location: 01:00 UTC is 09:00 there.
		{day, time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), true}, {day, time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC), false},
	} {
		if got := c.h.Contains(c.at); got != c.open {
			t.Errorf("%v at %v: open %v, want %v", c.h, c.at, got, c.open)
		}
	}
}

// "offline" is an alert only within the shop's opening hours: the default
// 08:00-22:00, else the hours of all terminals, of the terminal's group or
// of the terminal itself (the narrowest set wins), in the terminal itself,
// the list filter and the alerts count alike. Being online does not
// depend on them.
func TestOfflineOpeningHours(t *testing.T) {
	fleettest.Each(t, func(t *testing.T, st *store.Store, _ string) {
		cst := func(h int) time.Time { return time.Date(2026, 12, 1, h, 0, 0, 0, store.ChinaTime) }
		cs := codes(t, st, 3)
		var uids []string
		for i, c := range cs {
			uid, err := st.Enroll(ctx, enrollReq(t, c, "M1", fmt.Sprintf("T%d", i), fmt.Sprintf("d%d", i)), cst(6))
			if err != nil {
				t.Fatal(err)
			}
			uids = append(uids, uid)
		}
		// All three never reported: offline.
		check := func(at time.Time, wantAlert ...bool) {
			t.Helper()
			n := 0
			for i, uid := range uids {
				tm, err := st.GetTerminal(ctx, uid, at)
				if err != nil {
					t.Fatal(err)
				}
				if tm.Online {
					t.Fatalf("%s online", tm.TerminalID)
				}
				if got := slices.Contains(tm.Alerts, store.AlertOffline); got != wantAlert[i] {
					t.Errorf("at %s, %s (hours %s): offline alert %v, want %v", at.In(store.ChinaTime).Format("15:04"), tm.TerminalID, tm.Hours, got, wantAlert[i])
				}
				if wantAlert[i] {
					n++
				}
			}
			if p, err := st.ListTerminals(ctx, store.Filter{State: "alert"}, at); err != nil || p.Total != n {
				t.Errorf("at %s: alert filter %d %v, want %d", at.In(store.ChinaTime).Format("15:04"), p.Total, err, n)
			}
			all, open, err := st.CountOffline(ctx, at)
			if err != nil || all != 3 || open != n {
				t.Errorf("at %s: offline %d, in hours %d (%v), want 3, %d", at.In(store.ChinaTime).Format("15:04"), all, open, err, n)
			}
		}
		// Default 08:00-22:00.
		check(cst(7), false, false, false)
		check(cst(12), true, true, true)
		check(cst(23), false, false, false)

		// All terminals 10:00-20:00; group "night" 20:00-04:00 (T1);
		// T2 its own 00:00-24:00.
		h := func(s string) *store.OpeningHours {
			v, err := store.ParseOpeningHours(s)
			if err != nil {
				t.Fatal(err)
			}
			return &v
		}
		if err := st.SetOpeningHours(ctx, store.ScopeAll, "", h("10:00-20:00"), "ann"); err != nil {
			t.Fatal(err)
		}
		if err := st.SetOpeningHours(ctx, store.ScopeGroup, "night", h("20:00-04:00"), "ann"); err != nil {
			t.Fatal(err)
		}
		if err := st.SetGroup(ctx, uids[1], "night"); err != nil {
			t.Fatal(err)
		}
		if err := st.SetOpeningHours(ctx, store.ScopeTerminal, uids[2], h("00:00-24:00"), "ann"); err != nil {
			t.Fatal(err)
		}
		check(cst(9), false, false, true)
		check(cst(12), true, false, true)
		check(cst(21), false, true, true)
		check(cst(3), false, true, true)

		// A terminal enrolled now gets the hours in force.
		c4 := codes(t, st, 1)[0]
		u4, err := st.Enroll(ctx, enrollReq(t, c4, "M1", "T3", "d3"), cst(6))
		if err != nil {
			t.Fatal(err)
		}
		if tm, _ := st.GetTerminal(ctx, u4, cst(6)); tm.Hours != *h("10:00-20:00") {
			t.Errorf("new terminal's hours %v", tm.Hours)
		}
		st.SetDisabled(ctx, u4, true) // out of the counts below

		// Removing the narrower hours falls back to the wider ones; leaving
		// the group too.
		if err := st.SetOpeningHours(ctx, store.ScopeTerminal, uids[2], nil, "ann"); err != nil {
			t.Fatal(err)
		}
		if err := st.SetGroup(ctx, uids[1], ""); err != nil {
			t.Fatal(err)
		}
		check(cst(21), false, false, false)
		check(cst(11), true, true, true)
		if err := st.SetOpeningHours(ctx, store.ScopeAll, "", nil, "ann"); err != nil {
			t.Fatal(err)
		}
		check(cst(9), true, true, true)
		if hs, err := st.ListOpeningHours(ctx); err != nil || len(hs) != 1 || hs[0].Key != "night" {
			t.Errorf("stored hours %+v %v", hs, err)
		}

		// A terminal that reports is online whatever the hours.
		now := cst(23)
		if _, err := st.Heartbeat(ctx, uids[0], now.UnixMilli(), proto.Heartbeat{Seq: 1, At: now, Identity: proto.Identity{DeviceID: "d0"}}, now, ""); err != nil {
			t.Fatal(err)
		}
		if tm, _ := st.GetTerminal(ctx, uids[0], now); !tm.Online || slices.Contains(tm.Alerts, store.AlertOffline) {
			t.Errorf("reporting terminal: online %v alerts %v", tm.Online, tm.Alerts)
		}
	})
}

// One batch holding several reports of the same terminal (counted, a
// re-sent copy, a replay), a report for an unknown terminal and one signed
// by a replaced key: each gets its own outcome, the terminal ends with its
// newest state, the roll-up counts each counted report once, and alert
// transitions inside the batch are all recorded. PostgreSQL writes the
// batch in bulk, SQLite report by report: the same outcomes.
func TestHeartbeatBatchSameTerminal(t *testing.T) {
	fleettest.Each(t, func(t *testing.T, st *store.Store, _ string) {
		cs := codes(t, st, 2)
		now := time.Date(2026, 12, 1, 10, 30, 0, 0, store.ChinaTime)
		req := enrollReq(t, cs[0], "M1", "T1", "pc-A")
		uid, err := st.Enroll(ctx, req, now)
		if err != nil {
			t.Fatal(err)
		}
		other, err := st.Enroll(ctx, enrollReq(t, cs[1], "M1", "T2", "pc-B"), now)
		if err != nil {
			t.Fatal(err)
		}
		key := proto.KeyID(req.PublicKey)
		id := proto.Identity{MchID: "M1", TerminalID: "T1", TerminalSN: "SN-T1", DeviceID: "pc-A"}
		pay := func(n int64) []proto.PaymentCount {
			return []proto.PaymentCount{{Channel: "wechat", Outcome: proto.OutcomePaid, Count: n, SumFen: 100 * n}}
		}
		hb1 := proto.Heartbeat{Seq: 1, At: now, Identity: id, AppVersion: "1.1.0", Payments: pay(1), ClockOffsetKnown: true, ClockOffsetMs: 90_000,
			Scanner: proto.ScannerState{State: proto.StateOK, USBSerial: "NL1", Model: "FM30"}}
		hb2 := hb1
		hb2.Seq, hb2.Payments, hb2.ClockOffsetMs, hb2.UnresolvedOrders = 2, pay(2), 100, 3 // clock fixed: the alert clears
		out := st.HeartbeatBatch(ctx, []store.HeartbeatItem{
			{UID: uid, KeyID: key, TsMs: 10, HB: hb1, Now: now},
			{UID: uid, KeyID: key, TsMs: 11, HB: hb2, Now: now},
			{UID: uid, KeyID: key, TsMs: 12, HB: hb2, Now: now},   // re-sent copy: acked, not counted
			{UID: uid, KeyID: key, TsMs: 12, HB: hb2, Now: now},   // same timestamp: a replay
			{UID: "t-nobody", TsMs: 13, HB: hb2, Now: now},        // unknown
			{UID: other, KeyID: key, TsMs: 14, HB: hb2, Now: now}, // T1's key for T2
			{UID: other, KeyID: "", TsMs: 15, HB: proto.Heartbeat{Seq: 9, At: now, Identity: proto.Identity{DeviceID: "pc-B"}, Payments: pay(5)}, Now: now},
		})
		wantErr := []error{nil, nil, nil, store.ErrReplay, store.ErrNotFound, store.ErrNotFound, nil}
		wantCounted := []bool{true, true, false, false, false, false, true}
		for i, o := range out {
			if !errors.Is(o.Err, wantErr[i]) || (wantErr[i] == nil) != (o.Err == nil) || o.Res.Counted != wantCounted[i] {
				t.Errorf("item %d: %+v, want err %v counted %v", i, o, wantErr[i], wantCounted[i])
			}
		}
		tm, err := st.GetTerminal(ctx, uid, now)
		if err != nil {
			t.Fatal(err)
		}
		if tm.UnresolvedOrders != 3 || tm.Heartbeat().Seq != 2 || slices.Contains(tm.Alerts, store.AlertClockOffset) {
			t.Errorf("final state: unresolved %d seq %d alerts %v", tm.UnresolvedOrders, tm.Heartbeat().Seq, tm.Alerts)
		}
		// The replay check holds after the batch: 12 was the last.
		if _, err := st.Heartbeat(ctx, uid, 12, hb2, now, ""); !errors.Is(err, store.ErrReplay) {
			t.Errorf("after the batch, timestamp 12 again: %v", err)
		}
		hs, _ := st.Hourly(ctx, uid, now.Add(-time.Hour))
		if len(hs) != 1 || hs[0].Reports != 2 || hs[0].PaidCount != 3 || hs[0].PaidFen != 300 {
			t.Errorf("roll-up %+v", hs)
		}
		if hs, _ := st.Hourly(ctx, other, now.Add(-time.Hour)); len(hs) != 1 || hs[0].Reports != 1 || hs[0].PaidCount != 5 {
			t.Errorf("other terminal's roll-up %+v", hs)
		}
		al, _ := st.ListAlerts(ctx, uid, false, 10)
		if len(al) != 1 || al[0].Kind != store.AlertClockOffset || al[0].ClearedAt == nil {
			t.Errorf("clock alert raised and cleared within the batch: %+v", al)
		}
		if ds, _ := st.ListDevices(ctx, 10); len(ds) != 1 || ds[0].Serial != "NL1" || ds[0].UID != uid {
			t.Errorf("device stock %+v", ds)
		}
	})
}
