package fota_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
	"pgregory.net/rapid"
)

func genText(t *rapid.T, label string) string {
	return rapid.StringMatching(`[a-zA-Z0-9 ._:/é"\\-]{0,12}`).Draw(t, label)
}

func genInstant(t *rapid.T, label string) time.Time {
	if rapid.Bool().Draw(t, label+"Zero") {
		return time.Time{}
	}
	return time.UnixMicro(rapid.Int64Range(946684800000000, 7258118400000000).Draw(t, label)).UTC()
}

func genDay(t *rapid.T, label string) schedule.Date {
	if rapid.Bool().Draw(t, label+"Zero") {
		return schedule.Date{}
	}
	return schedule.DateOf(time.Unix(rapid.Int64Range(946684800, 7258118400).Draw(t, label), 0))
}

func genWindowList(t *rapid.T, label string) []schedule.Window {
	var ws []schedule.Window
	for range rapid.IntRange(0, 2).Draw(t, label) {
		s := rapid.IntRange(0, 23).Draw(t, label+"Start")
		ws = append(ws, schedule.Window{StartTime: s, EndTime: rapid.IntRange(s+1, 24).Draw(t, label+"End")})
	}
	return ws
}

func genCampaignRecord(t *rapid.T) fota.Campaign {
	account := genText(t, "account")
	c := fota.Campaign{
		ID: genText(t, "id"), Seq: rapid.Uint64().Draw(t, "seq"), Account: account, Name: genText(t, "name"),
		Family:   rapid.SampledFrom(append([]device.Family{0}, device.Families...)).Draw(t, "family"),
		Protocol: rapid.SampledFrom(append([]device.Protocol{0}, device.Protocols...)).Draw(t, "protocol"),
		Status:   rapid.SampledFrom(append([]campaign.Status{0}, campaign.Statuses...)).Draw(t, "status"),
		Target: pilot.Target{Account: account, SoftwareName: genText(t, "software"), SoftwareFrom: genText(t, "from"),
			SoftwareTo: genText(t, "to")},
		Make: genText(t, "make"), Model: genText(t, "model"),
		Timing: schedule.HTTPRequest{StartDate: genDay(t, "start"), EndDate: genDay(t, "end"),
			CampaignTimeWindowList: genWindowList(t, "cw"), DownloadAfterDate: genDay(t, "da"),
			DownloadTimeWindowList: genWindowList(t, "dw"), InstallAfterDate: genDay(t, "ia"),
			InstallTimeWindowList: genWindowList(t, "iw"), TimeZone: rapid.SampledFrom([]string{"", "UTC", "Europe/Berlin"}).Draw(t, "zone")},
		StartsAt: genInstant(t, "startsAt"), EndsAt: genInstant(t, "endsAt"), OnDemand: rapid.Bool().Draw(t, "onDemand"),
		Pilot: rapid.Bool().Draw(t, "pilot"), Cursor: genText(t, "cursor"), Swept: rapid.Bool().Draw(t, "swept"),
		Revision: rapid.Uint64().Draw(t, "revision"), CreatedAt: genInstant(t, "createdAt"), UpdatedAt: genInstant(t, "updatedAt"),
	}
	if rapid.Bool().Draw(t, "otherGateAccount") {
		c.Target.Account = genText(t, "gateAccount")
	}
	if rapid.Bool().Draw(t, "package") {
		c.Package = fota.Package{Name: c.Target.SoftwareName, Make: genText(t, "pm"), Model: genText(t, "pmo"),
			From: genText(t, "pf"), To: genText(t, "pt"), URL: "https://fw.example/" + genText(t, "url"),
			Size: rapid.Int64Range(0, 1<<40).Draw(t, "size"), SHA256: rapid.StringMatching(`[0-9a-f]{0,64}`).Draw(t, "hash")}
	}
	return c
}

