package api_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/examples/server/api"
	"pgregory.net/rapid"
)

// Random sequences of API calls from two accounts and their devices, on
// /v2 campaigns and /v1 upgrades: every answer is 200, 400, 403 (a /v1
// upgrade whose body names another account than the token's) or 404 with
// the error body; a refused call changes nothing any account can see ("A
// failed operation changes nothing"); and no account ever sees another's
// campaign.
func TestAPIProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		f := newFixture(t, fixtureConfig{devices: 8, opts: api.Options{Logger: quietLogger()}})
		accounts := []string{"acme", "other"}
		devices := append(append([]string{}, f.ids...), f.others...)
		campaignIDs := func() []string { // every id ever handed out, and one never
			ids := []string{"c404"}
			for i := 1; i <= 12; i++ {
				ids = append(ids, fmt.Sprintf("c%d", i))
			}
			return ids
		}()
		pickDevs := func(rt *rapid.T, label string) string {
			return list(rapid.SliceOfNDistinct(rapid.SampledFrom(devices), 0, 4, rapid.ID[string]).Draw(rt, label)...)
		}
		date := func(rt *rapid.T, label string) string {
			return f.clk.Now().AddDate(0, 0, rapid.IntRange(-1, 4).Draw(rt, label)).Format("2006-01-02")
		}
		rt.Repeat(map[string]func(*rapid.T){
			"schedule": func(rt *rapid.T) {
				acc := rapid.SampledFrom(accounts).Draw(rt, "acc")
				body := fmt.Sprintf(`{"softwareName":"fw","softwareFrom":"1.0","softwareTo":"2.0","startDate":%q,"endDate":%q,"deviceList":%s}`,
					date(rt, "start"), date(rt, "end"), pickDevs(rt, "devs"))
				call(rt, f, "POST", v2+"/campaigns/"+acc, body)
			},
			"change devices": func(rt *rapid.T) {
				acc, id := rapid.SampledFrom(accounts).Draw(rt, "acc"), rapid.SampledFrom(campaignIDs).Draw(rt, "id")
				typ := rapid.SampledFrom([]string{"append", "remove", "merge"}).Draw(rt, "Type")
				call(rt, f, "PUT", v2+"/campaigns/"+acc+"/"+id, `{"Type":"`+typ+`","deviceList":`+pickDevs(rt, "devs")+`}`)
			},
			"change dates": func(rt *rapid.T) {
				acc, id := rapid.SampledFrom(accounts).Draw(rt, "acc"), rapid.SampledFrom(campaignIDs).Draw(rt, "id")
				call(rt, f, "PUT", v2+"/campaigns/"+acc+"/"+id+"/dates", fmt.Sprintf(`{"startDate":%q,"endDate":%q}`, date(rt, "start"), date(rt, "end")))
			},
			"delete": func(rt *rapid.T) {
				acc, id := rapid.SampledFrom(accounts).Draw(rt, "acc"), rapid.SampledFrom(campaignIDs).Draw(rt, "id")
				call(rt, f, "DELETE", v2+"/campaigns/"+acc+"/"+id, "")
			},
			"schedule upgrade": func(rt *rapid.T) {
				acc := rapid.SampledFrom(accounts).Draw(rt, "acc")
				devs := rapid.SliceOfNDistinct(rapid.SampledFrom(append(append([]string{}, f.push...), devices...)), 0, 4, rapid.ID[string]).Draw(rt, "devs")
				g := *f
				g.tok = tokens[rapid.SampledFrom(accounts).Draw(rt, "token of")] // the body's account must be the token's
				call(rt, &g, "POST", v1+"/upgrades", upgradeBody(acc, date(rt, "start"), date(rt, "end"), devs...))
			},
			"change upgrade": func(rt *rapid.T) {
				acc, id := rapid.SampledFrom(accounts).Draw(rt, "acc"), rapid.SampledFrom(campaignIDs).Draw(rt, "id")
				typ := rapid.SampledFrom([]string{"append", "remove"}).Draw(rt, "type")
				call(rt, f, "PUT", v1+"/upgrades/"+acc+"/upgrade/"+id, `{"type":"`+typ+`","deviceList":`+pickDevs(rt, "devs")+`}`)
			},
			"delete upgrade": func(rt *rapid.T) {
				acc, id := rapid.SampledFrom(accounts).Draw(rt, "acc"), rapid.SampledFrom(campaignIDs).Draw(rt, "id")
				call(rt, f, "DELETE", v1+"/upgrades/"+acc+"/upgrade/"+id, "")
			},
			"check in": func(rt *rapid.T) {
				call(rt, f, "POST", dev+"/checkin", `{"deviceId":"`+rapid.SampledFrom(devices).Draw(rt, "device")+`"}`)
			},
			"report": func(rt *rapid.T) {
				out := rapid.SampledFrom([]string{"downloaded", "installed", "downloadFailed", "installFailed", "unknownError", "other", "bogus"}).Draw(rt, "outcome")
				call(rt, f, "POST", dev+"/report", fmt.Sprintf(`{"deviceId":%q,"campaignId":%q,"outcome":%q}`,
					rapid.SampledFrom(devices).Draw(rt, "device"), rapid.SampledFrom(campaignIDs).Draw(rt, "id"), out))
			},
			"time passes": func(rt *rapid.T) {
				f.clk.Add(time.Duration(rapid.IntRange(1, 36).Draw(rt, "hours")) * time.Hour)
				f.tick()
			},
			"": func(rt *rapid.T) {
				for _, acc := range accounts {
					var h api.CampaignHistory
					f.ok("GET", v2+"/reports/"+acc+"/campaigns", "", &h)
					for _, c := range h.CampaignList {
						if c.AccountName != acc {
							rt.Fatalf("%s lists %s's campaign %s", acc, c.AccountName, c.ID)
						}
					}
				}
			},
		})
	})
}

