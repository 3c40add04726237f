package sim

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
)

// Forecast is what a scenario's campaigns promise before any device
// checks in: for each campaign, the share of its devices that its dates
// and windows can reach at all given the fleet's check-in pattern, when
// 50, 90 and 99 % of those finish, and which days add nothing.
//
// It follows the simulator's device model without drawing anything: for
// every group, every phase a device can have (each whole hour of its
// check-in period), eight evenly spread check-in jitters and four retry
// jitters, one expected path through the campaign's compiled schedule
// (the same schedule.HTTP queries the Manager answers with), with the
// download at its mean duration, the install at four, and each failure
// as a probability. It assumes the
// campaigns as requested, scheduled when the scenario says (a rollout
// sent at the pilot's end at the pilot's end date, or when the pilot
// foresees every device upgraded), and no operator action. The upgrade's
// devices are pushed instead: each is expected to be pushed at the
// campaign's start or when it comes online (an LwM2M device only before
// the retry plan gives up on it), then to take its steps' mean
// durations, a lost notification or alert delaying its outcome to the
// Manager's next read or the device's next session.
type Forecast struct {
	Devices int `json:"devices"` // the fleet
	// Reachable is the share of the fleet its campaigns are expected to
	// reach (see CampaignForecast.Reachable), a campaign expected to be
	// refused reaching none.
	Reachable float64            `json:"reachable"`
	Campaigns []CampaignForecast `json:"campaigns"`
}

// CampaignForecast is the forecast of one campaign.
type CampaignForecast struct {
	Name string `json:"name"`
	// Family is "PUSH" for the upgrade, absent for the HTTP campaigns.
	Family      string               `json:"family,omitempty"`
	Devices     int                  `json:"devices"`
	ScheduledAt time.Time            `json:"scheduledAt"` // when the forecast assumes it is sent
	Request     schedule.HTTPRequest `json:"request"`
	// Rejected is how many devices the request's make, model or
	// softwareFrom refuse.
	Rejected int `json:"rejected"`
	// NeverOnline is the share of the devices expected never to check in.
	NeverOnline float64 `json:"neverOnline"`
	// Reachable is the share of the devices expected to end through their
	// own report (UpgradeSuccess, or a failure they report) before the
	// campaign ends: the devices its windows can reach at all given the
	// check-in pattern, less those whose steps do not fit before the end.
	// CampaignReport.Reached is what the simulation then reached.
	Reachable float64 `json:"reachable"`
	// Success is the share expected to end in UpgradeSuccess.
	Success float64 `json:"success"`
	// Finish50, Finish90 and Finish99 are when 50, 90 and 99 % of the
	// reachable devices have finished (zero when none is reachable).
	Finish50 time.Time `json:"finish50,omitzero"`
	Finish90 time.Time `json:"finish90,omitzero"`
	Finish99 time.Time `json:"finish99,omitzero"`
	// QuietDays are the campaign's days (UTC dates, start to end) on which
	// no device is expected to finish.
	QuietDays []schedule.Date `json:"quietDays,omitempty"`
	// Gate is what the pilot gate is expected to do: for the pilot,
	// whether it lifts it; for the rollout, why it would refuse it.
	Gate string `json:"gate,omitempty"`
	// Refused is set when the campaign is expected to be refused (by the
	// gate, or its request by the schedule); its devices then count as
	// not reached in Forecast.Reachable.
	Refused bool `json:"refused,omitempty"`
	// Err is the schedule's refusal of the request, when it would refuse.
	Err string `json:"error,omitempty"`
}

// The points the forecast follows per phase: the midpoints of equal
// slices of the check-in jitter's range, of the retry jitter's, and of
// the last step's duration.
const (
	jitterPoints = 8
	retryPoints  = 4
	finishPoints = 4
)