// roundTrip marshals v, unmarshals into a new value of its type and
// requires the two to be equal.
func roundTrip[T any](t *rapid.T, v T) {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %+v: %v", v, err)
	}
	var back T
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	if !reflect.DeepEqual(norm(back), norm(v)) {
		t.Fatalf("round trip through %s:\n got %+v\nwant %+v", b, back, v)
	}
}

// norm makes the empty window lists JSON cannot tell from absent ones
// nil.
func norm(v any) any {
	switch c := v.(type) {
	case fota.Campaign:
		for _, l := range []*[]schedule.Window{&c.Timing.CampaignTimeWindowList, &c.Timing.DownloadTimeWindowList, &c.Timing.InstallTimeWindowList} {
			if len(*l) == 0 {
				*l = nil
			}
		}
		return c
	case fota.CampaignInfo:
		c.Campaign = norm(c.Campaign).(fota.Campaign)
		return c
	}
	return v
}

// Campaign, CampaignInfo, Change, Instruction, Command, DeviceStatus and
// UpgradeRecord marshal to JSON and read back as they were.
func TestRecordsRoundTrip(t *testing.T) {
	t.Run("Campaign", func(t *testing.T) { rapid.Check(t, func(t *rapid.T) { roundTrip(t, genCampaignRecord(t)) }) })
	t.Run("CampaignInfo", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			info := fota.CampaignInfo{Campaign: genCampaignRecord(t)}
			for _, s := range device.States {
				info.Counts[s] = rapid.IntRange(0, 3).Draw(t, "count")
			}
			roundTrip(t, info)
		})
	})
	t.Run("Change", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			c := fota.Change{
				Kind: rapid.SampledFrom([]fota.ChangeKind{fota.CampaignChanged, fota.DeviceChanged, fota.LicenseChanged}).Draw(t, "kind"),
				Time: genInstant(t, "time"), Account: genText(t, "account"), CampaignID: genText(t, "campaign"),
				DeviceID: genText(t, "device"), Family: rapid.SampledFrom(device.Families).Draw(t, "family"),
				WireChanged: rapid.Bool().Draw(t, "wire"),
			}
			switch c.Kind {
			case fota.CampaignChanged:
				c.Campaign = rapid.SampledFrom(campaign.Statuses).Draw(t, "status")
			case fota.DeviceChanged:
				c.State = rapid.SampledFrom(device.States).Draw(t, "state")
				c.From = rapid.SampledFrom(append([]device.State{0}, device.States...)).Draw(t, "from")
				c.Reason = rapid.SampledFrom(append([]device.Reason{0}, device.Reasons...)).Draw(t, "reason")
				c.Result = rapid.Uint16Range(0, 600).Draw(t, "result")
			case fota.LicenseChanged:
				c.License = rapid.SampledFrom(device.LicenseStatuses).Draw(t, "license")
				c.Reason = rapid.SampledFrom(append([]device.Reason{0}, device.Reasons...)).Draw(t, "reason")
			}
			roundTrip(t, c)
			if s := c.String(); s == "" || strings.Contains(s, "State(0)") || strings.Contains(s, "LicenseStatus(0)") {
				t.Fatalf("String() = %q", s)
			}
		})
	})
	t.Run("Instruction", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			roundTrip(t, fota.Instruction{
				Action:     rapid.SampledFrom([]fota.Action{fota.ActionNone, fota.ActionDownload, fota.ActionInstall}).Draw(t, "action"),
				CampaignID: genText(t, "c"), SoftwareName: genText(t, "s"), SoftwareTo: genText(t, "to"),
				PackageURL: genText(t, "url"), PackageSize: rapid.Int64Range(0, 1<<40).Draw(t, "size"),
				PackageSHA256: genText(t, "hash"), Until: genInstant(t, "until"), RetryAt: genInstant(t, "retry"),
			})
		})
	})
	t.Run("Command", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			roundTrip(t, fota.Command{
				Kind:     rapid.SampledFrom([]fota.CommandKind{fota.CommandObserve, fota.CommandRead, fota.CommandReset, fota.CommandWritePackage, fota.CommandExecute, fota.CommandExec}).Draw(t, "kind"),
				Protocol: rapid.SampledFrom([]device.Protocol{device.LWM2M, device.OMADM}).Draw(t, "protocol"),
				Account:  genText(t, "a"), CampaignID: genText(t, "c"), DeviceID: genText(t, "d"), FirmwareName: genText(t, "f"),
				FirmwareTo: genText(t, "to"), PackageURI: genText(t, "uri"), Attempt: rapid.IntRange(0, 3).Draw(t, "attempt"),
				Lease: rapid.Uint64().Draw(t, "lease"), LeaseUntil: genInstant(t, "until"),
			})
		})
	})
	t.Run("DeviceStatus", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			roundTrip(t, fota.DeviceStatus{DeviceID: genText(t, "d"), Status: genText(t, "status"), ResultReason: genText(t, "reason"),
				State: rapid.SampledFrom(device.States).Draw(t, "state"), Protocol: rapid.SampledFrom(append([]device.Protocol{0}, device.Protocols...)).Draw(t, "p"),
				Result: rapid.Uint16().Draw(t, "result"), UpdatedTime: genInstant(t, "updated")})
		})
	})
	t.Run("UpgradeRecord", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			roundTrip(t, fota.UpgradeRecord{DeviceID: genText(t, "d"), CampaignID: genText(t, "c"), Account: genText(t, "a"),
				Family: rapid.SampledFrom(device.Families).Draw(t, "family"), SoftwareName: genText(t, "s"), SoftwareFrom: genText(t, "f"),
				SoftwareTo: genText(t, "to"), StartDate: genText(t, "start"), StartedAt: genInstant(t, "started"), Status: genText(t, "status"),
				Reason: genText(t, "reason"), State: rapid.SampledFrom(device.States).Draw(t, "state"), Result: rapid.Uint16().Draw(t, "result"),
				UpdatedAt: genInstant(t, "updated")})
		})
	})
}

