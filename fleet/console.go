package fleet

import (
	"crypto/ed25519"
	"crypto/subtle"
	"embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scanbox/scanbox/fleet/proto"
	"github.com/scanbox/scanbox/fleet/store"
)

//go:embed templates/*.html
var templateFS embed.FS

const (
	sessionCookie = "scanbox_fleet_session"
	langCookie    = "scanbox_fleet_lang"
	// Login rate limit, counted in the database: per user name and per
	// client address.
	loginWindow      = 15 * time.Minute
	loginMaxPerUser  = 5
	loginMaxPerAddr  = 20
	consolePageLimit = 50
)

type session struct {
	id string
	store.Session
}

type templates struct {
	pages map[string]*template.Template
}

var templateFuncs = template.FuncMap{
	"yuan": formatFen,
	"ts": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.Local().Format("2006-01-02 15:04:05")
	},
	"tsp": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.Local().Format("2006-01-02 15:04:05")
	},
	"join": strings.Join,
}

func loadTemplates() *templates {
	t := &templates{pages: map[string]*template.Template{}}
	entries, err := templateFS.ReadDir("templates")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		name := e.Name()
		if name == "layout.html" {
			continue
		}
		t.pages[strings.TrimSuffix(name, ".html")] = template.Must(template.New("layout.html").Funcs(templateFuncs).
			ParseFS(templateFS, "templates/layout.html", "templates/"+name))
	}
	return t
}

// formatFen formats fen as yuan with two decimals ("1234.56"). The fleet
// cannot import the plug-in's money package; this is display only.
func formatFen(f int64) string {
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	return fmt.Sprintf("%s%d.%02d", sign, f/100, f%100)
}

// pageData is what every page template gets.
type pageData struct {
	Lang  string
	User  *store.User
	CSRF  string
	Nav   string
	Path  string
	Flash string
	Error string
	D     any
}

// T translates a message key into the page's language.
func (p pageData) T(key string) string { return tr(p.Lang, key) }

// Alert translates an alert kind.
func (p pageData) Alert(kind string) string { return tr(p.Lang, "alert_"+kind) }

// AlertDetail renders a stored alert detail (store.AlertDetail: a message
// code and arguments) in the page's language. A detail stored before
// details were coded is shown as it was stored.
func (p pageData) AlertDetail(detail string) string { return alertDetail(p.Lang, detail) }

func alertDetail(lang, detail string) string {
	code, args, ok := store.ParseAlertDetail(detail)
	if !ok {
		return detail
	}
	key := "detail_" + code
	if _, known := messages[key]; !known {
		return detail
	}
	msg := tr(lang, key)
	for k, v := range args {
		msg = strings.ReplaceAll(msg, "{"+k+"}", v)
	}
	return msg
}

// Can says whether the user has at least role r (to hide buttons; the
// server checks again on every action).
func (p pageData) Can(r string) bool { return p.User != nil && p.User.Role.AtLeast(store.Role(r)) }

func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, page string, pd pageData) {
	t, ok := s.tmpl.pages[page]
	if !ok {
		http.Error(w, "no template "+page, http.StatusInternalServerError)
		return
	}
	if pd.Lang == "" {
		pd.Lang = requestLang(r, nil)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(code)
	if err := t.Execute(w, pd); err != nil {
		s.log.Error("render", "page", page, "err", err)
	}
}

func requestLang(r *http.Request, se *session) string {
	if l := r.URL.Query().Get("lang"); l == "en" || l == "zh" {
		return l
	}
	if se != nil && (se.Lang == "en" || se.Lang == "zh") {
		return se.Lang
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == "en" || c.Value == "zh") {
		return c.Value
	}
	return "zh"
}

func (s *Server) secure(r *http.Request) bool {
	return s.opt.SecureCookies || r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// staffHandler is a console handler with its session.
type staffHandler func(w http.ResponseWriter, r *http.Request, se *session, pd pageData)

// page wraps a console handler: a live session is required (else the
// login page), the role must be at least min, and every POST must carry
// the session's CSRF token. Refusals are audited.
func (s *Server) page(min store.Role, nav string, h staffHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		var se *session
		if err == nil {
			if ss, err := s.st.SessionByID(r.Context(), c.Value); err == nil {
				se = &session{id: c.Value, Session: ss}
			}
		}
		if se == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.render(w, r, http.StatusUnauthorized, "error", pageData{Error: tr(requestLang(r, nil), "csrf_failed")})
			return
		}
		pd := pageData{Lang: requestLang(r, se), User: &se.User, CSRF: se.CSRF, Nav: nav, Path: r.URL.RequestURI()}
		if r.Method == http.MethodPost {
			if err := r.ParseMultipartForm(64 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
				s.render(w, r, http.StatusBadRequest, "error", withError(pd, "server_error"))
				return
			}
			tok := r.PostFormValue("csrf")
			if tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(se.CSRF)) != 1 {
				s.st.Audit(r.Context(), se.User.Name, "refused_csrf", r.URL.Path, "")
				s.render(w, r, http.StatusForbidden, "error", withError(pd, "csrf_failed"))
				return
			}
		}
		if !se.User.Role.AtLeast(min) {
			s.st.Audit(r.Context(), se.User.Name, "refused_role", r.Method+" "+r.URL.Path, "role "+se.User.Role.String()+", needs "+min.String())
			s.render(w, r, http.StatusForbidden, "error", withError(pd, "forbidden"))
			return
		}
		h(w, r, se, pd)
	}
}

