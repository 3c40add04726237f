package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/fotakit/fota"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver Open takes
)

// Defaults of Options.
const (
	DefaultSchema     = "fota"
	DefaultMaxRetries = 100
	DefaultMaxBackoff = 100 * time.Millisecond
)

// Options configure a Store. The zero value is valid: every field has a
// default.
type Options struct {
	// Schema is the PostgreSQL schema holding the store's tables, so that
	// several stores (or a host's own tables) share one database. Default
	// "fota". Any name PostgreSQL accepts as an identifier: 1 to 63 bytes
	// of UTF-8 without NUL; it is quoted, so case and punctuation are kept.
	Schema string
	// MaxRetries is how many times a transaction is run again after a
	// failure that a new attempt may not meet (see Retryable) before the
	// store gives up with a *ConflictError. 0 means DefaultMaxRetries; a
	// negative value means never retry.
	MaxRetries int
	// MaxBackoff bounds the random pause before each retry: the bound
	// doubles from 1 ms with every retry of one transaction, up to
	// MaxBackoff. 0 means DefaultMaxBackoff; a negative value means no
	// pause.
	MaxBackoff time.Duration
}

// Store is a fota.Store on PostgreSQL through pgx, over pgx's connection
// pool (OpenPool) or database/sql with pgx's driver (Open). It is safe for
// concurrent use, and any number of Stores, in one process or in several
// server replicas, may share one schema.
type Store struct {
	pool       *pgxpool.Pool // nil when opened over database/sql
	db         *sql.DB
	schema     string // as given
	lockClass  int32  // the advisory lock class of the schema's deadlines
	q          queries
	maxRetries int
	maxBackoff time.Duration

	transactions  atomic.Uint64
	retries       atomic.Uint64
	conflicts     atomic.Uint64
	maxAttempts   atomic.Uint64
	commitUnknown atomic.Uint64
	lockWaits     atomic.Uint64
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

// ErrConflict is matched by the error a transaction returns when it kept
// failing with retryable errors after every retry.
var ErrConflict = errors.New("sqlstore: transaction kept failing")

// ConflictError reports a transaction given up after Attempts runs, each
// ended by a retryable failure (see Retryable). It unwraps to the last
// one.
type ConflictError struct {
	Attempts int
	SQLState string // of the last failure ("" for a lost connection)
	Err      error
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("sqlstore: transaction failed %d times (SQLSTATE %s): %v", e.Attempts, e.SQLState, e.Err)
}

// Is matches ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Unwrap returns the last failure.
func (e *ConflictError) Unwrap() error { return e.Err }

// ErrCommitUnknown is matched by the error of a transaction whose COMMIT
// was sent but whose answer never came (the connection broke): the
// transaction may have committed or not. The store does not run it again,
// as a second run could apply it twice; the host finds out by reading
// (a device's state, a campaign's status) or repeats an operation the
// Manager recognises when repeated (reports, confirmations).
var ErrCommitUnknown = errors.New("sqlstore: commit outcome unknown")

// CommitUnknownError reports a transaction whose commit outcome is
// unknown. It unwraps to the connection's error.
type CommitUnknownError struct {
	Err error
}

func (e *CommitUnknownError) Error() string {
	return "sqlstore: the connection broke during COMMIT, which may or may not have applied: " + e.Err.Error()
}

// Is matches ErrCommitUnknown.
func (e *CommitUnknownError) Is(target error) bool { return target == ErrCommitUnknown }

// Unwrap returns the connection's error.
func (e *CommitUnknownError) Unwrap() error { return e.Err }

// ErrTxDone is returned by a Tx used after the function it was passed to
// returned.
var ErrTxDone = errors.New("sqlstore: transaction used after its function returned")

// OpenPool returns a Store over pool, a pgx connection pool
// (pgxpool.New(ctx, url)). It checks the options and that the database
// answers; it creates nothing: call Migrate once before the first
// transaction.
func OpenPool(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Store, error) {
	if pool == nil {
		return nil, &OptionError{Field: "pool", Value: "<nil>", Reason: "a connection pool is required"}
	}
	return open(ctx, &Store{pool: pool}, opts, pool.Ping)
}

// Open returns a Store over db, a database/sql pool opened with pgx's
// driver (sql.Open("pgx", url): importing this package registers it).
// Each transaction runs on the driver's own pgx connection, so the store
// works as over OpenPool's pool; another driver is refused at the first
// transaction. It checks the options and that the database answers; it
// creates nothing: call Migrate once before the first transaction.
func Open(ctx context.Context, db *sql.DB, opts Options) (*Store, error) {
	if db == nil {
		return nil, &OptionError{Field: "db", Value: "<nil>", Reason: "a database pool is required"}
	}
	return open(ctx, &Store{db: db}, opts, db.PingContext)
}

func open(ctx context.Context, s *Store, opts Options, ping func(context.Context) error) (*Store, error) {
	s.schema, s.maxRetries, s.maxBackoff = opts.Schema, opts.MaxRetries, opts.MaxBackoff
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
	if err := ping(ctx); err != nil {
		return nil, fmt.Errorf("sqlstore: database unreachable: %w", err)
	}
	s.q = buildQueries(quoteIdent(s.schema))
	s.lockClass = lockClassOf(s.schema)
	return s, nil
}

// ErrNotPgx is returned by the transactions of a Store opened over a
// database/sql pool whose driver is not pgx's.
var ErrNotPgx = errors.New("sqlstore: the database/sql pool's driver is not pgx's (sql.Open(\"pgx\", url))")

// withConn runs f on a connection of the store's pool: the connection is
// the pool's again when f returns (closed by the pool if f left it in a
// transaction or broken).
func (s *Store) withConn(ctx context.Context, f func(*pgx.Conn) error) error {
	if s.pool != nil {
		pc, err := s.pool.Acquire(ctx)
		if err != nil {
			return &connError{err}
		}
		defer pc.Release()
		return f(pc.Conn())
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return &connError{err}
	}
	defer c.Close()
	var ferr error
	err = c.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return ErrNotPgx
		}
		ferr = f(sc.Conn())
		if sc.Conn().IsClosed() {
			return driver.ErrBadConn // database/sql drops the connection
		}
		return nil
	})
	if ferr != nil {
		return ferr
	}
	if errors.Is(err, driver.ErrBadConn) {
		return nil
	}
	return err
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

