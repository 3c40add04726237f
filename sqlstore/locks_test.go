package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
)

// TestDeviceTxWaitsForItsMember: a device transaction whose member row
// another transaction holds waits for it (without running its function
// twice) and then reads what the holder committed, member and device row
// alike.
func TestDeviceTxWaitsForItsMember(t *testing.T) {
	pool := openPool(t)
	s := newStore(t, pool, Options{})
	ctx := context.Background()
	if err := s.Update(ctx, func(tx fota.Tx) error {
		if err := tx.PutCampaign(fota.Campaign{ID: "c1", Account: "acme"}); err != nil {
			return err
		}
		if err := tx.PutMember(fota.Member{CampaignID: "c1", DeviceID: "d1", State: device.StateAccepted, UpdatedAt: testStart}); err != nil {
			return err
		}
		return tx.SetActiveCampaign("d1", "c1")
	}); err != nil {
		t.Fatal(err)
	}
	// The holder: locks d1's member, then moves it and releases the device.
	holder, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	q := func(sql string) string { return expand(sql, quoteIdent(s.Schema())) }
	if _, err := holder.Exec(ctx, q(`SELECT 1 FROM {s}.members WHERE campaign_id = 'c1' AND device_id = 'd1' FOR UPDATE`)); err != nil {
		t.Fatal(err)
	}
	type seen struct {
		active string
		state  device.State
		runs   int
		err    error
	}
	done := make(chan seen, 1)
	go func() {
		var got seen
		got.err = s.UpdateDevice(ctx, "d1", func(tx fota.DeviceTx) error {
			got.runs++
			var err error
			if got.active, err = tx.ActiveCampaign(); err != nil {
				return err
			}
			m, err := tx.Member("c1")
			got.state = m.State
			return err
		})
		done <- got
	}()
	select {
	case got := <-done:
		t.Fatalf("the device transaction did not wait for the member's lock: %+v", got)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := holder.Exec(ctx, q(`UPDATE {s}.members SET state = $1 WHERE campaign_id = 'c1' AND device_id = 'd1'`), int16(device.StateSucceeded)); err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(ctx, q(`UPDATE {s}.devices SET active_campaign = '' WHERE device_id = 'd1'`)); err != nil {
		t.Fatal(err)
	}
	if err := holder.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got := <-done
	if got.err != nil || got.runs != 1 || got.state != device.StateSucceeded || got.active != "" {
		t.Fatalf("after the holder committed: %+v; want one run reading Succeeded and no active campaign", got)
	}
	if st := s.Stats(); st.LockWaits != 1 || st.Retries != 0 {
		t.Fatalf("Stats %+v: want one lock wait, no retry", st)
	}
}

// TestDueSkipsHeldDeadlines: deadlines one Update's Due returned are left
// out of another's until the first ends, so that ticking replicas take
// disjoint work; a transaction alone sees them all.
func TestDueSkipsHeldDeadlines(t *testing.T) {
	pool := openPool(t)
	s := newStore(t, pool, Options{})
	ctx := context.Background()
	if err := s.Update(ctx, func(tx fota.Tx) error {
		for _, k := range []string{"a", "b", "c"} {
			if err := tx.PutDeadline(fota.Deadline{Kind: fota.DeadlineCampaignSweep, Key: k, At: testStart}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	first := make(chan []fota.Deadline)
	release := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		errs <- s.Update(ctx, func(tx fota.Tx) error {
			due, err := tx.Due(testStart, 2)
			if err != nil {
				return err
			}
			first <- due
			<-release
			return nil
		})
	}()
	held := <-first
	var other []fota.Deadline
	if err := s.Update(ctx, func(tx fota.Tx) (err error) { other, err = tx.Due(testStart, -1); return err }); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if len(held) != 2 || held[0].Key != "a" || held[1].Key != "b" || len(other) != 1 || other[0].Key != "c" {
		t.Fatalf("Due beside a holder: first %v, second %v; want a, b and then c alone", held, other)
	}
	var all []fota.Deadline
	if err := s.Update(ctx, func(tx fota.Tx) (err error) { all, err = tx.Due(testStart, -1); return err }); err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Fatalf("Due alone: %v; want all three", all)
	}
}