// Forecast computes the scenario's forecast. It fails only for a
// scenario Run would refuse (a *ScenarioError).
func (s *Scenario) Forecast() (*Forecast, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	f := &Forecast{Devices: s.Devices()}
	start := s.Start.UTC()
	// The devices each campaign takes, per group, in fleet order.
	taken := make([]int, len(s.Fleet))
	take := func(groups []string, want int, fam device.Family) []int {
		per := make([]int, len(s.Fleet))
		limit := want
		for i := range s.Fleet {
			if s.Fleet[i].protocol().Family() != fam || !inGroups(groups, s.Fleet[i].Name) {
				continue
			}
			n := s.Fleet[i].Count - taken[i]
			if limit > 0 {
				n = min(n, limit)
				limit -= n
			}
			per[i], taken[i] = n, taken[i]+n
			if limit == 0 && want > 0 {
				break
			}
		}
		return per
	}
	var reached float64
	pilotEnd := start
	var pilotFc *CampaignForecast
	pilotPasses := false
	if s.Pilot.Devices > 0 {
		at := start.Add(s.Pilot.ScheduleAt.After)
		fc, end := s.forecastCampaign("pilot", &s.Pilot, take(s.Pilot.Groups, s.Pilot.Devices, device.FamilyHTTP), at)
		if fc.Err == "" {
			pilotEnd = end
		} else {
			pilotEnd = at
		}
		gate := pilot.DefaultPolicy()
		accepted := fc.Devices - fc.Rejected
		ratio := fc.Success * float64(fc.Devices) / float64(max(accepted, 1))
		switch {
		case fc.Err != "":
			fc.Gate, fc.Refused = "the pilot is refused", true
		case accepted < gate.MinDevices:
			fc.Gate = fmt.Sprintf("the pilot does not count: %d devices accepted, the gate counts %d..%d", accepted, gate.MinDevices, gate.MaxDevices)
		case ratio >= gate.SuccessRatio:
			pilotPasses = true
			fc.Gate = fmt.Sprintf("the pilot lifts the gate: %s of its accepted devices succeed", percent(ratio, -1))
		default:
			fc.Gate = fmt.Sprintf("the pilot fails the gate: %s of its accepted devices succeed, %s needed",
				percent(ratio, gate.SuccessRatio), percent(gate.SuccessRatio, -1))
		}
		if !fc.Refused {
			reached += fc.Reachable * float64(fc.Devices)
		}
		f.Campaigns = append(f.Campaigns, fc)
		pilotFc = &f.Campaigns[0]
	}
	if s.Rollout.Devices > 0 || s.groupDevices(s.Rollout.Groups, device.FamilyHTTP) > s.Pilot.Devices {
		at := start.Add(s.Rollout.ScheduleAt.After)
		if s.Rollout.ScheduleAt.PilotEnd {
			at = pilotEnd.Add(s.Rollout.ScheduleAt.After)
		}
		per := take(s.Rollout.Groups, s.Rollout.Devices, device.FamilyHTTP)
		fc, _ := s.forecastCampaign("rollout", &s.Rollout, per, at)
		gate := pilot.DefaultPolicy()
		switch {
		case fc.Err != "":
			fc.Refused = true
		case fc.Devices <= gate.MaxDevices:
		case pilotFc == nil:
			fc.Gate = "refused: " + gateReason(nil, fc.Devices, gate)
		case pilotTarget(&s.Pilot) != pilotTarget(&s.Rollout):
			fc.Gate = fmt.Sprintf("refused: the pilot's target (%s) is not the rollout's (%s)",
				targetString(pilotTarget(&s.Pilot)), targetString(pilotTarget(&s.Rollout)))
		case !pilotPasses:
			fc.Gate = "refused: " + pilotFc.Gate
		case !s.Rollout.ScheduleAt.PilotEnd && at.Before(pilotEnd):
			fc.Gate = "refused: it is sent before the pilot ends"
		}
		fc.Refused = fc.Refused || fc.Gate != ""
		if !fc.Refused {
			reached += fc.Reachable * float64(fc.Devices)
		}
		f.Campaigns = append(f.Campaigns, fc)
	}
	if s.groupDevices(s.Upgrade.Groups, device.FamilyPush) > 0 {
		at := start.Add(s.Upgrade.ScheduleAt.After)
		if s.Upgrade.ScheduleAt.PilotEnd {
			at = pilotEnd.Add(s.Upgrade.ScheduleAt.After)
		}
		fc := s.forecastUpgrade(take(s.Upgrade.Groups, s.Upgrade.Devices, device.FamilyPush), at)
		fc.Refused = fc.Err != ""
		if !fc.Refused {
			reached += fc.Reachable * float64(fc.Devices)
		}
		f.Campaigns = append(f.Campaigns, fc)
	}
	if f.Devices > 0 {
		f.Reachable = reached / float64(f.Devices)
	}
	return f, nil
}

// finish is an expected finish: mass devices end at at.
type finish struct {
	at      time.Time
	mass    float64
	success bool
}

