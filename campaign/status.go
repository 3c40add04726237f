package campaign

import (
	"errors"
	"fmt"
	"github.com/fotakit/fota/internal/reqerr"

	"github.com/fotakit/fota/device"
)

// Status is a campaign's status. Each family has its own values, so one
// Status knows its family and String is its exact ThingSpace spelling.
// The zero value is no status (a campaign not yet requested).
type Status uint8

// Push-family statuses (OMA-DM and LWM2M, ThingSpace /v1 "upgrades").
const (
	PushRequestPending Status = iota + 1 // "RequestPending": request received, checks running
	PushRequestFailed                    // "RequestFailed": parameter checks failed
	PushQueued                           // "Queued": checks passed, waiting for the start
	PushInProgress                       // "InProgress": started, devices updating
	PushFinished                         // "Finished": end date reached
	PushUpgradeFailed                    // "UpgradeFailed": a queued upgrade that did not run
	PushCancelled                        // "Cancelled": fota's spelling; the v1 enum has none
)

// HTTP-family statuses (ThingSpace /v2).
const (
	HTTPRequestPending Status = iota + PushCancelled + 1 // "CampaignRequestPending"
	HTTPRequestFailed                                    // "CampaignRequestFailed"
	HTTPQueued                                           // "CampaignQueued" (query enum: "CampaignRequestQueued")
	HTTPScheduled                                        // "CampaignScheduled"
	HTTPInProgress                                       // "CampaignInProgress": fota's token; no source names one
	HTTPEnded                                            // "CampaignEnded"
	HTTPCancelled                                        // "CampaignCancelled"
	HTTPAborted                                          // "CampaignAborted"
	HTTPFailed                                           // "CampaignFailed"
)

// Statuses lists every status of both families, push first, each family in
// lifecycle order.
var Statuses = []Status{
	PushRequestPending, PushRequestFailed, PushQueued, PushInProgress,
	PushFinished, PushUpgradeFailed, PushCancelled,
	HTTPRequestPending, HTTPRequestFailed, HTTPQueued, HTTPScheduled,
	HTTPInProgress, HTTPEnded, HTTPCancelled, HTTPAborted, HTTPFailed,
}

// statusInfo is everything one status is, in one row, so the spellings,
// state names and classifications cannot disagree.
type statusInfo struct {
	wire   string        // ThingSpace spelling
	name   string        // state name in the family's fsm.Events
	family device.Family // whose table the status belongs to
	active bool          // the campaign still holds its devices
}

var statusInfos = [...]statusInfo{
	PushRequestPending: {"RequestPending", "RequestPending", device.FamilyPush, true},
	PushRequestFailed:  {"RequestFailed", "RequestFailed", device.FamilyPush, false},
	PushQueued:         {"Queued", "Queued", device.FamilyPush, true},
	PushInProgress:     {"InProgress", "InProgress", device.FamilyPush, true},
	PushFinished:       {"Finished", "Finished", device.FamilyPush, false},
	PushUpgradeFailed:  {"UpgradeFailed", "UpgradeFailed", device.FamilyPush, false},
	PushCancelled:      {"Cancelled", "Cancelled", device.FamilyPush, false},

	HTTPRequestPending: {"CampaignRequestPending", "RequestPending", device.FamilyHTTP, true},
	HTTPRequestFailed:  {"CampaignRequestFailed", "RequestFailed", device.FamilyHTTP, false},
	HTTPQueued:         {"CampaignQueued", "Queued", device.FamilyHTTP, true},
	HTTPScheduled:      {"CampaignScheduled", "Scheduled", device.FamilyHTTP, true},
	HTTPInProgress:     {"CampaignInProgress", "InProgress", device.FamilyHTTP, true},
	HTTPEnded:          {"CampaignEnded", "Ended", device.FamilyHTTP, false},
	HTTPCancelled:      {"CampaignCancelled", "Cancelled", device.FamilyHTTP, false},
	HTTPAborted:        {"CampaignAborted", "Aborted", device.FamilyHTTP, false},
	HTTPFailed:         {"CampaignFailed", "Failed", device.FamilyHTTP, false},
}

// httpQueuedAlias is how the v2/v3 campaignStatus query enum spells
// CampaignQueued (thingspace-api §4.2); accepted, never written.
const httpQueuedAlias = "CampaignRequestQueued"

func (s Status) info() (statusInfo, bool) {
	if s == 0 || int(s) >= len(statusInfos) {
		return statusInfo{}, false
	}
	return statusInfos[s], true
}

// String is the exact ThingSpace spelling, e.g. "Queued" (push) or
// "CampaignQueued" (HTTP). Values that are not a status print as
// "Status(n)".
func (s Status) String() string {
	if i, ok := s.info(); ok {
		return i.wire
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Family is the lifecycle family the status belongs to; 0 for a value that
// is not a status.
func (s Status) Family() device.Family {
	i, _ := s.info()
	return i.family
}

// Name is the status's state name in its family's fsm.Events: a
// Mermaid-safe identifier without the "Campaign" prefix ("Queued",
// "InProgress"). Names repeat across families but each family has its own
// table, so within a table they are unique.
func (s Status) Name() string {
	if i, ok := s.info(); ok {
		return i.name
	}
	return s.String()
}

// Terminal reports whether no event leaves the status: failed, cancelled,
// aborted, finished or ended. A value that is not a status is not terminal.
func (s Status) Terminal() bool {
	i, ok := s.info()
	return ok && !i.active
}

// Active reports whether the campaign still holds its devices (pending,
// queued, scheduled or in progress), so that they may not join another
// campaign.
func (s Status) Active() bool {
	i, _ := s.info()
	return i.active
}

// InitialStatus is the status every campaign of family f starts in:
// RequestPending of that family; 0 for an unknown family.
func InitialStatus(f device.Family) Status {
	switch f {
	case device.FamilyPush:
		return PushRequestPending
	case device.FamilyHTTP:
		return HTTPRequestPending
	}
	return 0
}

// ErrUnknownStatus is matched by errors parsing or writing a value that is
// not a campaign status.
var ErrUnknownStatus = errors.New("unknown campaign status")

// StatusError names the field and the value that is not a campaign status.
type StatusError struct {
	Field string // e.g. "status"
	Value string // the offending text, or Status(n) when writing
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("fota: %s: unknown campaign status %q", e.Field, e.Value)
}

// Is reports whether target is ErrUnknownStatus.
func (e *StatusError) Is(target error) bool {
	return target == ErrUnknownStatus || target == reqerr.ErrBadRequest
}

// FieldValue names the field and the value that were refused.
func (e *StatusError) FieldValue() (field, value string) { return e.Field, e.Value }

// ParseStatus parses the exact ThingSpace spelling of a campaign status of
// either family (case-sensitive, as the wire is). "CampaignRequestQueued",
// the query enum's spelling, parses as HTTPQueued.
func ParseStatus(s string) (Status, error) {
	if s == httpQueuedAlias {
		return HTTPQueued, nil
	}
	for _, st := range Statuses {
		if statusInfos[st].wire == s {
			return st, nil
		}
	}
	return 0, &StatusError{Field: "status", Value: s}
}

// MarshalText writes the exact ThingSpace spelling; the zero value and
// other non-statuses are an error.
func (s Status) MarshalText() ([]byte, error) {
	i, ok := s.info()
	if !ok {
		return nil, &StatusError{Field: "status", Value: s.String()}
	}
	return []byte(i.wire), nil
}

// UnmarshalText parses as ParseStatus does; on error *s is unchanged.
func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
