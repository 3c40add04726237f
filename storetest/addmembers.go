package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
)

var addMembersCases = []testCase{
	{"HoldAndDuplicates", testAddMembers},
	{"LargeRollback", testAddMembersLargeRollback},
}

// checkRequestError checks that err is a *fota.RequestError naming value
// and matching fota.ErrBadRequest.
func checkRequestError(t tb, err error, value string) {
	t.Helper()
	var re *fota.RequestError
	if !errors.As(err, &re) || !errors.Is(err, fota.ErrBadRequest) {
		t.Fatalf("%v (%T): want a *fota.RequestError matching fota.ErrBadRequest", err, err)
	}
	if re.Value != value {
		t.Fatalf("RequestError %+v names %q, want %q", *re, re.Value, value)
	}
}

// testAddMembers: AddMembers inserts every member as given; hold makes
// the campaign the device's active one (replacing another), no hold leaves
// the device as it was. A member already in the campaign, earlier or in
// the same call, is refused with a *RequestError naming it, and the
// transaction that saw the refusal rolls back whole. An unknown campaign
// is not found; an empty list changes nothing.
func testAddMembers(t *testing.T, h *harness) {
	ctx, s := h.env(t)
	putCampaigns(t, s, "C-1", "c-2")
	at := base.Add(3 * time.Second)
	member := func(cid, did string, st device.State) fota.Member {
		return fota.Member{CampaignID: cid, DeviceID: did, State: st, UpdatedAt: at,
			Push: fota.Push{Protocol: device.LWM2M, Attempt: 2, Machine: 7, Result: 3, DueAt: at.Add(time.Hour), Lease: 9}}
	}
	update(t, ctx, s, func(tx fota.Tx) error {
		return tx.AddMembers("c-2", []fota.NewMember{{Member: member("c-2", "d1", device.StateAccepted), Hold: true}})
	})
	added := []fota.NewMember{
		{Member: member("C-1", "d1", device.StateAccepted), Hold: true},
		{Member: member("C-1", "d2", device.StateRejected)},
		{Member: member("C-1", "d3", device.StateAccepted), Hold: true},
	}
	added[1].Reason = device.Reasons[0]
	update(t, ctx, s, func(tx fota.Tx) error { return tx.AddMembers("C-1", added) })
	update(t, ctx, s, func(tx fota.Tx) error { return tx.AddMembers("C-1", nil) })
	check := func() {
		t.Helper()
		view(t, ctx, s, func(tx fota.Tx) error {
			for _, nm := range added {
				got, err := tx.Member("C-1", nm.DeviceID)
				if err != nil {
					return err
				}
				if normMember(got) != normMember(nm.Member) {
					t.Fatalf("Member(C-1, %s) = %+v, want %+v", nm.DeviceID, got, nm.Member)
				}
			}
			for _, w := range [][2]string{{"d1", "C-1"}, {"d2", ""}, {"d3", "C-1"}, {"d4", ""}} {
				if got, err := tx.ActiveCampaign(w[0]); err != nil || got != w[1] {
					t.Fatalf("ActiveCampaign(%s) = %q, %v; want %q", w[0], got, err, w[1])
				}
			}
			ms, err := tx.DeviceMembers("d1")
			if err != nil {
				return err
			}
			if len(ms) != 2 || ms[0].CampaignID != "C-1" || ms[1].CampaignID != "c-2" {
				t.Fatalf("DeviceMembers(d1) = %+v, want its records in C-1 and c-2", ms)
			}
			c, err := tx.Counts("C-1")
			if err != nil {
				return err
			}
			if c.Total() != 3 || c.Of(device.StateAccepted) != 2 || c.Of(device.StateRejected) != 1 {
				t.Fatalf("Counts(C-1) = %v, want 2 accepted and 1 rejected", c)
			}
			if _, err := tx.Member("C-1", "d4"); !errors.Is(err, fota.ErrNotFound) {
				t.Fatalf("Member(C-1, d4) after refused AddMembers: %v, want not found", err)
			}
			return nil
		})
	}
	check()
	refused := func(name, campaign, value string, ms []fota.NewMember) {
		t.Helper()
		err := s.Update(ctx, func(tx fota.Tx) error {
			if err := tx.PutMember(member("c-2", "d4", device.StateAccepted)); err != nil {
				return err
			}
			return tx.AddMembers(campaign, ms)
		})
		if value == "" {
			checkNotFound(t, err, "campaign", campaign, "")
		} else {
			checkRequestError(t, err, value)
		}
		check()
		view(t, ctx, s, func(tx fota.Tx) error {
			if _, err := tx.Member("c-2", "d4"); !errors.Is(err, fota.ErrNotFound) {
				t.Fatalf("%s: a write before the refused AddMembers stayed: %v", name, err)
			}
			return nil
		})
	}
	refused("already a member", "C-1", "d2", []fota.NewMember{
		{Member: member("C-1", "d4", device.StateAccepted), Hold: true},
		{Member: member("C-1", "d2", device.StateAccepted), Hold: true},
	})
	refused("twice in one call", "C-1", "d5", []fota.NewMember{
		{Member: member("C-1", "d5", device.StateAccepted), Hold: true},
		{Member: member("C-1", "d5", device.StateRejected)},
	})
	refused("unknown campaign", "ghost", "", []fota.NewMember{{Member: member("ghost", "d4", device.StateAccepted), Hold: true}})
}

// Sizes of the large AddMembers: a campaign as the Manager fills it,
// batch by batch, some of whose devices another campaign holds.
const (
	largeMembers = 10_000
	largeBatch   = 1_000
	largeHeld    = 300 // the first largeHeld devices are in campaign held first
)