// forecastCampaign forecasts campaign c of per[g] devices of each group,
// sent at at. It also returns when the campaign is expected to end.
func (s *Scenario) forecastCampaign(name string, c *Campaign, per []int, at time.Time) (CampaignForecast, time.Time) {
	start := s.Start.UTC()
	req := c.Timing.Request(at, start)
	fc := CampaignForecast{Name: name, ScheduledAt: at, Request: req}
	for _, n := range per {
		fc.Devices += n
	}
	h, err := schedule.NewHTTP(req, at, schedule.DefaultPolicy())
	if err != nil {
		fc.Err = err.Error()
		return fc, at
	}
	ends := h.EndsAt()
	anchor := start.Truncate(24 * time.Hour)
	var finishes []finish
	var never float64
	for gi := range s.Fleet {
		g := &s.Fleet[gi]
		n := float64(per[gi])
		if n == 0 {
			continue
		}
		if !eligible(g, c) {
			fc.Rejected += per[gi]
			continue
		}
		online := g.onlineShare()
		never += n * (1 - online)
		if online == 0 {
			continue
		}
		every := time.Duration(g.CheckInEvery)
		var phases []time.Duration
		if hours := int(every / time.Hour); hours > 0 {
			for h := range hours {
				phases = append(phases, time.Duration(h)*time.Hour)
			}
		} else {
			for k := range 60 {
				phases = append(phases, time.Duration((int64(k)*2+1)*int64(every/time.Second)/120)*time.Second)
			}
		}
		from := at
		if on := start.Add(time.Duration(g.OfflineFor)); on.After(from) {
			from = on.Add(-time.Nanosecond)
		}
		w := n * online / float64(len(phases)*jitterPoints)
		for _, ph := range phases {
			for k := range jitterPoints {
				u := time.Duration(float64(time.Duration(g.CheckInJitter)) * (float64(k) + 0.5) / jitterPoints).Truncate(time.Second)
				base := anchor.Add(ph + u)
				for r := range retryPoints {
					back := time.Duration(float64(time.Duration(g.RetryJitter)) * (float64(r) + 0.5) / retryPoints).Truncate(time.Second)
					finishes = followPath(finishes, h, g, base, every, back, from, ends, w/retryPoints)
				}
			}
		}
	}
	end := ends
	if fc.Devices > 0 && fc.Rejected == 0 && len(finishes) > 0 {
		var success float64
		for _, x := range finishes {
			if x.success {
				success += x.mass
			}
		}
		if success >= float64(fc.Devices)*(1-1e-9) {
			// Every device upgraded: the campaign ends with the last one.
			end = latest(finishes)
		}
	}
	fc.summarise(finishes, never, h.StartsAt(), end)
	return fc, end
}

// latest is the time of the last finish.
func latest(fs []finish) time.Time {
	var t time.Time
	for _, x := range fs {
		if x.at.After(t) {
			t = x.at
		}
	}
	return t
}

// summarise fills the forecast's shares, finish times and quiet days from
// the expected finishes, never of its devices expected never to come
// online, for a campaign running from starts to end.
func (fc *CampaignForecast) summarise(finishes []finish, never float64, starts, end time.Time) {
	slices.SortStableFunc(finishes, func(a, b finish) int { return a.at.Compare(b.at) })
	var total, success float64
	for _, x := range finishes {
		total += x.mass
		if x.success {
			success += x.mass
		}
	}
	if fc.Devices > 0 {
		fc.Reachable, fc.Success = total/float64(fc.Devices), success/float64(fc.Devices)
		fc.NeverOnline = never / float64(fc.Devices)
	}
	if total > 0 {
		var cum float64
		q := []struct {
			share float64
			at    *time.Time
		}{{0.5, &fc.Finish50}, {0.9, &fc.Finish90}, {0.99, &fc.Finish99}}
		for _, x := range finishes {
			cum += x.mass
			for len(q) > 0 && cum >= q[0].share*total*(1-1e-12) {
				*q[0].at = x.at
				q = q[1:]
			}
		}
	}
	// Days that add nothing: campaign days without an expected finish.
	busy := map[schedule.Date]bool{}
	for _, x := range finishes {
		if x.mass > 0 {
			busy[schedule.DateOf(x.at)] = true
		}
	}
	first, last := schedule.DateOf(starts), schedule.DateOf(end.Add(-time.Nanosecond))
	for d := first; !d.After(last); d = d.AddDays(1) {
		if !busy[d] {
			fc.QuietDays = append(fc.QuietDays, d)
		}
	}
}

// eligible reports whether a group's devices pass the request's
// prerequisites (make, model, software from; an HTTP device).
func eligible(g *Group, c *Campaign) bool {
	return (c.Make == "" || c.Make == g.Make) && (c.Model == "" || c.Model == g.Model) &&
		c.SoftwareFrom == g.Software && g.protocol() == device.HTTP
}

