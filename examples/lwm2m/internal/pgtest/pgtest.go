// Package pgtest gives this module's tests their PostgreSQL database: the
// one FOTA_PG_URL names (as for sqlstore's tests), by default the local
// test database, and a fresh schema per test, dropped when it ends. When
// PostgreSQL does not answer, a test fails if CI is set (CI must run
// them) and is skipped, saying so, elsewhere.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// URL is the test database: FOTA_PG_URL, by default the local test
// database.
func URL() string {
	if u := os.Getenv("FOTA_PG_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test"
}

// Pool opens a pool on the test database, closed when the test ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, URL())
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		msg := "PostgreSQL at " + URL() + " does not answer (" + err.Error() + "): set FOTA_PG_URL to a database the test may create schemas in"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Schema names a fresh schema, prefix and random hex, and drops it when
// the test ends.
func Schema(t testing.TB, pool *pgxpool.Pool, prefix string) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := prefix + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, `DROP SCHEMA IF EXISTS "`+schema+`" CASCADE`); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return schema
}