func withError(pd pageData, key string) pageData {
	pd.Error = pd.T(key)
	return pd
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, pd pageData, err error) {
	if errors.Is(err, store.ErrNotFound) {
		s.render(w, r, http.StatusNotFound, "error", withError(pd, "not_found"))
		return
	}
	s.log.Error("console", "path", r.URL.Path, "err", err)
	s.render(w, r, http.StatusInternalServerError, "error", withError(pd, "server_error"))
}

func (s *Server) consoleRoutes() {
	m := s.mux
	m.HandleFunc("GET /login", s.handleLoginPage)
	m.HandleFunc("POST /login", s.handleLogin)
	m.HandleFunc("POST /logout", s.page(store.RoleViewer, "", s.handleLogout))
	m.HandleFunc("POST /lang", s.page(store.RoleViewer, "", s.handleLang))
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/terminals", http.StatusSeeOther) })
	m.HandleFunc("GET /terminals", s.page(store.RoleViewer, "terminals", s.handleTerminals))
	m.HandleFunc("GET /terminals/{uid}", s.page(store.RoleViewer, "terminals", s.handleTerminal))
	m.HandleFunc("POST /terminals/{uid}/disable", s.page(store.RoleOperator, "terminals", s.handleDisable))
	m.HandleFunc("POST /terminals/{uid}/logs", s.page(store.RoleOperator, "terminals", s.handleRequestLogs))
	m.HandleFunc("POST /terminals/{uid}/config", s.page(store.RoleOperator, "terminals", s.handleTerminalConfig))
	m.HandleFunc("POST /terminals/{uid}/group", s.page(store.RoleOperator, "terminals", s.handleGroup))
	m.HandleFunc("POST /terminals/{uid}/clear-alert", s.page(store.RoleOperator, "terminals", s.handleClearAlert))
	m.HandleFunc("POST /terminals/{uid}/pin", s.page(store.RoleAdmin, "terminals", s.handlePin))
	m.HandleFunc("GET /logs/{id}", s.page(store.RoleOperator, "terminals", s.handleLogDownload))
	m.HandleFunc("GET /alerts", s.page(store.RoleViewer, "alerts", s.handleAlerts))
	m.HandleFunc("GET /monitoring", s.page(store.RoleViewer, "monitoring", s.handleMonitoring))
	m.HandleFunc("GET /config", s.page(store.RoleViewer, "config", s.handleConfigPage))
	m.HandleFunc("POST /config", s.page(store.RoleOperator, "config", s.handleConfigSave))
	m.HandleFunc("GET /report.csv", s.page(store.RoleViewer, "", s.handleReportCSV))
	m.HandleFunc("GET /install", s.page(store.RoleViewer, "install", s.handleInstall))
	m.HandleFunc("POST /install", s.page(store.RoleAdmin, "install", s.handleInstall))
	m.HandleFunc("GET /devices", s.page(store.RoleViewer, "devices", s.handleDevices))
	m.HandleFunc("GET /releases", s.page(store.RoleViewer, "releases", s.handleReleases))
	m.HandleFunc("POST /releases", s.page(store.RoleAdmin, "releases", s.handlePublish))
	m.HandleFunc("POST /releases/{version}/rollout", s.page(store.RoleAdmin, "releases", s.handleRollout))
	m.HandleFunc("GET /audit", s.page(store.RoleAdmin, "audit", s.handleAudit))
	m.HandleFunc("GET /static/style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		w.Header().Set("Cache-Control", "max-age=3600")
		io.WriteString(w, styleCSS)
	})
}

