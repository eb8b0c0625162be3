// Package proto holds the wire types shared by the fleet server (fleet/) and
// the plug-in's agent (agent/): enrollment, the inspection heartbeat, remote
// configuration, log-bundle requests, update offers, the signed release
// manifest and the request-signing scheme agents authenticate with.
//
// It is the only code both programs import. It must import nothing but the
// standard library: never a plug-in package, never a server package. Money is
// carried as int64 fen in fields whose name ends in "Fen" for that reason.
// Nothing here may carry a key, a PIN or a full payment code.
package proto

import "time"

// API paths. Every agent path except Enroll is authenticated with the
// terminal's key (see auth.go); Enroll proves possession of the new key.
const (
	PathEnroll    = "/api/v1/agent/enroll"
	PathHeartbeat = "/api/v1/agent/heartbeat"
	// PathLogUpload + "/" + LogRequest.ID receives the redacted support
	// bundle (a zip) as the request body.
	PathLogUpload = "/api/v1/agent/logs"
	// PathRelease + "/" + version + "/manifest" and ".../msi" serve a
	// published release; both are signed agent requests.
	PathRelease = "/api/v1/agent/releases"
)

// DefaultHeartbeatInterval is used until the server says otherwise.
const DefaultHeartbeatInterval = 60 * time.Second

// Identity is what the bank knows a terminal by. MchID/TerminalID come from
// activation and are never changed by the fleet; DeviceID is a stable
// fingerprint of the PC (e.g. the Windows MachineGuid hashed) so that a
// copied installation shows up as a second device for the same terminal.
type Identity struct {
	MchID      string `json:"mch_id"`
	TerminalID string `json:"terminal_id"`
	TerminalSN string `json:"terminal_sn"`
	DeviceID   string `json:"device_id"`
}

// EnrollRequest is POSTed to PathEnroll with a single-use enrollment code.
// The request carries the auth headers signed by the private half of
// PublicKey (proof of possession); the KeyID header must equal
// KeyID(PublicKey).
type EnrollRequest struct {
	Code       string   `json:"code"`
	PublicKey  []byte   `json:"public_key"` // ed25519, 32 bytes (base64 in JSON)
	Identity   Identity `json:"identity"`
	AppVersion string   `json:"app_version"`
	OS         string   `json:"os"`
	Hostname   string   `json:"hostname,omitempty"`
}

// EnrollResponse confirms the enrollment. TerminalUID is the fleet's own
// handle for this terminal (stable across re-enrollment of the same
// mch_id/terminal_id); KeyID is what the agent sends in HeaderKeyID.
type EnrollResponse struct {
	TerminalUID          string    `json:"terminal_uid"`
	KeyID                string    `json:"key_id"`
	HeartbeatIntervalSec int       `json:"heartbeat_interval_sec"`
	ServerTime           time.Time `json:"server_time"`
}

// Component states in a heartbeat.
const (
	StateOK      = "ok"
	StateFailing = "failing"
	StateOff     = "off"     // disabled by configuration
	StateUnknown = "unknown" // not measured yet
)

// Payment outcomes counted in a heartbeat.
const (
	OutcomePaid    = "paid"
	OutcomeFailed  = "failed"
	OutcomeUnknown = "unknown" // ended without a known result (resolved later)
	OutcomeRefund  = "refunded"
)

// Heartbeat is the inspection report (巡检) an agent POSTs to PathHeartbeat
// every interval. Reports that could not be sent are queued (bounded) and
// sent later with their original Seq and At; the server keeps the one with
// the highest Seq as the latest state and adds every report's counts into
// the hourly roll-up of the hour of At, exactly once per (terminal, Seq).
type Heartbeat struct {
	Seq        uint64    `json:"seq"` // per-installation, strictly increasing
	At         time.Time `json:"at"`  // when measured, agent clock
	Identity   Identity  `json:"identity"`
	AppVersion string    `json:"app_version"`
	OS         string    `json:"os"`
	UptimeSec  int64     `json:"uptime_sec"`
	// ClockOffsetMs is the local clock minus the bank's clock, from the
	// bank's last response; ClockOffsetKnown false when never measured.
	ClockOffsetMs    int64 `json:"clock_offset_ms"`
	ClockOffsetKnown bool  `json:"clock_offset_known"`
	DiskFreeBytes    int64 `json:"disk_free_bytes"`

	UnresolvedOrders  int `json:"unresolved_orders"`
	UnresolvedRefunds int `json:"unresolved_refunds"`
	// OldestUnresolvedAt is the creation time of the oldest unresolved
	// order or refund, nil when none.
	OldestUnresolvedAt *time.Time `json:"oldest_unresolved_at,omitempty"`

	AmountSources []AmountSourceState `json:"amount_sources,omitempty"`
	Scanner       ScannerState        `json:"scanner"`
	OCR           ComponentState      `json:"ocr"`
	Voice         VoiceState          `json:"voice"`

	// Payments are counts and sums since the previous report (Seq-1).
	Payments []PaymentCount `json:"payments,omitempty"`
	// Errors counts errors by a short code (e.g. "bank_timeout") since the
	// previous report.
	Errors map[string]int `json:"errors,omitempty"`

	// ConfigVersion is the version of the remote configuration applied
	// (0: none); ConfigError says why the last offered one was refused.
	ConfigVersion int64  `json:"config_version"`
	ConfigError   string `json:"config_error,omitempty"`

	Update UpdateStatus `json:"update"`
}

