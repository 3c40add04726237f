package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"pgregory.net/rapid"
)

var dueCases = []testCase{
	{"Model", testDueModel},
	{"ZeroNeverDue", testZeroNeverDue},
}

// genDueAt draws a push member's DueAt: zero a third of the time, else one
// of a few minutes around base, so that ties are common, in any zone.
func genDueAt(t *rapid.T) time.Time {
	if rapid.IntRange(0, 2).Draw(t, "notDue") == 0 {
		return time.Time{}
	}
	m := rapid.IntRange(0, 4).Draw(t, "dueMinute")
	return base.Add(time.Duration(m) * time.Minute).In(rapid.SampledFrom(zones).Draw(t, "dueZone"))
}

// testDueModel: after any puts, moves and deletions of members across
// campaigns, DueMembers(now, limit) returns exactly the members whose
// DueAt is set and at or before now, earliest first, ties by campaign then
// device id, at most limit, each whole; NextDue is the earliest DueAt set,
// or none. Both see the transaction's own writes. (DueMembers runs in
// Updates: it may lock what it returns.)
func testDueModel(t *testing.T, h *harness) {
	ctx, _ := h.env(t)
	campaigns := campaignIDs[:3]
	rapid.Check(t, func(rt *rapid.T) {
		s := h.newStore(t)
		putCampaigns(rt, s, campaigns...)
		m := newModel(1)
		for _, c := range campaigns {
			m.campaigns[c] = fota.Campaign{ID: c}
			m.members[c] = map[string]fota.Member{}
		}
		// drawCheck draws a query and returns the check of its answer
		// against m.
		drawCheck := func(rt *rapid.T, m *model) func(tx fota.Tx) error {
			now := base.Add(time.Duration(rapid.IntRange(-1, 5).Draw(rt, "nowMinutes")) * time.Minute)
			if rapid.Bool().Draw(rt, "nowBetween") {
				now = now.Add(-time.Microsecond)
			}
			now = now.In(rapid.SampledFrom(zones).Draw(rt, "nowZone"))
			limit := rapid.IntRange(1, 20).Draw(rt, "limit")
			want := m.dueMembers(now)
			want = normList(want[:min(limit, len(want))], normMember)
			all := m.dueMembers(farFuture)
			return func(tx fota.Tx) error {
				got, err := tx.DueMembers(now, limit)
				if err != nil {
					return err
				}
				if g := normList(got, normMember); !reflect.DeepEqual(g, want) {
					return fmt.Errorf("DueMembers(%s, %d) =\n %+v\nwant\n %+v", now.Format(time.RFC3339Nano), limit, g, want)
				}
				at, ok, err := tx.NextDue()
				if err != nil {
					return err
				}
				if ok != (len(all) > 0) || ok && !at.Equal(all[0].Push.DueAt) {
					return fmt.Errorf("NextDue = %v, %v; want the earliest DueAt of %+v", at, ok, all)
				}
				return nil
			}
		}
		rt.Repeat(map[string]func(*rapid.T){
			"write": func(rt *rapid.T) {
				next := m.clone()
				type write struct {
					m   fota.Member
					del bool
				}
				var writes []write
				for range rapid.IntRange(1, 6).Draw(rt, "writes") {
					cid := rapid.SampledFrom(campaigns).Draw(rt, "campaign")
					did := rapid.SampledFrom(deviceIDs).Draw(rt, "device")
					if old, ok := next.members[cid][did]; ok && rapid.IntRange(0, 3).Draw(rt, "delete") == 0 {
						delete(next.members[cid], did)
						writes = append(writes, write{old, true})
						continue
					}
					mem := genMember(rt, cid, did)
					mem.Push.DueAt = genDueAt(rt)
					next.members[cid][did] = mem
					writes = append(writes, write{m: mem})
				}
				check := drawCheck(rt, next)
				update(rt, ctx, s, func(tx fota.Tx) error {
					for _, w := range writes {
						var err error
						if w.del {
							err = tx.DeleteMember(w.m.CampaignID, w.m.DeviceID)
						} else {
							err = tx.PutMember(w.m)
						}
						if err != nil {
							return err
						}
					}
					return check(tx) // the transaction sees its own writes
				})
				m = next
			},
			"": func(rt *rapid.T) {
				update(rt, ctx, s, drawCheck(rt, m))
			},
		})
	})
}

// testZeroNeverDue: a member whose DueAt is zero is never due, however
// late now is, and NextDue ignores it; setting its DueAt makes it due,
// clearing it again takes it out.
func testZeroNeverDue(t *testing.T, h *harness) {
	ctx, s := h.env(t)
	putCampaigns(t, s, "c1")
	idle := fota.Member{CampaignID: "c1", DeviceID: "d1", State: device.StateNotified, UpdatedAt: base,
		Push: fota.Push{Protocol: device.OMADM, Leased: true, Lease: 4}}
	update(t, ctx, s, func(tx fota.Tx) error { return tx.PutMember(idle) })
	due := func(want ...fota.Member) {
		t.Helper()
		update(t, ctx, s, func(tx fota.Tx) error {
			got, err := tx.DueMembers(farFuture, page)
			if err != nil {
				return err
			}
			if g, w := normList(got, normMember), normList(want, normMember); !reflect.DeepEqual(g, w) {
				t.Fatalf("DueMembers(far future) = %+v, want %+v", g, w)
			}
			at, ok, err := tx.NextDue()
			if err != nil {
				return err
			}
			if ok != (len(want) > 0) || ok && !at.Equal(want[0].Push.DueAt) {
				t.Fatalf("NextDue = %v, %v; want the DueAt of %+v", at, ok, want)
			}
			return nil
		})
	}
	due()
	planned := idle
	planned.Push.DueAt = base.Add(time.Hour)
	update(t, ctx, s, func(tx fota.Tx) error { return tx.PutMember(planned) })
	due(planned)
	update(t, ctx, s, func(tx fota.Tx) error { return tx.PutMember(idle) })
	due()
}
