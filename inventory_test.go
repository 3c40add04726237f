package fota_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"pgregory.net/rapid"
)

// TestMemoryInventoryModel: MemoryInventory behaves as a map of
// DeviceInfo by id under random puts, replacements, deletes, lookups and
// account listings, over numeric ids (leading zeros and all lengths, which
// it keys by number) and others (which it keys by text).
func TestMemoryInventoryModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		inv := fota.NewMemoryInventory()
		model := map[string]fota.DeviceInfo{}
		ids := rapid.SampledFrom([]string{"0", "00", "007", "7", "356938035643809", "035693803564380", "12345678901234567",
			"123456789012345678901", "", "dev-1", "x7", "89014103211118510720"})
		texts := rapid.SampledFrom([]string{"", "acme", "other", "Acme", "Lamp", "1.0", "2.0"})
		for range rapid.IntRange(1, 60).Draw(t, "ops") {
			switch rapid.IntRange(0, 3).Draw(t, "op") {
			case 0, 1:
				d := fota.DeviceInfo{DeviceID: ids.Draw(t, "id"), Account: texts.Draw(t, "account"),
					Protocol: device.Protocol(rapid.IntRange(0, 3).Draw(t, "protocol")), Make: texts.Draw(t, "make"),
					Model: texts.Draw(t, "model"), Software: texts.Draw(t, "software"), FOTACapable: rapid.Bool().Draw(t, "capable"),
					ActiveConnected: rapid.Bool().Draw(t, "active"), Licensed: rapid.Bool().Draw(t, "licensed")}
				inv.Put(d)
				model[d.DeviceID] = d
			case 2:
				id := ids.Draw(t, "id")
				inv.Delete(id)
				delete(model, id)
			case 3:
				account, after := texts.Draw(t, "account"), ids.Draw(t, "after")
				limit := rapid.IntRange(-1, 5).Draw(t, "limit")
				var want []fota.DeviceInfo
				for _, id := range slices.Sorted(maps.Keys(model)) {
					if d := model[id]; d.Account == account && id > after {
						want = append(want, d)
					}
				}
				more := limit >= 0 && len(want) > limit
				if more {
					want = want[:limit]
				}
				got, gotMore := inv.List(account, after, limit)
				if fmt.Sprint(got) != fmt.Sprint(want) || gotMore != more {
					t.Fatalf("List(%q, %q, %d) = %v, %v; want %v, %v", account, after, limit, got, gotMore, want, more)
				}
			}
			for _, id := range []string{"0", "00", "007", "7", "356938035643809", "035693803564380", "12345678901234567",
				"123456789012345678901", "", "dev-1", "x7", "89014103211118510720"} {
				got, ok, err := inv.Lookup(context.Background(), id)
				want, wantOK := model[id]
				if err != nil || ok != wantOK || got != want {
					t.Fatalf("Lookup(%q) = %+v, %v, %v; want %+v, %v", id, got, ok, err, want, wantOK)
				}
			}
		}
	})
}
