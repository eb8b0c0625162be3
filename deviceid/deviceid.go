// Package deviceid derives the bank API's device_id (bank-api.md v1.1,
// "Terminal information"): 64 lowercase hex chars of SHA-256 over a stable
// identity of this PC, the merchant number and the terminal number. The same
// installation always sends the same value; a data directory copied to
// another PC sends another one, and the bank (anti-switching, 防切机) refuses
// it with DEVICE_MISMATCH.
//
// The machine identity is read from the operating system on every start
// (Windows: HKLM\SOFTWARE\Microsoft\Cryptography\MachineGuid; Linux:
// /etc/machine-id, then /var/lib/dbus/machine-id). It is never stored in a
// setting or in the data directory: anything a user can edit there would let
// a copied installation claim to be the original PC.
//
// Tests that need "another PC" have two ways, both unavailable to a shipped
// program:
//   - in-process: Derive with any identity string, or a Source function
//     handed to whatever needs a device_id (payclient.Config.DeviceID takes
//     the derived value);
//   - across processes (the e2e harness runs the scanbox binary on a copied
//     data directory): the environment variable TestHookEnv
//     (SCANBOX_TESTHOOK_MACHINE_ID) replaces the machine identity, but only
//     in a binary built with `-tags scanbox_testhooks`. Release builds do not
//     compile that code (override_release.go), so setting the variable on a
//     shop's PC changes nothing. A build tag rather than a plain environment
//     variable was chosen because an always-honoured variable would let any
//     user (no administrator rights needed) make a copied installation look
//     like the PC it was copied from.
//
// This package must never log or print the machine identity, and never
// offer a way to set it from configuration.
package deviceid

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// TestHookEnv names the machine-identity override honoured only by binaries
// built with the scanbox_testhooks tag (see the package comment).
const TestHookEnv = "SCANBOX_TESTHOOK_MACHINE_ID"

// ErrNoIdentity means the operating system offered no machine identity.
var ErrNoIdentity = errors.New("deviceid: this PC has no readable machine identity")

// Source returns the identity of the PC it runs on.
type Source func() (string, error)

// Machine is the Source of the PC this program runs on (or, in a
// scanbox_testhooks build only, TestHookEnv when set).
func Machine() (string, error) {
	if id := testHookIdentity(); id != "" {
		return id, nil
	}
	id, err := machineIdentity()
	if err != nil {
		return "", err
	}
	id = strings.TrimSpace(id)
	if id == "" {
		return "", ErrNoIdentity
	}
	return id, nil
}

// Derive is the contract's formula: lowercase hex SHA-256 of the machine
// identity, mch_id and terminal_id, joined with "|" (none of the three may
// be empty). The machine identity is case-folded so that a GUID written in
// either case gives the same value.
func Derive(machine, mchID, terminalID string) (string, error) {
	machine = strings.ToLower(strings.TrimSpace(machine))
	if machine == "" || mchID == "" || terminalID == "" {
		return "", fmt.Errorf("deviceid: machine identity, mch_id and terminal_id must not be empty")
	}
	sum := sha256.Sum256([]byte(machine + "|" + mchID + "|" + terminalID))
	return hex.EncodeToString(sum[:]), nil
}

// For returns the device_id of terminalID of mchID on the PC src
// identifies; a nil src means Machine.
func For(src Source, mchID, terminalID string) (string, error) {
	if src == nil {
		src = Machine
	}
	m, err := src()
	if errors.Is(err, ErrNoIdentity) {
		return "", err // already says where it looked
	}
	if err != nil {
		return "", fmt.Errorf("deviceid: %w", err)
	}
	return Derive(m, mchID, terminalID)
}

// Valid reports whether s has the shape of a device_id: 64 lowercase hex.
func Valid(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
