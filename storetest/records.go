package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/verboselog"
	"pgregory.net/rapid"
)

var recordCases = []testCase{
	{"ActiveCampaign", testActiveCampaign},
	{"Device", testDevice},
	{"DeviceRecordsPaging", testDeviceRecordsPaging},
	{"Gate", testGate},
	{"Sessions", testSessions},
	{"Bundles", testBundles},
	{"NextSeq", testNextSeq},
}

// testActiveCampaign: a device starts in no campaign; SetActiveCampaign
// records one, replaces it, and "" releases the device.
func testActiveCampaign(t *testing.T, h *harness) {
	ctx, s := h.env(t)
	putCampaigns(t, s, "c1", "c2")
	active := func(d, want string) {
		t.Helper()
		view(t, ctx, s, func(tx fota.Tx) error {
			if got, err := tx.ActiveCampaign(d); err != nil || got != want {
				t.Fatalf("ActiveCampaign(%s) = %q, %v; want %q", d, got, err, want)
			}
			return nil
		})
	}
	active("d1", "")
	update(t, ctx, s, func(tx fota.Tx) error { return tx.SetActiveCampaign("d1", "c1") })
	active("d1", "c1")
	active("d2", "")
	update(t, ctx, s, func(tx fota.Tx) error { return tx.SetActiveCampaign("d1", "c2") })
	active("d1", "c2")
	update(t, ctx, s, func(tx fota.Tx) error { return tx.SetActiveCampaign("d1", "") })
	active("d1", "")
	// Releasing a device that is in no campaign is not an error.
	update(t, ctx, s, func(tx fota.Tx) error { return tx.SetActiveCampaign("d2", "") })
	active("d2", "")
}

// testDevice: a device never seen is a zero record carrying its id;
// PutDevice inserts and replaces, keeping every field (LicensedAt to the
// microsecond, LastCampaign).
func testDevice(t *testing.T, h *harness) {
	ctx, _ := h.env(t)
	rapid.Check(t, func(rt *rapid.T) {
		s := h.newStore(t)
		want := map[string]fota.DeviceRecord{}
		for range rapid.IntRange(0, 8).Draw(rt, "puts") {
			d := genDevice(rt, rapid.SampledFrom(deviceIDs).Draw(rt, "device"))
			update(rt, ctx, s, func(tx fota.Tx) error { return tx.PutDevice(d) })
			want[d.DeviceID] = d
		}
		view(rt, ctx, s, func(tx fota.Tx) error {
			for _, id := range deviceIDs {
				w, ok := want[id]
				if !ok {
					w = fota.DeviceRecord{DeviceID: id}
				}
				if got, err := tx.Device(id); err != nil || normDevice(got) != normDevice(w) {
					rt.Fatalf("Device(%s) = %+v, %v; want %+v", id, got, err, w)
				}
			}
			return nil
		})
	})
}

// sameGate compares gates field by field: values with ==, the time with
// Equal (a store keeps the instant, not the zone).
func sameGate(a, b pilot.Gate) bool {
	return a.Target == b.Target && a.State == b.State && a.Pilots == b.Pilots && a.LiftedAt.Equal(b.LiftedAt)
}

// testGate: a target never seen has a standing gate for that target;
// PutGate stores a gate under its target.
func testGate(t *testing.T, h *harness) {
	ctx, _ := h.env(t)
	rapid.Check(t, func(rt *rapid.T) {
		s := h.newStore(t)
		want := map[pilot.Target]pilot.Gate{}
		for range rapid.IntRange(0, 6).Draw(rt, "puts") {
			g := genGate(rt)
			update(rt, ctx, s, func(tx fota.Tx) error { return tx.PutGate(g) })
			want[g.Target] = g
		}
		view(rt, ctx, s, func(tx fota.Tx) error {
			for _, tg := range targets {
				got, err := tx.Gate(tg)
				if err != nil {
					rt.Fatalf("Gate(%s): %v", tg, err)
				}
				w, ok := want[tg]
				if !ok {
					if got.Target != tg || got.State != pilot.Standing || got.Lifted() || got.Pilots != 0 || !got.LiftedAt.IsZero() {
						rt.Fatalf("Gate(%s) of a target never seen = %+v, want a standing gate", tg, got)
					}
					continue
				}
				if !sameGate(got, w) {
					rt.Fatalf("Gate(%s) = %+v, want %+v", tg, got, w)
				}
			}
			return nil
		})
	})
}

