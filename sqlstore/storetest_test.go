package sqlstore

import (
	"context"
	"flag"
	"os"
	"testing"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/storetest"
)

// suiteChecks is rapid's check count for the conformance suite here, when
// neither -rapid.checks nor RAPID_CHECKS says otherwise: the suite bounds
// each subtest's transactions to two minutes in all, and its model checks
// read every record back after each transaction, one round trip a record
// (a few hundred thousand at rapid's default of 100 checks, which a
// loaded two-core machine under -race does not fit in two minutes; 40
// did not either, beside other test binaries). Run with -rapid.checks or
// RAPID_CHECKS for more.
const suiteChecks = "20"

// TestStore runs the fota.Store conformance suite against PostgreSQL: one
// schema for the whole run, emptied with DELETE for every store the
// suite asks for, and a second handle on it (a store over a pool of its
// own, as a second replica holds) for the concurrency checks.
func TestStore(t *testing.T) {
	s := newStore(t, openPool(t), Options{})
	other, err := OpenPool(context.Background(), openPool(t), Options{Schema: s.Schema()})
	if err != nil {
		t.Fatal(err)
	}
	if f := flag.Lookup("rapid.checks"); f != nil && !flagSet("rapid.checks") && os.Getenv("RAPID_CHECKS") == "" {
		old := f.Value.String()
		_ = f.Value.Set(suiteChecks)
		t.Cleanup(func() { _ = f.Value.Set(old) })
	}
	t.Cleanup(func() { t.Logf("stats: %+v; second handle %+v", s.Stats(), other.Stats()) })
	storetest.Run(t, func(t *testing.T) fota.Store {
		empty(t, s)
		return s
	}, storetest.WithHandle(func(*testing.T, fota.Store) fota.Store { return other }))
}

// flagSet reports whether the command line set the flag.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
