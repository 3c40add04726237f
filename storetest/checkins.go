package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/verboselog"
	"pgregory.net/rapid"
)

var checkInCases = []testCase{
	{"HistoryModel", testCheckInsModel},
}

// testCheckInsModel: AddCheckIn keeps the newest keep check-ins of each
// device; CheckIns(device, before, limit) returns at most limit of them,
// newest first, strictly older than before (zero: from the newest). A
// device never seen has none. Check-ins are added in time order with one
// keep per store, as the Manager does.
func testCheckInsModel(t *testing.T, h *harness) {
	ctx, _ := h.env(t)
	rapid.Check(t, func(rt *rapid.T) {
		s := h.newStore(t)
		keep := rapid.IntRange(1, 6).Draw(rt, "keep")
		devices := deviceIDs[:3]
		clk := &clock{now: base}
		history := map[string][]verboselog.CheckIn{} // oldest first, at most keep
		add := func(c verboselog.CheckIn) {
			h := append(history[c.DeviceID], c)
			history[c.DeviceID] = slices.Clone(h[max(0, len(h)-keep):])
		}
		// drawQuery draws a query and the answer history gives it; the
		// transaction that runs it only calls the store.
		drawQuery := func(rt *rapid.T) func(tx fota.Tx) error {
			d := rapid.SampledFrom(deviceIDs).Draw(rt, "queried")
			limit := rapid.IntRange(1, 8).Draw(rt, "limit")
			var before time.Time
			switch h := history[d]; rapid.IntRange(0, 2).Draw(rt, "beforeKind") {
			case 1:
				before = clk.now.Add(-time.Duration(rapid.IntRange(0, 400_000_000).Draw(rt, "beforeBack")) * time.Microsecond)
			case 2:
				if len(h) > 0 { // exactly a stored check-in's time
					before = rapid.SampledFrom(h).Draw(rt, "beforeCheckIn").TimeCompleted
				}
			}
			var want []verboselog.CheckIn
			for h, i := history[d], len(history[d])-1; i >= 0 && len(want) < limit; i-- {
				if before.IsZero() || h[i].TimeCompleted.Before(before) {
					want = append(want, normCheckIn(h[i]))
				}
			}
			return func(tx fota.Tx) error {
				got, err := tx.CheckIns(d, before, limit)
				if err != nil {
					return err
				}
				if g := normList(got, normCheckIn); !reflect.DeepEqual(g, want) {
					return fmt.Errorf("CheckIns(%s, %s, %d) with keep %d =\n %+v\nwant\n %+v", d, before.Format(time.RFC3339Nano), limit, keep, g, want)
				}
				return nil
			}
		}
		rt.Repeat(map[string]func(*rapid.T){
			"add": func(rt *rapid.T) {
				var cs []verboselog.CheckIn
				for range rapid.IntRange(1, 4).Draw(rt, "checkIns") {
					c := genCheckIn(rt, rapid.SampledFrom(devices).Draw(rt, "device"), clk.next(rt, "at"))
					cs = append(cs, c)
					add(c)
				}
				query := drawQuery(rt)
				update(rt, ctx, s, func(tx fota.Tx) error {
					for _, c := range cs {
						if err := tx.AddCheckIn(c, keep); err != nil {
							return err
						}
					}
					return query(tx) // the transaction sees its own check-ins
				})
			},
			"": func(rt *rapid.T) {
				view(rt, ctx, s, drawQuery(rt))
			},
		})
	})
}
