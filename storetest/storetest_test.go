package storetest_test

import (
	"cmp"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/storetest"
	"github.com/fotakit/fota/verboselog"
)

// The suite is itself tested by mutation: each mutant is the in-memory
// store with one contract violation, and the suite must fail on it, in
// the subtest that checks that part of the contract. A failing suite fails
// its *testing.T, so each mutant runs in a child process: this test
// binary, re-executed to run TestRun with STORETEST_MUTANT set.

const mutantEnv = "STORETEST_MUTANT"

// TestRun runs the suite against the mutant STORETEST_MUTANT names, or,
// by default, against the in-memory store behind the mutants' wrapper
// with no violation, which must pass: the mutants differ from a
// conforming store only in their violation.
func TestRun(t *testing.T) {
	name := os.Getenv(mutantEnv)
	newStore := func(*testing.T) fota.Store { return &store{MemoryStore: fota.NewMemoryStore()} }
	if name != "" {
		mu, ok := mutants[name]
		if !ok {
			t.Fatalf("unknown mutant %q", name)
		}
		newStore = func(*testing.T) fota.Store { return mu.store() }
	}
	storetest.Run(t, newStore)
}

type mutant struct {
	fails string // the subtest (Group/Case) that must fail
	store func() fota.Store
}

var mutants = map[string]mutant{
	"noRollback": {"Transactions/Model", func() fota.Store {
		return &store{MemoryStore: fota.NewMemoryStore(), noRollback: true}
	}},
	"writableView": {"Transactions/ReadOnly", func() fota.Store {
		return &store{MemoryStore: fota.NewMemoryStore(), writableView: true}
	}},
	"ignoresContext": {"Transactions/Cancelled", func() fota.Store {
		return &store{MemoryStore: fota.NewMemoryStore(), ignoreContext: true}
	}},
	"dueExclusive": {"Deadlines/DueModel", func() fota.Store {
		return &store{MemoryStore: fota.NewMemoryStore(), wrap: func(tx fota.Tx) fota.Tx { return dueExclusive{tx} }}
	}},
	"pagingSkips": {"Members/Paging", func() fota.Store {
		return &store{MemoryStore: fota.NewMemoryStore(), wrap: func(tx fota.Tx) fota.Tx { return pagingSkips{tx} }}
	}},
	"checkInsInclusive": {"CheckIns/HistoryModel", func() fota.Store {
		return &store{MemoryStore: fota.NewMemoryStore(), wrap: func(tx fota.Tx) fota.Tx { return checkInsInclusive{tx} }}
	}},
	"campaignsIgnoreAfter": {"Campaigns/ListPaging", func() fota.Store {
		return &store{MemoryStore: fota.NewMemoryStore(), wrap: func(tx fota.Tx) fota.Tx { return campaignsIgnoreAfter{tx} }}
	}},
	"lostUpdate": {"Concurrency/ReadModifyWrite", func() fota.Store {
		return &optimistic{inner: fota.NewMemoryStore()}
	}},
	"dueNotSkipped": {"Concurrency/DueLeases", func() fota.Store {
		return dueNotSkipped{fota.NewMemoryStore(), new(atomic.Int64)}
	}},
	"deviceTxKeepsFailed": {"DeviceTx/Atomic", func() fota.Store {
		return deviceTxKeepsFailed{fota.NewMemoryStore()}
	}},
}

// TestSuiteCatchesMutants runs the suite's subtest for each mutant in a
// child process and checks that it fails there.
func TestSuiteCatchesMutants(t *testing.T) {
	for name, mu := range mutants {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			group, cas, _ := strings.Cut(mu.fails, "/")
			cmd := exec.Command(os.Args[0],
				"-test.run=^TestRun$/^"+group+"$/^"+cas+"$",
				"-rapid.nofailfile", "-rapid.checks=100", "-rapid.shrinktime=1s")
			cmd.Env = append(os.Environ(), mutantEnv+"="+name)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("mutant %s: child exited with %v, want status 1 (suite failed):\n%s", name, err, out)
			}
			if want := "--- FAIL: TestRun/" + mu.fails; !strings.Contains(string(out), want) {
				t.Fatalf("mutant %s: output lacks %q:\n%s", name, want, out)
			}
		})
	}
}

// store is the in-memory store with some transaction-level violations.
type store struct {
	*fota.MemoryStore
	noRollback    bool // commits what fn wrote even when fn fails
	writableView  bool // View runs a read-write transaction
	ignoreContext bool // runs fn whatever the context
	wrap          func(fota.Tx) fota.Tx
}

func (s *store) Update(ctx context.Context, fn func(fota.Tx) error) error {
	if s.ignoreContext {
		ctx = context.Background()
	}
	if s.noRollback {
		var fnErr error
		err := s.MemoryStore.Update(ctx, func(tx fota.Tx) error { fnErr = fn(s.tx(tx)); return nil })
		return cmp.Or(err, fnErr)
	}
	return s.MemoryStore.Update(ctx, func(tx fota.Tx) error { return fn(s.tx(tx)) })
}

func (s *store) View(ctx context.Context, fn func(fota.Tx) error) error {
	if s.ignoreContext {
		ctx = context.Background()
	}
	if s.writableView {
		return s.MemoryStore.Update(ctx, func(tx fota.Tx) error { return fn(s.tx(tx)) })
	}
	return s.MemoryStore.View(ctx, func(tx fota.Tx) error { return fn(s.tx(tx)) })
}

func (s *store) tx(tx fota.Tx) fota.Tx {
	if s.wrap != nil {
		return s.wrap(tx)
	}
	return tx
}

// dueExclusive leaves out deadlines exactly at now.
type dueExclusive struct{ fota.Tx }