// call sends a request and checks the answer. A refused request must
// leave every account's campaigns and device pages as they were; one that
// succeeded under an account's path must leave the other account's so.
func call(rt *rapid.T, f *fixture, method, path, body string) {
	before := snapshot(f)
	code, b := f.do(method, path, body)
	switch code {
	case http.StatusOK:
		if !json.Valid(b) {
			rt.Fatalf("%s %s: 200 with %q", method, path, b)
		}
		acc, scoped := accountOf(f, path, body)
		if scoped {
			after := snapshot(f)
			for other := range after {
				if other != acc && after[other] != before[other] {
					rt.Fatalf("%s %s under %s changed %s's campaigns:\nbefore %s\nafter  %s", method, path, acc, other, before[other], after[other])
				}
			}
		}
		return
	case http.StatusBadRequest, http.StatusNotFound, http.StatusForbidden:
		var e api.Error
		if err := json.Unmarshal(b, &e); err != nil || e.ErrorCode == "" {
			rt.Fatalf("%s %s: %d %s", method, path, code, b)
		}
	default:
		rt.Fatalf("%s %s %s: %d %s", method, path, body, code, b)
	}
	if after := snapshot(f); !maps.Equal(after, before) {
		rt.Fatalf("refused %s %s %s (%s) changed the state:\nbefore %v\nafter  %v", method, path, body, b, before, after)
	}
}

// accountOf is the account a campaign call acts for: the path's, or for
// POST /upgrades the body's.
func accountOf(f *fixture, path, body string) (string, bool) {
	if path == v1+"/upgrades" {
		var req struct{ AccountName string }
		_ = json.Unmarshal([]byte(body), &req)
		return req.AccountName, true
	}
	for _, prefix := range []string{v2 + "/campaigns/", v1 + "/upgrades/"} {
		if rest, ok := strings.CutPrefix(path, prefix); ok {
			acc, _, _ := strings.Cut(rest, "/")
			return acc, true
		}
	}
	return "", false
}

// snapshot is what each account can read of its campaigns: its /v2
// campaigns with their device pages, and its /v1 upgrades in every
// status with their devices.
func snapshot(f *fixture) map[string]string {
	f = &fixture{t: f.t, h: f.h} // each account's reads with its own token
	out := map[string]string{}
	for _, acc := range []string{"acme", "other"} {
		var sb strings.Builder
		var h api.CampaignHistory
		f.ok("GET", v2+"/reports/"+acc+"/campaigns", "", &h)
		for _, c := range h.CampaignList {
			var page fota.DevicePage
			f.ok("GET", v2+"/reports/"+acc+"/campaigns/"+c.ID+"/devices", "", &page)
			fmt.Fprintf(&sb, "%+v %+v\n", c, page)
		}
		for _, st := range []string{"RequestPending", "RequestFailed", "Queued", "InProgress", "Finished", "UpgradeFailed", "Cancelled"} {
			var res api.UpgradeListQueryResult
			f.ok("GET", v1+"/reports/"+acc+"/status/"+st+"/index/0", "", &res)
			for _, u := range res.ReportList {
				var full api.FirmwareUpgrade
				f.ok("GET", v1+"/upgrades/"+acc+"/upgrade/"+u.ID, "", &full)
				fmt.Fprintf(&sb, "%+v\n", full)
			}
		}
		out[acc] = sb.String()
	}
	return out
}