// lockClassOf is the first key of the advisory locks Due takes on a
// schema's deadlines, so that two schemas' ticks never skip each other's.
func lockClassOf(schema string) int32 {
	h := fnv.New32a()
	h.Write([]byte("github.com/fotakit/fota/sqlstore deadlines:" + schema))
	return int32(h.Sum32())
}

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// Schema returns the schema holding the store's tables.
func (s *Store) Schema() string { return s.schema }

// Stats counts what the store's transactions did since Open.
type Stats struct {
	// Transactions is how many Update, UpdateDevice and View calls ran.
	Transactions uint64
	// Retries is how many times a transaction ran again after a
	// retryable failure.
	Retries uint64
	// Conflicts is how many transactions gave up with a *ConflictError.
	Conflicts uint64
	// MaxAttempts is the most runs one transaction took: a figure near
	// MaxRetries+1 says the limit is close to failing transactions.
	MaxAttempts uint64
	// CommitUnknown is how many transactions ended with a
	// *CommitUnknownError.
	CommitUnknown uint64
	// LockWaits is how many device transactions found their member row
	// held by another transaction and waited for it (see the package
	// doc); not retries: the function had not run yet.
	LockWaits uint64
}

// Stats returns the counters, for a host's metrics.
func (s *Store) Stats() Stats {
	return Stats{
		Transactions: s.transactions.Load(), Retries: s.retries.Load(), Conflicts: s.conflicts.Load(),
		MaxAttempts: s.maxAttempts.Load(), CommitUnknown: s.commitUnknown.Load(), LockWaits: s.lockWaits.Load(),
	}
}

// Update runs fn in a SERIALIZABLE read-write transaction and commits it
// if fn returns nil. A retryable failure (see Retryable), reported by any
// statement or by the commit, rolls the transaction back and runs fn
// again in a new one, up to MaxRetries times: fn must be safe to re-run
// (the Manager's functions are). A cancelled or expired ctx returns
// ctx.Err() without running fn.
func (s *Store) Update(ctx context.Context, fn func(fota.Tx) error) error {
	return s.run(ctx, func(c *pgtx) error {
		t := newTx(s, c, false)
		defer t.close()
		if err := fn(t); err != nil {
			return t.result(err)
		}
		if t.c.failed != nil {
			return t.c.failed
		}
		return t.commit()
	}, modeUpdate)
}

// View runs fn in a REPEATABLE READ READ ONLY transaction: one consistent
// snapshot, which never waits and never fails to serialize. Writes
// through its Tx fail with fota.ErrReadOnly.
func (s *Store) View(ctx context.Context, fn func(fota.Tx) error) error {
	return s.run(ctx, func(c *pgtx) error {
		t := newTx(s, c, true)
		defer t.close()
		err := fn(t)
		return t.result(err)
	}, modeView)
}

// UpdateDevice runs fn in a short READ COMMITTED transaction over one
// device's records: see the package doc for how it locks and what it
// sends. Retries are as Update's.
func (s *Store) UpdateDevice(ctx context.Context, deviceID string, fn func(fota.DeviceTx) error) error {
	return s.run(ctx, func(c *pgtx) error {
		d := newDevTx(s, c, deviceID)
		defer d.close()
		if err := fn(d); err != nil {
			return d.result(err)
		}
		if d.c.failed != nil {
			return d.c.failed
		}
		return d.commit()
	}, modeDevice)
}