func safeNext(n string) string {
	if n == "" || !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.Contains(n, "\\") {
		return "/terminals"
	}
	return n
}

type loginData struct{ Next string }

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	lang := requestLang(r, nil)
	if l := r.URL.Query().Get("lang"); l != "" {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode, MaxAge: 365 * 86400})
	}
	s.render(w, r, http.StatusOK, "login", pageData{Lang: lang, D: loginData{Next: safeNext(r.URL.Query().Get("next"))}})
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := requestLang(r, nil)
	if l := r.PostFormValue("lang"); l == "en" || l == "zh" {
		lang = l
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	pw := r.PostFormValue("password")
	pd := pageData{Lang: lang, D: loginData{Next: safeNext(r.PostFormValue("next"))}}
	// The login form has no session yet; SameSite=Lax cookies and the
	// Origin check below stand in for a CSRF token (login CSRF).
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			s.render(w, r, http.StatusForbidden, "login", withError(pd, "csrf_failed"))
			return
		}
	}
	since := s.now().Add(-loginWindow)
	nu, err1 := s.st.LoginFailures(ctx, "user:"+name, since)
	na, err2 := s.st.LoginFailures(ctx, "addr:"+clientAddr(r), since)
	if err1 != nil || err2 != nil {
		s.render(w, r, http.StatusInternalServerError, "login", withError(pd, "server_error"))
		return
	}
	if nu >= loginMaxPerUser || na >= loginMaxPerAddr {
		s.st.Audit(ctx, name, "login_rate_limited", clientAddr(r), "")
		s.render(w, r, http.StatusTooManyRequests, "login", withError(pd, "login_limited"))
		return
	}
	u, err := s.st.UserByName(ctx, name)
	if err == nil {
		err = CheckPassword(u.PWHash, pw)
	} else {
		// Same work for an unknown name, so timing does not tell names.
		CheckPassword(dummyHash, pw)
	}
	if err != nil {
		s.st.AddLoginFailure(ctx, "user:"+name)
		s.st.AddLoginFailure(ctx, "addr:"+clientAddr(r))
		s.st.Audit(ctx, name, "login_failed", clientAddr(r), "")
		s.render(w, r, http.StatusUnauthorized, "login", withError(pd, "login_failed"))
		return
	}
	s.st.ClearLoginFailures(ctx, "user:"+name)
	id, err := s.st.CreateSession(ctx, u.ID, lang)
	if err != nil {
		s.render(w, r, http.StatusInternalServerError, "login", withError(pd, "server_error"))
		return
	}
	s.st.Audit(ctx, u.Name, "login", clientAddr(r), "")
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: s.secure(r),
		SameSite: http.SameSiteLaxMode, MaxAge: int(store.SessionTTL / time.Second)})
	http.Redirect(w, r, pd.D.(loginData).Next, http.StatusSeeOther)
}

var dummyHash, _ = HashPassword("not-a-real-password")

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	s.st.DeleteSession(r.Context(), se.id)
	s.st.Audit(r.Context(), se.User.Name, "logout", "", "")
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) handleLang(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	lang := "zh"
	if r.PostFormValue("lang") == "en" {
		lang = "en"
	}
	s.st.SetSessionLang(r.Context(), se.id, lang)
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode, MaxAge: 365 * 86400})
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

type terminalsData struct {
	Filter store.Filter
	Page   store.Page
	Query  string // current filter as a query string (without cursor)
}

func (s *Server) handleTerminals(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	f := store.Filter{Q: strings.TrimSpace(r.URL.Query().Get("q")), State: r.URL.Query().Get("state"), After: r.URL.Query().Get("after"), Limit: consolePageLimit}
	p, err := s.st.ListTerminals(r.Context(), f, s.now())
	if err != nil {
		s.fail(w, r, pd, err)
		return
	}
	q := url.Values{}
	if f.Q != "" {
		q.Set("q", f.Q)
	}
	if f.State != "" {
		q.Set("state", f.State)
	}
	pd.D = terminalsData{Filter: f, Page: p, Query: q.Encode()}
	s.render(w, r, http.StatusOK, "terminals", pd)
}

