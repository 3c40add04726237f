package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fotakit/fota"
)

// timeout bounds every subtest's transactions, so that a store that
// deadlocks fails the subtest instead of hanging the run.
const timeout = 2 * time.Minute

// page is a limit large enough to read every record the suite writes in
// one call.
const page = 10_000

// Run runs the conformance suite against the stores newStore returns, each
// check as a subtest of t. newStore must return an empty store; it is
// called once per subtest and once per rapid iteration, so it should be
// cheap (a fresh schema or TRUNCATE for a database). The suite uses only
// the fota.Store, fota.Tx and fota.DeviceTx interfaces and cleans up
// nothing itself.
func Run(t *testing.T, newStore func(t *testing.T) fota.Store, opts ...Option) {
	t.Helper()
	h := &harness{newStore: newStore}
	for _, o := range opts {
		o(h)
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) { c.run(t, h) })
			}
		})
	}
}

// group is a set of checks of one part of the contract.
type group struct {
	name  string
	cases []testCase
}

type testCase struct {
	name string
	run  func(t *testing.T, h *harness)
}

// groups lists every check, in the order Run runs them.
var groups = []group{
	{"Campaigns", campaignCases},
	{"Members", memberCases},
	{"AddMembers", addMembersCases},
	{"Due", dueCases},
	{"Records", recordCases},
	{"CheckIns", checkInCases},
	{"Deadlines", deadlineCases},
	{"Transactions", txCases},
	{"Edges", edgeCases},
	{"DeviceTx", deviceTxCases},
	{"Concurrency", concurrencyCases},
}

// Option changes how Run runs the suite.
type Option func(*harness)

// WithHandle gives the suite a second handle on the store newStore
// returned: for a database store, another connection pool over the same
// database, as a second Manager replica would hold. The concurrency checks
// then run half their transactions through each handle, so that row locks
// (not a lock inside one handle) must keep them apart. newHandle may
// register its cleanup with t.
func WithHandle(newHandle func(t *testing.T, s fota.Store) fota.Store) Option {
	return func(h *harness) { h.newHandle = newHandle }
}

// harness hands out stores and contexts to the checks.
type harness struct {
	newStore  func(t *testing.T) fota.Store
	newHandle func(t *testing.T, s fota.Store) fota.Store // nil: one handle
}

// handles returns two handles on s: the second is s itself when the store
// offers no other.
func (h *harness) handles(t *testing.T, s fota.Store) [2]fota.Store {
	t.Helper()
	if h.newHandle == nil {
		return [2]fota.Store{s, s}
	}
	other := h.newHandle(t, s)
	if other == nil {
		t.Fatal("newHandle returned nil")
	}
	return [2]fota.Store{s, other}
}

// env returns a fresh store and a context bounded by timeout.
func (h *harness) env(t *testing.T) (context.Context, fota.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	s := h.newStore(t)
	if s == nil {
		t.Fatal("newStore returned nil")
	}
	return ctx, s
}

// tb is what the helpers need of *testing.T and *rapid.T.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// update runs fn in an Update and fails the test on any error.
func update(t tb, ctx context.Context, s fota.Store, fn func(fota.Tx) error) {
	t.Helper()
	if err := s.Update(ctx, fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in a View and fails the test on any error.
func view(t tb, ctx context.Context, s fota.Store, fn func(fota.Tx) error) {
	t.Helper()
	if err := s.View(ctx, fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// errAbort is what the suite's functions return to roll a transaction
// back.
var errAbort = errors.New("storetest: abort")

// checkNotFound checks that err reports a missing record of kind with id,
// in campaign (or "" outside a campaign).
func checkNotFound(t tb, err error, kind, id, campaign string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want a NotFoundError for %s %q, got nil", kind, id)
	}
	if !errors.Is(err, fota.ErrNotFound) {
		t.Fatalf("%v: does not match fota.ErrNotFound", err)
	}
	var nf *fota.NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("%v (%T): not a *fota.NotFoundError", err, err)
	}
	if nf.Kind != kind || nf.ID != id || nf.Campaign != campaign {
		t.Fatalf("NotFoundError %+v, want Kind %q ID %q Campaign %q", *nf, kind, id, campaign)
	}
	if got := errors.Is(err, fota.ErrNotInCampaign); got != (campaign != "") {
		t.Fatalf("%v: errors.Is(ErrNotInCampaign) = %v, want %v", err, got, campaign != "")
	}
}

// contextFor returns a context bounded by timeout, for helpers called
// inside rapid properties.
func contextFor() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), timeout)
}