// followPath follows one expected device through campaign h: regular
// check-ins at base + k*every from after from, coming back at each
// window's opening (plus retry) when the group follows RetryAt, the
// download at its mean duration. It appends the finishes, the failures
// as shares of w, the successes spread over the install's durations.
func followPath(out []finish, h *schedule.HTTP, g *Group, base time.Time, every, retry time.Duration, from, ends time.Time, w float64) []finish {
	t := timeSlotAfter(base, every, from)
	downloaded := false
	for range 10_000 {
		if !t.Before(ends) {
			return out
		}
		phase, step, fail := schedule.PhaseDownload, g.Download, g.DownloadFail
		if downloaded {
			phase, step, fail = schedule.PhaseInstall, g.Install, g.InstallFail
		}
		if h.Open(phase, t) {
			done := t.Add(step.mean().Truncate(time.Second))
			if !done.Before(ends) {
				return out // the report comes after the end
			}
			pf := g.UnknownError + (1-g.UnknownError)*fail
			if pf > 0 {
				out = append(out, finish{at: done, mass: w * pf})
			}
			w *= 1 - pf
			if downloaded {
				// The install's length spreads the finishes.
				for k := range finishPoints {
					d := time.Duration(step.Min) + time.Duration(float64(step.Max-step.Min)*(float64(k)+0.5)/finishPoints)
					if at := t.Add(d.Truncate(time.Second)); at.Before(ends) {
						out = append(out, finish{at: at, mass: w / finishPoints, success: true})
					}
				}
				return out
			}
			downloaded, t = true, done // it checks in at once to ask about the install
			continue
		}
		next := timeSlotAfter(base, every, t)
		if g.FollowRetry {
			if open, ok := h.NextOpen(phase, t); ok {
				if back := open.Add(retry); back.Before(next) {
					next = back
				}
			}
		}
		t = next
	}
	return out
}

// timeSlotAfter is slotAfter in time.Time: the first base + k*every (k
// any integer) after now.
func timeSlotAfter(base time.Time, every time.Duration, now time.Time) time.Time {
	return Time(slotAfter(Micros(base), int64(every/time.Microsecond), Micros(now)))
}

// forecastUpgrade forecasts the upgrade of per[g] devices of each group,
// sent at at. A device is pushed when the campaign starts, or when it
// comes online if later (an LwM2M device only before the retry plan gives
// up on it); then its download and update take their mean durations (the
// update spread over four), each failing with its probability. A lost
// notification delays the outcome to the Manager's next read of /5/0 (a
// whole number of ObserveTimeouts after the last one it saw), a lost
// Generic Alert to the device's next session (spread over the next
// check-in period).
func (s *Scenario) forecastUpgrade(per []int, at time.Time) CampaignForecast {
	start := s.Start.UTC()
	u := &s.Upgrade
	req := u.Request(at, start, nil)
	fc := CampaignForecast{Name: "upgrade", Family: device.FamilyPush.String(), ScheduledAt: at,
		Request: schedule.HTTPRequest{StartDate: req.StartDate, EndDate: req.EndDate}}
	for _, n := range per {
		fc.Devices += n
	}
	plan, err := schedule.NewPush(req.StartDate, at, schedule.DefaultPolicy())
	switch {
	case err != nil:
		fc.Err = err.Error()
		return fc
	case req.EndDate.Before(req.StartDate) || !plan.StartsAt().Before(req.EndDate.End()):
		fc.Err = "the upgrade would start (" + plan.StartsAt().Format(time.RFC3339) + ") after it ends (" + req.EndDate.End().Format(time.RFC3339) + ")"
		return fc
	}
	starts, ends, giveUp := plan.StartsAt(), req.EndDate.End(), plan.GiveUpAt()
	observe := fota.DefaultPushPolicy().ObserveTimeout
	var finishes []finish
	var never float64
	for gi := range s.Fleet {
		g := &s.Fleet[gi]
		n := float64(per[gi])
		if n == 0 {
			continue
		}
		if (u.Make != "" && u.Make != g.Make) || (u.Model != "" && u.Model != g.Model) || (u.FirmwareFrom != "" && u.FirmwareFrom != g.Software) {
			fc.Rejected += per[gi]
			continue
		}
		online := g.onlineShare()
		never += n * (1 - online)
		pushed := starts
		if on := start.Add(time.Duration(g.OfflineFor)); on.After(pushed) {
			pushed = on
		}
		lwm := g.protocol() == device.LWM2M
		if online == 0 || (lwm && !pushed.Before(giveUp)) {
			continue
		}
		loss := g.NotificationLoss
		// delay is when the Manager learns of a step that took d after
		// its last word from the device, a notification of which is lost
		// with chance loss: shares of w at each time.
		type at struct {
			t time.Time
			w float64
		}
		learn := func(from time.Time, d time.Duration, w float64) []at {
			out := []at{{from.Add(d), w * (1 - loss)}}
			if loss == 0 {
				return out
			}
			if lwm {
				k := (d + observe - 1) / observe
				return append(out, at{from.Add(max(k, 1) * observe), w * loss})
			}
			// The next session: anywhere in the next check-in period (a
			// point an hour, as the devices' phases are whole hours).
			every := time.Duration(g.CheckInEvery)
			points := min(max(int(every/time.Hour), finishPoints), 48)
			for k := range points {
				late := from.Add(d + time.Duration(float64(every)*(float64(k)+0.5)/float64(points)).Truncate(time.Second))
				out = append(out, at{late, w * loss / float64(points)})
			}
			return out
		}
		w := n * online
		dl := g.Download.mean().Truncate(time.Second)
		// The download: its failure is an outcome; its success leads on
		// (an LwM2M device waits for the Execute, which follows the
		// Manager's news of the download).
		for _, x := range learn(pushed, dl, w*g.DownloadFail) {
			if x.t.Before(ends) {
				finishes = append(finishes, finish{at: x.t, mass: x.w})
			}
		}
		next := []at{{pushed.Add(dl), w * (1 - g.DownloadFail)}}
		if lwm {
			next = learn(pushed, dl, w*(1-g.DownloadFail))
		}
		for _, x := range next {
			for k := range finishPoints {
				d := time.Duration(g.Install.Min) + time.Duration(float64(g.Install.Max-g.Install.Min)*(float64(k)+0.5)/finishPoints)
				for _, y := range learn(x.t, d.Truncate(time.Second), x.w/finishPoints) {
					if !y.t.Before(ends) {
						continue
					}
					if g.InstallFail > 0 {
						finishes = append(finishes, finish{at: y.t, mass: y.w * g.InstallFail})
					}
					finishes = append(finishes, finish{at: y.t, mass: y.w * (1 - g.InstallFail), success: true})
				}
			}
		}
	}
	end := ends
	fc.summarise(finishes, never, starts, end)
	return fc
}

