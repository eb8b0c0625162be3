package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Role is a staff role.
type Role string

const (
	RoleViewer   Role = "viewer"
	RoleOperator Role = "operator"
	RoleAdmin    Role = "admin"
)

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleViewer, RoleOperator, RoleAdmin:
		return r, nil
	}
	return "", fmt.Errorf("store: unknown role %q (admin, operator or viewer)", s)
}

func (r Role) String() string { return string(r) }

// rank orders roles: a role may do what every lower role may.
func (r Role) rank() int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleOperator:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// AtLeast says whether r includes the rights of min.
func (r Role) AtLeast(min Role) bool { return r.rank() >= min.rank() && r.rank() > 0 }

// User is a staff account.
type User struct {
	ID     int64
	Name   string
	Role   Role
	PWHash string
}

// hashSecret is how tokens, session ids and enrollment codes are stored:
// they are long random strings, so a plain SHA-256 suffices (a leaked
// database does not reveal usable secrets).
func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return strings.ToLower(strings.TrimRight(base32.StdEncoding.EncodeToString(b), "="))
}

// AddUser creates a staff account (pwHash already argon2id-encoded).
func (s *Store) AddUser(ctx context.Context, name string, role Role, pwHash string) error {
	if _, err := s.UserByName(ctx, name); err == nil {
		return fmt.Errorf("store: user %q: %w", name, ErrExists)
	}
	_, err := s.exec(ctx, `INSERT INTO users(name, role, pw_hash, created_at) VALUES(?,?,?,?)`,
		name, string(role), pwHash, unix(time.Now()))
	if err != nil {
		return fmt.Errorf("store: add user: %w", err)
	}
	return nil
}

// SetPassword replaces a user's password hash.
func (s *Store) SetPassword(ctx context.Context, name, pwHash string) error {
	res, err := s.exec(ctx, `UPDATE users SET pw_hash=? WHERE name=?`, pwHash, name)
	if err != nil {
		return fmt.Errorf("store: set password: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

func scanUser(row *sql.Row) (User, error) {
	var u User
	var role string
	if err := row.Scan(&u.ID, &u.Name, &role, &u.PWHash); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return User{}, ErrNotFound
		}
		return User{}, fmt.Errorf("store: user: %w", err)
	}
	u.Role = Role(role)
	return u, nil
}

// UserByName looks a user up.
func (s *Store) UserByName(ctx context.Context, name string) (User, error) {
	return scanUser(s.queryRow(ctx, `SELECT id, name, role, pw_hash FROM users WHERE name=?`, name))
}

// CreateToken makes an API token for a user; only its hash is stored.
func (s *Store) CreateToken(ctx context.Context, userID int64) (string, error) {
	tok := "sbf_" + randomToken(20)
	_, err := s.exec(ctx, `INSERT INTO api_tokens(token_hash, user_id, created_at) VALUES(?,?,?)`,
		hashSecret(tok), userID, unix(time.Now()))
	if err != nil {
		return "", fmt.Errorf("store: token: %w", err)
	}
	return tok, nil
}

// UserByToken resolves an API token.
func (s *Store) UserByToken(ctx context.Context, tok string) (User, error) {
	return scanUser(s.queryRow(ctx, `SELECT u.id, u.name, u.role, u.pw_hash FROM api_tokens t JOIN users u ON u.id=t.user_id WHERE t.token_hash=?`, hashSecret(tok)))
}

// Session is a logged-in console session.
type Session struct {
	User User
	CSRF string
	Lang string
}

// SessionTTL is how long a console session lives.
const SessionTTL = 12 * time.Hour

// CreateSession starts a session and returns its id (the cookie value).
func (s *Store) CreateSession(ctx context.Context, userID int64, lang string) (string, error) {
	id := randomToken(24)
	_, err := s.exec(ctx, `INSERT INTO sessions(id_hash, user_id, csrf, lang, expires_at) VALUES(?,?,?,?,?)`,
		hashSecret(id), userID, randomToken(20), lang, unix(time.Now().Add(SessionTTL)))
	if err != nil {
		return "", fmt.Errorf("store: session: %w", err)
	}
	return id, nil
}

// SessionByID resolves a live session.
func (s *Store) SessionByID(ctx context.Context, id string) (Session, error) {
	var se Session
	var role string
	err := s.queryRow(ctx, `SELECT u.id, u.name, u.role, u.pw_hash, s.csrf, s.lang FROM sessions s JOIN users u ON u.id=s.user_id WHERE s.id_hash=? AND s.expires_at > ?`,
		hashSecret(id), unix(time.Now())).Scan(&se.User.ID, &se.User.Name, &role, &se.User.PWHash, &se.CSRF, &se.Lang)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: session: %w", err)
	}
	se.User.Role = Role(role)
	return se, nil
}