// ComponentState is the health of an optional part.
type ComponentState struct {
	State  string `json:"state"`            // StateOK, StateFailing, StateOff, StateUnknown
	Detail string `json:"detail,omitempty"` // one sentence, no secrets
}

// AmountSourceState is one amount source (OCR region, POS API, serial...).
type AmountSourceState struct {
	Name     string     `json:"name"`
	State    string     `json:"state"`
	Detail   string     `json:"detail,omitempty"`
	LastOKAt *time.Time `json:"last_ok_at,omitempty"`
}

// ScannerState is the scan box input. USB identifiers are filled where
// Windows tells them; they feed the fleet's device stock.
type ScannerState struct {
	State      string     `json:"state"`
	Mode       string     `json:"mode,omitempty"` // "serial", "hook", ...
	Port       string     `json:"port,omitempty"` // COM3, or hook state
	LastScanAt *time.Time `json:"last_scan_at,omitempty"`
	USBVIDPID  string     `json:"usb_vid_pid,omitempty"` // "1EAB:0D10"
	USBSerial  string     `json:"usb_serial,omitempty"`
	Model      string     `json:"model,omitempty"`
}

// VoiceState is the sound output.
type VoiceState struct {
	State  string `json:"state"`
	Device string `json:"device,omitempty"`
}

// PaymentCount is a count and sum for one channel and outcome.
type PaymentCount struct {
	Channel string `json:"channel"` // "wechat", "alipay", "unionpay", ...
	Outcome string `json:"outcome"` // Outcome*
	Count   int64  `json:"count"`
	SumFen  int64  `json:"sum_fen"`
}

// UpdateStatus is what the updater reports (same fields as
// `scanbox update --check --json`).
type UpdateStatus struct {
	Current  string `json:"current"`
	Offered  string `json:"offered,omitempty"`
	Verified bool   `json:"verified"`
	Staged   bool   `json:"staged"`
	Error    string `json:"error,omitempty"`
	// LastInstall is the result of the last install attempt, if any.
	LastInstall *InstallResult `json:"last_install,omitempty"`
}

// InstallResult records one update installation.
type InstallResult struct {
	Version string    `json:"version"`
	At      time.Time `json:"at"`
	OK      bool      `json:"ok"`
	Error   string    `json:"error,omitempty"`
}

// HeartbeatResponse answers a heartbeat. Nil fields mean "nothing new".
type HeartbeatResponse struct {
	ServerTime      time.Time `json:"server_time"`
	NextIntervalSec int       `json:"next_interval_sec"`
	// Disabled: staff disabled this terminal; the agent stops reporting
	// until re-enrolled. Payments are never affected by it.
	Disabled   bool         `json:"disabled,omitempty"`
	Config     *Config      `json:"config,omitempty"`
	LogRequest *LogRequest  `json:"log_request,omitempty"`
	Update     *UpdateOffer `json:"update,omitempty"`
}

// Config is a remote configuration to apply atomically. It is sent while
// Version is greater than the agent's reported ConfigVersion. The bank
// identity (bank URL, merchant, terminal, keys) is deliberately absent:
// only activation changes it.
type Config struct {
	Version  int64    `json:"version"`
	Settings Settings `json:"settings"`
}

// Settings are the remotely adjustable parameters. A nil field keeps the
// terminal's local value.
type Settings struct {
	PollIntervalMs       *int              `json:"poll_interval_ms,omitempty"`
	PollDeadlineSec      *int              `json:"poll_deadline_sec,omitempty"`
	HeartbeatIntervalSec *int              `json:"heartbeat_interval_sec,omitempty"`
	VoiceEnabled         *bool             `json:"voice_enabled,omitempty"`
	VoiceVolume          *int              `json:"voice_volume,omitempty"` // 0..100
	POSAPIEnabled        *bool             `json:"pos_api_enabled,omitempty"`
	AmountSource         map[string]string `json:"amount_source,omitempty"` // source-specific keys
}

// LogRequest asks for the redacted support bundle. The agent uploads it
// with a signed POST to PathLogUpload + "/" + ID (body: the zip, at most
// MaxLogBundleBytes).
type LogRequest struct {
	ID string `json:"id"`
}

// MaxLogBundleBytes bounds an uploaded support bundle.
const MaxLogBundleBytes = 16 << 20

// UpdateOffer offers a release. The agent fetches ManifestPath and MSIPath
// (signed GETs), verifies the manifest with the public key built into the
// plug-in (VerifyManifest), checks CheckUpdate against what runs, checks
// the MSI against the manifest (VerifyMSI) and only then stages it. The
// server cannot make an unsigned or altered MSI acceptable.
type UpdateOffer struct {
	Version      string `json:"version"`
	ManifestPath string `json:"manifest_path"`
	MSIPath      string `json:"msi_path"`
}
