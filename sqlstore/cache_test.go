package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/verboselog"
	"pgregory.net/rapid"
)

// TestDeviceContextCache checks the one-device cache that ActiveCampaign
// fills (active campaign, session, campaign record, member) against
// MemoryStore, the reference store, as the model: random reads and writes
// of a few devices and campaigns, all in one transaction on each store,
// where every read must answer as MemoryStore does — the cache must never
// hand out a record this transaction has since written.
func TestDeviceContextCache(t *testing.T) {
	db := openDB(t)
	s := newStore(t, db, Options{})
	ctx := context.Background()
	var (
		campaigns = []string{"c1", "c2", "ghost"} // ghost is never put
		devices   = []string{"d1", "d2"}
	)
	at := func(rt *rapid.T, label string) time.Time {
		return testStart.Add(time.Duration(rapid.Int64Range(-1e9, 1e9).Draw(rt, label)) * time.Microsecond)
	}
	rapid.Check(t, func(rt *rapid.T) {
		empty(t, s)
		model := fota.NewMemoryStore()
		// Committed first, so that the cache starts out holding
		// campaigns, members and sessions: each device active in a
		// campaign it is a member of.
		setup := func(tx fota.Tx) error {
			for i, c := range campaigns[:2] {
				d := devices[i]
				if err := errors.Join(
					tx.PutCampaign(fota.Campaign{ID: c, Account: "acme", Revision: 1, CreatedAt: testStart, UpdatedAt: testStart}),
					tx.PutMember(fota.Member{CampaignID: c, DeviceID: d, State: device.StateAccepted, UpdatedAt: testStart}),
					tx.SetActiveCampaign(d, c),
					tx.PutSession(fota.LogSession{Account: "acme", Session: verboselog.Session{DeviceID: d, State: verboselog.Enabled, EnabledAt: testStart}}),
				); err != nil {
					return err
				}
			}
			return nil
		}
		if err := errors.Join(s.Update(ctx, setup), model.Update(ctx, setup)); err != nil {
			rt.Fatal(err)
		}
		err := s.Update(ctx, func(tx fota.Tx) error {
			return model.Update(ctx, func(mtx fota.Tx) error {
				same := func(what string, got, want any, gotErr, wantErr error) {
					if g, w := describe(got, gotErr), describe(want, wantErr); g != w {
						rt.Fatalf("%s:\n got  %s\n want %s", what, g, w)
					}
				}
				both := func(what string, f func(fota.Tx) error) {
					same(what, nil, nil, f(tx), f(mtx))
				}
				rt.Repeat(map[string]func(*rapid.T){
					"ActiveCampaign": func(rt *rapid.T) {
						d := rapid.SampledFrom(devices).Draw(rt, "device")
						g, gErr := tx.ActiveCampaign(d)
						w, wErr := mtx.ActiveCampaign(d)
						same("ActiveCampaign("+d+")", g, w, gErr, wErr)
					},
					"Session": func(rt *rapid.T) {
						d := rapid.SampledFrom(devices).Draw(rt, "device")
						g, gErr := tx.Session(d)
						w, wErr := mtx.Session(d)
						same("Session("+d+")", g, w, gErr, wErr)
					},
					"Campaign": func(rt *rapid.T) {
						c := rapid.SampledFrom(campaigns).Draw(rt, "campaign")
						g, gErr := tx.Campaign(c)
						w, wErr := mtx.Campaign(c)
						same("Campaign("+c+")", g, w, gErr, wErr)
					},
					"Member": func(rt *rapid.T) {
						c, d := rapid.SampledFrom(campaigns).Draw(rt, "campaign"), rapid.SampledFrom(devices).Draw(rt, "device")
						g, gErr := tx.Member(c, d)
						w, wErr := mtx.Member(c, d)
						same("Member("+c+", "+d+")", g, w, gErr, wErr)
					},
					"SetActiveCampaign": func(rt *rapid.T) {
						d := rapid.SampledFrom(devices).Draw(rt, "device")
						c := rapid.SampledFrom(append([]string{""}, campaigns...)).Draw(rt, "campaign")
						both("SetActiveCampaign", func(tx fota.Tx) error { return tx.SetActiveCampaign(d, c) })
					},
					"PutCampaign": func(rt *rapid.T) {
						c := fota.Campaign{
							ID: rapid.SampledFrom(campaigns[:2]).Draw(rt, "campaign"), Account: "acme",
							Status:   rapid.SampledFrom(campaign.Statuses).Draw(rt, "status"),
							Revision: rapid.Uint64().Draw(rt, "revision"), CreatedAt: at(rt, "created"), UpdatedAt: at(rt, "updated"),
							Timing: schedule.HTTPRequest{CampaignTimeWindowList: []schedule.Window{{StartTime: 1, EndTime: rapid.IntRange(2, 24).Draw(rt, "end")}}},
						}
						both("PutCampaign", func(tx fota.Tx) error { return tx.PutCampaign(c) })
					},
					"PutMember": func(rt *rapid.T) {
						m := fota.Member{CampaignID: rapid.SampledFrom(campaigns).Draw(rt, "campaign"), DeviceID: rapid.SampledFrom(devices).Draw(rt, "device"),
							State: rapid.SampledFrom(device.States).Draw(rt, "state"), UpdatedAt: at(rt, "at")}
						both("PutMember", func(tx fota.Tx) error { return tx.PutMember(m) })
					},
					"DeleteMember": func(rt *rapid.T) {
						c, d := rapid.SampledFrom(campaigns).Draw(rt, "campaign"), rapid.SampledFrom(devices).Draw(rt, "device")
						both("DeleteMember", func(tx fota.Tx) error { return tx.DeleteMember(c, d) })
					},
					"PutSession": func(rt *rapid.T) {
						ls := fota.LogSession{Account: "acme", Session: verboselog.Session{DeviceID: rapid.SampledFrom(devices).Draw(rt, "device"),
							State: rapid.SampledFrom(verboselog.States).Draw(rt, "state"), EnabledAt: at(rt, "enabled")}}
						both("PutSession", func(tx fota.Tx) error { return tx.PutSession(ls) })
					},
					"AddCheckIn": func(rt *rapid.T) {
						c := verboselog.CheckIn{DeviceID: rapid.SampledFrom(devices).Draw(rt, "device"), TimeCompleted: at(rt, "at")}
						both("AddCheckIn", func(tx fota.Tx) error { return tx.AddCheckIn(c, 3) })
					},
				})
				return nil
			})
		})
		if err != nil {
			rt.Fatal(err)
		}
	})
}

// describe renders a read's result for comparison: times in UTC, empty
// lists as nil, a NotFoundError by its fields.
func describe(v any, err error) string {
	var nf *fota.NotFoundError
	switch {
	case errors.As(err, &nf):
		return fmt.Sprintf("not found: %+v", *nf)
	case err != nil:
		return "error: " + err.Error()
	}
	switch x := v.(type) {
	case fota.Campaign:
		x.StartsAt, x.EndsAt, x.CreatedAt, x.UpdatedAt = x.StartsAt.UTC(), x.EndsAt.UTC(), x.CreatedAt.UTC(), x.UpdatedAt.UTC()
		if len(x.Timing.CampaignTimeWindowList) == 0 {
			x.Timing.CampaignTimeWindowList = nil
		}
		v = x
	case fota.Member:
		x.UpdatedAt = x.UpdatedAt.UTC()
		v = x
	case fota.LogSession:
		x.EnabledAt, x.CollectingAt, x.EndedAt = x.EnabledAt.UTC(), x.CollectingAt.UTC(), x.EndedAt.UTC()
		v = x
	}
	return fmt.Sprintf("%+v", v)
}
