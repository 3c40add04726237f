package fota_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/device/omadm"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/verboselog"
)

// Another account's campaign does not exist for an account: every call on
// a campaign names its account, and the wrong one finds nothing.
func TestAnotherAccountsCampaignIsNotFound(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	m, ids := fleet(t, 3, fota.NewMemoryStore(), clk)
	info, err := m.Schedule(ctx, "acme", onDemand(clk, ids[:2]))
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"campaign": func() error { _, err := m.Campaign(ctx, "evil", info.ID); return err },
		"devices":  func() error { _, err := m.Devices(ctx, "evil", info.ID, "", 0); return err },
		"add":      func() error { _, err := m.AddDevices(ctx, "evil", info.ID, ids[2:]); return err },
		"remove":   func() error { _, err := m.RemoveDevices(ctx, "evil", info.ID, ids[:1]); return err },
		"change":   func() error { _, err := m.ChangeDates(ctx, "evil", info.ID, info.Timing); return err },
		"cancel":   func() error { _, err := m.Cancel(ctx, "evil", info.ID); return err },
		"abort":    func() error { _, err := m.Abort(ctx, "evil", info.ID); return err },
		"delete":   func() error { _, err := m.Delete(ctx, "evil", info.ID); return err },
		"fail":     func() error { _, err := m.FailUpgrade(ctx, "evil", info.ID); return err },
		"logs":     func() error { _, err := m.FetchLogs(ctx, "evil", ids[0]); return err },
		"history":  func() error { _, err := m.CheckInHistory(ctx, "evil", ids[0], time.Time{}, 10); return err },
	} {
		if err := call(); !errors.Is(err, fota.ErrNotFound) {
			t.Errorf("%s as another account: %v, want ErrNotFound", name, err)
		}
	}
	if page, err := m.Campaigns(ctx, "evil", 0, "", 0); err != nil || len(page.CampaignList) != 0 {
		t.Fatalf("another account lists %d campaigns, %v", len(page.CampaignList), err)
	}
	if h, err := m.UpgradeHistory(ctx, "evil", ids[0]); err != nil || len(h) != 0 {
		t.Fatalf("another account sees the device's history: %v, %v", h, err)
	}
	// The owner still sees everything unchanged.
	got, err := m.Campaign(ctx, "acme", info.ID)
	if err != nil || got.Status != info.Status || got.Counts.Accepted() != 2 {
		t.Fatalf("the owner's campaign after another account's calls: %+v, %v", got, err)
	}
}

