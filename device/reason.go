package device

import (
	"errors"
	"fmt"
	"github.com/fotakit/fota/internal/reqerr"
)

// Reason is why a device has its status: the "Device Detail Status" of
// ThingSpace's About Campaigns page. Reasons are family-neutral; Text gives each
// family's exact sentence, typos included.
type Reason uint8

// The reasons. ReasonNone (the zero value) is no reason: a pending device,
// or a rejection whose reason the caller stores elsewhere.
const (
	ReasonNone Reason = iota

	// Accepted.
	ReasonCleared // passed every eligibility check

	// Rejected at scheduling time, in the order the checks run (see Checks).
	ReasonNotFound          // not in the inventory
	ReasonInvalidIMEI       // not 15 digits with a valid Luhn check digit
	ReasonNotEligible       // not FOTA capable, not licensed, or wrong family
	ReasonUnknownClientType // push only: protocol differs from the campaign's
	ReasonMakeModel         // make or model differs from the prerequisites
	ReasonSoftwareVersion   // current firmware/software differs from softwareFrom
	ReasonInOtherCampaign   // already in another active campaign
	ReasonNotActive         // HTTP: rejected; push: failed after the retry plan
	ReasonInternalRejected  // HTTP: the server failed while checking

	// Failed, push family.
	ReasonModuleMismatch // the device's module does not match
	ReasonUpdateFailed   // the device reported a failed update
	ReasonInternalRetry  // the server failed; the user may retry

	// Succeeded.
	ReasonUpgraded

	// Failed, HTTP family.
	ReasonDidNotReport    // campaign ended without a report from the device
	ReasonDownloadFailed  // the device reported a failed download
	ReasonNotInstalledYet // campaign ended after download, before install
	ReasonInstallFailed   // the device reported a failed install
	ReasonUnknownError    // the device reported an unknown error
	ReasonOther           // the device reported another failure

	// Ended by the user.
	ReasonCancelledByUser // campaign cancelled before its start
	ReasonAbortedByUser   // campaign aborted after its start (HTTP)

	// Licence removal failures (LicenseRemoveFailed), both families.
	ReasonLicenseEverUpgraded // the device has upgraded firmware at some time
	ReasonLicenseInternal     // the server failed

	numReasons
)

// Reasons lists every reason but ReasonNone.
var Reasons = func() []Reason {
	rs := make([]Reason, 0, numReasons-1)
	for r := ReasonCleared; r < numReasons; r++ {
		rs = append(rs, r)
	}
	return rs
}()

// reasonInfo is one reason's catalog row: its neutral name, and per family
// the sentence and the status it is reported under (0: not reported).
type reasonInfo struct {
	name               string
	push, http         string
	pushStat, httpStat Status
}

// reasons is the catalog, indexed by Reason. Sentences are copied from
// ThingSpace's About Campaigns page exactly, typos and punctuation included;
// "Campaign aborted by user." comes from the v2 lifecycle page (the
// spec's table omits that line).
var reasons = [numReasons]reasonInfo{
	ReasonCleared: {"Cleared",
		"Device cleared all check so it can be added to the scheduled list.",
		"Device cleared all checks so it can be added to the scheduled list.",
		Accepted, Accepted},
	ReasonNotFound: {"NotFound",
		"Device not found.",
		"Device not found.",
		Rejected, Rejected},
	ReasonInvalidIMEI: {"InvalidIMEI",
		"Invalid Device IMEI.",
		"Invalid device IMEI.",
		Rejected, Rejected},
	ReasonNotEligible: {"NotEligible",
		"Device not eligible for service.",
		"Device not eligible for service (not FOTA capable)",
		Rejected, Rejected},
	ReasonUnknownClientType: {"UnknownClientType",
		"Unknown client device type.",
		"",
		Rejected, 0},
	ReasonMakeModel: {"MakeModel",
		"Device make/model do not meet firmware prerequisites.",
		"Device make/model does not meet softwware prerequisites.",
		Rejected, Rejected},
	ReasonSoftwareVersion: {"SoftwareVersion",
		"Current device firmeware version does not meet firmware prerequisites.",
		"Current device software version does not meet software prerequisites.",
		Rejected, Rejected},
	ReasonInOtherCampaign: {"InOtherCampaign",
		"Device scheduled for firmware-upgrade previously, it needs to be completed before another upgrade is schedule.",
		"Device scheduled for firmware upgrade previously, needs to be completed before another upgrade is scheduled.",
		Rejected, Rejected},
	ReasonNotActive: {"NotActive",
		"Device is not in an active state or is not connected.",
		"Device is not in active state or is not connected.",
		Failed, Rejected},
	ReasonInternalRejected: {"InternalRejected",
		"",
		"Internal Error.",
		0, Rejected},
	ReasonModuleMismatch: {"ModuleMismatch",
		"Current device module does not meet firmware prerequisites.",
		"",
		Failed, 0},
	ReasonUpdateFailed: {"UpdateFailed",
		"Firmware update to device failed.",
		"",
		Failed, 0},
	ReasonInternalRetry: {"InternalRetry",
		"Internal System Error. Please retry upgrade.",
		"",
		Failed, 0},
	ReasonUpgraded: {"Upgraded",
		"The firmware upgrade was successful.",
		"Download and install succeeded.",
		Success, Success},
	ReasonDidNotReport:    {"DidNotReport", "", "RovaClientDidNotReportStatus", 0, Failed},
	ReasonDownloadFailed:  {"DownloadFailed", "", "RovaClientDownloadFailed", 0, Failed},
	ReasonNotInstalledYet: {"NotInstalledYet", "", "RovaClientDownloadNotInstalledYet", 0, Failed},
	ReasonInstallFailed:   {"InstallFailed", "", "RovaClientDownloadedInstallFailed", 0, Failed},
	ReasonUnknownError:    {"UnknownError", "", "Uknown device error.", 0, Failed},
	ReasonOther:           {"Other", "", "Other.", 0, Failed},
	// Push reports a cancelled device as CampaignCancelled with no detail.
	ReasonCancelledByUser: {"CancelledByUser", "", "Campaign canceled by user.", Cancelled, Cancelled},
	ReasonAbortedByUser:   {"AbortedByUser", "", "Campaign aborted by user.", 0, Aborted},
	// Licence reasons are reported under LicenseRemoveFailed, not a Status.
	ReasonLicenseEverUpgraded: {"LicenseEverUpgraded",
		"License removal not allowed for devices that have ever upgraded firmware.",
		"License removal not allowed for devices that have ever upgraded firmware.",
		0, 0},
	ReasonLicenseInternal: {"LicenseInternal", "Internal error.", "Internal error.", 0, 0},
}

