package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/fotakit/fota"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver the store is tested with
)

// Defaults of Options.
const (
	DefaultSchema     = "fota"
	DefaultMaxRetries = 1000
	DefaultMaxBackoff = 20 * time.Millisecond
)

// Options configure a Store. The zero value is valid: every field has a
// default.
type Options struct {
	// Schema is the PostgreSQL schema holding the store's tables, so that
	// several stores (or a host's own tables) share one database. Default
	// "fota". Any name PostgreSQL accepts as an identifier: 1 to 63 bytes
	// of UTF-8 without NUL; it is quoted, so case and punctuation are kept.
	Schema string
	// MaxRetries is how many times Update re-runs its function after a
	// serialization failure (SQLSTATE 40001) or a deadlock (40P01) before
	// giving up with a *ConflictError. 0 means DefaultMaxRetries; a
	// negative value means never retry.
	MaxRetries int
	// MaxBackoff bounds the random pause before each retry (the bound
	// doubles from 100µs with every retry of one Update, up to MaxBackoff).
	// 0 means DefaultMaxBackoff; a negative value means no pause.
	MaxBackoff time.Duration
}

// Store is a fota.Store on PostgreSQL through database/sql. It is safe for
// concurrent use, and any number of Stores, in one process or in several
// server replicas, may share one schema.
type Store struct {
	db         *sql.DB
	schema     string // as given
	q          queries
	maxRetries int
	maxBackoff time.Duration

	retries     atomic.Uint64
	conflicts   atomic.Uint64
	maxAttempts atomic.Uint64
}

// ErrBadOption is matched by every error Open returns for bad Options.
var ErrBadOption = errors.New("sqlstore: bad option")

// OptionError names the option and the value Open refused.
type OptionError struct {
	Field  string
	Value  string
	Reason string
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("sqlstore: option %s %q: %s", e.Field, e.Value, e.Reason)
}

// Is matches ErrBadOption.
func (e *OptionError) Is(target error) bool { return target == ErrBadOption }

// ErrConflict is matched by the error Update returns when its
// transaction kept failing to serialize after every retry.
var ErrConflict = errors.New("sqlstore: transaction kept conflicting")

// ConflictError reports an Update given up after Attempts runs, each
// ended by a serialization failure or a deadlock. It unwraps to the last
// database error.
type ConflictError struct {
	Attempts int
	SQLState string // of the last failure: 40001 or 40P01
	Err      error
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("sqlstore: transaction conflicted %d times (SQLSTATE %s): %v", e.Attempts, e.SQLState, e.Err)
}

// Is matches ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Unwrap returns the last database error.
func (e *ConflictError) Unwrap() error { return e.Err }

// ErrTxDone is returned by a Tx used after the function it was passed to
// returned.
var ErrTxDone = errors.New("sqlstore: transaction used after its function returned")

// Open returns a Store over db, a pool opened with a PostgreSQL driver
// (sql.Open("pgx", url); importing this package registers pgx's driver).
// It checks the options and that the database answers; it creates
// nothing: call Migrate once before the first transaction.
func Open(ctx context.Context, db *sql.DB, opts Options) (*Store, error) {
	if db == nil {
		return nil, &OptionError{Field: "db", Value: "<nil>", Reason: "a database pool is required"}
	}
	s := &Store{db: db, schema: opts.Schema, maxRetries: opts.MaxRetries, maxBackoff: opts.MaxBackoff}
	if s.schema == "" {
		s.schema = DefaultSchema
	}
	if err := checkSchema(s.schema); err != nil {
		return nil, err
	}
	switch {
	case s.maxRetries == 0:
		s.maxRetries = DefaultMaxRetries
	case s.maxRetries < 0:
		s.maxRetries = 0
	}
	switch {
	case s.maxBackoff == 0:
		s.maxBackoff = DefaultMaxBackoff
	case s.maxBackoff < 0:
		s.maxBackoff = 0
	}
	if err := db.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("sqlstore: database unreachable: %w", err)
	}
	s.q = buildQueries(quoteIdent(s.schema))
	return s, nil
}

// checkSchema refuses a name PostgreSQL would truncate or refuse.
func checkSchema(name string) error {
	switch {
	case len(name) > 63:
		return &OptionError{Field: "Schema", Value: name, Reason: "longer than PostgreSQL's 63-byte identifiers"}
	case !utf8.ValidString(name):
		return &OptionError{Field: "Schema", Value: name, Reason: "not valid UTF-8"}
	case strings.ContainsRune(name, 0):
		return &OptionError{Field: "Schema", Value: name, Reason: "contains NUL"}
	}
	return nil
}

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// Schema returns the schema holding the store's tables.
func (s *Store) Schema() string { return s.schema }

