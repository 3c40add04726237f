package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"pgregory.net/rapid"
)

var deadlineCases = []testCase{
	{"ReplaceDelete", testDeadlineReplaceDelete},
	{"DueModel", testDeadlinesModel},
}

// testDeadlineReplaceDelete: a deadline is keyed by (Kind, Key): putting
// it again moves it; deleting one that is not there is not an error.
func testDeadlineReplaceDelete(t *testing.T, h *harness) {
	ctx, s := h.env(t)
	view(t, ctx, s, func(tx fota.Tx) error {
		if at, ok, err := tx.NextDeadline(); ok || err != nil {
			t.Fatalf("NextDeadline of an empty store = %v, %v, %v; want none", at, ok, err)
		}
		return nil
	})
	start := fota.Deadline{Kind: fota.DeadlineCampaignStart, Key: "c1", At: base.Add(time.Hour)}
	end := fota.Deadline{Kind: fota.DeadlineCampaignEnd, Key: "c1", At: base.Add(2 * time.Hour)}
	update(t, ctx, s, func(tx fota.Tx) error {
		for _, d := range []fota.Deadline{start, end} {
			if err := tx.PutDeadline(d); err != nil {
				return err
			}
		}
		return nil
	})
	start.At = base.Add(3 * time.Hour)
	update(t, ctx, s, func(tx fota.Tx) error { return tx.PutDeadline(start) })
	due := func(want ...fota.Deadline) {
		t.Helper()
		view(t, ctx, s, func(tx fota.Tx) error {
			got, err := tx.Due(farFuture, 10)
			if err != nil {
				return err
			}
			if g, w := normList(got, normDeadline), normList(want, normDeadline); !reflect.DeepEqual(g, w) {
				t.Fatalf("Due = %+v, want %+v", g, w)
			}
			return nil
		})
	}
	due(end, start)
	update(t, ctx, s, func(tx fota.Tx) error { return tx.DeleteDeadline(fota.DeadlineCampaignEnd, "c1") })
	due(start)
	update(t, ctx, s, func(tx fota.Tx) error { return tx.DeleteDeadline(fota.DeadlineCampaignEnd, "c1") })
	update(t, ctx, s, func(tx fota.Tx) error { return tx.DeleteDeadline(fota.DeadlineLogPurge, "never") })
	due(start)
}

// testDeadlinesModel: after any puts and deletions, Due(now, limit)
// returns exactly the deadlines at or before now, earliest first (ties by
// kind, then key), at most limit; NextDeadline is the earliest of all.
func testDeadlinesModel(t *testing.T, h *harness) {
	ctx, _ := h.env(t)
	rapid.Check(t, func(rt *rapid.T) {
		s := h.newStore(t)
		m := newModel(1)
		// drawCheck draws a query and returns the check of its answer
		// against m; the transaction that runs it only calls the store.
		drawCheck := func(rt *rapid.T, m *model) func(tx fota.Tx) error {
			// now: often exactly a deadline's instant, to check "at or before".
			now := base.Add(time.Duration(rapid.IntRange(-1, 6).Draw(rt, "nowMinutes")) * time.Minute)
			if rapid.Bool().Draw(rt, "nowBetween") {
				now = now.Add(-time.Microsecond)
			}
			limit := rapid.IntRange(1, 25).Draw(rt, "limit")
			want := m.due(now)
			want = want[:min(limit, len(want))]
			all := m.due(farFuture)
			return func(tx fota.Tx) error {
				got, err := tx.Due(now, limit)
				if err != nil {
					return err
				}
				if g, w := normList(got, normDeadline), normList(want, normDeadline); !reflect.DeepEqual(g, w) {
					return fmt.Errorf("Due(%s, %d) =\n %+v\nwant\n %+v", now.Format(time.RFC3339Nano), limit, g, w)
				}
				at, ok, err := tx.NextDeadline()
				if err != nil {
					return err
				}
				if ok != (len(all) > 0) || ok && !at.Equal(all[0].At) {
					return fmt.Errorf("NextDeadline = %v, %v; want the earliest of %+v", at, ok, all)
				}
				return nil
			}
		}
		rt.Repeat(map[string]func(*rapid.T){
			"write": func(rt *rapid.T) {
				next := m.clone()
				var ops []op
				for range rapid.IntRange(1, 5).Draw(rt, "writes") {
					var o op
					if rapid.IntRange(0, 2).Draw(rt, "delete") == 0 {
						o = deadlineDeleteOp(rt)
					} else {
						d := genDeadline(rt)
						o = op{"PutDeadline", func(tx fota.Tx) error { return tx.PutDeadline(d) }, func(m *model) { m.deadlines[deadlineKey{d.Kind, d.Key}] = d }}
					}
					o.model(next)
					ops = append(ops, o)
				}
				check := drawCheck(rt, next)
				update(rt, ctx, s, func(tx fota.Tx) error {
					for _, o := range ops {
						if err := o.apply(tx); err != nil {
							return err
						}
					}
					return check(tx) // the transaction sees its own writes
				})
				m = next
			},
			"": func(rt *rapid.T) {
				view(rt, ctx, s, drawCheck(rt, m))
			},
		})
	})
}

func deadlineDeleteOp(t *rapid.T) op {
	k := rapid.SampledFrom(deadlineKinds).Draw(t, "kind")
	key := rapid.SampledFrom(deadlineKeys).Draw(t, "key")
	return op{fmt.Sprintf("DeleteDeadline(%s, %s)", k, key), func(tx fota.Tx) error { return tx.DeleteDeadline(k, key) }, func(m *model) { delete(m.deadlines, deadlineKey{k, key}) }}
}