type check struct {
	Key string
	OK  bool
}

type terminalData struct {
	T         store.Terminal
	HB        proto.Heartbeat
	Checks    []check
	Alerts    []store.Alert
	Hours     []store.Hour
	Logs      []store.LogRequest
	Config    proto.Config
	Own       *store.ConfigEntry
	Releases  []store.Release
	Paid24    int64
	PaidFen24 int64
	Failed24  int64
	Unknown24 int64
	Chart     template.HTML
}

func (s *Server) handleTerminal(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	ctx := r.Context()
	now := s.now()
	t, err := s.st.GetTerminal(ctx, r.PathValue("uid"), now)
	if err != nil {
		s.fail(w, r, pd, err)
		return
	}
	d := terminalData{T: t, HB: t.Heartbeat()}
	if d.Alerts, err = s.st.ListAlerts(ctx, t.UID, false, 50); err != nil {
		s.fail(w, r, pd, err)
		return
	}
	if d.Hours, err = s.st.Hourly(ctx, t.UID, now.Add(-24*time.Hour)); err != nil {
		s.fail(w, r, pd, err)
		return
	}
	if d.Logs, err = s.st.ListLogRequests(ctx, t.UID); err != nil {
		s.fail(w, r, pd, err)
		return
	}
	if d.Config, err = s.st.EffectiveConfig(ctx, t.UID, t.Group); err != nil {
		s.fail(w, r, pd, err)
		return
	}
	cfgs, err := s.st.ListConfigs(ctx)
	if err != nil {
		s.fail(w, r, pd, err)
		return
	}
	for i := range cfgs {
		if cfgs[i].Scope == store.ScopeTerminal && cfgs[i].Key == t.UID {
			d.Own = &cfgs[i]
		}
	}
	if d.Releases, err = s.st.ListReleases(ctx); err != nil {
		s.fail(w, r, pd, err)
		return
	}
	for _, h := range d.Hours {
		d.Paid24 += h.PaidCount
		d.PaidFen24 += h.PaidFen
		d.Failed24 += h.FailedCount
		d.Unknown24 += h.UnknownCount
	}
	d.Chart = takingsChart(d.Hours, now, 24, pd.T("takings_chart"))
	has := map[string]bool{}
	for _, a := range t.Alerts {
		has[a] = true
	}
	hb := d.HB
	d.Checks = []check{
		{"check_online", t.Online},
		{"check_device", !has[store.AlertDeviceChanged]},
		{"check_clock", hb.ClockOffsetKnown && !has[store.AlertClockOffset]},
		{"check_disk", hb.DiskFreeBytes >= 1<<30},
		{"check_unresolved", !has[store.AlertUnresolvedOld]},
		{"check_amount", len(hb.AmountSources) > 0 && !has[store.AlertAmountSource]},
		{"check_scanner", hb.Scanner.State == proto.StateOK},
		{"check_ocr", hb.OCR.State == proto.StateOK || hb.OCR.State == proto.StateOff},
		{"check_voice", hb.Voice.State == proto.StateOK || hb.Voice.State == proto.StateOff},
		{"check_version", t.AppVersion != "" && !has[store.AlertVersionBehind]},
		{"check_config", d.Config.Version == 0 || t.ConfigApplied >= d.Config.Version},
	}
	pd.D = d
	if f := r.URL.Query().Get("flash"); f != "" {
		pd.Flash = pd.T(f)
	}
	s.render(w, r, http.StatusOK, "terminal", pd)
}

func (s *Server) backToTerminal(w http.ResponseWriter, r *http.Request, uid, flash string) {
	http.Redirect(w, r, "/terminals/"+url.PathEscape(uid)+"?flash="+flash, http.StatusSeeOther)
}