func (tx dueExclusive) Due(now time.Time, limit int) ([]fota.Deadline, error) {
	return tx.Tx.Due(now.Add(-time.Nanosecond), limit)
}

// pagingSkips loses the first member of every page after the first.
type pagingSkips struct{ fota.Tx }

func (tx pagingSkips) Members(campaignID, after string, limit int) ([]fota.Member, error) {
	ms, err := tx.Tx.Members(campaignID, after, limit+1)
	if after != "" && len(ms) > 0 {
		ms = ms[1:]
	}
	return ms[:min(limit, len(ms))], err
}

// checkInsInclusive also returns the check-in exactly at before.
type checkInsInclusive struct{ fota.Tx }

func (tx checkInsInclusive) CheckIns(deviceID string, before time.Time, limit int) ([]verboselog.CheckIn, error) {
	if !before.IsZero() {
		before = before.Add(time.Nanosecond)
	}
	return tx.Tx.CheckIns(deviceID, before, limit)
}

// campaignsIgnoreAfter always lists from the first campaign.
type campaignsIgnoreAfter struct{ fota.Tx }

func (tx campaignsIgnoreAfter) Campaigns(account, _ string, limit int) ([]fota.Campaign, error) {
	return tx.Tx.Campaigns(account, "", limit)
}

// optimistic runs fn against a snapshot (a View), buffering its member
// writes, and applies them afterwards in an Update without checking that
// what fn read is unchanged: two concurrent read-modify-writes of one
// member lose one of them.
type optimistic struct {
	inner *fota.MemoryStore
	seq   atomic.Uint64
}

func (s *optimistic) View(ctx context.Context, fn func(fota.Tx) error) error {
	return s.inner.View(ctx, fn)
}

func (s *optimistic) UpdateDevice(ctx context.Context, id string, fn func(fota.DeviceTx) error) error {
	return s.inner.UpdateDevice(ctx, id, fn)
}

func (s *optimistic) Update(ctx context.Context, fn func(fota.Tx) error) error {
	b := &buffered{seq: &s.seq, writes: map[[2]string]fota.Member{}}
	if err := s.inner.View(ctx, func(tx fota.Tx) error { b.Tx = tx; return fn(b) }); err != nil {
		return err
	}
	return s.inner.Update(ctx, func(tx fota.Tx) error {
		for _, c := range b.campaigns {
			if err := tx.PutCampaign(c); err != nil {
				return err
			}
		}
		for _, m := range b.writes {
			if err := tx.PutMember(m); err != nil {
				return err
			}
		}
		return nil
	})
}

type buffered struct {
	fota.Tx
	seq       *atomic.Uint64
	writes    map[[2]string]fota.Member
	campaigns []fota.Campaign
}

func (b *buffered) Member(c, d string) (fota.Member, error) {
	if m, ok := b.writes[[2]string{c, d}]; ok {
		return m, nil
	}
	return b.Tx.Member(c, d)
}

func (b *buffered) PutMember(m fota.Member) error {
	b.writes[[2]string{m.CampaignID, m.DeviceID}] = m
	return nil
}

func (b *buffered) PutCampaign(c fota.Campaign) error {
	b.campaigns = append(b.campaigns, c)
	return nil
}

func (b *buffered) NextSeq() (uint64, error) { return b.seq.Add(1), nil }

// dueNotSkipped reads the due members an Update asks for before the
// Update takes the store, and hands the transaction that stale list, as
// DueMembers without FOR UPDATE SKIP LOCKED does on PostgreSQL under READ
// COMMITTED: two transactions read the same due members, neither skips
// what the other holds, and both hand them out.
//
// Each stale read waits (up to 100 ms) until another transaction has read
// too before it writes, so that two of them hold the same list however
// the machine schedules the workers: without the wait, a loaded machine
// could run the workers one after another and the mutant would go
// unnoticed.
type dueNotSkipped struct {
	*fota.MemoryStore
	reads *atomic.Int64
}

func (s dueNotSkipped) Update(ctx context.Context, fn func(fota.Tx) error) error {
	var seen [][]fota.Member
	// The first pass only reads: its first write fails, ending it.
	_ = s.MemoryStore.View(ctx, func(tx fota.Tx) error { return fn(&staleDue{Tx: tx, record: &seen}) })
	mine := s.reads.Add(1)
	for deadline := time.Now().Add(100 * time.Millisecond); s.reads.Load() == mine && time.Now().Before(deadline); {
		time.Sleep(50 * time.Microsecond) // let another transaction read the same members
	}
	return s.MemoryStore.Update(ctx, func(tx fota.Tx) error { return fn(&staleDue{Tx: tx, replay: seen}) })
}

// staleDue records what DueMembers returns (record) or answers with what
// was recorded (replay).
type staleDue struct {
	fota.Tx
	record *[][]fota.Member
	replay [][]fota.Member
	calls  int
}

func (tx *staleDue) DueMembers(now time.Time, limit int) ([]fota.Member, error) {
	defer func() { tx.calls++ }()
	if tx.record == nil && tx.calls < len(tx.replay) {
		return tx.replay[tx.calls], nil
	}
	ms, err := tx.Tx.DueMembers(now, limit)
	if tx.record != nil {
		*tx.record = append(*tx.record, ms)
	}
	return ms, err
}

// deviceTxKeepsFailed commits what a device transaction's function wrote
// even when the function fails.
type deviceTxKeepsFailed struct{ *fota.MemoryStore }

func (s deviceTxKeepsFailed) UpdateDevice(ctx context.Context, id string, fn func(fota.DeviceTx) error) error {
	var fnErr error
	err := s.MemoryStore.UpdateDevice(ctx, id, func(tx fota.DeviceTx) error { fnErr = fn(tx); return nil })
	return cmp.Or(err, fnErr)
}
