package device

import (
	"errors"
	"testing"
)

// Every sentence, quoted from ThingSpace's About Campaigns page (the v2 lifecycle
// page for "Campaign aborted by user."), with the family-neutral reason
// and the status it is reported under.
var reasonQuotes = []struct {
	f      Family
	r      Reason
	status Status
	text   string
}{
	{FamilyPush, ReasonCleared, Accepted, "Device cleared all check so it can be added to the scheduled list."},
	{FamilyPush, ReasonNotFound, Rejected, "Device not found."},
	{FamilyPush, ReasonInvalidIMEI, Rejected, "Invalid Device IMEI."},
	{FamilyPush, ReasonNotEligible, Rejected, "Device not eligible for service."},
	{FamilyPush, ReasonUnknownClientType, Rejected, "Unknown client device type."},
	{FamilyPush, ReasonLicenseEverUpgraded, 0, "License removal not allowed for devices that have ever upgraded firmware."},
	{FamilyPush, ReasonLicenseInternal, 0, "Internal error."},
	{FamilyPush, ReasonInOtherCampaign, Rejected, "Device scheduled for firmware-upgrade previously, it needs to be completed before another upgrade is schedule."},
	{FamilyPush, ReasonMakeModel, Rejected, "Device make/model do not meet firmware prerequisites."},
	{FamilyPush, ReasonSoftwareVersion, Rejected, "Current device firmeware version does not meet firmware prerequisites."},
	{FamilyPush, ReasonNotActive, Failed, "Device is not in an active state or is not connected."},
	{FamilyPush, ReasonModuleMismatch, Failed, "Current device module does not meet firmware prerequisites."},
	{FamilyPush, ReasonUpdateFailed, Failed, "Firmware update to device failed."},
	{FamilyPush, ReasonInternalRetry, Failed, "Internal System Error. Please retry upgrade."},
	{FamilyPush, ReasonUpgraded, Success, "The firmware upgrade was successful."},

	{FamilyHTTP, ReasonCleared, Accepted, "Device cleared all checks so it can be added to the scheduled list."},
	{FamilyHTTP, ReasonNotFound, Rejected, "Device not found."},
	{FamilyHTTP, ReasonInOtherCampaign, Rejected, "Device scheduled for firmware upgrade previously, needs to be completed before another upgrade is scheduled."},
	{FamilyHTTP, ReasonNotEligible, Rejected, "Device not eligible for service (not FOTA capable)"},
	{FamilyHTTP, ReasonInvalidIMEI, Rejected, "Invalid device IMEI."},
	{FamilyHTTP, ReasonSoftwareVersion, Rejected, "Current device software version does not meet software prerequisites."},
	{FamilyHTTP, ReasonMakeModel, Rejected, "Device make/model does not meet softwware prerequisites."},
	{FamilyHTTP, ReasonNotActive, Rejected, "Device is not in active state or is not connected."},
	{FamilyHTTP, ReasonInternalRejected, Rejected, "Internal Error."},
	{FamilyHTTP, ReasonDidNotReport, Failed, "RovaClientDidNotReportStatus"},
	{FamilyHTTP, ReasonDownloadFailed, Failed, "RovaClientDownloadFailed"},
	{FamilyHTTP, ReasonNotInstalledYet, Failed, "RovaClientDownloadNotInstalledYet"},
	{FamilyHTTP, ReasonInstallFailed, Failed, "RovaClientDownloadedInstallFailed"},
	{FamilyHTTP, ReasonUnknownError, Failed, "Uknown device error."},
	{FamilyHTTP, ReasonOther, Failed, "Other."},
	{FamilyHTTP, ReasonCancelledByUser, Cancelled, "Campaign canceled by user."},
	{FamilyHTTP, ReasonUpgraded, Success, "Download and install succeeded."},
	{FamilyHTTP, ReasonAbortedByUser, Aborted, "Campaign aborted by user."},
	// Licences apply to both families: the push table's sentences.
	{FamilyHTTP, ReasonLicenseEverUpgraded, 0, "License removal not allowed for devices that have ever upgraded firmware."},
	{FamilyHTTP, ReasonLicenseInternal, 0, "Internal error."},
}

