package api

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// DeviceSignatureHeader carries a device call's credential: the
// lower-case hex HMAC-SHA256 of the request body keyed by the device's
// secret (see Sign). The secret itself never travels, and a body changed
// on the way no longer matches.
const DeviceSignatureHeader = "X-Device-Signature"

// MinTokenBytes is the shortest API token Tokens accepts: a token is a
// password, and short ones are guessed.
const MinTokenBytes = 16

// Tokens maps API clients' bearer tokens to the one account each may act
// for. It keeps only the tokens' SHA-256, so a lookup's timing says
// nothing about the tokens it holds. An account may have several tokens.
// Build it with ParseTokens or Add; it is safe for concurrent use.
type Tokens struct {
	mu      sync.RWMutex
	account map[[sha256.Size]byte]string
}

// ConfigError is a refused line of a token, device-secret or
// subscription file (Line is 1-based), a refused entry of a catalog file
// (Field names it, as "acme[0].softwareTo"), or a token Tokens.Add
// refused (neither); Reason says what is wrong, without the token.
type ConfigError struct {
	Line   int
	Field  string
	Reason string
}

// Error names the line or the entry and the reason, never the token.
func (e *ConfigError) Error() string {
	switch {
	case e.Field != "":
		return e.Field + ": " + e.Reason
	case e.Line == 0:
		return "token: " + e.Reason
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
}

// Add lets token act for account. A token shorter than MinTokenBytes,
// holding spaces or control characters, or already given to another
// account is a *ConfigError; an empty account too.
func (t *Tokens) Add(token, account string) error {
	switch {
	case len(token) < MinTokenBytes:
		return &ConfigError{Reason: fmt.Sprintf("a token needs at least %d bytes", MinTokenBytes)}
	case strings.IndexFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
		return &ConfigError{Reason: "a token may not hold spaces or control characters"}
	case account == "" || checkText("account", account, DefaultMaxStringBytes) != nil:
		return &ConfigError{Reason: fmt.Sprintf("account %q is not an account name", account)}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.account == nil {
		t.account = map[[sha256.Size]byte]string{}
	}
	key := sha256.Sum256([]byte(token))
	if other, ok := t.account[key]; ok && other != account {
		return &ConfigError{Reason: "the token is already given to account " + other}
	}
	t.account[key] = account
	return nil
}

// Account returns the account token acts for.
func (t *Tokens) Account(token string) (string, bool) {
	if t == nil {
		return "", false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	acc, ok := t.account[sha256.Sum256([]byte(token))]
	return acc, ok
}

// ParseTokens reads a token file: one "TOKEN ACCOUNT" per line, fields
// separated by spaces or tabs; blank lines and lines starting with # are
// skipped. A bad line is a *ConfigError naming it (not the token).
func ParseTokens(r io.Reader) (*Tokens, error) {
	t := &Tokens{}
	err := eachLine(r, func(line int, fields []string) error {
		if len(fields) != 2 {
			return &ConfigError{Line: line, Reason: fmt.Sprintf("want TOKEN ACCOUNT, got %d fields", len(fields))}
		}
		if err := t.Add(fields[0], fields[1]); err != nil {
			return &ConfigError{Line: line, Reason: err.(*ConfigError).Reason}
		}
		return nil
	})
	return t, err
}

// eachLine calls fn with the fields of every line of r that is neither
// blank nor a # comment.
func eachLine(r io.Reader, fn func(line int, fields []string) error) error {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if err := fn(n, strings.Fields(text)); err != nil {
			return err
		}
	}
	return sc.Err()
}

// DeviceSecrets holds each device's secret, the key of the HMAC its
// calls carry. found is false for a device without one, which cannot
// call at all.
type DeviceSecrets interface {
	Secret(ctx context.Context, deviceID string) (secret []byte, found bool, err error)
}

// MemorySecrets is a DeviceSecrets in memory, safe for concurrent use.
type MemorySecrets struct {
	mu     sync.RWMutex
	secret map[string][]byte
}

// NewMemorySecrets returns an empty MemorySecrets.
func NewMemorySecrets() *MemorySecrets { return &MemorySecrets{secret: map[string][]byte{}} }

// Put sets a device's secret; an empty secret removes it.
func (s *MemorySecrets) Put(deviceID string, secret []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(secret) == 0 {
		delete(s.secret, deviceID)
		return
	}
	s.secret[deviceID] = append([]byte(nil), secret...)
}

// Secret returns the device's secret.
func (s *MemorySecrets) Secret(_ context.Context, deviceID string) ([]byte, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.secret[deviceID]
	return b, ok, nil
}

// ParseSecrets reads a device-secret file: one "DEVICE SECRET" per line,
// the secret taken as its bytes; blank lines and # comments are skipped.
// A bad line is a *ConfigError naming it.
func ParseSecrets(r io.Reader) (*MemorySecrets, error) {
	s := NewMemorySecrets()
	err := eachLine(r, func(line int, fields []string) error {
		if len(fields) != 2 {
			return &ConfigError{Line: line, Reason: fmt.Sprintf("want DEVICE SECRET, got %d fields", len(fields))}
		}
		if len(fields[1]) < MinTokenBytes {
			return &ConfigError{Line: line, Reason: fmt.Sprintf("a device secret needs at least %d bytes", MinTokenBytes)}
		}
		s.Put(fields[0], []byte(fields[1]))
		return nil
	})
	return s, err
}

// Sign is the DeviceSignatureHeader value for body sent by the device
// whose secret is secret.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// authenticate checks a ThingSpace call's bearer token for the path's
// account: none or an unknown one is 401, another account's is 403.
func (s *server) authenticate(r *http.Request, acc string) error {
	owner, err := s.tokenAccount(r)
	if err != nil {
		return err
	}
	if !s.opts.Insecure && owner != acc {
		s.log.Info("api: token of another account", "account", acc, "tokenAccount", owner)
		return errForbidden
	}
	return nil
}

// tokenAccount returns the account a ThingSpace call's bearer token acts
// for ("" when the server is insecure): none or an unknown one is 401.
// ThingSpace's clients also send VZ-M2M-Token, a session token from a
// login route this server does not serve; it is accepted and not read.
func (s *server) tokenAccount(r *http.Request) (string, error) {
	if s.opts.Insecure {
		return "", nil
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", errUnauthorized
	}
	owner, ok := s.opts.Tokens.Account(strings.TrimSpace(token))
	if !ok {
		s.log.Info("api: unknown token", "path", r.URL.Path)
		return "", errUnauthorized
	}
	return owner, nil
}

// authDevice checks that body carries the HMAC of deviceID's secret.
// An unknown device, a missing signature and a wrong one are alike 401,
// so a caller learns nothing of which devices exist.
func (s *server) authDevice(r *http.Request, deviceID string, body []byte) error {
	if s.opts.Insecure {
		return nil
	}
	refuse := func(why string) error {
		s.log.Info("api: device credentials refused", "device", deviceID, "why", why)
		return errUnauthorized
	}
	if s.opts.Secrets == nil {
		return refuse("no device secrets configured")
	}
	secret, found, err := s.opts.Secrets.Secret(r.Context(), deviceID)
	if err != nil {
		return err
	}
	if !found {
		return refuse("no secret")
	}
	got, err := hex.DecodeString(r.Header.Get(DeviceSignatureHeader))
	if err != nil || len(got) != sha256.Size {
		return refuse("missing or malformed " + DeviceSignatureHeader)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return refuse("wrong signature")
	}
	return nil
}
