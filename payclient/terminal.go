package payclient

import (
	"errors"
	"fmt"

	"github.com/scanbox/scanbox/deviceid"
	"github.com/scanbox/scanbox/version"
)

// DeviceType is bank-api 1.1's device_type for ScanBox: 11, 条码支付辅助受理终端
// (a PC plug-in driving a scan box).
const DeviceType = "11"

// ErrNoTerminalSN refuses micropay, precreate and refund on a terminal
// activated before bank API 1.1: the bank needs the terminal_sn it hands
// out at activation. Nothing was sent; activating again fixes it.
var ErrNoTerminalSN = fmt.Errorf("%w: no terminal_sn (the terminal was activated before bank API 1.1: activate it again)", ErrInvalidRequest)

// ErrNoDeviceIdentity means this PC offered no machine identity to derive
// device_id from; no request can be sent without one.
var ErrNoDeviceIdentity = errors.New("payclient: cannot determine this PC's identity for the bank's device binding")

// ErrDeviceMismatch matches (errors.Is) the bank's DEVICE_MISMATCH: this
// terminal is bound to another PC (a copied installation, or a terminal
// moved without the bank). Definite: nothing was charged; the bank must
// move the terminal (re-activation with a new code).
var ErrDeviceMismatch = errors.New("this terminal is bound to another PC; the bank must move it")

// ErrTerminalDisabled matches the bank's TERMINAL_DISABLED: the bank has
// disabled this terminal (micropay, precreate, refund and activation are
// refused; query, close, refundquery and the bill still work).
var ErrTerminalDisabled = errors.New("the bank has disabled this terminal")

// ErrRefundNotExist matches refundquery's REFUNDNOTEXIST: the bank has not
// seen this out_refund_no (or not yet). Not a failure: re-send the refund
// itself with the same number before concluding anything.
var ErrRefundNotExist = errors.New("the bank has no refund with this number (yet)")

// Is lets errors.Is match the sentinels above against a bank answer.
func (e *APIError) Is(target error) bool {
	if e.ReturnCode != "SUCCESS" {
		return false // FAIL answers may be unsigned: never a definite result
	}
	switch target {
	case ErrDeviceMismatch:
		return e.ErrCode == "DEVICE_MISMATCH"
	case ErrTerminalDisabled:
		return e.ErrCode == "TERMINAL_DISABLED"
	case ErrRefundNotExist:
		return e.ErrCode == "REFUNDNOTEXIST"
	}
	return false
}

// resolveDeviceID returns the configured override (tests) or the device_id
// of this PC.
func resolveDeviceID(override, mchID, terminalID string) (string, error) {
	if override != "" {
		if !deviceid.Valid(override) {
			return "", fmt.Errorf("payclient: device_id must be 64 lowercase hex characters")
		}
		return override, nil
	}
	id, err := deviceid.For(nil, mchID, terminalID)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNoDeviceIdentity, err)
	}
	return id, nil
}

// validTerminalSN is terminal_sn's rule: 8–32 of [0-9A-Za-z].
func validTerminalSN(s string) bool {
	if len(s) < 8 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// validAreaCode is area_code's rule: 6 digits.
func validAreaCode(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// defaultAppVersion is version.Version within app_version's 8 characters
// (a build's "-rc1" suffix may be cut; the bank only records it).
func defaultAppVersion() string {
	v := version.Version
	if len(v) > 8 {
		v = v[:8]
	}
	if v == "" {
		v = "0"
	}
	return v
}
