package payclient

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SignType is the signature algorithm of bank-api.md's Signing section.
// The device API always uses HMAC-SHA256; MD5 exists because WeChat Pay v2's
// published vectors use it and a test reproducing both proves the string we
// sign is built exactly as specified.
type SignType int

const (
	SignHMACSHA256 SignType = iota
	SignMD5
)

var signTypeNames = [...]string{"HMAC-SHA256", "MD5"}

func (t SignType) String() string {
	if t < 0 || int(t) >= len(signTypeNames) {
		return fmt.Sprintf("SignType(%d)", int(t))
	}
	return signTypeNames[t]
}

// ParseSignType is the one parser for sign_type; exact, as the API writes it.
func ParseSignType(s string) (SignType, error) {
	for i, n := range signTypeNames {
		if n == s {
			return SignType(i), nil
		}
	}
	return SignHMACSHA256, fmt.Errorf("payclient: unknown sign_type %q", s)
}

// Object is one flat API object. Values are string or int64 (int is accepted
// when building requests); nothing else exists on this wire.
type Object map[string]any

// ErrNotFlat is a body that is not one flat JSON object of string and integer
// values. A response like that is a communication failure.
var ErrNotFlat = errors.New("not a flat JSON object of string and integer values")

// maxBody bounds what we read from (and what the simulator accepts in) a body;
// real objects are a few hundred bytes.
const maxBody = 64 << 10

// DecodeObject parses one flat JSON object strictly: string and integer
// values only, no nesting, no duplicate names (a duplicate would let the
// signed value and the used value differ), nothing after the closing brace.
// Integers are kept exact, so "total_fee":100 signs as "100".
//
// It is a small scanner of its own rather than encoding/json's Decoder,
// whose token API allocated two thirds of a payment round trip's memory;
// strings with escapes or unusual bytes are still unquoted by encoding/json
// so that both read every string the same way (FuzzDecodeObjectOracle
// compares them).
func DecodeObject(data []byte) (Object, error) {
	d := flatDecoder{data: data}
	obj, err := d.object()
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFlat, err)
	}
	return obj, nil
}

type flatDecoder struct {
	data []byte
	pos  int
}

func (d *flatDecoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// next skips white space and returns the next byte (0 at the end).
func (d *flatDecoder) next() byte {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return 0
	}
	return d.data[d.pos]
}

func (d *flatDecoder) object() (Object, error) {
	if d.next() != '{' {
		return nil, errors.New("does not start with {")
	}
	d.pos++
	obj := make(Object, 16)
	if d.next() == '}' {
		d.pos++
	} else {
		for {
			if d.next() != '"' {
				return nil, errors.New("bad field name")
			}
			name, err := d.str()
			if err != nil {
				return nil, err
			}
			if _, dup := obj[name]; dup {
				return nil, fmt.Errorf("field %q appears twice", name)
			}
			if d.next() != ':' {
				return nil, fmt.Errorf("no colon after %q", name)
			}
			d.pos++
			switch c := d.next(); {
			case c == '"':
				v, err := d.str()
				if err != nil {
					return nil, err
				}
				obj[name] = v
			case c == '-' || c >= '0' && c <= '9':
				n, err := d.integer()
				if err != nil {
					return nil, fmt.Errorf("field %q: %w", name, err)
				}
				obj[name] = n
			default:
				return nil, fmt.Errorf("field %q has a value that is neither a string nor an integer", name)
			}
			c := d.next()
			d.pos++
			if c == '}' {
				break
			}
			if c != ',' {
				return nil, errors.New("object not closed")
			}
		}
	}
	if d.next() != 0 {
		return nil, errors.New("data after the object")
	}
	return obj, nil
}

// str reads a JSON string at d.pos (which holds the opening quote).
func (d *flatDecoder) str() (string, error) {
	start := d.pos
	plain := true
	i := start + 1
	for ; i < len(d.data); i++ {
		c := d.data[i]
		if c == '"' {
			break
		}
		if c == '\\' {
			plain = false
			i++ // the escaped byte cannot end the string
			continue
		}
		if c < 0x20 {
			return "", errors.New("control character in a string")
		}
		if c >= 0x80 {
			plain = false
		}
	}
	if i >= len(d.data) {
		return "", errors.New("unterminated string")
	}
	d.pos = i + 1
	raw := d.data[start+1 : i]
	if plain {
		return string(raw), nil
	}
	if !bytes.ContainsRune(raw, '\\') && utf8.Valid(raw) {
		return string(raw), nil
	}
	// Escapes or invalid UTF-8: encoding/json's reading (U+FFFD for bad
	// bytes) is the reference.
	var s string
	if err := json.Unmarshal(d.data[start:d.pos], &s); err != nil {
		return "", err
	}
	return s, nil
}

// integer reads -?(0|[1-9][0-9]*) and refuses fractions, exponents and
// values beyond int64.
func (d *flatDecoder) integer() (int64, error) {
	start := d.pos
	i := start
	if d.data[i] == '-' {
		i++
	}
	digits := i
	for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
		i++
	}
	if i == digits || d.data[digits] == '0' && i-digits > 1 {
		return 0, fmt.Errorf("malformed number %q", d.data[start:i])
	}
	if i < len(d.data) && (d.data[i] == '.' || d.data[i] == 'e' || d.data[i] == 'E') {
		return 0, errors.New("not an integer")
	}
	n, err := strconv.ParseInt(string(d.data[start:i]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not an integer: %s", d.data[start:i])
	}
	d.pos = i
	return n, nil
}

