package sim_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/sim"
)

// pushScenario is a push rollout over LwM2M and OMA-DM groups that each
// show one behaviour, 40 devices a group, none of them never online by
// chance.
func pushScenario() sim.Scenario {
	s := sim.DefaultScenario(1)
	s.Start = time.Date(2026, 4, 30, 10, 0, 0, 0, time.UTC)
	group := func(name, proto string, change func(g *sim.Group)) sim.Group {
		g := sim.DefaultGroup()
		g.Name, g.Protocol, g.Count, g.NeverOnline = name, proto, 40, 0
		g.DownloadFail, g.InstallFail = 0, 0
		change(&g)
		return g
	}
	s.Fleet = []sim.Group{
		group("lossy", "LWM2M", func(g *sim.Group) { g.NotificationLoss = 0.5 }),
		group("back-in-plan", "LWM2M", func(g *sim.Group) { g.Online, g.OfflineFor = sim.OnlineOffline, sim.Duration(62*time.Hour) }),
		group("back-too-late", "LWM2M", func(g *sim.Group) { g.Online, g.OfflineFor = sim.OnlineOffline, sim.Duration(110*time.Hour) }),
		group("dead", "LWM2M", func(g *sim.Group) { g.Online = sim.OnlineNever }),
		group("no-space", "LWM2M", func(g *sim.Group) { g.DownloadFail, g.DownloadFailCode = 1, 2 }),
		group("bad-image", "LWM2M", func(g *sim.Group) { g.InstallFail, g.InstallFailCode = 1, 5 }),
		group("kept-image", "LWM2M", func(g *sim.Group) { g.InstallFail = 1 }),
		group("gateways", "OMA-DM", func(g *sim.Group) { g.NotificationLoss, g.CheckInEvery = 0.5, sim.Duration(12*time.Hour) }),
		group("trucks", "OMA-DM", func(g *sim.Group) { g.Online, g.OfflineFor = sim.OnlineOffline, sim.Duration(40*time.Hour) }),
		group("mismatch", "OMA-DM", func(g *sim.Group) { g.InstallFail, g.InstallFailCode = 1, 403 }),
		group("net-down", "OMA-DM", func(g *sim.Group) { g.DownloadFail = 1 }),
		group("scrapped", "OMA-DM", func(g *sim.Group) { g.Online = sim.OnlineNever }),
	}
	s.Pilot.Devices = 0
	s.Upgrade.StartDate = sim.Relative(1) // 2026-05-01 00:00 UTC
	s.Upgrade.EndDate = sim.Relative(7)
	return s
}