// Every refusal caused by the request matches ErrBadRequest and is a
// *RequestError naming the field and the value, whichever package found
// it; nothing is created.
func TestOneErrorTaxonomy(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	m, ids := fleet(t, 2, fota.NewMemoryStore(), clk)
	today := schedule.DateOf(clk.Now())
	for name, tc := range map[string]struct {
		call  func() error
		field string
		is    error // the package's own sentinel, still matched
	}{
		"window endTime 25": {func() error {
			r := onDemand(clk, ids)
			r.Timing.DownloadTimeWindowList = []schedule.Window{{StartTime: 1, EndTime: 25}}
			_, err := m.Schedule(ctx, "acme", r)
			return err
		}, "downloadTimeWindowList[0].endTime", schedule.ErrBadWindow},
		"end date 9999": {func() error {
			r := onDemand(clk, ids)
			r.Timing.EndDate = schedule.Date{Year: 9999, Month: 12, Day: 31}
			_, err := m.Schedule(ctx, "acme", r)
			return err
		}, "endDate", schedule.ErrBadDate},
		"install before download": {func() error {
			r := onDemand(clk, ids)
			r.Timing.EndDate = today.AddDays(5)
			r.Timing.DownloadAfterDate, r.Timing.InstallAfterDate = today.AddDays(3), today.AddDays(2)
			_, err := m.Schedule(ctx, "acme", r)
			return err
		}, "installAfterDate", schedule.ErrDateOutside},
		"900 KB software name": {func() error {
			r := onDemand(clk, ids)
			r.SoftwareName = strings.Repeat("x", 900<<10)
			_, err := m.Schedule(ctx, "acme", r)
			return err
		}, "softwareName", nil},
		"invalid UTF-8": {func() error {
			r := onDemand(clk, ids)
			r.CampaignName = "lamp\xff"
			_, err := m.Schedule(ctx, "acme", r)
			return err
		}, "campaignName", nil},
		"NUL in a device id": {func() error {
			r := onDemand(clk, ids)
			r.DeviceList = []string{"35\x00"}
			_, err := m.Schedule(ctx, "acme", r)
			return err
		}, "deviceList", nil},
		"bad time zone": {func() error {
			r := onDemand(clk, ids)
			r.Timing.TimeZone = "Mars/Olympus"
			_, err := m.Schedule(ctx, "acme", r)
			return err
		}, "timeZone", schedule.ErrBadZone},
		"observation out of range": {func() error {
			_, err := m.Observation(ctx, ids[0], lwm2m.Observation{State: lwm2m.Idle, Result: 12})
			return err
		}, lwm2m.ResourceResult, lwm2m.ErrOutOfRange},
		"FUMO code": {func() error {
			_, err := m.Alert(ctx, ids[0], omadm.Alert{Code: omadm.GenericAlert, Type: omadm.TypeUpdate, Source: "./x", Data: "777"})
			return err
		}, "Data", omadm.ErrInvalidAlert},
		"upgrade for another account": {func() error {
			_, err := m.ScheduleUpgrade(ctx, "acme", fota.UpgradeRequest{AccountName: "evil", FirmwareName: "fw", FirmwareTo: "2",
				StartDate: today, EndDate: today, DeviceList: ids})
			return err
		}, "accountName", nil},
		"log bundle type": {func() error {
			return m.UploadLog(ctx, verboselog.Bundle{DeviceID: ids[0], LogTime: clk.Now(), LogType: "Nope"})
		}, "logType", verboselog.ErrLogType},
		"gate without software": {func() error {
			_, err := m.Gate(ctx, pilot.Target{Account: "acme"})
			return err
		}, "softwareName", nil},
	} {
		err := tc.call()
		var re *fota.RequestError
		if !errors.Is(err, fota.ErrBadRequest) || !errors.As(err, &re) || re.Field != tc.field {
			t.Errorf("%s: %v (want a *RequestError for field %q)", name, err, tc.field)
			continue
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: %v does not match %v", name, err, tc.is)
		}
		if len(err.Error()) > 300 {
			t.Errorf("%s: the message is %d bytes long", name, len(err.Error()))
		}
	}
	if page, _ := m.Campaigns(ctx, "acme", 0, "", 0); len(page.CampaignList) != 0 {
		t.Fatalf("refused requests created %d campaigns", len(page.CampaignList))
	}
}

// A request with an unknown field is refused naming it; UnmarshalLenient
// ignores it.
func TestStrictRequestJSON(t *testing.T) {
	body := []byte(`{"softwareName":"fw","softwareFrom":"1","softwareTo":"2","startDate":"2026-09-01",` +
		`"endDate":"2026-09-03","downloadTimeWindowsList":[{"startTime":1,"endTime":2}],"deviceList":["1"]}`)
	var r fota.CampaignRequest
	err := r.UnmarshalJSON(body)
	var re *fota.RequestError
	if !errors.As(err, &re) || re.Field != "downloadTimeWindowsList" || !errors.Is(err, fota.ErrBadRequest) {
		t.Fatalf("unknown field: %v", err)
	}
	if err := fota.UnmarshalLenient(body, &r); err != nil || r.SoftwareName != "fw" || len(r.Timing.DownloadTimeWindowList) != 0 {
		t.Fatalf("lenient: %+v, %v", r, err)
	}
	var u fota.UpgradeRequest
	err = u.UnmarshalJSON([]byte(`{"accountName":"a","firmwareName":"f","firmwareTo":"2","startDate":"2026-09-01","endDate":"2026-09-02","deviceList":[],"protocol":"LWM2M"}`))
	if !errors.As(err, &re) || re.Field != "protocol" {
		t.Fatalf("unknown /v1 field: %v", err)
	}
}

