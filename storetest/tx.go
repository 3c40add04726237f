package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/verboselog"
	"pgregory.net/rapid"
)

var txCases = []testCase{
	{"Model", testTxModel},
	{"ReadOnly", testReadOnly},
	{"CommitVisible", testCommitVisible},
	{"Cancelled", testCancelled},
}

// testTxModel checks the whole store against the model: random writes of
// every kind in transactions that commit or return an error. A transaction
// sees its own writes; a committed one is visible to the next View and
// Update; one whose function returns an error leaves the full read-back
// exactly as it was, and Update returns that error. Every write is drawn
// before the transaction, so a store that runs the function again applies
// the same writes.
func testTxModel(t *testing.T, h *harness) {
	ctx, _ := h.env(t)
	rapid.Check(t, func(rt *rapid.T) {
		s := h.newStore(t)
		m := newModel(rapid.IntRange(1, 4).Draw(rt, "keep"))
		clk := &clock{now: base}
		rt.Repeat(map[string]func(*rapid.T){
			"transaction": func(rt *rapid.T) {
				commit := rapid.Bool().Draw(rt, "commit")
				// Reading everything back is the costly part: do it in
				// half the transactions.
				readBack := rapid.Bool().Draw(rt, "readBack")
				dueAfter := rapid.Bool().Draw(rt, "dueAfter")
				next := m.clone()
				var ops []op
				for range rapid.IntRange(1, 5).Draw(rt, "writes") {
					o := genOp(rt, next, clk)
					o.model(next)
					ops = append(ops, o)
				}
				names := opNames(ops)
				err := s.Update(ctx, func(tx fota.Tx) error {
					for _, o := range ops {
						if err := o.apply(tx); err != nil {
							return fmt.Errorf("%s: %w", o.name, err)
						}
					}
					if readBack {
						if err := compare("in the writing transaction", tx, next, true); err != nil {
							return err
						}
					}
					if !commit {
						return errAbort
					}
					return nil
				})
				switch {
				case commit && err != nil:
					rt.Fatalf("committing %s: %v", names, err)
				case !commit && !errors.Is(err, errAbort):
					rt.Fatalf("Update returned %v, want the function's error", err)
				case commit:
					m = next
				}
				where := "after committing " + names
				if !commit {
					where = "after rolling back " + names
				}
				view(rt, ctx, s, func(tx fota.Tx) error { return compare(where, tx, m, false) })
				if dueAfter {
					// The due members, which only an Update reads.
					update(rt, ctx, s, func(tx fota.Tx) error { return compare(where+" (in an Update)", tx, m, true) })
				}
			},
		})
	})
}

// compare reads the store back through tx and compares it with want.
func compare(where string, tx fota.Tx, want *model, due bool) error {
	got, err := read(tx, due)
	if err != nil {
		return err
	}
	if d := diff(got, want.snapshot(due)); d != "" {
		return fmt.Errorf("%s: %s", where, d)
	}
	return nil
}

func opNames(ops []op) string {
	names := make([]string, len(ops))
	for i, o := range ops {
		names[i] = o.name
	}
	return strings.Join(names, ", ")
}

// writes holds one valid call of every write a Tx offers, each of which
// changes the store fill leaves.
var writes = []struct {
	name string
	call func(fota.Tx) error
}{
	{"PutCampaign", func(tx fota.Tx) error { return tx.PutCampaign(fota.Campaign{ID: "c-2", Account: "acct-A"}) }},
	{"PutCampaign(replace)", func(tx fota.Tx) error { return tx.PutCampaign(fota.Campaign{ID: "C-1", Account: "acct-b"}) }},
	{"PutMember", func(tx fota.Tx) error {
		return tx.PutMember(fota.Member{CampaignID: "C-1", DeviceID: "d-02", State: device.StateAccepted, UpdatedAt: base})
	}},
	{"PutMember(replace)", func(tx fota.Tx) error {
		return tx.PutMember(fota.Member{CampaignID: "C-1", DeviceID: "D-01", State: device.StateSucceeded, UpdatedAt: base})
	}},
	{"DeleteMember", func(tx fota.Tx) error { return tx.DeleteMember("C-1", "D-01") }},
	{"SetActiveCampaign", func(tx fota.Tx) error { return tx.SetActiveCampaign("d-02", "C-1") }},
	{"SetActiveCampaign(release)", func(tx fota.Tx) error { return tx.SetActiveCampaign("D-01", "") }},
	{"PutDevice", func(tx fota.Tx) error { return tx.PutDevice(fota.DeviceRecord{DeviceID: "D-01", EverUpgraded: true}) }},
	{"AddCheckIn", func(tx fota.Tx) error {
		return tx.AddCheckIn(verboselog.CheckIn{DeviceID: "D-01", TimeCompleted: base.Add(time.Hour)}, 3)
	}},
	{"PutDeadline", func(tx fota.Tx) error {
		return tx.PutDeadline(fota.Deadline{Kind: fota.DeadlineCampaignEnd, Key: "C-1", At: base})
	}},
	{"DeleteDeadline", func(tx fota.Tx) error { return tx.DeleteDeadline(fota.DeadlineCampaignStart, "C-1") }},
	{"PutGate", func(tx fota.Tx) error {
		return tx.PutGate(pilot.Gate{Target: targets[0], State: pilot.Lifted, LiftedAt: base})
	}},
	{"PutSession", func(tx fota.Tx) error {
		return tx.PutSession(fota.LogSession{Account: "acct-A", Session: verboselog.Session{DeviceID: "D-01", State: verboselog.Disabled}})
	}},
	{"AddBundle", func(tx fota.Tx) error {
		return tx.AddBundle(verboselog.Bundle{DeviceID: "D-01", LogType: verboselog.LogTypes[0], UploadedAt: base.Add(time.Hour)})
	}},
	{"DeleteBundles", func(tx fota.Tx) error { return tx.DeleteBundles("D-01", farFuture) }},
	{"NextSeq", func(tx fota.Tx) error { _, err := tx.NextSeq(); return err }},
}