// TestPushFleet: every behaviour of a push device ends where ThingSpace's
// /v1 puts it, with the protocol's own result beside the reason, and the
// campaign is Finished at its end date.
func TestPushFleet(t *testing.T) {
	s := pushScenario()
	byDevice := map[string]fota.Change{} // the last change of each device
	s.Observer = fota.ObserverFunc(func(c fota.Change) {
		if c.Kind == fota.DeviceChanged {
			byDevice[c.DeviceID] = c
		}
	})
	reads, sessions := 0, 0
	s.OnStep = func(st sim.Step) {
		if st.Kind == sim.StepCommand && st.Command.Kind == fota.CommandRead {
			reads++
		}
		if st.Kind == sim.StepConnect {
			sessions++
		}
	}
	rep, js, table := render(t, s)
	checkConservation(t, s, rep)
	if len(rep.Campaigns) != 1 {
		t.Fatalf("%d campaigns", len(rep.Campaigns))
	}
	c := rep.Campaigns[0]
	if c.Status != "Finished" || !c.EndedAt.Equal(time.Date(2026, 5, 8, 0, 0, 0, 0, time.UTC)) ||
		c.Timeline[len(c.Timeline)-2].Status != "InProgress" || !c.Timeline[len(c.Timeline)-2].At.Equal(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("upgrade %s, ended %v, timeline %+v", c.Status, c.EndedAt, c.Timeline)
	}
	// What each group's devices end in: status, reason, protocol result.
	type end struct {
		state  device.State
		result uint16
	}
	want := map[string]end{
		"lossy":         {device.StateSucceeded, 1},
		"back-in-plan":  {device.StateSucceeded, 1},
		"back-too-late": {device.StateUnreachable, 0},
		"dead":          {device.StateUnreachable, 0},
		"no-space":      {device.StateUpdateFailed, 2},
		"bad-image":     {device.StateUpdateFailed, 5},
		"kept-image":    {device.StateUpdateFailed, 8},
		"gateways":      {device.StateSucceeded, 200},
		"trucks":        {device.StateSucceeded, 200},
		"mismatch":      {device.StateModuleMismatch, 403},
		"net-down":      {device.StateUpdateFailed, 503},
		"scrapped":      {device.StateUnreachable, 0},
	}
	for gi, g := range s.Fleet {
		for k := range g.Count {
			id := imeiOfDevice(t, gi*40+k)
			got, ok := byDevice[id]
			if w := want[g.Name]; !ok || got.State != w.state || got.Result != w.result {
				t.Errorf("%s device %s ends %s result %d, want %s result %d", g.Name, id, got.State, got.Result, w.state, w.result)
			}
		}
	}
	wantTally := map[string]int{
		"Upgrade Success/The firmware upgrade was successful.":                       160,
		"Upgrade Failed/Device is not in an active state or is not connected.":       120,
		"Upgrade Failed/Firmware update to device failed.":                           160,
		"Upgrade Failed/Current device module does not meet firmware prerequisites.": 40,
	}
	for _, row := range c.Tally {
		if wantTally[row.Status+"/"+row.Reason] != row.Count {
			t.Errorf("tally row %+v, want %d", row, wantTally[row.Status+"/"+row.Reason])
		}
	}
	if c.Reached != 360 {
		t.Errorf("reached %d of 480, want 360 (all but the never and too-late devices)", c.Reached)
	}
	// Lost notifications were recovered: the Manager read /5/0, the
	// gateways sent their alerts again in later sessions.
	tot := rep.Totals
	if tot.Lost == 0 || reads == 0 || sessions <= 80 || tot.Undelivered == 0 || tot.Connects != int64(sessions) {
		t.Errorf("lost %d, reads %d, sessions %d, totals %+v", tot.Lost, reads, sessions, tot)
	}
	for _, want := range []string{"upgrade: 480 devices, campaign sim-1, Finished", "2026-05-01..2026-05-07 (/v1 push, UTC dates)", "push: "} {
		if !bytes.Contains(table, []byte(want)) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	// The same scenario gives the same bytes.
	_, js2, table2 := render(t, s)
	if !bytes.Equal(js, js2) || !bytes.Equal(table, table2) {
		t.Error("two push runs of one scenario differ")
	}
}

// imeiOfDevice is the id the simulator gives device i (in fleet order).
func imeiOfDevice(t *testing.T, i int) string {
	t.Helper()
	id, err := device.IMEIOf(fmt.Sprintf("35%012d", i))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestPushOnlyAnswersOnline: a device answers no command before it comes
// online, and one never online answers none; every command a device
// answers reaches it at or after its campaign's start, and no command is
// handed out after the end.
func TestPushOnlyAnswersOnline(t *testing.T) {
	s := pushScenario()
	online := map[string]time.Time{} // device -> when it comes online (zero: never)
	for gi, g := range s.Fleet {
		for k := range g.Count {
			id := imeiOfDevice(t, gi*40+k)
			switch g.Online {
			case sim.OnlineAlways:
				online[id] = s.Start
			case sim.OnlineOffline:
				online[id] = s.Start.Add(time.Duration(g.OfflineFor))
			}
		}
	}
	start, end := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 5, 8, 0, 0, 0, 0, time.UTC)
	s.OnStep = func(st sim.Step) {
		if st.Kind != sim.StepCommand {
			return
		}
		on, ok := online[st.Device]
		answered := ok && !st.At.Before(on)
		if st.Receipt.Delivered != answered {
			t.Errorf("%s at %v: delivered %v; online from %v (%v)", st.Command.Kind, st.At, st.Receipt.Delivered, on, ok)
		}
		if st.At.Before(start) || !st.At.Before(end) {
			t.Errorf("%s handed out at %v, outside the campaign", st.Command.Kind, st.At)
		}
		if !st.At.Before(st.Command.LeaseUntil) {
			t.Errorf("%s confirmed at %v after its lease ran out (%v)", st.Command.Kind, st.At, st.Command.LeaseUntil)
		}
	}
	if _, err := sim.Run(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// TestPushAndHTTP: one scenario with HTTP and push groups runs the pilot
// and the rollout on the HTTP devices and the upgrade on the push devices,
// side by side.
func TestPushAndHTTP(t *testing.T) {
	s := sim.DefaultScenario(200)
	s.Fleet = append(s.Fleet, pushScenario().Fleet[0], pushScenario().Fleet[7])
	rep, _, _ := render(t, s)
	checkConservation(t, s, rep)
	names := ""
	for _, c := range rep.Campaigns {
		names += fmt.Sprintf("%s:%d:%s ", c.Name, c.Devices, c.Status)
	}
	if names != "pilot:20:CampaignEnded upgrade:80:Finished rollout:180:CampaignEnded " {
		t.Errorf("campaigns %s", names)
	}
}

// TestPushActions: the operator's actions on the upgrade: devices added
// before the start, an abort refused (a push campaign has none), a cancel
// before the start that ends every device CampaignCancelled.
func TestPushActions(t *testing.T) {
	s := pushScenario()
	s.Fleet = s.Fleet[:2]
	late := s.Fleet[0]
	late.Name, late.Count = "late", 10
	s.Fleet = append(s.Fleet, late)
	s.Upgrade.Groups = []string{"lossy", "back-in-plan"}
	s.Upgrade.StartDate, s.Upgrade.EndDate = sim.Relative(2), sim.Relative(5)
	s.Actions = []sim.Action{
		{At: sim.At{After: time.Hour}, Do: sim.DoAddDevices, Campaign: "upgrade", Group: "late"},
		{At: sim.At{After: 2 * time.Hour}, Do: sim.DoAbort, Campaign: "upgrade"},
		{At: sim.At{After: 24 * time.Hour}, Do: sim.DoCancel, Campaign: "upgrade"},
	}
	rep, _, _ := render(t, s)
	checkConservation(t, s, rep)
	a := rep.Actions
	if len(a) != 3 || a[0].Refused != "" || a[0].Devices != 10 || a[1].Refused == "" || a[2].Refused != "" {
		t.Fatalf("actions %+v", a)
	}
	c := rep.Campaigns[0]
	if c.Status != "Cancelled" || c.Devices != 90 || len(c.Tally) != 1 || c.Tally[0].Status != "CampaignCancelled" || c.Tally[0].Count != 90 {
		t.Fatalf("upgrade %s, %d devices, tally %+v", c.Status, c.Devices, c.Tally)
	}
	if rep.Totals.Commands != 0 {
		t.Errorf("%d commands sent for a campaign cancelled before its start", rep.Totals.Commands)
	}
}
