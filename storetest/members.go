package storetest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"pgregory.net/rapid"
)

var memberCases = []testCase{
	{"PutGetReplace", testMemberRoundTrip},
	{"UnknownCampaign", testMemberUnknownCampaign},
	{"Delete", testMemberDelete},
	{"Paging", testMemberPaging},
	{"PagingWhileChanging", testMemberPagingWhileChanging},
	{"CountsModel", testCountsModel},
}

// putCampaigns stores a minimal campaign for each id.
func putCampaigns(t tb, s fota.Store, ids ...string) {
	t.Helper()
	ctx, cancel := contextFor()
	defer cancel()
	update(t, ctx, s, func(tx fota.Tx) error {
		for _, id := range ids {
			if err := tx.PutCampaign(fota.Campaign{ID: id, Account: "acct-A", Revision: 1, CreatedAt: base, UpdatedAt: base}); err != nil {
				return err
			}
		}
		return nil
	})
}

// testMemberRoundTrip: PutMember inserts or replaces; Member returns the
// record with UpdatedAt equal to the microsecond; a missing member is a
// NotFoundError naming the device and the campaign.
func testMemberRoundTrip(t *testing.T, h *harness) {
	ctx, _ := h.env(t)
	rapid.Check(t, func(rt *rapid.T) {
		s := h.newStore(t)
		putCampaigns(rt, s, "c1", "c2")
		want := map[[2]string]fota.Member{}
		for range rapid.IntRange(1, 10).Draw(rt, "puts") {
			m := genMember(rt, rapid.SampledFrom([]string{"c1", "c2"}).Draw(rt, "campaign"), rapid.SampledFrom(deviceIDs).Draw(rt, "device"))
			update(rt, ctx, s, func(tx fota.Tx) error { return tx.PutMember(m) })
			want[[2]string{m.CampaignID, m.DeviceID}] = m
		}
		view(rt, ctx, s, func(tx fota.Tx) error {
			for _, cid := range []string{"c1", "c2"} {
				for _, did := range deviceIDs {
					got, err := tx.Member(cid, did)
					w, ok := want[[2]string{cid, did}]
					if !ok {
						checkNotFound(rt, err, "device", did, cid)
						continue
					}
					if err != nil {
						rt.Fatalf("Member(%s, %s): %v", cid, did, err)
					}
					if got.CampaignID != cid || got.DeviceID != did || got.State != w.State || got.Reason != w.Reason || !got.UpdatedAt.Equal(w.UpdatedAt) {
						rt.Fatalf("Member(%s, %s) = %+v, want %+v", cid, did, got, w)
					}
				}
			}
			return nil
		})
	})
}

// testMemberUnknownCampaign: a member cannot be put into a campaign that
// does not exist, and the failed Update leaves no trace.
func testMemberUnknownCampaign(t *testing.T, h *harness) {
	ctx, s := h.env(t)
	err := s.Update(ctx, func(tx fota.Tx) error {
		return tx.PutMember(fota.Member{CampaignID: "ghost", DeviceID: "d1", State: device.StateAccepted, UpdatedAt: base})
	})
	if !errors.Is(err, fota.ErrNotFound) {
		t.Fatalf("PutMember into an unknown campaign: %v, want an error matching fota.ErrNotFound", err)
	}
	view(t, ctx, s, func(tx fota.Tx) error {
		_, err := tx.Campaign("ghost")
		checkNotFound(t, err, "campaign", "ghost", "")
		return nil
	})
}