// fill writes one record of every kind, for writes to change.
func fill(t tb, ctx context.Context, s fota.Store) {
	t.Helper()
	update(t, ctx, s, func(tx fota.Tx) error {
		return errors.Join(
			tx.PutCampaign(fota.Campaign{ID: "C-1", Account: "acct-A"}),
			tx.PutMember(fota.Member{CampaignID: "C-1", DeviceID: "D-01", State: device.StateDownloading, UpdatedAt: base}),
			tx.SetActiveCampaign("D-01", "C-1"),
			tx.PutDevice(fota.DeviceRecord{DeviceID: "D-01", Account: "acct-A", License: device.Licensed}),
			tx.AddCheckIn(verboselog.CheckIn{DeviceID: "D-01", TimeCompleted: base}, 3),
			tx.PutDeadline(fota.Deadline{Kind: fota.DeadlineCampaignStart, Key: "C-1", At: base}),
			tx.PutGate(pilot.Gate{Target: targets[0], Pilots: 1}),
			tx.PutSession(fota.LogSession{Account: "acct-A", Session: verboselog.Session{DeviceID: "D-01", State: verboselog.Enabled, EnabledAt: base}}),
			tx.AddBundle(verboselog.Bundle{DeviceID: "D-01", LogType: verboselog.LogTypes[0], UploadedAt: base}),
		)
	})
}

// readAll reads everything back in a View.
func readAll(t tb, ctx context.Context, s fota.Store) snapshot {
	t.Helper()
	var snap snapshot
	view(t, ctx, s, func(tx fota.Tx) (err error) {
		snap, err = read(tx, false)
		return err
	})
	return snap
}

// testReadOnly: every write through a View's Tx fails with ErrReadOnly
// and changes nothing.
func testReadOnly(t *testing.T, h *harness) {
	ctx, s := h.env(t)
	fill(t, ctx, s)
	before := readAll(t, ctx, s)
	for _, w := range writes {
		err := s.View(ctx, func(tx fota.Tx) error {
			if err := w.call(tx); !errors.Is(err, fota.ErrReadOnly) {
				return fmt.Errorf("%s in a View: %v, want an error matching fota.ErrReadOnly", w.name, err)
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	}
	if d := diff(readAll(t, ctx, s), before); d != "" {
		t.Fatalf("writes refused in Views changed the store: %s", d)
	}
	// The writes themselves are valid: each changes the store in an Update.
	for _, w := range writes {
		if w.name == "NextSeq" {
			continue // changes nothing the suite can read back
		}
		s := h.newStore(t)
		fill(t, ctx, s)
		update(t, ctx, s, w.call)
		if diff(readAll(t, ctx, s), before) == "" {
			t.Errorf("%s in an Update changed nothing: the ReadOnly check proves nothing", w.name)
		}
	}
}

// testCommitVisible: what one Update commits, the next View and Update
// see.
func testCommitVisible(t *testing.T, h *harness) {
	ctx, s := h.env(t)
	empty := readAll(t, ctx, s)
	fill(t, ctx, s)
	filled := readAll(t, ctx, s)
	if diff(filled, empty) == "" {
		t.Fatal("a committed Update is not visible to the next View")
	}
	if _, ok := filled.Campaigns["C-1"]; !ok {
		t.Fatalf("campaign C-1 committed, not visible: %+v", filled.Campaigns)
	}
	update(t, ctx, s, func(tx fota.Tx) error {
		got, err := read(tx, false)
		if err != nil {
			return err
		}
		if d := diff(got, filled); d != "" {
			return fmt.Errorf("the next Update does not see the committed state: %s", d)
		}
		return nil
	})
}

// testCancelled: with a cancelled or expired context, Update and View
// return the context's error without running fn.
func testCancelled(t *testing.T, h *harness) {
	_, s := h.env(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), base) // long past
	defer cancel2()
	for _, c := range []struct {
		name string
		ctx  context.Context
		want error
	}{{"cancelled", cancelled, context.Canceled}, {"expired", expired, context.DeadlineExceeded}} {
		ran := false
		fn := func(tx fota.Tx) error { ran = true; return tx.PutCampaign(fota.Campaign{ID: "C-1"}) }
		if err := s.Update(c.ctx, fn); !errors.Is(err, c.want) || ran {
			t.Errorf("Update with a %s context = %v (fn ran: %v), want %v without running fn", c.name, err, ran, c.want)
		}
		if err := s.View(c.ctx, func(tx fota.Tx) error { ran = true; return nil }); !errors.Is(err, c.want) || ran {
			t.Errorf("View with a %s context = %v (fn ran: %v), want %v without running fn", c.name, err, ran, c.want)
		}
	}
	ctx, cancel3 := contextFor()
	defer cancel3()
	view(t, ctx, s, func(tx fota.Tx) error {
		_, err := tx.Campaign("C-1")
		checkNotFound(t, err, "campaign", "C-1", "")
		return nil
	})
}