// txMode is the kind of a transaction, and the BEGIN it starts with.
type txMode uint8

const (
	modeUpdate txMode = iota
	modeView
	modeDevice
)

var beginOf = [...]string{
	modeUpdate: "begin isolation level serializable",
	modeView:   "begin isolation level repeatable read read only",
	modeDevice: "begin isolation level read committed",
}

// run acquires a connection, runs one attempt, and retries as Retryable
// says, with a jittered pause.
func (s *Store) run(ctx context.Context, attempt func(*pgtx) error, mode txMode) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.transactions.Add(1)
	for n := 0; ; n++ {
		err := s.once(ctx, attempt, mode)
		if err == nil {
			s.noteAttempts(n + 1)
			return nil
		}
		if errors.Is(err, ErrCommitUnknown) {
			s.noteAttempts(n + 1)
			s.commitUnknown.Add(1)
			return err
		}
		state, retry := retryable(err)
		if cerr := ctx.Err(); cerr != nil && (retry || errors.Is(err, cerr)) {
			s.noteAttempts(n + 1)
			return cerr
		}
		if !retry {
			s.noteAttempts(n + 1)
			return err
		}
		if n >= s.maxRetries {
			s.noteAttempts(n + 1)
			s.conflicts.Add(1)
			return &ConflictError{Attempts: n + 1, SQLState: state, Err: err}
		}
		s.retries.Add(1)
		if err := s.pause(ctx, n); err != nil {
			return err
		}
	}
}

// once runs one attempt on a connection of its own.
func (s *Store) once(ctx context.Context, attempt func(*pgtx) error, mode txMode) error {
	return s.withConn(ctx, func(conn *pgx.Conn) error {
		c := &pgtx{ctx: ctx, conn: conn, begin: beginOf[mode], ro: mode == modeView}
		defer func() {
			if p := recover(); p != nil {
				c.rollback()
				panic(p)
			}
			c.rollback() // a no-op once committed
		}()
		return attempt(c)
	})
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

// pause waits a random time before retry attempt+1, bounded by 1 ms
// doubled per attempt and by MaxBackoff.
func (s *Store) pause(ctx context.Context, attempt int) error {
	if s.maxBackoff == 0 {
		return ctx.Err()
	}
	d := backoff(attempt+1, s.maxBackoff, rand.Int64N)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// backoff is the pause before retry attempt: uniform in [0, bound) where
// bound is 1 ms << (attempt-1), at most max. rnd(n) draws from [0, n).
func backoff(attempt int, max time.Duration, rnd func(int64) int64) time.Duration {
	bound := max
	if shift := attempt - 1; shift >= 0 && shift < 30 {
		if b := time.Millisecond << shift; b < max {
			bound = b
		}
	}
	if bound <= 0 {
		return 0
	}
	return time.Duration(rnd(int64(bound)))
}

// sqlStater is the method by which drivers expose an error's SQLSTATE
// (pgx's *pgconn.PgError).
type sqlStater interface{ SQLState() string }

// Retryable reports whether a transaction that failed with err may be run
// again from the start, and the SQLSTATE when the server sent one:
//
//   - 40001 serialization_failure and 40P01 deadlock_detected: another
//     transaction won; a new attempt reads what it wrote;
//   - 53200 out_of_memory (PostgreSQL's "out of shared memory" when its
//     lock tables are full), 53300 too_many_connections, 53400
//     configuration_limit_exceeded, 55P03 lock_not_available: the
//     server was short of locks, memory or connections for a moment;
//   - 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03
//     cannot_connect_now, class 08 (connection exceptions) and a
//     connection that broke before COMMIT was sent: the server rolled the
//     transaction back, and another connection may reach it.
//
// A connection that broke after COMMIT was sent is not retryable: that
// is a *CommitUnknownError.
func Retryable(err error) (sqlState string, ok bool) { return retryable(err) }

func retryable(err error) (string, bool) {
	if err == nil {
		return "", false
	}
	var e sqlStater
	if errors.As(err, &e) {
		switch st := e.SQLState(); {
		case st == "40001", st == "40P01", st == "53200", st == "53300", st == "53400", st == "55P03",
			st == "57P01", st == "57P02", st == "57P03", strings.HasPrefix(st, "08"):
			return st, true
		}
		return "", false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "", false
	}
	var ce *connError
	if errors.As(err, &ce) {
		return "", true
	}
	return "", false
}

// connError marks an error met when the connection broke (or could not be
// had) before the transaction's COMMIT was sent: nothing was applied.
type connError struct{ err error }

func (e *connError) Error() string { return "sqlstore: connection lost: " + e.err.Error() }
func (e *connError) Unwrap() error { return e.err }

// pgtx is one transaction on one connection, begun lazily: the BEGIN
// travels with the transaction's first statement, in one round trip.
type pgtx struct {
	ctx       context.Context
	conn      *pgx.Conn
	begin     string
	began     bool
	ro        bool
	committed bool
	// failed is the first error: once a statement failed, PostgreSQL
	// refuses every later one in the transaction.
	failed error
}

// fail records err (as a connError when the connection broke) and
// returns it.
func (c *pgtx) fail(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) && c.conn.IsClosed() && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		err = &connError{err}
	}
	if c.failed == nil {
		c.failed = err
	}
	return err
}