func (s *Server) handleDisable(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	uid := r.PathValue("uid")
	dis := r.PostFormValue("disabled") != "0"
	if err := s.st.SetDisabled(r.Context(), uid, dis); err != nil {
		s.fail(w, r, pd, err)
		return
	}
	action := "terminal_disable"
	if !dis {
		action = "terminal_enable"
	}
	s.st.Audit(r.Context(), se.User.Name, action, uid, "")
	s.backToTerminal(w, r, uid, "saved")
}

func (s *Server) handleRequestLogs(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	uid := r.PathValue("uid")
	if _, err := s.st.GetTerminal(r.Context(), uid, s.now()); err != nil {
		s.fail(w, r, pd, err)
		return
	}
	id, err := s.st.RequestLogs(r.Context(), uid, se.User.Name)
	if err != nil {
		s.fail(w, r, pd, err)
		return
	}
	s.st.Audit(r.Context(), se.User.Name, "logs_request", uid, id)
	s.backToTerminal(w, r, uid, "logs_requested")
}

func (s *Server) handleLogDownload(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	id := r.PathValue("id")
	uid, data, err := s.st.LogBundle(r.Context(), id)
	if err != nil {
		s.fail(w, r, pd, err)
		return
	}
	s.st.Audit(r.Context(), se.User.Name, "logs_download", uid, id)
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="scanbox-support-`+uid+`-`+id+`.zip"`)
	w.Write(data)
}

// settingsFromForm reads the configuration form; an empty field keeps
// the terminal's value.
func settingsFromForm(r *http.Request, pd pageData) (proto.Settings, error) {
	var st proto.Settings
	label := map[string]string{"poll_interval_ms": "poll_interval", "poll_deadline_sec": "poll_deadline", "heartbeat_interval_sec": "hb_interval", "voice_volume": "voice_volume"}
	num := func(name string, lo, hi int) (*int, error) {
		v := strings.TrimSpace(r.PostFormValue(name))
		if v == "" {
			return nil, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			// One sentence in the console's language.
			msg := strings.NewReplacer("{field}", pd.T(label[name]), "{lo}", strconv.Itoa(lo), "{hi}", strconv.Itoa(hi)).Replace(pd.T("bad_number"))
			return nil, errors.New(msg)
		}
		return &n, nil
	}
	boolean := func(name string) *bool {
		switch r.PostFormValue(name) {
		case "on":
			b := true
			return &b
		case "off":
			b := false
			return &b
		}
		return nil
	}
	var err error
	if st.PollIntervalMs, err = num("poll_interval_ms", 200, 60000); err != nil {
		return st, err
	}
	if st.PollDeadlineSec, err = num("poll_deadline_sec", 10, 600); err != nil {
		return st, err
	}
	if st.HeartbeatIntervalSec, err = num("heartbeat_interval_sec", 10, 3600); err != nil {
		return st, err
	}
	if st.VoiceVolume, err = num("voice_volume", 0, 100); err != nil {
		return st, err
	}
	st.VoiceEnabled = boolean("voice_enabled")
	st.POSAPIEnabled = boolean("pos_api_enabled")
	return st, nil
}

func (s *Server) handleTerminalConfig(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	uid := r.PathValue("uid")
	if _, err := s.st.GetTerminal(r.Context(), uid, s.now()); err != nil {
		s.fail(w, r, pd, err)
		return
	}
	st, err := settingsFromForm(r, pd)
	if err != nil {
		pd.Error = err.Error()
		s.render(w, r, http.StatusBadRequest, "error", pd)
		return
	}
	if !s.saveScope(w, r, se, pd, store.ScopeTerminal, uid, st) {
		return
	}
	s.backToTerminal(w, r, uid, "saved")
}

func (s *Server) handleGroup(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	uid := r.PathValue("uid")
	g := strings.TrimSpace(r.PostFormValue("group"))
	if err := s.st.SetGroup(r.Context(), uid, g); err != nil {
		s.fail(w, r, pd, err)
		return
	}
	s.st.Audit(r.Context(), se.User.Name, "group_set", uid, g)
	s.backToTerminal(w, r, uid, "saved")
}

func (s *Server) handleClearAlert(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	uid := r.PathValue("uid")
	kind := r.PostFormValue("kind")
	if err := s.st.ClearAlert(r.Context(), uid, kind, s.now()); err != nil {
		s.fail(w, r, pd, err)
		return
	}
	s.st.Audit(r.Context(), se.User.Name, "alert_clear", uid, kind)
	s.backToTerminal(w, r, uid, "saved")
}

func (s *Server) handlePin(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	uid := r.PathValue("uid")
	v := strings.TrimSpace(r.PostFormValue("version"))
	if err := s.st.SetPin(r.Context(), uid, v); err != nil {
		s.fail(w, r, pd, err)
		return
	}
	s.st.Audit(r.Context(), se.User.Name, "release_pin", uid, v)
	s.backToTerminal(w, r, uid, "saved")
}

type alertsData struct {
	Alerts     []store.Alert
	Offline    int // offline while their shop is open: the alert
	OfflineAll int // offline at all (also outside opening hours)
}

func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	al, err := s.st.ListAlerts(r.Context(), "", true, 500)
	if err != nil {
		s.fail(w, r, pd, err)
		return
	}
	all, open, err := s.st.CountOffline(r.Context(), s.now())
	if err != nil {
		s.fail(w, r, pd, err)
		return
	}
	pd.D = alertsData{Alerts: al, Offline: open, OfflineAll: all}
	s.render(w, r, http.StatusOK, "alerts", pd)
}

type monitoringData struct {
	Takings template.HTML
	Rates   template.HTML
	Worst   []store.Worst
	Hours   []store.Hour
}

func (s *Server) handleMonitoring(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	now := s.now()
	hours, err := s.st.Hourly(r.Context(), "", now.Add(-47*time.Hour))
	if err != nil {
		s.fail(w, r, pd, err)
		return
	}
	worst, err := s.st.WorstTerminals(r.Context(), now.Add(-24*time.Hour), 20)
	if err != nil {
		s.fail(w, r, pd, err)
		return
	}
	pd.D = monitoringData{
		Takings: takingsChart(hours, now, 48, pd.T("takings_chart")),
		Rates:   ratesChart(hours, now, 48, pd.T("rates_chart"), pd.T("failure_rate"), pd.T("unknown_rate")),
		Worst:   worst, Hours: hours,
	}
	s.render(w, r, http.StatusOK, "monitoring", pd)
}

type configData struct {
	Hours   []store.HoursEntry
	Configs []store.ConfigEntry
}

func (s *Server) handleConfigPage(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	c, err := s.st.ListConfigs(r.Context())
	if err != nil {
		s.fail(w, r, pd, err)
		return
	}
	h, err := s.st.ListOpeningHours(r.Context())
	if err != nil {
		s.fail(w, r, pd, err)
		return
	}
	pd.D = configData{Configs: c, Hours: h}
	if f := r.URL.Query().Get("flash"); f != "" {
		pd.Flash = pd.T(f)
	}
	s.render(w, r, http.StatusOK, "config", pd)
}

// saveScope stores a configuration form for a scope: the agent settings
// (a new configuration version, unless the form only set opening hours)
// and the opening hours ("" keeps them, "-" removes the scope's own so
// the wider scope's apply), each with its audit entry.
func (s *Server) saveScope(w http.ResponseWriter, r *http.Request, se *session, pd pageData, scope, key string, st proto.Settings) bool {
	ctx := r.Context()
	hv := strings.TrimSpace(r.PostFormValue("opening_hours"))
	var hours *store.OpeningHours
	if hv != "" && hv != "-" {
		h, err := store.ParseOpeningHours(hv)
		if err != nil {
			pd.Error = pd.T("bad_hours")
			s.render(w, r, http.StatusBadRequest, "error", pd)
			return false
		}
		hours = &h
	}
	js, _ := json.Marshal(st)
	if hv == "" || string(js) != "{}" {
		ver, err := s.st.SetConfig(ctx, scope, key, st, se.User.Name)
		if err != nil {
			s.fail(w, r, pd, err)
			return false
		}
		s.invalidate()
		s.st.Audit(ctx, se.User.Name, "config_set", strings.TrimSpace(scope+" "+key), fmt.Sprintf("version %d %s", ver, js))
	}
	if hv != "" {
		if err := s.st.SetOpeningHours(ctx, scope, key, hours, se.User.Name); err != nil {
			s.fail(w, r, pd, err)
			return false
		}
		detail := "inherit"
		if hours != nil {
			detail = hours.String()
		}
		s.st.Audit(ctx, se.User.Name, "opening_hours_set", strings.TrimSpace(scope+" "+key), detail)
	}
	return true
}

func (s *Server) handleConfigSave(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	scope := r.PostFormValue("scope")
	key := strings.TrimSpace(r.PostFormValue("group"))
	if scope != store.ScopeAll && scope != store.ScopeGroup || scope == store.ScopeGroup && key == "" {
		pd.Error = pd.T("bad_scope")
		s.render(w, r, http.StatusBadRequest, "error", pd)
		return
	}
	st, err := settingsFromForm(r, pd)
	if err != nil {
		pd.Error = err.Error()
		s.render(w, r, http.StatusBadRequest, "error", pd)
		return
	}
	if !s.saveScope(w, r, se, pd, scope, key, st) {
		return
	}
	http.Redirect(w, r, "/config?flash=saved", http.StatusSeeOther)
}

func (s *Server) handleReportCSV(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	s.st.Audit(r.Context(), se.User.Name, "report_export", "", "")
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="scanbox-inspection-`+s.now().Format("20060102-1504")+`.csv"`)
	io.WriteString(w, "\ufeff") // Excel reads UTF-8 Chinese only with a BOM
	cw := csv.NewWriter(w)
	cw.Write([]string{"mch_id", "terminal_id", "terminal_sn", "device_id", "app_version", "os", "last_seen", "online", "disabled",
		"unresolved_orders", "clock_offset_ms", "disk_free_bytes", "scanner", "scanner_serial", "ocr", "voice", "alerts"})
	err := s.st.EachTerminal(r.Context(), s.now(), true, func(t store.Terminal) error {
		hb := t.Heartbeat()
		ls := ""
		if !t.LastSeen.IsZero() {
			ls = t.LastSeen.Format(time.RFC3339)
		}
		off := ""
		if hb.ClockOffsetKnown {
			off = strconv.FormatInt(hb.ClockOffsetMs, 10)
		}
		return cw.Write([]string{csvSafe(t.MchID), csvSafe(t.TerminalID), csvSafe(t.TerminalSN), csvSafe(t.DeviceID), csvSafe(t.AppVersion), csvSafe(t.OS), ls,
			strconv.FormatBool(t.Online), strconv.FormatBool(t.Disabled), strconv.Itoa(t.UnresolvedOrders), off,
			strconv.FormatInt(hb.DiskFreeBytes, 10), hb.Scanner.State, csvSafe(hb.Scanner.USBSerial), hb.OCR.State, hb.Voice.State, strings.Join(t.Alerts, " ")})
	})
	cw.Flush()
	if err != nil {
		s.log.Error("report", "err", err)
	}
}

