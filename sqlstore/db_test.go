package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// The tests need PostgreSQL: CI starts it, and a test that cannot reach it
// fails (it never skips). FOTA_PG_URL overrides the default address.
const defaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func pgURL() string {
	if u := os.Getenv("FOTA_PG_URL"); u != "" {
		return u
	}
	return defaultURL
}

// openDB opens a pool of its own, closed when the test ends, and fails
// the test if PostgreSQL does not answer within ten seconds.
func openDB(tb testing.TB) *sql.DB {
	tb.Helper()
	cfg, err := pgx.ParseConfig(pgURL())
	if err != nil {
		tb.Fatalf("FOTA_PG_URL %q: %v", pgURL(), err)
	}
	// Commits need not wait for the disk in tests: the store's isolation
	// and visibility are the same, and a commit costs a tenth.
	cfg.RuntimeParams["synchronous_commit"] = "off"
	db := stdlib.OpenDB(*cfg)
	tb.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		tb.Fatalf("PostgreSQL at %s (set FOTA_PG_URL to another) does not answer: %v", pgURL(), err)
	}
	return db
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
func newStore(tb testing.TB, db *sql.DB, opts Options) *Store {
	tb.Helper()
	if opts.Schema == "" {
		opts.Schema = newSchemaName()
	}
	ctx := context.Background()
	s, err := Open(ctx, db, opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { dropSchema(tb, db, s.Schema()) })
	return s
}

func dropSchema(tb testing.TB, db *sql.DB, schema string) {
	if _, err := db.ExecContext(context.Background(), `DROP SCHEMA IF EXISTS `+quoteIdent(schema)+` CASCADE`); err != nil {
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
	if _, err := s.db.ExecContext(context.Background(), q.String()); err != nil {
		tb.Fatalf("emptying the store: %v", err)
	}
}