// batch sends the queued statements, preceded by BEGIN when the
// transaction has not begun, in one round trip, and returns the results
// to read in order (the BEGIN's already read).
func (c *pgtx) send(b *pgx.Batch) (pgx.BatchResults, error) {
	if c.failed != nil {
		return nil, c.failed
	}
	if !c.began {
		nb := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(b.QueuedQueries)+1)}
		nb.Queue(c.begin)
		nb.QueuedQueries = append(nb.QueuedQueries, b.QueuedQueries...)
		b = nb
	}
	br := c.conn.SendBatch(c.ctx, b)
	if !c.began {
		c.began = true
		if _, err := br.Exec(); err != nil {
			br.Close()
			return nil, c.fail(err)
		}
	}
	return br, nil
}

// exec runs one statement.
func (c *pgtx) exec(sql string, args ...any) (pgconn.CommandTag, error) {
	if c.failed != nil {
		return pgconn.CommandTag{}, c.failed
	}
	if c.began {
		tag, err := c.conn.Exec(c.ctx, sql, args...)
		return tag, c.fail(err)
	}
	var b pgx.Batch
	b.Queue(sql, args...)
	br, err := c.send(&b)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, c.fail(err)
}

// query runs one statement and calls scan for each row.
func (c *pgtx) query(sql string, args []any, scan func(pgx.Rows) error) error {
	if c.failed != nil {
		return c.failed
	}
	var rows pgx.Rows
	var br pgx.BatchResults
	if c.began {
		var err error
		if rows, err = c.conn.Query(c.ctx, sql, args...); err != nil {
			return c.fail(err)
		}
	} else {
		var b pgx.Batch
		b.Queue(sql, args...)
		var err error
		if br, err = c.send(&b); err != nil {
			return err
		}
		rows, _ = br.Query()
	}
	err := func() error {
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}()
	if br != nil {
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}
	return c.fail(err)
}

// ensureBegun sends the BEGIN alone if no statement has (COPY cannot
// travel in a batch).
func (c *pgtx) ensureBegun() error {
	if c.began {
		return c.failed
	}
	if c.failed != nil {
		return c.failed
	}
	_, err := c.conn.Exec(c.ctx, c.begin)
	c.began = true
	return c.fail(err)
}

// commit sends the queued writes and COMMIT in one round trip. A
// connection that breaks once they are sent leaves the outcome unknown.
func (c *pgtx) commit(b *pgx.Batch) error {
	if c.failed != nil {
		return c.failed
	}
	if !c.began && b.Len() == 0 {
		c.committed = true
		return nil // nothing was read or written: nothing to commit
	}
	n := b.Len()
	b.Queue("commit")
	br, err := c.send(b)
	if err != nil {
		return err
	}
	for i := 0; i <= n; i++ {
		if _, err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		c.committed = true
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return c.fail(err) // the server refused: rolled back
	}
	if pgconn.SafeToRetry(err) {
		return c.fail(&connError{err}) // never sent
	}
	c.committed = true // nothing left to roll back on this connection
	if c.ro {
		return c.fail(&connError{err}) // a read-only transaction applied nothing
	}
	return &CommitUnknownError{Err: err}
}

// rollback ends an open transaction, if any. A connection that cannot
// roll back is closed, and the pool drops it.
func (c *pgtx) rollback() {
	if !c.began || c.committed || c.conn.IsClosed() {
		return
	}
	c.committed = true
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 5*time.Second)
	defer cancel()
	if _, err := c.conn.Exec(ctx, "rollback"); err != nil {
		_ = c.conn.Close(ctx)
	}
}

// restart rolls the transaction back and lets the next statement begin a
// new one.
func (c *pgtx) restart() error {
	if c.began {
		if _, err := c.conn.Exec(c.ctx, "rollback"); err != nil {
			c.failed = nil
			return c.fail(err)
		}
	}
	c.began, c.failed = false, nil
	return nil
}