// csvSafe defuses spreadsheet formulas in terminal-supplied strings.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

type installData struct {
	FleetURL string
	Codes    []string
	MchID    string
	TermID   string
	Msiexec  string
}

func (s *Server) handleInstall(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	d := installData{FleetURL: "https://" + r.Host}
	if !s.secure(r) {
		d.FleetURL = "http://" + r.Host
	}
	d.MchID = strings.TrimSpace(r.FormValue("mch_id"))
	d.TermID = strings.TrimSpace(r.FormValue("terminal_id"))
	if r.Method == http.MethodPost {
		codes, err := s.st.CreateEnrollmentCodes(r.Context(), 1, se.User.Name)
		if err != nil {
			s.fail(w, r, pd, err)
			return
		}
		s.st.Audit(r.Context(), se.User.Name, "enrollment_codes", d.MchID+"/"+d.TermID, "1 code (install sheet)")
		d.Codes = codes
	}
	code := "CODE"
	if len(d.Codes) > 0 {
		code = d.Codes[0]
	}
	d.Msiexec = `msiexec /i scanbox.msi /qn FLEET_URL="` + d.FleetURL + `" FLEET_CODE="` + code + `"`
	pd.D = d
	s.render(w, r, http.StatusOK, "install", pd)
}

func (s *Server) handleDevices(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	d, err := s.st.ListDevices(r.Context(), 1000)
	if err != nil {
		s.fail(w, r, pd, err)
		return
	}
	pd.D = d
	s.render(w, r, http.StatusOK, "devices", pd)
}