// testSessions: a device never enabled has a zero session with its id;
// PutSession stores and replaces; Sessions lists an account's sessions in
// device id order and no other account's.
func testSessions(t *testing.T, h *harness) {
	ctx, _ := h.env(t)
	rapid.Check(t, func(rt *rapid.T) {
		s := h.newStore(t)
		want := map[string]fota.LogSession{}
		for range rapid.IntRange(0, 10).Draw(rt, "puts") {
			ls := genSession(rt, rapid.SampledFrom(deviceIDs).Draw(rt, "device"))
			update(rt, ctx, s, func(tx fota.Tx) error { return tx.PutSession(ls) })
			want[ls.DeviceID] = ls
		}
		view(rt, ctx, s, func(tx fota.Tx) error {
			for _, id := range deviceIDs {
				got, err := tx.Session(id)
				if err != nil {
					rt.Fatalf("Session(%s): %v", id, err)
				}
				w, ok := want[id]
				if !ok {
					w = fota.LogSession{Session: verboselog.Session{DeviceID: id}}
				}
				if normSession(got) != normSession(w) {
					rt.Fatalf("Session(%s) = %+v, want %+v", id, got, w)
				}
			}
			for _, a := range accounts {
				got, err := tx.Sessions(a)
				if err != nil {
					rt.Fatalf("Sessions(%s): %v", a, err)
				}
				var w []fota.LogSession
				for _, id := range slices.Sorted(slices.Values(deviceIDs)) {
					if ls, ok := want[id]; ok && ls.Account == a {
						w = append(w, normSession(ls))
					}
				}
				if g := normList(got, normSession); !reflect.DeepEqual(g, w) {
					rt.Fatalf("Sessions(%s) =\n %+v\nwant\n %+v", a, g, w)
				}
			}
			return nil
		})
	})
}

// testBundles: Bundles lists a device's bundles oldest first;
// DeleteBundles(before) removes exactly those uploaded strictly before.
func testBundles(t *testing.T, h *harness) {
	ctx, _ := h.env(t)
	rapid.Check(t, func(rt *rapid.T) {
		s := h.newStore(t)
		clk := &clock{now: base}
		m := newModel(1)
		rt.Repeat(map[string]func(*rapid.T){
			"add": func(rt *rapid.T) {
				b := genBundle(rt, rapid.SampledFrom(deviceIDs[:3]).Draw(rt, "device"), clk.next(rt, "uploadedAt"))
				update(rt, ctx, s, func(tx fota.Tx) error { return tx.AddBundle(b) })
				m.bundles[b.DeviceID] = append(m.bundles[b.DeviceID], b)
			},
			"delete": func(rt *rapid.T) {
				o := deleteBundlesOp(rt, m, clk, rapid.SampledFrom(deviceIDs[:3]).Draw(rt, "device"))
				update(rt, ctx, s, o.apply)
				o.model(m)
			},
			"": func(rt *rapid.T) {
				view(rt, ctx, s, func(tx fota.Tx) error {
					for _, d := range deviceIDs {
						got, err := tx.Bundles(d)
						if err != nil {
							rt.Fatalf("Bundles(%s): %v", d, err)
						}
						if g, w := normList(got, normBundle), normList(m.bundles[d], normBundle); !reflect.DeepEqual(g, w) {
							rt.Fatalf("Bundles(%s) =\n %+v\nwant\n %+v", d, g, w)
						}
					}
					return nil
				})
			},
		})
	})
}

