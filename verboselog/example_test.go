package verboselog_test

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/verboselog"
)

// Enable logging, let the device check in and upload, and fetch: too early,
// then after 24 hours.
func ExampleEnable() {
	p := verboselog.DefaultPolicy()
	enabledAt := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

	// The account has 3 devices logging already; this is the 4th.
	s, err := verboselog.Enable(verboselog.Session{}, "35-209900-176148-1", device.HTTP, 3, enabledAt, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.State, "until", s.ExpiresAt(p).Format(time.DateTime))

	checkIn := enabledAt.Add(2 * time.Hour)
	s = s.CheckIn(checkIn, p)
	fmt.Println(s.State, "from", s.CollectingAt.Format(time.DateTime))

	b := verboselog.Bundle{DeviceID: s.DeviceID, LogTime: checkIn, LogType: verboselog.LogSoftwareUpdate, EventLog: "download started"}
	upload := checkIn.Add(time.Hour)
	if err := verboselog.Upload(s.Current(upload, p), b, upload); err != nil {
		fmt.Println(err)
		return
	}
	b.UploadedAt = upload // the host stamps and stores it
	stored := []verboselog.Bundle{b}

	_, err = verboselog.Fetch(s, stored, upload, p)
	var notReady *verboselog.NotReadyError
	if errors.As(err, &notReady) {
		fmt.Println("not ready until", notReady.ReadyAt.Format(time.DateTime))
	}
	logs, _ := verboselog.Fetch(s, stored, notReady.ReadyAt, p)
	fmt.Println(len(logs), "log:", logs[0].EventLog, "purged", logs[0].PurgeAt(p).Format(time.DateTime))

	// The 21st device of an account, or a device that is not HTTP, is refused.
	_, err = verboselog.Enable(verboselog.Session{}, "d21", device.HTTP, 20, enabledAt, p)
	fmt.Println(errors.Is(err, verboselog.ErrLimit))
	_, err = verboselog.Enable(verboselog.Session{}, "d22", device.LWM2M, 3, enabledAt, p)
	fmt.Println(err)
	// Output:
	// Enabled until 2025-03-08 09:00:00
	// Collecting from 2025-03-01 11:00:00
	// not ready until 2025-03-02 09:00:00
	// 1 log: download started purged 2025-03-31 12:00:00
	// true
	// fota: verbose logging: device "d22" uses LWM2M; verbose logging is for HTTP devices only
}

// The in-memory account runs the whole story; Tick says when to wake up.
func ExampleAccount() {
	a, _ := verboselog.NewAccount(verboselog.DefaultPolicy())
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

	a.Enable("d1", device.HTTP, now)
	a.CheckIn(verboselog.CheckIn{DeviceID: "d1", ClientType: verboselog.ClientRovaClient, Result: "Success", TimeCompleted: now.Add(time.Hour)}, now.Add(time.Hour))
	a.Upload(verboselog.Bundle{DeviceID: "d1", LogTime: now.Add(time.Hour), LogType: verboselog.LogEvent, EventLog: "reboot"}, now.Add(2*time.Hour))

	fmt.Println("wake at", a.Tick(now.Add(2*time.Hour)).Format(time.DateTime))
	seven := now.Add(7 * 24 * time.Hour)
	fmt.Println(a.Session("d1", seven.Add(-time.Nanosecond)).State, a.Session("d1", seven).State)
	a.Tick(seven)
	logs, _ := a.Fetch("d1", seven)
	fmt.Println(len(logs), logs[0].EventLog)
	page, _, more := a.History("d1", verboselog.Cursor{}, 10, seven)
	fmt.Println(page[0].ClientType, page[0].Result, more)
	// Output:
	// wake at 2025-03-08 09:00:00
	// Collecting Expired
	// 1 reboot
	// RovaClient Success false
}

// Check-in history pages newest first; the cursor carries on.
func ExampleHistory_Page() {
	p := verboselog.DefaultPolicy()
	var h verboselog.History
	start := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for day := range 5 {
		h.Add(verboselog.CheckIn{DeviceID: "d1", ClientType: verboselog.ClientDevice, TimeCompleted: start.AddDate(0, 0, day)}, p)
	}
	var cur verboselog.Cursor
	for {
		page, next, more := h.Page(cur, 2)
		var days []string
		for _, c := range page {
			days = append(days, c.TimeCompleted.Format(time.DateOnly))
		}
		fmt.Println(strings.Join(days, " "))
		if !more {
			break
		}
		cur = next
	}
	// Output:
	// 2025-03-05 2025-03-04
	// 2025-03-03 2025-03-02
	// 2025-03-01
}
