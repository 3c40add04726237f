package schedule_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/fotakit/fota/schedule"
)

// An HTTP campaign scheduled on a Thursday for the following week, with
// downloads only between 01:00 and 03:00 in Berlin and installs from the
// Wednesday on. The Manager sleeps until NextOpen and stops offering at
// NextClose.
func ExampleNewHTTP() {
	now := time.Date(2026, 10, 22, 9, 30, 0, 0, time.UTC)
	h, err := schedule.NewHTTP(schedule.HTTPRequest{
		StartDate:              schedule.Date{Year: 2026, Month: time.October, Day: 24},
		EndDate:                schedule.Date{Year: 2026, Month: time.October, Day: 30},
		DownloadTimeWindowList: []schedule.Window{{StartTime: 1, EndTime: 3}},
		InstallAfterDate:       schedule.Date{Year: 2026, Month: time.October, Day: 28},
		TimeZone:               "Europe/Berlin",
	}, now, schedule.DefaultPolicy())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("on-demand:", h.OnDemand())
	fmt.Println("runs:", h.StartsAt(), "until", h.EndsAt())
	for t, i := now, 0; i < 3; i++ {
		open, _ := h.NextOpen(schedule.PhaseDownload, t)
		closed, _ := h.NextClose(schedule.PhaseDownload, open)
		fmt.Println("download:", open, "to", closed)
		t = closed
	}
	install, _ := h.NextOpen(schedule.PhaseInstall, now)
	fmt.Println("install from:", install)

	_, err = schedule.NewHTTP(schedule.HTTPRequest{
		StartDate:              schedule.Date{Year: 2026, Month: time.October, Day: 24},
		EndDate:                schedule.Date{Year: 2026, Month: time.October, Day: 30},
		DownloadTimeWindowList: []schedule.Window{{StartTime: 3, EndTime: 1}},
	}, now, schedule.DefaultPolicy())
	fmt.Println(err)
	// Output:
	// on-demand: false
	// runs: 2026-10-24 00:00:00 +0000 UTC until 2026-10-31 00:00:00 +0000 UTC
	// download: 2026-10-24 00:00:00 +0000 UTC to 2026-10-24 01:00:00 +0000 UTC
	// download: 2026-10-24 23:00:00 +0000 UTC to 2026-10-25 02:00:00 +0000 UTC
	// download: 2026-10-26 00:00:00 +0000 UTC to 2026-10-26 02:00:00 +0000 UTC
	// install from: 2026-10-28 00:00:00 +0000 UTC
	// schedule: downloadTimeWindowList[0] "{\"startTime\":3,\"endTime\":1}": bad time window: startTime must be before endTime
}

// A future LwM2M campaign starts at 00:00 UTC; a device that does not
// answer is retried at 04:00 UTC on each of up to three days, then given up.
func ExamplePolicy_Attempt() {
	now := time.Date(2026, 3, 5, 13, 0, 0, 0, time.UTC)
	p := schedule.DefaultPolicy()
	push, err := schedule.NewPush(schedule.Date{Year: 2026, Month: time.March, Day: 6}, now, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	for n := 0; ; n++ {
		at, ok := p.Attempt(push.StartsAt(), n)
		if !ok {
			break
		}
		fmt.Println("attempt", n, at)
	}
	fmt.Println("give up:", p.GiveUpAt(push.StartsAt()))

	onDemand, _ := schedule.NewPush(schedule.DateOf(now), now, p)
	fmt.Println("on-demand starts:", onDemand.StartsAt())
	// Output:
	// attempt 0 2026-03-06 00:00:00 +0000 UTC
	// attempt 1 2026-03-06 04:00:00 +0000 UTC
	// attempt 2 2026-03-07 04:00:00 +0000 UTC
	// attempt 3 2026-03-08 04:00:00 +0000 UTC
	// give up: 2026-03-09 04:00:00 +0000 UTC
	// on-demand starts: 2026-03-05 15:00:00 +0000 UTC
}

// After the start of a /v2 campaign the end date may move, but not to
// earlier than 24 hours from now, and windows may be added but not
// removed.
func ExampleHTTP_Change() {
	scheduled := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	req := schedule.HTTPRequest{
		StartDate:              schedule.Date{Year: 2026, Month: time.March, Day: 2},
		EndDate:                schedule.Date{Year: 2026, Month: time.March, Day: 8},
		DownloadTimeWindowList: []schedule.Window{{StartTime: 2, EndTime: 4}},
	}
	h, _ := schedule.NewHTTP(req, scheduled, schedule.DefaultPolicy())

	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	shorter := h.Request()
	shorter.EndDate = schedule.Date{Year: 2026, Month: time.March, Day: 4}
	_, err := h.Change(shorter, now)
	fmt.Println(errors.Is(err, schedule.ErrEndTooSoon), err)

	fewer := h.Request()
	fewer.DownloadTimeWindowList = []schedule.Window{{StartTime: 20, EndTime: 22}}
	_, err = h.Change(fewer, now)
	fmt.Println(errors.Is(err, schedule.ErrWindowRemoved))

	more := h.Request()
	more.EndDate = schedule.Date{Year: 2026, Month: time.March, Day: 5}
	more.DownloadTimeWindowList = append(more.DownloadTimeWindowList, schedule.Window{StartTime: 20, EndTime: 22})
	n, err := h.Change(more, now)
	fmt.Println(n.EndsAt(), err)

	_, err = h.ChangeV3(more, now) // /v3: only the end date may change
	fmt.Println(errors.Is(err, schedule.ErrFixedAfterStart))
	// Output:
	// true schedule: endDate "2026-03-04": end date too soon: must run until at least 2026-03-05T12:00:00Z
	// true
	// 2026-03-06 00:00:00 +0000 UTC <nil>
	// true
}
