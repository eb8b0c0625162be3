package payclient

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// ActivateRequest is what bank staff enter to activate a terminal.
type ActivateRequest struct {
	BaseURL        string
	MchID          string
	TerminalID     string
	ActivationCode string // signs the request; never logged
	// DeviceID overrides the device_id derived from this PC (tests only:
	// "another PC"); the bank binds the terminal to it.
	DeviceID    string
	HTTPTimeout time.Duration
	HTTPClient  *http.Client
}

// ActivateOption adjusts Activate for tests and logging.
type ActivateOption func(*activateOptions)

type activateOptions struct {
	now func() time.Time
	log *slog.Logger
}

// ActivateWithLogger logs the call to l instead of slog.Default().
func ActivateWithLogger(l *slog.Logger) ActivateOption {
	return func(o *activateOptions) { o.log = l }
}

// ActivateWithClock takes the request timestamp from now.
func ActivateWithClock(now func() time.Time) ActivateOption {
	return func(o *activateOptions) { o.now = now }
}

// Activate calls /merchant/info with the activation code and returns the
// merchant data, the terminal_sn and area_code, and the decrypted signing
// key. It sends this PC's device_id: the bank binds the terminal to it (and
// re-activation with a new code moves the terminal here, 换机; the old key
// stops working). A wrong or used-up code is an *APIError with ReturnMsg
// "ACTIVATION_INVALID"; a disabled terminal matches ErrTerminalDisabled.
func Activate(ctx context.Context, req ActivateRequest, opts ...ActivateOption) (*MerchantInfo, error) {
	var o activateOptions
	for _, f := range opts {
		f(&o)
	}
	mi, err := activate(ctx, req, o)
	if err != nil {
		return nil, fmt.Errorf("payclient: activate %s/%s: %w", req.MchID, req.TerminalID, err)
	}
	return mi, nil
}

func activate(ctx context.Context, req ActivateRequest, o activateOptions) (mi *MerchantInfo, err error) {
	t, err := newTransport(req.BaseURL, req.HTTPClient, req.HTTPTimeout, o.now, o.log)
	if err != nil {
		return nil, err
	}
	if err := checkID("mch_id", req.MchID); err != nil {
		return nil, err
	}
	if err := checkID("terminal_id", req.TerminalID); err != nil {
		return nil, err
	}
	if req.ActivationCode == "" {
		return nil, fmt.Errorf("%w: empty activation code", ErrInvalidRequest)
	}
	devID, err := resolveDeviceID(req.DeviceID, req.MchID, req.TerminalID)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	defer func() { t.logCall(ctx, EndpointActivate, "", start, err, slog.String("terminal_id", req.TerminalID)) }()
	code := []byte(req.ActivationCode)
	obj, err := t.call(ctx, EndpointActivate, Object{
		"mch_id":          req.MchID,
		"terminal_id":     req.TerminalID,
		"activation_code": req.ActivationCode,
		"device_id":       devID,
	}, code)
	if err != nil {
		return nil, err
	}
	mi = &MerchantInfo{}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"merchant_name", &mi.MerchantName}, {"store_name", &mi.StoreName}, {"static_qr", &mi.StaticQR}} {
		s, _ := obj.Str(f.name)
		if s == "" {
			return nil, garbled("%s missing", f.name)
		}
		*f.dst = s
	}
	mi.TerminalSN, _ = obj.Str("terminal_sn")
	if !validTerminalSN(mi.TerminalSN) {
		return nil, garbled("terminal_sn %q is not 8–32 of [0-9A-Za-z]", mi.TerminalSN)
	}
	mi.AreaCode, _ = obj.Str("area_code")
	if !validAreaCode(mi.AreaCode) {
		return nil, garbled("area_code %q is not 6 digits", mi.AreaCode)
	}
	kc, _ := obj.Str("key_cipher")
	kn, _ := obj.Str("key_nonce")
	key, err := UnwrapKey(req.ActivationCode, req.MchID, req.TerminalID, kc, kn)
	if err != nil {
		return nil, garbled("%v", err)
	}
	mi.Key = key
	return mi, nil
}

// UnwrapKey decrypts key_cipher as bank-api.md specifies: AES-256-GCM with
// key SHA-256(activation_code), nonce base64(key_nonce) of 12 bytes, and
// additional data mch_id + "|" + terminal_id.
func UnwrapKey(activationCode, mchID, terminalID, keyCipherB64, keyNonceB64 string) ([]byte, error) {
	aead, err := keyAEAD(activationCode)
	if err != nil {
		return nil, err
	}
	nonce, err := base64.StdEncoding.DecodeString(keyNonceB64)
	if err != nil || len(nonce) != aead.NonceSize() {
		return nil, fmt.Errorf("key_nonce is not base64 of %d bytes", aead.NonceSize())
	}
	ct, err := base64.StdEncoding.DecodeString(keyCipherB64)
	if err != nil {
		return nil, fmt.Errorf("key_cipher is not base64")
	}
	key, err := aead.Open(nil, nonce, ct, []byte(mchID+"|"+terminalID))
	if err != nil {
		return nil, fmt.Errorf("key_cipher does not decrypt: %w", err)
	}
	if len(key) == 0 {
		return nil, fmt.Errorf("key_cipher holds an empty key")
	}
	return key, nil
}

// WrapKey is UnwrapKey's inverse, for the bank side (the simulator). nonce
// must be 12 fresh random bytes.
func WrapKey(activationCode, mchID, terminalID string, key, nonce []byte) (keyCipherB64, keyNonceB64 string, err error) {
	aead, err := keyAEAD(activationCode)
	if err != nil {
		return "", "", err
	}
	if len(nonce) != aead.NonceSize() {
		return "", "", fmt.Errorf("payclient: key nonce must be %d bytes", aead.NonceSize())
	}
	ct := aead.Seal(nil, nonce, key, []byte(mchID+"|"+terminalID))
	return base64.StdEncoding.EncodeToString(ct), base64.StdEncoding.EncodeToString(nonce), nil
}

func keyAEAD(activationCode string) (cipher.AEAD, error) {
	k := sha256.Sum256([]byte(activationCode))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