func (s *Server) handleReleases(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	rel, err := s.st.ListReleases(r.Context())
	if err != nil {
		s.fail(w, r, pd, err)
		return
	}
	pd.D = rel
	if f := r.URL.Query().Get("flash"); f != "" {
		pd.Flash = pd.T(f)
	}
	s.render(w, r, http.StatusOK, "releases", pd)
}

func readUpload(r *http.Request, field string, max int64) ([]byte, error) {
	f, _, err := r.FormFile(field)
	if err != nil {
		return nil, fmt.Errorf("%s missing", field)
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max))
}

func (s *Server) handlePublish(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	man, err := readUpload(r, "manifest", 1<<20)
	var msi []byte
	if err == nil {
		msi, err = readUpload(r, "msi", 1<<30)
	}
	cohort, cerr := strconv.Atoi(r.PostFormValue("cohort"))
	if err == nil && (cerr != nil || cohort < 0 || cohort > 100) {
		err = fmt.Errorf("cohort must be 0 to 100")
	}
	var sm proto.SignedManifest
	if err == nil {
		sm, err = CheckRelease(man, msi, s.opt.ReleaseKeys, s.now())
	}
	if err == nil {
		err = s.st.PublishRelease(r.Context(), sm, msi, cohort, se.User.Name)
	}
	if err != nil {
		s.st.Audit(r.Context(), se.User.Name, "release_publish_refused", "", err.Error())
		pd.Error = pd.T("bad_release") + err.Error()
		s.render(w, r, http.StatusBadRequest, "error", pd)
		return
	}
	s.invalidate()
	s.st.Audit(r.Context(), se.User.Name, "release_publish", sm.Manifest.Version, fmt.Sprintf("cohort %d%%", cohort))
	http.Redirect(w, r, "/releases?flash=published", http.StatusSeeOther)
}