// testMemberDelete: DeleteMember removes the member from Member, Members
// and Counts. Deleting a member that is not there either succeeds or
// reports ErrNotFound (the contract does not say which), and changes
// nothing.
func testMemberDelete(t *testing.T, h *harness) {
	ctx, s := h.env(t)
	putCampaigns(t, s, "c1")
	update(t, ctx, s, func(tx fota.Tx) error {
		for i, d := range []string{"d1", "d2", "d3"} {
			if err := tx.PutMember(fota.Member{CampaignID: "c1", DeviceID: d, State: device.States[i], UpdatedAt: base}); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, ctx, s, func(tx fota.Tx) error { return tx.DeleteMember("c1", "d2") })
	if err := s.Update(ctx, func(tx fota.Tx) error { return tx.DeleteMember("c1", "d2") }); err != nil && !errors.Is(err, fota.ErrNotFound) {
		t.Fatalf("DeleteMember of a deleted member: %v, want nil or an error matching fota.ErrNotFound", err)
	}
	view(t, ctx, s, func(tx fota.Tx) error {
		_, err := tx.Member("c1", "d2")
		checkNotFound(t, err, "device", "d2", "c1")
		ms, err := tx.Members("c1", "", page)
		if err != nil {
			return err
		}
		if len(ms) != 2 || ms[0].DeviceID != "d1" || ms[1].DeviceID != "d3" {
			t.Fatalf("Members after deleting d2 = %+v, want d1, d3", ms)
		}
		var want fota.Counts
		want[device.States[0]], want[device.States[2]] = 1, 1
		if c, err := tx.Counts("c1"); err != nil || c != want {
			t.Fatalf("Counts after deleting d2 = %v, %v; want %v", c, err, want)
		}
		return nil
	})
}

// pageMembers reads every member of the campaign, limit at a time, each
// page in its own View, calling between after each page.
func pageMembers(t tb, s fota.Store, campaignID string, limit int, between func()) []fota.Member {
	t.Helper()
	ctx, cancel := contextFor()
	defer cancel()
	var all []fota.Member
	after := ""
	for pages := 0; ; pages++ {
		if pages > page {
			t.Fatalf("Members(%s) paging does not end", campaignID)
		}
		var batch []fota.Member
		view(t, ctx, s, func(tx fota.Tx) (err error) {
			batch, err = tx.Members(campaignID, after, limit)
			return err
		})
		if len(batch) > limit {
			t.Fatalf("Members(%s, %q, %d) returned %d", campaignID, after, limit, len(batch))
		}
		for _, m := range batch {
			if m.CampaignID != campaignID || m.DeviceID <= after {
				t.Fatalf("Members(%s, %q, %d): %+v out of order or of another campaign", campaignID, after, limit, m)
			}
			after = m.DeviceID
		}
		all = append(all, batch...)
		if len(batch) < limit {
			return all
		}
		if between != nil {
			between()
		}
	}
}

func genDeviceIDs(t *rapid.T, max int) []string {
	return rapid.SliceOfNDistinct(rapid.StringMatching(`[a-zA-Z0-9_-]{1,5}`), 0, max, rapid.ID).Draw(t, "deviceIDs")
}

// testMemberPaging: after any puts and deletions, paging Members from ""
// with any limit lists every member once, in device id order.
func testMemberPaging(t *testing.T, h *harness) {
	ctx, _ := h.env(t)
	rapid.Check(t, func(rt *rapid.T) {
		s := h.newStore(t)
		putCampaigns(rt, s, "c1", "c2")
		ids := genDeviceIDs(rt, 30)
		want := map[string]fota.Member{}
		update(rt, ctx, s, func(tx fota.Tx) error {
			for _, id := range ids {
				cid := rapid.SampledFrom([]string{"c1", "c2"}).Draw(rt, "campaign")
				m := genMember(rt, cid, id)
				if cid == "c1" {
					want[id] = m
				}
				if err := tx.PutMember(m); err != nil {
					return err
				}
			}
			return nil
		})
		if len(want) > 0 {
			gone := rapid.SliceOfDistinct(rapid.SampledFrom(slices.Sorted(maps.Keys(want))), rapid.ID).Draw(rt, "deleted")
			update(rt, ctx, s, func(tx fota.Tx) error {
				for _, id := range gone {
					delete(want, id)
					if err := tx.DeleteMember("c1", id); err != nil {
						return err
					}
				}
				return nil
			})
		}
		got := pageMembers(rt, s, "c1", rapid.IntRange(1, 8).Draw(rt, "limit"), nil)
		wantIDs := slices.Sorted(maps.Keys(want))
		if len(got) != len(wantIDs) {
			rt.Fatalf("paged %d members, want %d (%v)", len(got), len(wantIDs), wantIDs)
		}
		for i, m := range got {
			w := want[wantIDs[i]]
			if m.DeviceID != w.DeviceID || m.State != w.State || m.Reason != w.Reason || !m.UpdatedAt.Equal(w.UpdatedAt) {
				rt.Fatalf("member %d = %+v, want %+v", i, m, w)
			}
		}
	})
}

// testMemberPagingWhileChanging: members added and deleted between pages
// do not disturb the rest: a member present throughout is listed exactly
// once, and nothing is listed twice.
func testMemberPagingWhileChanging(t *testing.T, h *harness) {
	ctx, _ := h.env(t)
	rapid.Check(t, func(rt *rapid.T) {
		s := h.newStore(t)
		putCampaigns(rt, s, "c1")
		pool := genDeviceIDs(rt, 30)
		present := map[string]bool{}
		touched := map[string]bool{} // added or deleted while paging
		put := func(tx fota.Tx, id string) error {
			present[id] = true
			return tx.PutMember(fota.Member{CampaignID: "c1", DeviceID: id, State: device.StateAccepted, UpdatedAt: base})
		}
		update(rt, ctx, s, func(tx fota.Tx) error {
			for _, id := range pool {
				if rapid.Bool().Draw(rt, "initially") {
					if err := put(tx, id); err != nil {
						return err
					}
				}
			}
			return nil
		})
		seen := map[string]int{}
		got := pageMembers(rt, s, "c1", rapid.IntRange(1, 5).Draw(rt, "limit"), func() {
			if len(pool) == 0 {
				return
			}
			for range rapid.IntRange(0, 3).Draw(rt, "changes") {
				id := rapid.SampledFrom(pool).Draw(rt, "changed")
				touched[id] = true
				update(rt, ctx, s, func(tx fota.Tx) error {
					if present[id] {
						delete(present, id)
						return tx.DeleteMember("c1", id)
					}
					return put(tx, id)
				})
			}
		})
		for _, m := range got {
			seen[m.DeviceID]++
		}
		for id, n := range seen {
			if n > 1 {
				rt.Fatalf("member %s listed %d times", id, n)
			}
			if !slices.Contains(pool, id) {
				rt.Fatalf("member %s listed, never put", id)
			}
		}
		for id := range present {
			if !touched[id] && seen[id] != 1 {
				rt.Fatalf("member %s, present throughout, listed %d times", id, seen[id])
			}
		}
	})
}

// testCountsModel: after any sequence of puts, replaces and deletions,
// within a transaction and after it, Counts equals the count of Members by
// state, and both agree with a model.
func testCountsModel(t *testing.T, h *harness) {
	ctx, _ := h.env(t)
	campaigns := []string{"c1", "c2", "c3"}
	rapid.Check(t, func(rt *rapid.T) {
		s := h.newStore(t)
		putCampaigns(rt, s, campaigns...)
		model := map[string]map[string]device.State{}
		for _, c := range campaigns {
			model[c] = map[string]device.State{}
		}
		check := func(tx fota.Tx, where string, model map[string]map[string]device.State) error {
			for _, cid := range campaigns {
				got, err := tx.Counts(cid)
				if err != nil {
					return err
				}
				ms, err := tx.Members(cid, "", page)
				if err != nil {
					return err
				}
				var fromMembers, want fota.Counts
				for _, m := range ms {
					fromMembers[m.State]++
				}
				for _, st := range model[cid] {
					want[st]++
				}
				if got != fromMembers || got != want {
					return fmt.Errorf("%s: Counts(%s) = %v; from Members %v; model %v", where, cid, got, fromMembers, want)
				}
				if got.Accepted() != want.Accepted() || got.Of(device.StateRejected) != want[device.StateRejected] {
					return fmt.Errorf("%s: Counts(%s) Accepted/Of disagree with the model", where, cid)
				}
			}
			return nil
		}
		rt.Repeat(map[string]func(*rapid.T){
			"batch": func(rt *rapid.T) {
				next := cloneStates(model)
				n := rapid.IntRange(1, 6).Draw(rt, "writes")
				commit := rapid.Bool().Draw(rt, "commit")
				err := s.Update(ctx, func(tx fota.Tx) error {
					for range n {
						cid := rapid.SampledFrom(campaigns).Draw(rt, "campaign")
						did := rapid.SampledFrom(deviceIDs).Draw(rt, "device")
						if _, ok := next[cid][did]; ok && rapid.IntRange(0, 2).Draw(rt, "delete") == 0 {
							delete(next[cid], did)
							if err := tx.DeleteMember(cid, did); err != nil {
								return err
							}
							continue
						}
						st := rapid.SampledFrom(device.States).Draw(rt, "state")
						next[cid][did] = st
						if err := tx.PutMember(fota.Member{CampaignID: cid, DeviceID: did, State: st, UpdatedAt: base.Add(time.Second)}); err != nil {
							return err
						}
					}
					if err := check(tx, "in the writing transaction", next); err != nil {
						return err
					}
					if !commit {
						return errAbort
					}
					return nil
				})
				if commit && err != nil || !commit && !errors.Is(err, errAbort) {
					rt.Fatalf("Update (commit %v): %v", commit, err)
				}
				if commit {
					model = next
				}
			},
			"": func(rt *rapid.T) {
				view(rt, ctx, s, func(tx fota.Tx) error { return check(tx, "after the transaction", model) })
			},
		})
	})
}

func cloneStates(m map[string]map[string]device.State) map[string]map[string]device.State {
	c := make(map[string]map[string]device.State, len(m))
	for k, v := range m {
		c[k] = maps.Clone(v)
	}
	return c
}