// SetSessionLang records the console language of a session.
func (s *Store) SetSessionLang(ctx context.Context, id, lang string) error {
	_, err := s.exec(ctx, `UPDATE sessions SET lang=? WHERE id_hash=?`, lang, hashSecret(id))
	return err
}

// DeleteSession logs out; expired sessions are removed on the way.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	_, err := s.exec(ctx, `DELETE FROM sessions WHERE id_hash=? OR expires_at <= ?`, hashSecret(id), unix(time.Now()))
	return err
}

// LoginFailures counts failed logins for key (user name or client address)
// since since. Kept in the database so the limit holds across instances.
func (s *Store) LoginFailures(ctx context.Context, key string, since time.Time) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM login_failures WHERE lkey=? AND at >= ?`, key, unix(since)).Scan(&n)
	return n, err
}

// AddLoginFailure records one failed login (and drops day-old records).
func (s *Store) AddLoginFailure(ctx context.Context, key string) error {
	now := time.Now()
	return s.tx(ctx, func(t *txn) error {
		if _, err := t.exec(ctx, `INSERT INTO login_failures(lkey, at) VALUES(?,?)`, key, unix(now)); err != nil {
			return err
		}
		_, err := t.exec(ctx, `DELETE FROM login_failures WHERE at < ?`, unix(now.Add(-24*time.Hour)))
		return err
	})
}

// ClearLoginFailures forgets failures after a successful login.
func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	_, err := s.exec(ctx, `DELETE FROM login_failures WHERE lkey=?`, key)
	return err
}

// AuditEntry is one staff action.
type AuditEntry struct {
	At     time.Time
	User   string
	Action string
	Target string
	Detail string
}

// Audit records a staff action. Callers log every state-changing action
// (and logins) before answering.
func (s *Store) Audit(ctx context.Context, user, action, target, detail string) error {
	_, err := s.exec(ctx, `INSERT INTO audit(at, user_name, action, target, detail) VALUES(?,?,?,?,?)`,
		unix(time.Now()), user, action, target, detail)
	if err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// ListAudit returns the newest entries first.
func (s *Store) ListAudit(ctx context.Context, limit int) ([]AuditEntry, error) {
	rows, err := s.query(ctx, `SELECT at, user_name, action, target, detail FROM audit ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&at, &e.User, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, err
		}
		e.At = time.Unix(at, 0).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// CreateEnrollmentCodes makes n single-use codes; only hashes are stored.
func (s *Store) CreateEnrollmentCodes(ctx context.Context, n int, by string) ([]string, error) {
	codes := make([]string, n)
	err := s.tx(ctx, func(t *txn) error {
		for i := range codes {
			c := randomToken(10) // 80 bits, 16 base32 characters
			codes[i] = c[:4] + "-" + c[4:8] + "-" + c[8:12] + "-" + c[12:16]
			if _, err := t.exec(ctx, `INSERT INTO enrollment_codes(code_hash, created_at, created_by) VALUES(?,?,?)`,
				hashSecret(normCode(codes[i])), unix(time.Now()), by); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: enrollment codes: %w", err)
	}
	return codes, nil
}

// normCode lets staff type a code with or without dashes, any case.
func normCode(c string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(c), "-", ""))
}