// testNextSeq: the numbers committed transactions obtain are strictly
// increasing, within a transaction and from one to the next, whatever
// transactions rolled back in between. (A rolled-back number was never
// returned to a committed transaction, so a store may hand it out again.)
func testNextSeq(t *testing.T, h *harness) {
	ctx, _ := h.env(t)
	rapid.Check(t, func(rt *rapid.T) {
		s := h.newStore(t)
		var last uint64
		for i := range rapid.IntRange(1, 10).Draw(rt, "transactions") {
			n := rapid.IntRange(1, 3).Draw(rt, "calls")
			commit := rapid.Bool().Draw(rt, "commit")
			var got []uint64
			err := s.Update(ctx, func(tx fota.Tx) error {
				got = got[:0]
				for range n {
					v, err := tx.NextSeq()
					if err != nil {
						return err
					}
					got = append(got, v)
				}
				if !commit {
					return errAbort
				}
				return nil
			})
			if !commit {
				if !errors.Is(err, errAbort) {
					rt.Fatalf("Update returned %v, want the function's error", err)
				}
				continue
			}
			if err != nil {
				rt.Fatalf("transaction %d: %v", i, err)
			}
			for _, v := range got {
				if v <= last {
					rt.Fatalf("transaction %d: NextSeq returned %d after %d (values %v)", i, v, last, got)
				}
				last = v
			}
		}
	})
}

// testDeviceRecordsPaging: DeviceRecords(account, afterID, limit) lists
// the account's device records in id order, bytewise; following afterID
// from "" visits each exactly once, and an afterID that names no device
// still splits the order. Devices known only by a check-in have no record.
func testDeviceRecordsPaging(t *testing.T, h *harness) {
	ctx, _ := h.env(t)
	rapid.Check(t, func(rt *rapid.T) {
		s := h.newStore(t)
		ids := genDeviceIDs(rt, 25)
		byAccount := map[string][]string{}
		var recs []fota.DeviceRecord
		for _, id := range ids {
			d := genDevice(rt, id)
			byAccount[d.Account] = append(byAccount[d.Account], id)
			recs = append(recs, d)
		}
		update(rt, ctx, s, func(tx fota.Tx) error {
			for _, d := range recs {
				if err := tx.PutDevice(d); err != nil {
					return err
				}
			}
			return tx.AddCheckIn(verboselog.CheckIn{DeviceID: "~no-record", TimeCompleted: base}, 1)
		})
		for _, a := range accounts {
			want := slices.Sorted(slices.Values(byAccount[a]))
			limit := rapid.IntRange(1, 7).Draw(rt, "limit")
			var got []string
			after := ""
			for pages := 0; ; pages++ {
				if pages > len(ids)+1 {
					rt.Fatalf("account %s: paging does not end: %v", a, got)
				}
				var batch []fota.DeviceRecord
				view(rt, ctx, s, func(tx fota.Tx) (err error) {
					batch, err = tx.DeviceRecords(a, after, limit)
					return err
				})
				if len(batch) > limit {
					rt.Fatalf("DeviceRecords(%s, %q, %d) returned %d", a, after, limit, len(batch))
				}
				for _, d := range batch {
					if d.Account != a || d.DeviceID <= after {
						rt.Fatalf("DeviceRecords(%s, %q): %+v out of order or of another account", a, after, d)
					}
					if w := recs[slices.Index(ids, d.DeviceID)]; normDevice(d) != normDevice(w) {
						rt.Fatalf("DeviceRecords(%s) lists %+v, want %+v", a, d, w)
					}
					got = append(got, d.DeviceID)
					after = d.DeviceID
				}
				if len(batch) < limit {
					break
				}
			}
			if !slices.Equal(got, want) {
				rt.Fatalf("account %s, pages of %d: got %v, want %v", a, limit, got, want)
			}
			cut := rapid.StringMatching(`[a-zA-Z0-9_-]{0,5}`).Draw(rt, "cut")
			var rest []fota.DeviceRecord
			view(rt, ctx, s, func(tx fota.Tx) (err error) {
				rest, err = tx.DeviceRecords(a, cut, page)
				return err
			})
			wantRest := slices.DeleteFunc(slices.Clone(want), func(id string) bool { return id <= cut })
			gotRest := make([]string, len(rest))
			for i, d := range rest {
				gotRest[i] = d.DeviceID
			}
			if !slices.Equal(gotRest, wantRest) {
				rt.Fatalf("DeviceRecords(%s, %q) = %v, want %v", a, cut, gotRest, wantRest)
			}
		}
	})
}
