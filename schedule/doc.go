// Package schedule holds every time rule of a fota campaign as pure
// functions of an explicit now: no clock reads, no goroutines. The Manager
// and the simulator build their wake-up times on its queries.
//
// # Pieces, in reading order
//
//   - Date (date.go): a whole UTC day, "YYYY-MM-DD" on the wire.
//   - Window (window.go): a ThingSpace hour window {startTime, endTime}.
//   - Policy (policy.go): ThingSpace's timing values, configurable, and the
//     push family's attempt plan (Attempt, GiveUpAt, OMADMNotifyAt).
//   - Push (push.go): a compiled push campaign (LwM2M, OMA-DM): its start.
//   - HTTPRequest and HTTP (http.go, zone.go): an HTTP campaign's dates,
//     windows and time zone, compiled by NewHTTP into per-phase queries
//     Open, NextOpen and NextClose.
//   - Change and ChangeV3 (change.go): date changes after scheduling.
//   - HTTPRequest JSON (request_json.go), errors (errors.go).
//
// # Dates
//
// Dates are whole UTC days; the end date is inclusive. A campaign runs from
// StartsAt (00:00 UTC on the start date) up to, not including, EndsAt
// (00:00 UTC on the day after the end date), so its last instant is
// 23:59:59.999999999 UTC on the end date ("the end date could be on a
// Saturday at 11:59:59 PM UTC"). ParseDate is strict: ten bytes, years
// 0001..9999, a real calendar day. In JSON a zero Date is omitted
// (omitzero); absent, null and "" all read as zero.
//
// On-demand versus future (the sources do not say how a request is marked
// on-demand): a start date equal to today, the UTC day of now, is
// on-demand; a later one is future; an earlier one is ErrStartPassed.
//
// # Push family (LwM2M, OMA-DM)
//
//   - On-demand starts at now + PreValidation (2 h: "usually within two
//     hours"; a newer page says 90 minutes, so it is configurable); future
//     starts at 00:00 UTC on the start date.
//   - LwM2M attempt plan: attempt 0 is the start; attempt k (1..RetryDays)
//     is the k-th RetryHour:00 UTC strictly after it ("tries again around
//     4:00 AM UTC, and repeats this for up to 3 days"), so a future
//     campaign tries at 00:00 and 04:00 on its first day. "Around" is read
//     as exactly RetryHour:00. A device that answered none fails at
//     GiveUpAt = last attempt + ResponseWait; ThingSpace gives no figure,
//     and the default of 24 h ends the wait when a further daily retry
//     would have been due.
//   - OMA-DM has no retry plan: a device that was off "is notified when it
//     next connects", so OMADMNotifyAt is the later of the start and the
//     connection.
//   - Push.Change: before StartsAt the start date may move (NewPush's rules
//     at the time of the change); from StartsAt on it is fixed.
//
// # HTTP family: phases and windows
//
// Start and end dates are required, except that an on-demand request may
// omit endDate: it then ends on startDate + OnDemandDays ("the end date is
// one week after the start date": endDate = startDate + 7, so the campaign
// runs eight calendar days including both ends). An explicit endDate is
// kept, even on-demand. downloadAfterDate and installAfterDate must lie in
// [startDate, endDate]; absent means "as soon as possible".
//
// Three phases, each a set of instants:
//
//	PhaseCampaign = [StartsAt, EndsAt) ∩ campaign windows
//	PhaseDownload = PhaseCampaign ∩ download windows ∩ t >= downloadAfterDate 00:00 UTC
//	PhaseInstall  = PhaseCampaign ∩ install windows  ∩ t >= installAfterDate 00:00 UTC
//
// A window is open while "current hour >= startTime" and "current hour <
// endTime"; startTime is 0..23, endTime 1..24 and startTime < endTime, so a
// window never wraps midnight (an overnight window is two windows). An
// empty list means all hours; several windows in one list form their union;
// overlapping and repeated windows are allowed. campaignTimeWindowList is
// /v3's field (CampaignFirmwareUpgrade); /v2 requests simply omit it. Hours
// arrive as JSON numbers or as strings ("20"), as the SDKs disagree.
//
// NextOpen(t) is the first instant >= t at which the phase is open (t
// itself if open); NextClose(t), when open at t, the first instant > t at
// which it is closed, at most EndsAt; when closed at t it reports false.
// Both report false when nothing is left before EndsAt. Returned boundaries
// are whole seconds in UTC.
//
// # Time zones (beyond ThingSpace)
//
// HTTPRequest.TimeZone names an IANA zone in which window hours are read;
// "" (and "UTC") is UTC, which ThingSpace most likely means but never
// states. Dates remain whole UTC days whatever the zone. "Local" is refused
// because it would tie a campaign to its host. The zone is loaded once, by
// NewHTTP, with time.LoadLocation: the only I/O in the package. Hosts
// should import time/tzdata (the tests do) so that every replica reads the
// same rules.
//
// The hour of an instant is the wall-clock hour in the zone at that
// instant, and nothing else. Hence, across a clock change:
//   - an hour skipped by the change is skipped: with a {2,3} window, New
//     York and Berlin are closed all of their spring-forward day; Lord
//     Howe, which skips only 02:00..02:30, is open 02:30..03:00;
//   - a repeated hour is open for both occurrences. They are adjacent, so
//     the window opens once and stays open longer: {1,2} in New York on the
//     fall-back day is open 05:00..07:00 UTC, two real hours.
//
// Queries are exact, allocation-free and cost O(1) in the number of
// windows: NewHTTP folds each phase into a Unix-second range plus a 24-bit
// hour mask, and precomputes the zone's UTC offsets over the campaign
// (time.Location.ZoneBounds), so that finding the next open hour is a mask
// rotation within an offset segment. The offset table has one entry per
// clock change in the campaign (two a year in most zones). BenchmarkNextOpen
// compares with a naive hour-by-hour scan in the same run.
//
// # Date changes (§5.5)
//
// Change is /v2 and ChangeV3 is /v3 (chosen over a flag so that the call
// site says which rules apply). A change request is the full new timing
// (/v2: "Fields which need to remain unchanged should be also provided"), so
// both dates are required. Before StartsAt anything may change, validated as
// by NewHTTP at the time of the change. From StartsAt on (always, for an
// on-demand campaign): the start date is fixed (ErrStartFixed); the new end
// must keep the campaign open until at least now + ChangeFloor, i.e.
// EndsAt >= now + 24 h (ErrEndTooSoon); after EndsAt nothing may change
// (ErrEnded; the campaign lifecycle has finished it). For /v2, windows may
// be added but not removed (ErrWindowRemoved): every old window must appear,
// exactly, in the new list; adding a first window to an empty list is
// allowed although it narrows "all hours", as the rule reads. ThingSpace
// lists no change to the after-dates or, naturally, our time zone after the
// start, so those are frozen (ErrFixedAfterStart). For /v3 "only the end
// date can change": every other field must equal the old request, window
// lists compared as sets (ErrFixedAfterStart). A successful change returns
// a new *HTTP; the receiver never changes.
//
// # Errors
//
// Every bad input is a *FieldError naming the field (as in the JSON, e.g.
// "installTimeWindowList[2].endTime") and the value, and wrapping one
// sentinel (ErrBadDate, ErrMissingDate, ErrStartPassed, ErrEndBeforeStart,
// ErrDateOutside, ErrBadWindow, ErrBadZone, ErrBadJSON, ErrBadPolicy,
// ErrStartFixed, ErrEndTooSoon, ErrWindowRemoved, ErrFixedAfterStart,
// ErrEnded), matched with errors.Is and errors.As. Decoding only checks
// shapes; ranges and rules are checked by NewHTTP, so one request decodes
// and then reports its first broken rule. json.Unmarshal reports broken
// syntax itself (*json.SyntaxError) before HTTPRequest.UnmarshalJSON runs;
// ParseHTTPRequest returns a *FieldError for that too. Do not embed
// HTTPRequest in a larger struct: its UnmarshalJSON would be promoted.
package schedule
