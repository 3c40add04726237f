package device

import (
	"errors"
	"fmt"
	"github.com/fotakit/fota/internal/reqerr"
)

// Status is what a device's place in a campaign is reported as. There is
// one status set for both families; Wire gives each family's spelling.
type Status uint8

// The statuses. The zero value is no status.
const (
	Accepted  Status = iota + 1 // passed the eligibility checks, in the campaign
	Rejected                    // failed an eligibility check, not in the campaign
	Pending                     // the update is under way
	Success                     // the update was installed
	Failed                      // the update did not complete
	Cancelled                   // the campaign was cancelled before the device started
	Aborted                     // the campaign was aborted after it started (HTTP only)
)

// Statuses lists every status.
var Statuses = []Status{Accepted, Rejected, Pending, Success, Failed, Cancelled, Aborted}

// ErrUnknownStatus is matched by errors parsing a status (device or
// licence) that is not one.
var ErrUnknownStatus = errors.New("unknown status")

// StatusError names the field and the value that is not a status.
type StatusError struct {
	Field string // e.g. "status", "status (HTTP)", "licenseStatus"
	Value string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("fota: %s: unknown status %q", e.Field, e.Value)
}

// Is reports whether target is ErrUnknownStatus.
func (e *StatusError) Is(target error) bool {
	return target == ErrUnknownStatus || target == reqerr.ErrBadRequest
}

// FieldValue names the field and the value that were refused.
func (e *StatusError) FieldValue() (field, value string) { return e.Field, e.Value }

// statusNames holds the neutral name and the two wire spellings of each
// status, indexed by Status.
var statusNames = [...]struct{ name, http, push string }{
	Accepted:  {"Accepted", "Accepted", "Device Accepted"},
	Rejected:  {"Rejected", "DeviceRejected", "Device Rejected"},
	Pending:   {"Pending", "UpgradePending", "Upgrade Pending"},
	Success:   {"Success", "UpgradeSuccess", "Upgrade Success"},
	Failed:    {"Failed", "UpgradeFailed", "Upgrade Failed"},
	Cancelled: {"Cancelled", "CampaignCancelled", "CampaignCancelled"},
	Aborted:   {"Aborted", "CampaignAborted", ""}, // push has no abort
}

// httpFailedTypo is the spec table's spelling of the HTTP failed status
// ("UpgradedFailed for UpgradePending"); parsing accepts it.
const httpFailedTypo = "UpgradedFailed"

func (s Status) valid() bool { return s >= Accepted && s <= Aborted }

// String is the family-neutral name: "Accepted", "Rejected", "Pending",
// "Success", "Failed", "Cancelled" or "Aborted".
func (s Status) String() string {
	if !s.valid() {
		return fmt.Sprintf("Status(%d)", uint8(s))
	}
	return statusNames[s].name
}

// Wire is family f's spelling of the status (fota's status table, package doc), or "" when the
// family has no such status (Aborted in the push family) or f or s is not
// valid.
func (s Status) Wire(f Family) string {
	if !s.valid() {
		return ""
	}
	switch f {
	case FamilyHTTP:
		return statusNames[s].http
	case FamilyPush:
		return statusNames[s].push
	}
	return ""
}

// ParseStatus parses family f's wire spelling of a status. For HTTP it
// also accepts "UpgradedFailed", the spec table's spelling, as Failed.
// An unknown family is a *ProtocolError; an unknown spelling a
// *StatusError.
func ParseStatus(f Family, wire string) (Status, error) {
	if f != FamilyHTTP && f != FamilyPush {
		return 0, &ProtocolError{Field: "family", Value: f.String()}
	}
	if wire != "" {
		for _, s := range Statuses {
			if s.Wire(f) == wire {
				return s, nil
			}
		}
		if f == FamilyHTTP && wire == httpFailedTypo {
			return Failed, nil
		}
	}
	return 0, &StatusError{Field: "status (" + f.String() + ")", Value: wire}
}

// MarshalText writes the neutral name. The zero Status is an error.
func (s Status) MarshalText() ([]byte, error) {
	if !s.valid() {
		return nil, &StatusError{Field: "status", Value: s.String()}
	}
	return []byte(s.String()), nil
}

// UnmarshalText accepts the neutral name or either family's wire spelling
// (no spelling names two different statuses). On error s is unchanged.
func (s *Status) UnmarshalText(b []byte) error {
	w := string(b)
	if w != "" {
		for _, t := range Statuses {
			if n := statusNames[t]; w == n.name || w == n.http || w == n.push {
				*s = t
				return nil
			}
		}
		if w == httpFailedTypo {
			*s = Failed
			return nil
		}
	}
	return &StatusError{Field: "status", Value: w}
}
