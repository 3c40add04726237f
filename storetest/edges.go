package storetest

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/verboselog"
)

var edgeCases = []testCase{
	{"MemberTimes", testMemberTimes},
	{"KeepPerDevice", testKeepPerDevice},
	{"FarBefore", testFarBefore},
}

// testMemberTimes: a zero UpdatedAt reads back as zero, and instants far
// from today (year 1, year 2500) keep their microsecond.
func testMemberTimes(t *testing.T, h *harness) {
	ctx, s := h.env(t)
	putCampaigns(t, s, "c1")
	times := map[string]time.Time{
		"D-01": {},
		"d-02": time.Date(2500, 7, 1, 3, 4, 5, 6000, time.UTC),
		"d_03": time.Date(1, 1, 2, 0, 0, 0, 1000, time.UTC),
	}
	update(t, ctx, s, func(tx fota.Tx) error {
		for _, id := range slices.Sorted(maps.Keys(times)) { // the same order if the store runs this again
			if err := tx.PutMember(fota.Member{CampaignID: "c1", DeviceID: id, State: device.StateAccepted, UpdatedAt: times[id]}); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, ctx, s, func(tx fota.Tx) error {
		for _, id := range slices.Sorted(maps.Keys(times)) {
			at := times[id]
			m, err := tx.Member("c1", id)
			if err != nil {
				return err
			}
			if !m.UpdatedAt.Equal(at) || m.UpdatedAt.IsZero() != at.IsZero() {
				t.Fatalf("UpdatedAt %v read back as %v", at, m.UpdatedAt)
			}
		}
		return nil
	})
}

// testKeepPerDevice: keep bounds each device's own history; an AddCheckIn
// for another device with another keep, rolled back, changes nothing.
func testKeepPerDevice(t *testing.T, h *harness) {
	ctx, s := h.env(t)
	// Each call's instant is fixed before its transaction, so a store
	// that runs the function again writes the same check-ins.
	minute := 0
	add := func(id string, keep int) func(tx fota.Tx) error {
		minute++
		at := base.Add(time.Duration(minute) * time.Minute)
		return func(tx fota.Tx) error {
			return tx.AddCheckIn(verboselog.CheckIn{DeviceID: id, Result: "ok", TimeCompleted: at}, keep)
		}
	}
	count := func(id string) int {
		var n int
		view(t, ctx, s, func(tx fota.Tx) error {
			got, err := tx.CheckIns(id, time.Time{}, page)
			n = len(got)
			return err
		})
		return n
	}
	three := []func(fota.Tx) error{add("D-01", 2), add("D-01", 2), add("D-01", 2)}
	update(t, ctx, s, func(tx fota.Tx) error {
		for _, a := range three {
			if err := a(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if n := count("D-01"); n != 2 {
		t.Fatalf("keep 2 after 3 check-ins: %d kept", n)
	}
	boom := errors.New("roll back")
	other := add("d-02", 10)
	if err := s.Update(ctx, func(tx fota.Tx) error {
		if err := other(tx); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Update returned %v", err)
	}
	if n := count("D-01"); n != 2 {
		t.Fatalf("a rolled-back check-in of another device changed this one: %d kept", n)
	}
	if n := count("d-02"); n != 0 {
		t.Fatalf("a rolled-back check-in is visible: %d", n)
	}
	update(t, ctx, s, add("D-01", 5))
	if n := count("D-01"); n != 3 {
		t.Fatalf("keep 5 after 2 kept and 1 more: %d kept (a dropped check-in came back?)", n)
	}
}

// testFarBefore: a before far in the future still returns every check-in.
func testFarBefore(t *testing.T, h *harness) {
	ctx, s := h.env(t)
	update(t, ctx, s, func(tx fota.Tx) error {
		return tx.AddCheckIn(verboselog.CheckIn{DeviceID: "D-01", Result: "ok", TimeCompleted: base}, 5)
	})
	view(t, ctx, s, func(tx fota.Tx) error {
		got, err := tx.CheckIns("D-01", time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), page)
		if err == nil && len(got) != 1 {
			t.Fatalf("before year 9999: %d check-ins, want 1", len(got))
		}
		return err
	})
}