// The large check's campaigns, among those read reads back: one holding
// some devices first, one committed empty, one created by the failing
// transaction.
var (
	held  = campaignIDs[0]
	empty = campaignIDs[1]
	large = campaignIDs[2]
)

func largeID(i int) string { return fmt.Sprintf("L%05d", i) }

// testAddMembersLargeRollback: a transaction that creates a campaign, adds
// ten thousand members in batches (most holding their device, some taking
// it from another campaign), reads them back and then fails leaves nothing
// behind: no campaign, no member, every device's active campaign and
// member records as before. The same into a campaign that already exists
// leaves it empty. Committed, every member is there.
func testAddMembersLargeRollback(t *testing.T, h *harness) {
	ctx, s := h.env(t)
	putCampaigns(t, s, held, empty)
	update(t, ctx, s, func(tx fota.Tx) error {
		ms := make([]fota.NewMember, largeHeld)
		for i := range ms {
			ms[i] = fota.NewMember{Member: fota.Member{CampaignID: held, DeviceID: largeID(i), State: device.StateDownloading, UpdatedAt: base}, Hold: true}
		}
		return tx.AddMembers(held, ms)
	})
	before := readAll(t, ctx, s)
	batches := make([][]fota.NewMember, 0, largeMembers/largeBatch)
	for b := range largeMembers / largeBatch {
		ms := make([]fota.NewMember, largeBatch)
		for j := range ms {
			i := b*largeBatch + j
			st, hold := device.StateAccepted, i%10 != 9
			if !hold {
				st = device.StateRejected
			}
			ms[j] = fota.NewMember{Member: fota.Member{DeviceID: largeID(i), State: st, UpdatedAt: base.Add(time.Minute),
				Push: fota.Push{Protocol: device.OMADM, DueAt: base.Add(time.Hour)}}, Hold: hold}
		}
		batches = append(batches, ms)
	}
	fill := func(tx fota.Tx, cid string) error {
		for _, ms := range batches {
			for j := range ms {
				ms[j].CampaignID = cid
			}
			if err := tx.AddMembers(cid, ms); err != nil {
				return err
			}
		}
		c, err := tx.Counts(cid)
		if err != nil {
			return err
		}
		if c.Total() != largeMembers {
			return fmt.Errorf("Counts(%s) in the filling transaction: %d members, want %d", cid, c.Total(), largeMembers)
		}
		if a, err := tx.ActiveCampaign(largeID(0)); err != nil || a != cid {
			return fmt.Errorf("ActiveCampaign(%s) in the filling transaction = %q, %v; want %s", largeID(0), a, err, cid)
		}
		return nil
	}
	// devices reads every large device's active campaign and member
	// records.
	devices := func() map[string]string {
		got := make(map[string]string, largeMembers)
		view(t, ctx, s, func(tx fota.Tx) error {
			for i := range largeMembers {
				id := largeID(i)
				a, err := tx.ActiveCampaign(id)
				if err != nil {
					return err
				}
				ms, err := tx.DeviceMembers(id)
				if err != nil {
					return err
				}
				got[id] = fmt.Sprintf("active %q, member of %d", a, len(ms))
				for _, m := range ms {
					got[id] += " " + m.CampaignID
				}
			}
			return nil
		})
		return got
	}
	want := devices()
	for _, cid := range []string{large, empty} {
		err := s.Update(ctx, func(tx fota.Tx) error {
			if cid == large {
				if err := tx.PutCampaign(fota.Campaign{ID: cid, Account: "acct-A", Revision: 1, CreatedAt: base, UpdatedAt: base}); err != nil {
					return err
				}
			}
			if err := fill(tx, cid); err != nil {
				return err
			}
			return errAbort
		})
		if !errors.Is(err, errAbort) {
			t.Fatalf("filling %s: Update returned %v, want the function's error", cid, err)
		}
		if d := diff(readAll(t, ctx, s), before); d != "" {
			t.Fatalf("a failed transaction that filled %s left: %s", cid, d)
		}
		got := devices()
		for i := range largeMembers {
			if id := largeID(i); got[id] != want[id] {
				t.Fatalf("after a failed transaction that filled %s, device %s: %s, was %s", cid, id, got[id], want[id])
			}
		}
		view(t, ctx, s, func(tx fota.Tx) error {
			if cid == large {
				_, err := tx.Campaign(cid)
				checkNotFound(t, err, "campaign", cid, "")
				return nil
			}
			ms, err := tx.Members(cid, "", page)
			if err != nil {
				return err
			}
			if yes, err := tx.AnyMember(cid, fota.States(device.States...)); err != nil || yes || len(ms) != 0 {
				t.Fatalf("campaign %s after a failed fill: %d members, AnyMember %v, %v", cid, len(ms), yes, err)
			}
			return nil
		})
	}
	update(t, ctx, s, func(tx fota.Tx) error { return fill(tx, empty) })
	got := pageMembers(t, s, empty, largeBatch, nil)
	if len(got) != largeMembers {
		t.Fatalf("committed: %d members, want %d", len(got), largeMembers)
	}
	view(t, ctx, s, func(tx fota.Tx) error {
		for _, i := range []int{0, largeHeld - 1, largeHeld, 9, largeMembers - 1} {
			a, err := tx.ActiveCampaign(largeID(i))
			if err != nil {
				return err
			}
			want := empty
			switch {
			case i%10 == 9 && i < largeHeld:
				want = held // not held by the new campaign: still the other's
			case i%10 == 9:
				want = ""
			}
			if a != want {
				t.Fatalf("committed: ActiveCampaign(%s) = %q, want %q", largeID(i), a, want)
			}
		}
		return nil
	})
}