// ErrUnknownReason is matched by errors parsing a reason that is not one.
var ErrUnknownReason = errors.New("unknown reason")

// ReasonError names the field and the value that is not a reason.
type ReasonError struct {
	Field string // e.g. "resultReason (HTTP)", "reason"
	Value string
}

func (e *ReasonError) Error() string {
	return fmt.Sprintf("fota: %s: unknown reason %q", e.Field, e.Value)
}

// Is reports whether target is ErrUnknownReason.
func (e *ReasonError) Is(target error) bool {
	return target == ErrUnknownReason || target == reqerr.ErrBadRequest
}

// FieldValue names the field and the value that were refused.
func (e *ReasonError) FieldValue() (field, value string) { return e.Field, e.Value }

func (r Reason) valid() bool { return r > ReasonNone && r < numReasons }

// String is the reason's neutral Go-like name ("NotFound", "Upgraded"),
// "" for ReasonNone.
func (r Reason) String() string {
	if r == ReasonNone {
		return ""
	}
	if !r.valid() {
		return fmt.Sprintf("Reason(%d)", uint8(r))
	}
	return reasons[r].name
}

// Text is family f's exact sentence for the reason, or "" when the family
// has none (ReasonUnknownClientType in HTTP, the Rova* reasons in push,
// ReasonCancelledByUser in push, whose cancelled devices carry no detail).
func (r Reason) Text(f Family) string {
	if !r.valid() {
		return ""
	}
	switch f {
	case FamilyPush:
		return reasons[r].push
	case FamilyHTTP:
		return reasons[r].http
	}
	return ""
}

// Status is the device status family f reports the reason under, or 0
// when the family never reports it. Licence reasons have no device status:
// they come with LicenseRemoveFailed (see LicenseOutcome).
func (r Reason) Status(f Family) Status {
	if !r.valid() {
		return 0
	}
	switch f {
	case FamilyPush:
		return reasons[r].pushStat
	case FamilyHTTP:
		return reasons[r].httpStat
	}
	return 0
}

// ParseReason parses family f's exact sentence. The match is exact:
// HTTP "Internal Error." is ReasonInternalRejected while "Internal error."
// is ReasonLicenseInternal. An unknown family is a *ProtocolError; an
// unknown or empty sentence a *ReasonError.
func ParseReason(f Family, text string) (Reason, error) {
	if f != FamilyHTTP && f != FamilyPush {
		return ReasonNone, &ProtocolError{Field: "family", Value: f.String()}
	}
	if text != "" {
		for r := ReasonCleared; r < numReasons; r++ {
			if r.Text(f) == text {
				return r, nil
			}
		}
	}
	return ReasonNone, &ReasonError{Field: "reason (" + f.String() + ")", Value: text}
}

// MarshalText writes the neutral name; ReasonNone is written as "".
func (r Reason) MarshalText() ([]byte, error) {
	if r != ReasonNone && !r.valid() {
		return nil, &ReasonError{Field: "reason", Value: r.String()}
	}
	return []byte(r.String()), nil
}

// UnmarshalText accepts "" (ReasonNone), the neutral name, or either
// family's sentence (no sentence names two different reasons). On error r
// is unchanged.
func (r *Reason) UnmarshalText(b []byte) error {
	w := string(b)
	if w == "" {
		*r = ReasonNone
		return nil
	}
	for q := ReasonCleared; q < numReasons; q++ {
		if i := reasons[q]; w == i.name || w == i.push || w == i.http {
			*r = q
			return nil
		}
	}
	return &ReasonError{Field: "reason", Value: w}
}