// Encode writes the object as JSON with sorted names and without HTML
// escaping. It fails on a value that is not a string or an integer.
func (o Object) Encode() ([]byte, error) {
	names := make([]string, 0, len(o))
	for k := range o {
		names = append(names, k)
	}
	slices.Sort(names)
	return o.EncodeOrdered(names)
}

// EncodeOrdered writes the named fields in the given order (the simulator
// shuffles it so that clients cannot depend on any order).
func (o Object) EncodeOrdered(names []string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range names {
		v, ok := o[k]
		if !ok {
			continue
		}
		if i > 0 && b.Len() > 1 {
			b.WriteByte(',')
		}
		writeJSONString(&b, k)
		b.WriteByte(':')
		switch v := v.(type) {
		case string:
			writeJSONString(&b, v)
		default:
			s, ok := formatInt(v)
			if !ok {
				return nil, fmt.Errorf("payclient: field %q has a value of type %T", k, v)
			}
			b.WriteString(s)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes
	b.Truncate(b.Len() - 1) // Encode appends a newline
}

// Str returns a string field; ok is false when absent or not a string.
func (o Object) Str(name string) (string, bool) {
	s, ok := o[name].(string)
	return s, ok
}

// Int returns an integer field; ok is false when absent or not an integer.
func (o Object) Int(name string) (int64, bool) {
	n, ok := formatIntValue(o[name])
	return n, ok
}

func formatIntValue(v any) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case int:
		return int64(v), true
	}
	return 0, false
}

func formatInt(v any) (string, bool) {
	n, ok := formatIntValue(v)
	if !ok {
		return "", false
	}
	return strconv.FormatInt(n, 10), true
}

// SigningString is step 1–4 of bank-api.md's Signing: the non-empty fields
// except sign, sorted by byte order, joined as name=value with &, then
// "&key=" and the key. It contains the key: never log it.
func SigningString(o Object, key []byte) (string, error) {
	var b strings.Builder
	if err := writeSigningString(&b, o, key); err != nil {
		return "", err
	}
	return b.String(), nil
}

func writeSigningString(w io.Writer, o Object, key []byte) error {
	names := make([]string, 0, len(o))
	for k, v := range o {
		if k == "sign" {
			continue
		}
		if s, ok := v.(string); ok && s == "" {
			continue
		}
		names = append(names, k)
	}
	slices.Sort(names)
	var buf []byte
	for i, k := range names {
		buf = buf[:0]
		if i > 0 {
			buf = append(buf, '&')
		}
		buf = append(buf, k...)
		buf = append(buf, '=')
		switch v := o[k].(type) {
		case string:
			buf = append(buf, v...)
		default:
			n, ok := formatIntValue(v)
			if !ok {
				return fmt.Errorf("payclient: field %q has a value of type %T", k, v)
			}
			buf = strconv.AppendInt(buf, n, 10)
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	if len(names) > 0 {
		io.WriteString(w, "&")
	}
	io.WriteString(w, "key=")
	_, err := w.Write(key)
	return err
}

func newSignHash(t SignType, key []byte) (hash.Hash, error) {
	switch t {
	case SignHMACSHA256:
		return hmac.New(sha256.New, key), nil
	case SignMD5:
		// WeChat's MD5 variant hashes the signing string (which ends with
		// the key) without HMAC.
		return md5.New(), nil
	}
	return nil, fmt.Errorf("payclient: unsupported sign type %v", t)
}

// signSum computes the raw signature bytes.
func signSum(o Object, key []byte, t SignType) ([]byte, error) {
	h, err := newSignHash(t, key)
	if err != nil {
		return nil, err
	}
	if err := writeSigningString(h, o, key); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// Sign returns the sign field for o: upper-case hex of the signature.
// An existing "sign" field in o is ignored.
func Sign(o Object, key []byte, t SignType) (string, error) {
	sum, err := signSum(o, key, t)
	if err != nil {
		return "", err
	}
	return strings.ToUpper(hex.EncodeToString(sum)), nil
}

// Verify reports whether o's "sign" field is the signature of o under key.
// The comparison is constant-time; hex case is not significant.
func Verify(o Object, key []byte, t SignType) bool {
	got, ok := o.Str("sign")
	if !ok || got == "" {
		return false
	}
	gotRaw, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	want, err := signSum(o, key, t)
	if err != nil {
		return false
	}
	return hmac.Equal(gotRaw, want)
}

const nonceAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewNonce returns a fresh 24-character nonce_str of [0-9A-Za-z] from
// crypto/rand (about 142 bits), inside the API's 16–32 range.
func NewNonce() string {
	const n = 24
	out := make([]byte, 0, n)
	var buf [32]byte
	for len(out) < n {
		if _, err := rand.Read(buf[:]); err != nil {
			panic("payclient: crypto/rand failed: " + err.Error()) // never happens on supported OSes
		}
		for _, c := range buf {
			// 248 = 4*62: rejecting above it keeps the draw uniform.
			if c < 248 && len(out) < n {
				out = append(out, nonceAlphabet[int(c)%62])
			}
		}
	}
	return string(out)
}
