package sqlstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/fotakit/fota/schedule"
)

// The timing column holds a campaign's schedule.HTTPRequest as JSON in a
// shape of the store's own, not the request's wire form: that form
// refuses dates outside 0001..9999 (Date.MarshalText), and a store must
// keep whatever record it is given. Dates are [year, month, day], windows
// [start, end]; absent parts are omitted.
type timingJSON struct {
	StartDate         *[3]int  `json:"startDate,omitempty"`
	EndDate           *[3]int  `json:"endDate,omitempty"`
	CampaignWindows   [][2]int `json:"campaignWindows,omitempty"`
	DownloadAfterDate *[3]int  `json:"downloadAfterDate,omitempty"`
	DownloadWindows   [][2]int `json:"downloadWindows,omitempty"`
	InstallAfterDate  *[3]int  `json:"installAfterDate,omitempty"`
	InstallWindows    [][2]int `json:"installWindows,omitempty"`
	TimeZone          string   `json:"timeZone,omitempty"`
}

// ErrBadTiming is matched by the error a campaign read back returns when
// its timing column does not decode.
var ErrBadTiming = errors.New("sqlstore: bad timing column")

// TimingError names the campaign whose stored timing did not decode.
type TimingError struct {
	Campaign string
	Value    string
	Err      error
}

func (e *TimingError) Error() string {
	return fmt.Sprintf("sqlstore: campaign %q: timing %q: %v", e.Campaign, e.Value, e.Err)
}

// Is matches ErrBadTiming.
func (e *TimingError) Is(target error) bool { return target == ErrBadTiming }

// Unwrap returns the decoding error.
func (e *TimingError) Unwrap() error { return e.Err }

func encodeTiming(r schedule.HTTPRequest) []byte {
	date := func(d schedule.Date) *[3]int {
		if d == (schedule.Date{}) {
			return nil
		}
		return &[3]int{d.Year, int(d.Month), d.Day}
	}
	windows := func(ws []schedule.Window) [][2]int {
		var out [][2]int
		for _, w := range ws {
			out = append(out, [2]int{w.StartTime, w.EndTime})
		}
		return out
	}
	b, err := json.Marshal(timingJSON{
		StartDate:         date(r.StartDate),
		EndDate:           date(r.EndDate),
		CampaignWindows:   windows(r.CampaignTimeWindowList),
		DownloadAfterDate: date(r.DownloadAfterDate),
		DownloadWindows:   windows(r.DownloadTimeWindowList),
		InstallAfterDate:  date(r.InstallAfterDate),
		InstallWindows:    windows(r.InstallTimeWindowList),
		TimeZone:          r.TimeZone,
	})
	if err != nil {
		// Only ints, arrays and a string: Marshal cannot fail (a string
		// that is not UTF-8 is written with replacement characters).
		panic("sqlstore: encoding timing: " + err.Error())
	}
	return b
}

// decodeTiming reads what encodeTiming wrote. Empty window lists read as
// nil (both mean "all hours"). On error the zero request is returned.
func decodeTiming(campaignID string, b []byte) (schedule.HTTPRequest, error) {
	var j timingJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return schedule.HTTPRequest{}, &TimingError{Campaign: campaignID, Value: string(b), Err: err}
	}
	date := func(d *[3]int) schedule.Date {
		if d == nil {
			return schedule.Date{}
		}
		return schedule.Date{Year: d[0], Month: time.Month(d[1]), Day: d[2]}
	}
	windows := func(ws [][2]int) []schedule.Window {
		var out []schedule.Window
		for _, w := range ws {
			out = append(out, schedule.Window{StartTime: w[0], EndTime: w[1]})
		}
		return out
	}
	return schedule.HTTPRequest{
		StartDate:              date(j.StartDate),
		EndDate:                date(j.EndDate),
		CampaignTimeWindowList: windows(j.CampaignWindows),
		DownloadAfterDate:      date(j.DownloadAfterDate),
		DownloadTimeWindowList: windows(j.DownloadWindows),
		InstallAfterDate:       date(j.InstallAfterDate),
		InstallTimeWindowList:  windows(j.InstallWindows),
		TimeZone:               j.TimeZone,
	}, nil
}

// cloneTiming copies r's window lists, so that a cached campaign handed
// out twice shares none.
func cloneTiming(r schedule.HTTPRequest) schedule.HTTPRequest {
	r.CampaignTimeWindowList = slices.Clone(r.CampaignTimeWindowList)
	r.DownloadTimeWindowList = slices.Clone(r.DownloadTimeWindowList)
	r.InstallTimeWindowList = slices.Clone(r.InstallTimeWindowList)
	return r
}