// CheckRelease is what the server checks before it distributes a release:
// a well-formed signed manifest, not expired, whose MSI matches, and, when
// the server is configured with the release officer's public key(s), a
// signature by one of them. Trust is not the server's to give: each agent
// verifies with the key built into the plug-in, so a manifest the server
// wrongly accepted would still be refused by every terminal.
func CheckRelease(manifest, msi []byte, trusted []ed25519.PublicKey, now time.Time) (proto.SignedManifest, error) {
	sm, err := proto.ParseSignedManifest(manifest)
	if err != nil {
		return sm, err
	}
	if len(sm.Signature) != ed25519.SignatureSize {
		return sm, proto.ErrManifestSignature
	}
	if len(trusted) > 0 {
		if _, err := proto.VerifyManifest(sm, trusted, now); err != nil {
			return sm, err
		}
	} else if !now.Before(sm.Manifest.Expires) {
		return sm, proto.ErrManifestExpired
	}
	if err := proto.VerifyMSI(sm.Manifest, strings.NewReader(string(msi))); err != nil {
		return sm, err
	}
	return sm, nil
}

func (s *Server) handleRollout(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	v := r.PathValue("version")
	rels, err := s.st.ListReleases(r.Context())
	if err != nil {
		s.fail(w, r, pd, err)
		return
	}
	var cur *store.Release
	for i := range rels {
		if rels[i].Version == v {
			cur = &rels[i]
		}
	}
	if cur == nil {
		s.fail(w, r, pd, store.ErrNotFound)
		return
	}
	cohort, paused := cur.Cohort, cur.Paused
	if c := r.PostFormValue("cohort"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 || n > 100 {
			pd.Error = "cohort must be 0 to 100"
			s.render(w, r, http.StatusBadRequest, "error", pd)
			return
		}
		cohort = n
	}
	switch r.PostFormValue("op") {
	case "pause":
		paused = true
	case "resume":
		paused = false
	}
	if err := s.st.SetRollout(r.Context(), v, cohort, paused); err != nil {
		s.fail(w, r, pd, err)
		return
	}
	s.invalidate()
	s.st.Audit(r.Context(), se.User.Name, "release_rollout", v, fmt.Sprintf("cohort %d%% paused %v", cohort, paused))
	http.Redirect(w, r, "/releases?flash=saved", http.StatusSeeOther)
}

func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request, se *session, pd pageData) {
	a, err := s.st.ListAudit(r.Context(), 500)
	if err != nil {
		s.fail(w, r, pd, err)
		return
	}
	pd.D = a
	s.render(w, r, http.StatusOK, "audit", pd)
}
