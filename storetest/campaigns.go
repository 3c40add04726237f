package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"pgregory.net/rapid"
)

var campaignCases = []testCase{
	{"PutGetReplace", testCampaignRoundTrip},
	{"Unknown", testCampaignUnknown},
	{"ListPaging", testCampaignPaging},
}

// testCampaignRoundTrip: PutCampaign inserts or replaces; Campaign returns
// the last record put, in the writing transaction and in later ones.
func testCampaignRoundTrip(t *testing.T, h *harness) {
	ctx, _ := h.env(t)
	rapid.Check(t, func(rt *rapid.T) {
		s := h.newStore(t)
		want := map[string]fota.Campaign{}
		for range rapid.IntRange(1, 8).Draw(rt, "puts") {
			c := genCampaign(rt, rapid.SampledFrom(campaignIDs).Draw(rt, "id"))
			update(rt, ctx, s, func(tx fota.Tx) error {
				if err := tx.PutCampaign(c); err != nil {
					return err
				}
				got, err := tx.Campaign(c.ID)
				if err != nil {
					return fmt.Errorf("Campaign(%s) after PutCampaign in the same transaction: %w", c.ID, err)
				}
				if !reflect.DeepEqual(normCampaign(got), normCampaign(c)) {
					return fmt.Errorf("Campaign(%s) in the writing transaction:\n got  %+v\n want %+v", c.ID, got, c)
				}
				return nil
			})
			want[c.ID] = c
		}
		view(rt, ctx, s, func(tx fota.Tx) error {
			for _, id := range campaignIDs {
				got, err := tx.Campaign(id)
				c, ok := want[id]
				if !ok {
					checkNotFound(rt, err, "campaign", id, "")
					continue
				}
				if err != nil {
					rt.Fatalf("Campaign(%s): %v", id, err)
				}
				if !reflect.DeepEqual(normCampaign(got), normCampaign(c)) {
					rt.Fatalf("Campaign(%s):\n got  %+v\n want %+v", id, got, c)
				}
			}
			return nil
		})
	})
}

// testCampaignUnknown: lookups through a campaign that does not exist
// report it as not found.
func testCampaignUnknown(t *testing.T, h *harness) {
	ctx, s := h.env(t)
	view(t, ctx, s, func(tx fota.Tx) error {
		_, err := tx.Campaign("nope")
		checkNotFound(t, err, "campaign", "nope", "")
		_, err = tx.Member("nope", "d1")
		checkNotFound(t, err, "campaign", "nope", "")
		if _, err := tx.Members("nope", "", 10); !errors.Is(err, fota.ErrNotFound) {
			t.Errorf("Members of an unknown campaign: %v, want an error matching fota.ErrNotFound", err)
		}
		if _, err := tx.Counts("nope"); !errors.Is(err, fota.ErrNotFound) {
			t.Errorf("Counts of an unknown campaign: %v, want an error matching fota.ErrNotFound", err)
		}
		if _, err := tx.AnyMember("nope", fota.States(device.States...)); !errors.Is(err, fota.ErrNotFound) {
			t.Errorf("AnyMember of an unknown campaign: %v, want an error matching fota.ErrNotFound", err)
		}
		cs, err := tx.Campaigns("acct", "", 10)
		if err != nil || len(cs) != 0 {
			t.Errorf("Campaigns of an empty store = %v, %v; want none, nil", cs, err)
		}
		return nil
	})
}

// testCampaignPaging: Campaigns(account, afterID, limit) lists the
// account's campaigns in id order; following afterID from "" visits each
// exactly once.
func testCampaignPaging(t *testing.T, h *harness) {
	ctx, _ := h.env(t)
	rapid.Check(t, func(rt *rapid.T) {
		s := h.newStore(t)
		ids := rapid.SliceOfNDistinct(rapid.StringMatching(`[a-zA-Z0-9_-]{1,5}`), 0, 25, rapid.ID).Draw(rt, "ids")
		byAccount := map[string][]string{}
		var cs []fota.Campaign
		for _, id := range ids {
			c := genCampaign(rt, id)
			byAccount[c.Account] = append(byAccount[c.Account], id)
			cs = append(cs, c)
		}
		update(rt, ctx, s, func(tx fota.Tx) error {
			for _, c := range cs {
				if err := tx.PutCampaign(c); err != nil {
					return err
				}
			}
			return nil
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
				var batch []fota.Campaign
				view(rt, ctx, s, func(tx fota.Tx) (err error) {
					batch, err = tx.Campaigns(a, after, limit)
					return err
				})
				if len(batch) > limit {
					rt.Fatalf("Campaigns(%s, %q, %d) returned %d", a, after, limit, len(batch))
				}
				for _, c := range batch {
					if c.Account != a {
						rt.Fatalf("Campaigns(%s) returned %s of account %s", a, c.ID, c.Account)
					}
					if c.ID <= after {
						rt.Fatalf("Campaigns(%s, %q): id %q out of order", a, after, c.ID)
					}
					got = append(got, c.ID)
					after = c.ID
				}
				if len(batch) < limit {
					break
				}
			}
			if !slices.Equal(got, want) {
				rt.Fatalf("account %s, pages of %d: got %v, want %v", a, limit, got, want)
			}
			// An afterID that names no campaign still splits the order.
			cut := rapid.StringMatching(`[a-zA-Z0-9_-]{0,5}`).Draw(rt, "cut")
			var rest []fota.Campaign
			view(rt, ctx, s, func(tx fota.Tx) (err error) {
				rest, err = tx.Campaigns(a, cut, page)
				return err
			})
			wantRest := slices.DeleteFunc(slices.Clone(want), func(id string) bool { return id <= cut })
			gotRest := make([]string, len(rest))
			for i, c := range rest {
				gotRest[i] = c.ID
			}
			if !slices.Equal(gotRest, wantRest) {
				rt.Fatalf("Campaigns(%s, %q) = %v, want %v", a, cut, gotRest, wantRest)
			}
		}
	})
}
