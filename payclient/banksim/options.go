package banksim

import (
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Demo defaults: what a zero Options (and the CLI's flags) start from.
const (
	DefaultMchID          = "100000001"
	DefaultTerminalID     = "T0001"
	DefaultActivationCode = "DEMO-2026"
	DefaultMerchantName   = "演示商户"
	DefaultStoreName      = "一号店"
	DefaultStaticQR       = "https://pay.bank.example/qr/static/100000001"
	DefaultBasePath       = "/device/v1"
	DefaultPasswordDelay  = 5 * time.Second
	DefaultSlowDelay      = 3 * time.Second
	DefaultReverseWindow  = 24 * time.Hour
	DefaultRecalls        = 2
	DefaultAreaCode       = "310101"
	DefaultRefundDelay    = 5 * time.Second
	// MaxRefunds is how many refunds an order may have (failed ones count).
	MaxRefunds = 20
	// RefundExpiry: orders older than this cannot be refunded.
	RefundExpiry = 365 * 24 * time.Hour
	// MaxSkew is the timestamp tolerance of bank-api.md.
	MaxSkew = 300 * time.Second
)

// Options configures a Sim. Zero values take the defaults above.
type Options struct {
	MchID string
	// Terminals that may activate; empty means DefaultTerminalID only.
	Terminals []string
	// ActivationCodes accepted by /merchant/info (default DEMO-2026);
	// with SingleUse each works once.
	ActivationCodes []string
	SingleUse       bool
	// TerminalKeys pre-activates terminals (terminal_id → signing key), so
	// tests can skip activation.
	TerminalKeys map[string]string

	MerchantName, StoreName, StaticQR string
	BasePath                          string // default /device/v1

	// PasswordDelay is how long a "password then pays" payer takes.
	PasswordDelay time.Duration
	// AutoPayAfter makes a simulated customer pay each precreated order
	// this long after it was created; 0 means only PayPrecreated pays.
	AutoPayAfter time.Duration
	// ReverseWindow: closing a paid order later than this after payment
	// answers REVERSE_EXPIRE.
	ReverseWindow time.Duration
	// AmountLimit > 0 refuses larger total_fee with AMOUNT_LIMIT.
	AmountLimit int64

	// FaultRate is the probability that a request (other than activation)
	// gets a fault drawn uniformly from Faults (default: every kind).
	FaultRate float64
	Faults    []Fault
	// SlowDelay is a FaultSlow's delay when the Fault does not set one.
	SlowDelay time.Duration
	// Seed makes fault draws, field order and extra fields repeatable;
	// 0 picks a random seed.
	Seed int64

	// AreaCode is the area_code activation hands out (default 310101).
	AreaCode string
	// Refunds is how every refund settles that has no behaviour of its own
	// (SetRefundBehaviour). The zero value, RefundByNumber, keeps the rule
	// by out_refund_no's last character; tests that need one outcome
	// whatever the (random) refund number set it.
	Refunds RefundBehaviour
	// RefundDelay is how long a refund stays PROCESSING before it settles
	// (behaviours other than RefundAtOnce; default 5s).
	RefundDelay time.Duration
	// RefundBalance > 0 limits the merchant's refundable balance (fen):
	// refunds that did not fail use it up; beyond it, NOTENOUGH. 0 means
	// unlimited (SetRefundBalance changes it at run time).
	RefundBalance int64

	// Now is the time source (default time.Now); the bank's clock is Now
	// plus ClockOffset: timestamps, the Date header, password delays,
	// auto-pay, the reverse window and bill dates all follow it.
	Now func() time.Time
	// ClockOffset sets the bank's clock ahead (or behind, negative) of
	// Now: a shop PC whose clock is off, seen from the bank.
	ClockOffset time.Duration
	Logger      *slog.Logger
}

func (o *Options) fill() {
	if o.MchID == "" {
		o.MchID = DefaultMchID
	}
	if len(o.Terminals) == 0 {
		o.Terminals = []string{DefaultTerminalID}
	}
	if len(o.ActivationCodes) == 0 {
		o.ActivationCodes = []string{DefaultActivationCode}
	}
	if o.MerchantName == "" {
		o.MerchantName = DefaultMerchantName
	}
	if o.StoreName == "" {
		o.StoreName = DefaultStoreName
	}
	if o.StaticQR == "" {
		o.StaticQR = DefaultStaticQR
	}
	if o.BasePath == "" {
		o.BasePath = DefaultBasePath
	}
	if o.PasswordDelay <= 0 {
		o.PasswordDelay = DefaultPasswordDelay
	}
	if o.SlowDelay <= 0 {
		o.SlowDelay = DefaultSlowDelay
	}
	if o.ReverseWindow <= 0 {
		o.ReverseWindow = DefaultReverseWindow
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.AreaCode == "" {
		o.AreaCode = DefaultAreaCode
	}
	if o.RefundDelay <= 0 {
		o.RefundDelay = DefaultRefundDelay
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Flags registers the simulator's command-line flags on fs, bound to o.
// Unset flags keep o's current values (or the defaults when zero).
func (o *Options) Flags(fs *flag.FlagSet) {
	strDefault := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	durDefault := func(v, d time.Duration) time.Duration {
		if v <= 0 {
			return d
		}
		return v
	}
	fs.StringVar(&o.MchID, "mch", strDefault(o.MchID, DefaultMchID), "merchant number (mch_id)")
	listFlag(fs, &o.Terminals, "terminal", DefaultTerminalID, "terminal IDs that may activate (comma-separated)")
	listFlag(fs, &o.ActivationCodes, "activation-code", DefaultActivationCode, "activation codes (comma-separated)")
	fs.BoolVar(&o.SingleUse, "single-use", o.SingleUse, "each activation code works once")
	fs.StringVar(&o.MerchantName, "merchant", strDefault(o.MerchantName, DefaultMerchantName), "merchant name")
	fs.StringVar(&o.StoreName, "store", strDefault(o.StoreName, DefaultStoreName), "store name")
	fs.StringVar(&o.StaticQR, "static-qr", strDefault(o.StaticQR, DefaultStaticQR), "store's static QR payload")
	fs.DurationVar(&o.PasswordDelay, "password-delay", durDefault(o.PasswordDelay, DefaultPasswordDelay), "how long a password-typing payer takes (codes ending 4 or 5)")
	fs.DurationVar(&o.AutoPayAfter, "auto-pay", o.AutoPayAfter, "a simulated customer pays each dynamic QR after this delay (0: never)")
	fs.DurationVar(&o.ReverseWindow, "reverse-window", durDefault(o.ReverseWindow, DefaultReverseWindow), "closing a paid order later than this answers REVERSE_EXPIRE")
	fs.Int64Var(&o.AmountLimit, "amount-limit", o.AmountLimit, "refuse larger total_fee (fen) with AMOUNT_LIMIT (0: no limit)")
	fs.Float64Var(&o.FaultRate, "fault-rate", o.FaultRate, "probability of a fault per request (0..1)")
	fs.Func("faults", "fault kinds drawn at --fault-rate (comma-separated; default all): "+strings.Join(faultKindNames[1:], ","), func(s string) error {
		o.Faults = nil
		for _, n := range splitList(s) {
			k, err := ParseFaultKind(n)
			if err != nil {
				return err
			}
			o.Faults = append(o.Faults, Fault{Kind: k})
		}
		return nil
	})
	fs.DurationVar(&o.SlowDelay, "slow", durDefault(o.SlowDelay, DefaultSlowDelay), "delay of a slow answer")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "random seed for faults and field order (0: random)")
	fs.DurationVar(&o.ClockOffset, "clock-offset", o.ClockOffset, "run the bank's clock this far ahead of this PC's (negative: behind), e.g. 2h or -3h")
	fs.DurationVar(&o.RefundDelay, "refund-delay", durDefault(o.RefundDelay, DefaultRefundDelay), "how long a refund stays PROCESSING (refund numbers ending 4-8)")
	fs.Int64Var(&o.RefundBalance, "refund-balance", o.RefundBalance, "merchant's refundable balance in fen; beyond it refunds answer NOTENOUGH (0: unlimited)")
	fs.StringVar(&o.AreaCode, "area-code", strDefault(o.AreaCode, DefaultAreaCode), "area_code handed out at activation (6 digits)")
}

func listFlag(fs *flag.FlagSet, dst *[]string, name, def, usage string) {
	if len(*dst) == 0 {
		*dst = []string{def}
	}
	fs.Func(name, usage+" (default "+strings.Join(*dst, ",")+")", func(s string) error {
		l := splitList(s)
		if len(l) == 0 {
			return fmt.Errorf("empty list")
		}
		*dst = l
		return nil
	})
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Behaviour is how the simulated payer behind an auth code acts.
type Behaviour int

const (
	// BehaviourByCode picks from the code's last digit: 0–3 PayAtOnce,
	// 4–5 PasswordThenPay, 6 NeverConfirm, 7 ConfirmAtClose,
	// 8 InsufficientBalance, 9 CodeExpired.
	BehaviourByCode Behaviour = iota
	PayAtOnce
	PasswordThenPay
	NeverConfirm
	ConfirmAtClose
	InsufficientBalance
	CodeExpired
)

var behaviourNames = [...]string{"by_code", "pay", "password", "never_confirm", "confirm_at_close", "not_enough", "code_expired"}

func (b Behaviour) String() string {
	if b < 0 || int(b) >= len(behaviourNames) {
		return fmt.Sprintf("Behaviour(%d)", int(b))
	}
	return behaviourNames[b]
}

// ParseBehaviour accepts exactly what String writes.
func ParseBehaviour(s string) (Behaviour, error) {
	for i, n := range behaviourNames {
		if n == s {
			return Behaviour(i), nil
		}
	}
	return BehaviourByCode, fmt.Errorf("banksim: unknown behaviour %q", s)
}

func (b Behaviour) MarshalText() ([]byte, error) { return []byte(b.String()), nil }
func (b *Behaviour) UnmarshalText(t []byte) error {
	v, err := ParseBehaviour(string(t))
	*b = v
	return err
}

// behaviourFromCode is the out-of-process selector: the last digit.
func behaviourFromCode(code string) Behaviour {
	if code == "" {
		return PayAtOnce
	}
	switch d := code[len(code)-1]; {
	case d <= '3':
		return PayAtOnce
	case d <= '5':
		return PasswordThenPay
	case d == '6':
		return NeverConfirm
	case d == '7':
		return ConfirmAtClose
	case d == '8':
		return InsufficientBalance
	default:
		return CodeExpired
	}
}

// RefundBehaviour is how the bank settles a new refund.
type RefundBehaviour int

const (
	// RefundByNumber picks from out_refund_no's last character: digits
	// 4–6 RefundProcessingThenSuccess, 7 RefundProcessingThenFailed, 8
	// RefundProcessingThenChange, anything else RefundAtOnce.
	RefundByNumber RefundBehaviour = iota
	RefundAtOnce
	RefundProcessingThenSuccess
	RefundProcessingThenFailed
	RefundProcessingThenChange
)

var refundBehaviourNames = [...]string{"by_number", "at_once", "processing_success", "processing_failed", "processing_change"}

func (b RefundBehaviour) String() string {
	if b < 0 || int(b) >= len(refundBehaviourNames) {
		return fmt.Sprintf("RefundBehaviour(%d)", int(b))
	}
	return refundBehaviourNames[b]
}

// ParseRefundBehaviour accepts exactly what String writes.
func ParseRefundBehaviour(s string) (RefundBehaviour, error) {
	for i, n := range refundBehaviourNames {
		if n == s {
			return RefundBehaviour(i), nil
		}
	}
	return RefundByNumber, fmt.Errorf("banksim: unknown refund behaviour %q", s)
}

func (b RefundBehaviour) MarshalText() ([]byte, error) { return []byte(b.String()), nil }
func (b *RefundBehaviour) UnmarshalText(t []byte) error {
	v, err := ParseRefundBehaviour(string(t))
	*b = v
	return err
}

func refundBehaviourFromNumber(no string) RefundBehaviour {
	if no == "" {
		return RefundAtOnce
	}
	switch no[len(no)-1] {
	case '4', '5', '6':
		return RefundProcessingThenSuccess
	case '7':
		return RefundProcessingThenFailed
	case '8':
		return RefundProcessingThenChange
	}
	return RefundAtOnce
}

// FaultKind is a transport or bank misbehaviour.
type FaultKind int

const (
	FaultNone FaultKind = iota
	// FaultRequestLost drops the connection before the request has any effect.
	FaultRequestLost
	// FaultResponseLost applies the request, then drops the connection.
	FaultResponseLost
	// FaultHTTP5xx answers HTTP 503 without applying the request (a proxy).
	FaultHTTP5xx
	// FaultNotJSON applies the request and answers an HTML page with 200.
	FaultNotJSON
	// FaultBadSignature applies the request and answers with a broken sign.
	FaultBadSignature
	// FaultForgedSuccess answers SUCCESS (paid, for micropay and query)
	// without applying anything, signed with a wrong key.
	FaultForgedSuccess
	// FaultSlow waits (Fault.Delay, Options.SlowDelay, or until Fault.Hold
	// closes), then applies the request and answers normally, whether or
	// not the client is still listening.
	FaultSlow
	// FaultRecall (close only) answers recall=Y, without effect, Recalls
	// times for that order before a close goes through.
	FaultRecall
	// FaultSystemError applies the request and answers err_code SYSTEMERROR.
	FaultSystemError
)

var faultKindNames = [...]string{"none", "request_lost", "response_lost", "http_5xx", "not_json", "bad_signature", "forged_success", "slow", "recall", "system_error"}

func (k FaultKind) String() string {
	if k < 0 || int(k) >= len(faultKindNames) {
		return fmt.Sprintf("FaultKind(%d)", int(k))
	}
	return faultKindNames[k]
}

// ParseFaultKind accepts exactly what String writes.
func ParseFaultKind(s string) (FaultKind, error) {
	for i, n := range faultKindNames {
		if n == s {
			return FaultKind(i), nil
		}
	}
	return FaultNone, fmt.Errorf("banksim: unknown fault %q", s)
}

func (k FaultKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }
func (k *FaultKind) UnmarshalText(t []byte) error {
	v, err := ParseFaultKind(string(t))
	*k = v
	return err
}

// Fault is one injected misbehaviour.
type Fault struct {
	Kind FaultKind
	// Delay of FaultSlow (default Options.SlowDelay).
	Delay time.Duration
	// Hold, if set, makes FaultSlow wait until it is closed instead.
	Hold <-chan struct{}
	// Recalls of FaultRecall (default DefaultRecalls).
	Recalls int
}