func TestReasonText(t *testing.T) {
	quoted := map[Family]map[Reason]bool{FamilyPush: {}, FamilyHTTP: {}}
	for _, q := range reasonQuotes {
		quoted[q.f][q.r] = true
		if got := q.r.Text(q.f); got != q.text {
			t.Errorf("%s.Text(%s) = %q, want %q", q.r, q.f, got, q.text)
		}
		if got := q.r.Status(q.f); got != q.status {
			t.Errorf("%s.Status(%s) = %s, want %s", q.r, q.f, got, q.status)
		}
		if got, err := ParseReason(q.f, q.text); err != nil || got != q.r {
			t.Errorf("ParseReason(%s, %q) = (%s, %v), want %s", q.f, q.text, got, err, q.r)
		}
	}
	// Every sentence a family has is quoted above: nothing invented.
	for _, f := range Families {
		for _, r := range Reasons {
			if r.Text(f) != "" && !quoted[f][r] {
				t.Errorf("%s has sentence %q for %s that no quote checks", f, r.Text(f), r)
			}
		}
	}
	// Reasons a family lacks.
	for _, c := range []struct {
		f Family
		r Reason
	}{{FamilyHTTP, ReasonUnknownClientType}, {FamilyPush, ReasonInternalRejected}, {FamilyPush, ReasonDidNotReport},
		{FamilyPush, ReasonCancelledByUser}, {FamilyPush, ReasonAbortedByUser}, {FamilyHTTP, ReasonModuleMismatch}} {
		if c.r.Text(c.f) != "" {
			t.Errorf("%s.Text(%s) = %q, want none", c.r, c.f, c.r.Text(c.f))
		}
	}
	if ReasonCancelledByUser.Status(FamilyPush) != Cancelled || ReasonAbortedByUser.Status(FamilyPush) != 0 {
		t.Error("push reports cancelled devices as CampaignCancelled and has no abort")
	}
}

// Within a family a sentence names one reason, and across families a
// sentence never names two different reasons, so UnmarshalText can accept
// any of them.
func TestReasonSentencesDisjoint(t *testing.T) {
	seen := map[string]Reason{}
	for _, r := range Reasons {
		for _, w := range []string{r.String(), r.Text(FamilyPush), r.Text(FamilyHTTP)} {
			if w == "" {
				continue
			}
			if o, ok := seen[w]; ok && o != r {
				t.Errorf("%q names %s and %s", w, o, r)
			}
			seen[w] = r
		}
	}
}

func TestReasonMarshalRoundTrip(t *testing.T) {
	for _, r := range append(Reasons, ReasonNone) {
		b, err := r.MarshalText()
		if err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		back := ReasonOther
		if err := back.UnmarshalText(b); err != nil || back != r {
			t.Errorf("%q round-trips to %s, %v", b, back, err)
		}
		for _, f := range Families {
			if w := r.Text(f); w != "" {
				back = ReasonNone
				if err := back.UnmarshalText([]byte(w)); err != nil || back != r {
					t.Errorf("UnmarshalText(%q) = %s, %v", w, back, err)
				}
			}
		}
	}
}

func TestReasonErrors(t *testing.T) {
	var re *ReasonError
	for _, c := range []struct {
		f    Family
		text string
	}{
		{FamilyHTTP, "Device cleared all check so it can be added to the scheduled list."}, // push's wording
		{FamilyPush, "Internal Error."},
		{FamilyHTTP, "Unknown device error."}, // the spec says "Uknown"
		{FamilyHTTP, ""},
		{FamilyPush, "RovaClientDownloadFailed"},
	} {
		r, err := ParseReason(c.f, c.text)
		if r != ReasonNone || !errors.Is(err, ErrUnknownReason) || !errors.As(err, &re) || re.Value != c.text {
			t.Errorf("ParseReason(%s, %q) = (%s, %v)", c.f, c.text, r, err)
		}
	}
	if _, err := ParseReason(3, "Other."); !errors.Is(err, ErrUnknownProtocol) {
		t.Errorf("ParseReason(3, ...) = %v", err)
	}
	r := ReasonOther
	if err := r.UnmarshalText([]byte("other")); !errors.As(err, &re) || r != ReasonOther {
		t.Errorf("UnmarshalText(other) = %v, left %s", err, r)
	}
	if _, err := Reason(200).MarshalText(); !errors.Is(err, ErrUnknownReason) {
		t.Errorf("Reason(200).MarshalText = %v", err)
	}
	if Reason(200).Text(FamilyHTTP) != "" || Reason(200).Status(FamilyHTTP) != 0 || ReasonOther.Text(0) != "" {
		t.Error("invalid reason or family has a sentence or status")
	}
}
