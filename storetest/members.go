package storetest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
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
	{"AnyMember", testAnyMember},
	{"DeviceMembers", testDeviceMembers},
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
// whole record (its push bookkeeping too) with its instants equal to the
// microsecond; a missing member is a NotFoundError naming the device and
// the campaign.
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
					if normMember(got) != normMember(w) {
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
		var puts []fota.Member
		for _, id := range ids {
			cid := rapid.SampledFrom([]string{"c1", "c2"}).Draw(rt, "campaign")
			m := genMember(rt, cid, id)
			if cid == "c1" {
				want[id] = m
			}
			puts = append(puts, m)
		}
		update(rt, ctx, s, func(tx fota.Tx) error {
			for _, m := range puts {
				if err := tx.PutMember(m); err != nil {
					return err
				}
			}
			return nil
		})
		if len(want) > 0 {
			gone := rapid.SliceOfDistinct(rapid.SampledFrom(slices.Sorted(maps.Keys(want))), rapid.ID).Draw(rt, "deleted")
			for _, id := range gone {
				delete(want, id)
			}
			update(rt, ctx, s, func(tx fota.Tx) error {
				for _, id := range gone {
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
			if normMember(m) != normMember(w) {
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
			return tx.PutMember(fota.Member{CampaignID: "c1", DeviceID: id, State: device.StateAccepted, UpdatedAt: base})
		}
		var initial []string
		for _, id := range pool {
			if rapid.Bool().Draw(rt, "initially") {
				initial = append(initial, id)
				present[id] = true
			}
		}
		update(rt, ctx, s, func(tx fota.Tx) error {
			for _, id := range initial {
				if err := put(tx, id); err != nil {
					return err
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
				remove := present[id]
				present[id] = !remove
				if remove {
					delete(present, id)
				}
				update(rt, ctx, s, func(tx fota.Tx) error {
					if remove {
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
				type write struct {
					cid, did string
					state    device.State // 0: delete
				}
				var writes []write
				for range n {
					cid := rapid.SampledFrom(campaigns).Draw(rt, "campaign")
					did := rapid.SampledFrom(deviceIDs).Draw(rt, "device")
					if _, ok := next[cid][did]; ok && rapid.IntRange(0, 2).Draw(rt, "delete") == 0 {
						delete(next[cid], did)
						writes = append(writes, write{cid, did, 0})
						continue
					}
					st := rapid.SampledFrom(device.States).Draw(rt, "state")
					next[cid][did] = st
					writes = append(writes, write{cid, did, st})
				}
				err := s.Update(ctx, func(tx fota.Tx) error {
					for _, w := range writes {
						if w.state == 0 {
							if err := tx.DeleteMember(w.cid, w.did); err != nil {
								return err
							}
							continue
						}
						if err := tx.PutMember(fota.Member{CampaignID: w.cid, DeviceID: w.did, State: w.state, UpdatedAt: base.Add(time.Second)}); err != nil {
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

// testAnyMember: AnyMember(campaign, set) reports whether some member is in
// one of the set's states, after any puts and deletions, inside the
// writing transaction and after it; the empty set never matches.
func testAnyMember(t *testing.T, h *harness) {
	ctx, _ := h.env(t)
	rapid.Check(t, func(rt *rapid.T) {
		s := h.newStore(t)
		putCampaigns(rt, s, "c1", "c2")
		states := map[string]map[string]device.State{"c1": {}, "c2": {}}
		genSet := func(rt *rapid.T) fota.StateSet {
			return fota.States(rapid.SliceOfN(rapid.SampledFrom(device.States), 0, 3).Draw(rt, "set")...)
		}
		drawCheck := func(rt *rapid.T, states map[string]map[string]device.State) func(fota.Tx) error {
			cid := rapid.SampledFrom([]string{"c1", "c2"}).Draw(rt, "asked")
			set := genSet(rt)
			want := false
			for _, st := range states[cid] {
				want = want || set.Has(st)
			}
			return func(tx fota.Tx) error {
				got, err := tx.AnyMember(cid, set)
				if err != nil {
					return err
				}
				if got != want {
					return fmt.Errorf("AnyMember(%s, %b) = %v, want %v (members %v)", cid, set, got, want, states[cid])
				}
				return nil
			}
		}
		rt.Repeat(map[string]func(*rapid.T){
			"write": func(rt *rapid.T) {
				next := cloneStates(states)
				cid := rapid.SampledFrom([]string{"c1", "c2"}).Draw(rt, "campaign")
				did := rapid.SampledFrom(deviceIDs).Draw(rt, "device")
				_, had := next[cid][did]
				del := had && rapid.Bool().Draw(rt, "delete")
				st := rapid.SampledFrom(device.States).Draw(rt, "state")
				if del {
					delete(next[cid], did)
				} else {
					next[cid][did] = st
				}
				check := drawCheck(rt, next)
				update(rt, ctx, s, func(tx fota.Tx) error {
					var err error
					if del {
						err = tx.DeleteMember(cid, did)
					} else {
						err = tx.PutMember(fota.Member{CampaignID: cid, DeviceID: did, State: st, UpdatedAt: base})
					}
					if err != nil {
						return err
					}
					return check(tx)
				})
				states = next
			},
			"": func(rt *rapid.T) {
				view(rt, ctx, s, drawCheck(rt, states))
			},
		})
	})
}

// testDeviceMembers: DeviceMembers lists a device's whole records in every
// campaign that holds one, ordered by campaign id bytewise, and none of a
// device never seen or whose records were deleted.
func testDeviceMembers(t *testing.T, h *harness) {
	ctx, s := h.env(t)
	putCampaigns(t, s, campaignIDs...)
	var put []fota.Member
	for i, cid := range campaignIDs {
		put = append(put, fota.Member{CampaignID: cid, DeviceID: "d1", State: device.States[i], UpdatedAt: base.Add(time.Duration(i) * time.Second),
			Push: fota.Push{Protocol: device.LWM2M, Attempt: uint8(i), Observing: i%2 == 0, Machine: uint16(i + 1), DueAt: base.Add(time.Hour), Lease: uint64(i)}})
	}
	update(t, ctx, s, func(tx fota.Tx) error {
		for _, m := range put {
			if err := tx.PutMember(m); err != nil {
				return err
			}
		}
		return tx.PutMember(fota.Member{CampaignID: campaignIDs[0], DeviceID: "d2", State: device.StateAccepted, UpdatedAt: base})
	})
	update(t, ctx, s, func(tx fota.Tx) error { return tx.DeleteMember(campaignIDs[1], "d1") })
	want := []fota.Member{put[0], put[2], put[3]}
	slices.SortFunc(want, func(a, b fota.Member) int { return strings.Compare(a.CampaignID, b.CampaignID) })
	view(t, ctx, s, func(tx fota.Tx) error {
		got, err := tx.DeviceMembers("d1")
		if err != nil {
			return err
		}
		if g, w := normList(got, normMember), normList(want, normMember); !slices.Equal(g, w) {
			t.Fatalf("DeviceMembers(d1) =\n %+v\nwant\n %+v", g, w)
		}
		if got, err := tx.DeviceMembers("never"); err != nil || len(got) != 0 {
			t.Fatalf("DeviceMembers of a device never seen = %+v, %v; want none", got, err)
		}
		return nil
	})
}