// Stats counts what the store's retry loop did since Open.
type Stats struct {
	// Retries is how many times an Update re-ran its function after a
	// serialization failure or deadlock.
	Retries uint64
	// Conflicts is how many Updates gave up with a *ConflictError.
	Conflicts uint64
	// MaxAttempts is the most runs one Update took: a figure near
	// MaxRetries+1 says the limit is close to failing Updates.
	MaxAttempts uint64
}

// Stats returns the retry counters, for a host's metrics.
func (s *Store) Stats() Stats {
	return Stats{Retries: s.retries.Load(), Conflicts: s.conflicts.Load(), MaxAttempts: s.maxAttempts.Load()}
}

// Update runs fn in a SERIALIZABLE read-write transaction and commits it
// if fn returns nil. A serialization failure or deadlock, reported by any
// statement or by the commit, rolls the transaction back and runs fn
// again in a new one, up to MaxRetries times: fn must be safe to re-run
// (the Manager's functions reset what they gathered). A cancelled or
// expired ctx returns ctx.Err() without running fn.
func (s *Store) Update(ctx context.Context, fn func(fota.Tx) error) error {
	return s.run(ctx, false, fn)
}

// View runs fn in a REPEATABLE READ READ ONLY transaction: one consistent
// snapshot, which never waits and never fails to serialize. Writes
// through its Tx fail with fota.ErrReadOnly.
func (s *Store) View(ctx context.Context, fn func(fota.Tx) error) error {
	return s.run(ctx, true, fn)
}

var (
	updateOptions = &sql.TxOptions{Isolation: sql.LevelSerializable}
	viewOptions   = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
)

func (s *Store) run(ctx context.Context, ro bool, fn func(fota.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err := s.attempt(ctx, ro, fn)
		state, retry := retryable(err)
		if !retry {
			s.noteAttempts(attempt + 1)
			return err
		}
		if attempt >= s.maxRetries {
			s.noteAttempts(attempt + 1)
			s.conflicts.Add(1)
			return &ConflictError{Attempts: attempt + 1, SQLState: state, Err: err}
		}
		s.retries.Add(1)
		if err := s.pause(ctx, attempt); err != nil {
			return err
		}
	}
}

// noteAttempts raises MaxAttempts to n.
func (s *Store) noteAttempts(n int) {
	for {
		old := s.maxAttempts.Load()
		if uint64(n) <= old || s.maxAttempts.CompareAndSwap(old, uint64(n)) {
			return
		}
	}
}

// pause waits a random time before retry attempt+1, bounded by 100µs
// doubled per attempt and by MaxBackoff; the first retry does not wait
// (PostgreSQL's advice: an immediate retry of the loser usually wins).
func (s *Store) pause(ctx context.Context, attempt int) error {
	if attempt == 0 || s.maxBackoff == 0 {
		return ctx.Err()
	}
	d := backoff(attempt, s.maxBackoff, rand.Int64N)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// backoff is the pause before retry attempt+1: uniform in [0, bound)
// where bound is 100µs << (attempt-1), at most max. rnd(n) draws from
// [0, n).
func backoff(attempt int, max time.Duration, rnd func(int64) int64) time.Duration {
	bound := max
	if shift := attempt - 1; shift < 30 {
		if b := 100 * time.Microsecond << shift; b < max {
			bound = b
		}
	}
	if bound <= 0 {
		return 0
	}
	return time.Duration(rnd(int64(bound)))
}

// sqlStater is the method by which drivers expose an error's SQLSTATE
// (pgx's *pgconn.PgError, lib/pq's *pq.Error).
type sqlStater interface{ SQLState() string }

// retryable reports whether err is a serialization failure or a
// deadlock, and its SQLSTATE.
func retryable(err error) (string, bool) {
	var e sqlStater
	if err == nil || !errors.As(err, &e) {
		return "", false
	}
	switch st := e.SQLState(); st {
	case "40001", "40P01":
		return st, true
	}
	return "", false
}

// attempt runs fn in one database transaction.
func (s *Store) attempt(ctx context.Context, ro bool, fn func(fota.Tx) error) (err error) {
	opts := updateOptions
	if ro {
		opts = viewOptions
	}
	stx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	t := &tx{s: s, ctx: ctx, tx: stx, ro: ro}
	defer func() {
		t.done = true
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
	}()
	err = fn(t)
	if t.failed != nil {
		// The database aborted the transaction: whatever fn made of the
		// failure, a serialization failure must reach the retry loop.
		_ = stx.Rollback()
		if _, retry := retryable(t.failed); retry || err == nil {
			return t.failed
		}
		return err
	}
	if err != nil {
		_ = stx.Rollback()
		return err
	}
	if ro {
		// Nothing to commit; ending a read-only transaction either way
		// is the same, and rollback cannot fail to serialize.
		return stx.Rollback()
	}
	return stx.Commit()
}