// campaign returns the forecast of the named campaign, nil if none.
func (f *Forecast) campaign(name string) *CampaignForecast {
	if f == nil {
		return nil
	}
	for i := range f.Campaigns {
		if f.Campaigns[i].Name == name {
			return &f.Campaigns[i]
		}
	}
	return nil
}

// WriteTable writes the forecast as readable text.
func (f *Forecast) WriteTable(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("forecast (from the requests, before any device checks in; operator actions not foreseen):\n")
	for _, c := range f.Campaigns {
		timing := TimingString(c.Request)
		if c.Family == device.FamilyPush.String() {
			timing = PushTimingString(c.Request)
		}
		ew.printf("  %s: %d devices, sent %s: %s\n", c.Name, c.Devices, stamp(c.ScheduledAt), timing)
		if c.Err != "" {
			ew.printf("    refused: %s\n", c.Err)
			continue
		}
		ew.printf("    reachable %s (never online %s", percent(c.Reachable, -1), percent(c.NeverOnline, -1))
		if c.Rejected > 0 {
			ew.printf(", rejected %d", c.Rejected)
		}
		success := device.Success.Wire(device.FamilyHTTP)
		if c.Family == device.FamilyPush.String() {
			success = device.Success.Wire(device.FamilyPush)
		}
		ew.printf("), %s %s\n", success, percent(c.Success, -1))
		if !c.Finish50.IsZero() {
			ew.printf("    finished: 50%% by %s, 90%% by %s, 99%% by %s\n", stamp(c.Finish50), stamp(c.Finish90), stamp(c.Finish99))
		}
		if len(c.QuietDays) > 0 {
			ew.printf("    days that add nothing:")
			for _, d := range c.QuietDays {
				ew.printf(" %s", time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Format("Mon 01-02"))
			}
			ew.printf("\n")
		}
		if c.Gate != "" {
			ew.printf("    expected: %s\n", c.Gate)
		}
	}
	ew.printf("  fleet: %s reachable\n", percent(f.Reachable, -1))
	return ew.err
}

// onlineShare is the share of a group's devices that ever come online.
func (g *Group) onlineShare() float64 {
	if g.Online == OnlineNever {
		return 0
	}
	return 1 - g.NeverOnline
}
