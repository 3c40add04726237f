package fota

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fotakit/fota/device"
	"pgregory.net/rapid"
)

// TestDueIndexModel drives the memory store's due index through what
// moves it (members put with and without a due time, by Updates and by
// device transactions; members deleted; campaigns created with members in
// any device order; Updates rolled back, some of them having created a
// campaign) with compaction after a few stale entries and versions that
// wrap after a few dozen, and checks every DueMembers and NextDue against
// a model: the members due at or before now, by due time, campaign id,
// device id, at most limit.
func TestDueIndexModel(t *testing.T) {
	defer func(slack int, maxVer uint32) { dueSlack, maxDueVersion = slack, maxVer }(dueSlack, maxDueVersion)
	dueSlack, maxDueVersion = 3, 40
	ctx := context.Background()
	base := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	// Ids of one and several lengths and text ones, so that every device
	// comparison is exercised; due times a few buckets apart and tied.
	devices := []string{"35000000000002", "350000000000001", "350000000000010", "9", "D-1", "d-2"}
	campaigns := []string{"c-b", "c-a", "c-c"}
	genDue := func(t *rapid.T) time.Time {
		if rapid.IntRange(0, 3).Draw(t, "notDue") == 0 {
			return time.Time{}
		}
		return base.Add(time.Duration(rapid.IntRange(-2, 6).Draw(t, "dueStep")) * 10 * time.Second)
	}
	rapid.Check(t, func(t *rapid.T) {
		s := NewMemoryStore()
		model := map[[2]string]time.Time{} // campaign, device -> DueAt (members only)
		created := map[string]bool{}
		member := func(c, d string, due time.Time) Member {
			return Member{CampaignID: c, DeviceID: d, State: device.StateAccepted, UpdatedAt: base,
				Push: Push{Protocol: device.LWM2M, DueAt: due}}
		}
		check := func(t *rapid.T) {
			now := base.Add(time.Duration(rapid.IntRange(-3, 7).Draw(t, "nowStep"))*10*time.Second + time.Duration(rapid.IntRange(-1, 1).Draw(t, "nowOff")))
			limit := rapid.IntRange(1, 8).Draw(t, "limit")
			type key struct {
				due  time.Time
				c, d string
			}
			var all []key
			for k, due := range model {
				if !due.IsZero() {
					all = append(all, key{due, k[0], k[1]})
				}
			}
			slices.SortFunc(all, func(a, b key) int {
				return cmp.Or(a.due.Compare(b.due), strings.Compare(a.c, b.c), strings.Compare(a.d, b.d))
			})
			var want []string
			for _, k := range all {
				if !k.due.After(now) && len(want) < limit {
					want = append(want, k.c+"/"+k.d)
				}
			}
			err := s.Update(ctx, func(tx Tx) error {
				ms, err := tx.DueMembers(now, limit)
				if err != nil {
					return err
				}
				var got []string
				for _, m := range ms {
					got = append(got, m.CampaignID+"/"+m.DeviceID)
					if w := model[[2]string{m.CampaignID, m.DeviceID}]; !m.Push.DueAt.Equal(w) {
						return fmt.Errorf("%s/%s due %v, want %v", m.CampaignID, m.DeviceID, m.Push.DueAt, w)
					}
				}
				if !reflect.DeepEqual(got, want) {
					return fmt.Errorf("DueMembers(%v, %d) = %v, want %v", now, limit, got, want)
				}
				at, ok, err := tx.NextDue()
				if err != nil {
					return err
				}
				if ok != (len(all) > 0) || ok && !at.Equal(all[0].due) {
					return fmt.Errorf("NextDue = %v %v, want the first of %v", at, ok, all)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n := s.due.live; n != len(all) {
				t.Fatalf("the index counts %d members due, the model %d", n, len(all))
			}
			if s.due.entries > 2*s.due.live+dueSlack {
				t.Fatalf("%d entries for %d members due: not compacted", s.due.entries, s.due.live)
			}
			if s.due.ver > maxDueVersion {
				t.Fatalf("version %d handed out, past %d", s.due.ver, maxDueVersion)
			}
		}
		t.Repeat(map[string]func(*rapid.T){
			"create": func(t *rapid.T) {
				c := rapid.SampledFrom(campaigns).Draw(t, "campaign")
				if created[c] {
					t.Skip("exists")
				}
				ids := rapid.Permutation(devices).Draw(t, "order")[:rapid.IntRange(1, len(devices)).Draw(t, "members")]
				ms := make([]NewMember, len(ids))
				dues := make([]time.Time, len(ids))
				for i, d := range ids {
					dues[i] = genDue(t)
					ms[i] = NewMember{Member: member(c, d, dues[i])}
				}
				fail := rapid.IntRange(0, 3).Draw(t, "fail") == 0
				err := s.Update(ctx, func(tx Tx) error {
					if err := tx.PutCampaign(Campaign{ID: c}); err != nil {
						return err
					}
					if err := tx.AddMembers(c, ms); err != nil {
						return err
					}
					if fail {
						return errors.New("rolled back")
					}
					return nil
				})
				if fail != (err != nil) {
					t.Fatalf("create %s: %v", c, err)
				}
				if !fail {
					created[c] = true
					for i, d := range ids {
						model[[2]string{c, d}] = dues[i]
					}
				}
			},
			"update": func(t *rapid.T) {
				type write struct {
					c, d string
					due  time.Time
					del  bool
				}
				next := maps.Clone(model)
				var ws []write
				for range rapid.IntRange(1, 4).Draw(t, "writes") {
					c := rapid.SampledFrom(campaigns).Draw(t, "campaign")
					if !created[c] {
						continue
					}
					d := rapid.SampledFrom(devices).Draw(t, "device")
					k := [2]string{c, d}
					if _, ok := next[k]; ok && rapid.IntRange(0, 3).Draw(t, "delete") == 0 {
						delete(next, k)
						ws = append(ws, write{c: c, d: d, del: true})
						continue
					}
					due := genDue(t)
					next[k] = due
					ws = append(ws, write{c: c, d: d, due: due})
				}
				fail := rapid.IntRange(0, 3).Draw(t, "fail") == 0
				err := s.Update(ctx, func(tx Tx) error {
					for _, w := range ws {
						var err error
						if w.del {
							err = tx.DeleteMember(w.c, w.d)
						} else {
							err = tx.PutMember(member(w.c, w.d, w.due))
						}
						if err != nil {
							return err
						}
					}
					if fail {
						return errors.New("rolled back")
					}
					return nil
				})
				if fail != (err != nil) {
					t.Fatalf("update: %v", err)
				}
				if !fail {
					model = next
				}
			},
			"device": func(t *rapid.T) {
				d := rapid.SampledFrom(devices).Draw(t, "device")
				c := rapid.SampledFrom(campaigns).Draw(t, "campaign")
				k := [2]string{c, d}
				if _, ok := model[k]; !ok {
					t.Skip("no member")
				}
				due := genDue(t)
				fail := rapid.Bool().Draw(t, "fail")
				err := s.UpdateDevice(ctx, d, func(tx DeviceTx) error {
					if err := tx.PutMember(member(c, d, due)); err != nil {
						return err
					}
					if fail {
						return errors.New("rolled back")
					}
					return nil
				})
				if fail != (err != nil) {
					t.Fatalf("device %s: %v", d, err)
				}
				if !fail {
					model[k] = due
				}
			},
			"": check,
		})
	})
}

// TestDueIndexConcurrent: device transactions of many shards read their
// members and set their due times at once while the index compacts and
// renumbers often; afterwards every member is due exactly at the time it
// was given last, once.
func TestDueIndexConcurrent(t *testing.T) {
	defer func(slack int, maxVer uint32) { dueSlack, maxDueVersion = slack, maxVer }(dueSlack, maxDueVersion)
	dueSlack, maxDueVersion = 8, 300
	ctx := context.Background()
	base := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	s := NewMemoryStore()
	const devices, workers, rounds = 64, 4, 200
	ids := make([]string, devices)
	for i := range ids {
		ids[i] = fmt.Sprintf("35000000000%04d", i)
	}
	member := func(d string, due time.Time) Member {
		return Member{CampaignID: "c", DeviceID: d, State: device.StateAccepted, UpdatedAt: base,
			Push: Push{Protocol: device.LWM2M, DueAt: due}}
	}
	if err := s.Update(ctx, func(tx Tx) error {
		if err := tx.PutCampaign(Campaign{ID: "c"}); err != nil {
			return err
		}
		for _, d := range ids {
			if err := tx.PutMember(member(d, base)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	last := make([]time.Time, devices)
	done := make(chan error, workers)
	for w := range workers {
		go func() {
			for r := range rounds {
				for i := w; i < devices; i += workers {
					due := base.Add(time.Duration((r*7+i)%40) * time.Second)
					if (r+i)%5 == 0 {
						due = time.Time{}
					}
					if err := s.UpdateDevice(ctx, ids[i], func(tx DeviceTx) error {
						if _, err := tx.Member("c"); err != nil {
							return err
						}
						return tx.PutMember(member(ids[i], due))
					}); err != nil {
						done <- err
						return
					}
					last[i] = due
				}
			}
			done <- nil
		}()
	}
	for range workers {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	err := s.Update(ctx, func(tx Tx) error {
		ms, err := tx.DueMembers(base.Add(time.Hour), devices+1)
		if err != nil {
			return err
		}
		got := map[string]time.Time{}
		for _, m := range ms {
			if _, dup := got[m.DeviceID]; dup {
				return fmt.Errorf("%s due twice", m.DeviceID)
			}
			got[m.DeviceID] = m.Push.DueAt
		}
		for i, d := range ids {
			if w, g := last[i], got[d]; !w.Equal(g) {
				return fmt.Errorf("%s due %v, want %v", d, g, w)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