// Whatever campaign JSON is accepted reads back the same after it is
// written again: decoding and encoding agree on every input.
func FuzzCampaignJSON(f *testing.F) {
	f.Add([]byte(`{"id":"c1","accountName":"acme","status":"CampaignQueued","softwareName":"fw","softwareTo":"2.0","startDate":"2026-01-01","revision":3}`))
	f.Add([]byte(`{"id":"c2","accountName":"a","family":"push","status":"InProgress","softwareName":"f","softwareTo":"2","counts":{"Accepted":2},"package":{"softwareName":"f","softwareTo":"2","size":9}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var info fota.CampaignInfo
		if err := json.Unmarshal(b, &info); err != nil {
			return // refused input: nothing to round-trip
		}
		out, err := json.Marshal(info)
		if err != nil {
			t.Fatalf("accepted %s but cannot write it back: %v", b, err)
		}
		var back fota.CampaignInfo
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("cannot read back %s: %v", out, err)
		}
		if !reflect.DeepEqual(norm(back), norm(info)) {
			t.Fatalf("%s -> %s:\n got %+v\nwant %+v", b, out, back, info)
		}
	})
}

// Whatever change JSON is accepted reads back the same.
func FuzzChangeJSON(f *testing.F) {
	f.Add([]byte(`{"kind":"device","time":"2026-01-01T00:00:00Z","accountName":"a","campaignId":"c","deviceId":"d","family":"HTTP","state":"Downloading","from":"Accepted","wireChanged":true}`))
	f.Add([]byte(`{"kind":"campaign","time":"2026-01-01T00:00:00Z","accountName":"a","family":"push","campaignStatus":"Queued","wireChanged":true}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c fota.Change
		if err := json.Unmarshal(b, &c); err != nil {
			return
		}
		out, err := json.Marshal(c)
		if err != nil {
			return // a kind or status no wire spelling exists for is refused on the way out
		}
		var back fota.Change
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("cannot read back %s: %v", out, err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("%s -> %s:\n got %+v\nwant %+v", b, out, back, c)
		}
	})
}