// The pilot gate is per account and per software: one account's pilot
// lifts no other account's gate; an operator can read and lift a gate.
func TestGatePerAccountAndSoftware(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	m, ids := fleet(t, 21, fota.NewMemoryStore(), clk)
	target := pilot.Target{Account: "acme", SoftwareName: "gated-fw", SoftwareFrom: "1.0", SoftwareTo: "2.0"}
	gated := func() fota.CampaignRequest {
		r := onDemand(clk, ids)
		r.SoftwareName = "gated-fw"
		return r
	}
	other := target
	other.Account = "bolt"
	if _, err := m.LiftGate(ctx, other); err != nil {
		t.Fatal(err)
	}
	g, err := m.Gate(ctx, target)
	if err != nil || g.Lifted() {
		t.Fatalf("another account's lift reached acme's gate: %+v, %v", g, err)
	}
	_, err = m.Schedule(ctx, "acme", gated())
	mustErr(t, err, fota.ErrPilotRequired)
	if g, err = m.LiftGate(ctx, target); err != nil || !g.Lifted() {
		t.Fatalf("lift: %+v, %v", g, err)
	}
	if _, err := m.LiftGate(ctx, target); !errors.Is(err, fota.ErrInvalidTransition) {
		t.Fatalf("second lift: %v", err)
	}
	if _, err := m.Schedule(ctx, "acme", gated()); err != nil {
		t.Fatalf("21 devices after the lift: %v", err)
	}
	// Other software with the same versions still stands.
	g, err = m.Gate(ctx, pilot.Target{Account: "acme", SoftwareName: "other-fw", SoftwareFrom: "1.0", SoftwareTo: "2.0"})
	if err != nil || g.Lifted() {
		t.Fatalf("other software's gate: %+v, %v", g, err)
	}
}

// Each operation logs one debug record with its name, duration and
// outcome.
func TestDebugLogPerOperation(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := fota.New(fota.Config{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, _ = m.Tick(ctx)
	_, _ = m.Cancel(ctx, "acme", "nope")
	out := buf.String()
	for _, want := range []string{"op=tick", "op=cancel", "duration=", `err="fota: campaign \"nope\" not found"`} {
		if !strings.Contains(out, want) {
			t.Errorf("debug log lacks %q:\n%s", want, out)
		}
	}
}

// Licences assigned through the Manager are listed with the account's
// total.
func TestLicensePage(t *testing.T) {
	ctx := context.Background()
	m, ids := fleet(t, 5, fota.NewMemoryStore(), newClock())
	if _, err := m.AssignLicenses(ctx, "acme", ids); err != nil {
		t.Fatal(err)
	}
	if _, err := m.RemoveLicenses(ctx, "acme", ids[:1]); err != nil {
		t.Fatal(err)
	}
	p, err := m.Licenses(ctx, "acme", "", 3)
	if err != nil || p.Assigned != 4 || len(p.DeviceList) != 3 || !p.HasMoreData || p.DeviceList[0].AssignedAt.IsZero() {
		t.Fatalf("first page: %+v, %v", p, err)
	}
	p2, err := m.Licenses(ctx, "acme", p.LastSeenDeviceID, 3)
	if err != nil || len(p2.DeviceList) != 1 || p2.HasMoreData {
		t.Fatalf("second page: %+v, %v", p2, err)
	}
	if p, _ := m.Licenses(ctx, "bolt", "", 0); p.Assigned != 0 {
		t.Fatalf("another account sees %d licences", p.Assigned)
	}
}

// The push family has no HTTP calls, and the reverse.
func TestFamilies(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	m, ids := fleet(t, 1, fota.NewMemoryStore(), clk)
	if _, err := m.Connected(ctx, ids[0]); err != nil {
		t.Fatalf("a device in no campaign connecting: %v", err)
	}
	if _, err := m.Observation(ctx, ids[0], lwm2m.Observation{}); !errors.Is(err, fota.ErrNotInCampaign) {
		t.Fatalf("an HTTP device's observation: %v", err)
	}
	info, err := m.Schedule(ctx, "acme", onDemand(clk, ids))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Observation(ctx, ids[0], lwm2m.Observation{}); !errors.Is(err, fota.ErrWrongFamily) {
		t.Fatalf("an observation in an HTTP campaign: %v", err)
	}
	if _, err := m.FailUpgrade(ctx, "acme", info.ID); !errors.Is(err, fota.ErrWrongFamily) {
		t.Fatalf("FailUpgrade of an HTTP campaign: %v", err)
	}
	_ = device.HTTP
}
