package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// The tests need PostgreSQL: the database at FOTA_PG_URL, by default
// postgres://postgres@127.0.0.1:5432/test (trust authentication). When it
// does not answer, a test fails if CI is set (CI must run them) and is
// skipped, saying so, otherwise (a developer without PostgreSQL).
const defaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// urlVar is the environment variable naming the test database.
const urlVar = "FOTA_PG_URL"

func pgURL() string {
	if u := os.Getenv(urlVar); u != "" {
		return u
	}
	return defaultURL
}

// unreachable fails the test under CI and skips it elsewhere, naming the
// variable that points the tests at a database.
func unreachable(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatalf("PostgreSQL at %s does not answer (%v); CI is set, so sqlstore's tests fail rather than skip", pgURL(), err)
	}
	tb.Skipf("PostgreSQL at %s does not answer (%v): set %s to a PostgreSQL database the tests may create schemas in to run sqlstore's tests", pgURL(), err, urlVar)
}

// poolConfig is the tests' pool configuration; commits need not wait for
// the disk in tests (isolation and visibility are the same, and a commit
// costs a tenth).
func poolConfig(tb testing.TB) *pgxpool.Config {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(pgURL())
	if err != nil {
		tb.Fatalf("%s %q: %v", urlVar, pgURL(), err)
	}
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	cfg.MaxConns = 16
	return cfg
}

// openPool opens a pool of its own, closed when the test ends; a database
// that does not answer within ten seconds fails or skips the test (see
// unreachable).
func openPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	return openPoolWith(tb, poolConfig(tb))
}

func openPoolWith(tb testing.TB, cfg *pgxpool.Config) *pgxpool.Pool {
	tb.Helper()
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pool.Ping(ctx); err != nil {
		unreachable(tb, err)
	}
	return pool
}

// newSchemaName returns a random schema name, so that tests and test
// binaries running at once never share tables.
func newSchemaName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "fota_test_" + hex.EncodeToString(b[:])
}

// newStore opens a migrated store in a fresh schema of its own, dropped
// when the test ends.
func newStore(tb testing.TB, pool *pgxpool.Pool, opts Options) *Store {
	tb.Helper()
	if opts.Schema == "" {
		opts.Schema = newSchemaName()
	}
	ctx := context.Background()
	s, err := OpenPool(ctx, pool, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { dropSchema(tb, pool, s.Schema()) })
	if err := s.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return s
}

func dropSchema(tb testing.TB, pool *pgxpool.Pool, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := pool.Exec(ctx, `DROP SCHEMA IF EXISTS `+quoteIdent(schema)+` CASCADE`); err != nil {
		tb.Errorf("dropping schema %s: %v", schema, err)
	}
}

// empty deletes every row of the store's schema. DELETE, not TRUNCATE:
// on tables this small DELETE takes well under a millisecond, TRUNCATE
// (new files for each table and index) about a hundred, and the suite
// asks for a few thousand empty stores.
func empty(tb testing.TB, s *Store) {
	tb.Helper()
	var q strings.Builder
	for _, t := range tables {
		q.WriteString("DELETE FROM " + quoteIdent(s.Schema()) + "." + t + ";\n")
	}
	// No arguments: pgx sends it in one round trip (simple protocol).
	if _, err := s.pool.Exec(context.Background(), q.String()); err != nil {
		tb.Fatalf("emptying the store: %v", err)
	}
}
