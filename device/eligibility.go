package device

import "slices"

// Facts is what the host's inventory says about one device, plus whether
// it is in another active campaign.
type Facts struct {
	Exists          bool     // the device is in the account's inventory
	IMEI            string   // as the request named it
	Protocol        Protocol // how the device is managed
	Make, Model     string
	Software        string // current firmware/software version
	FOTACapable     bool
	Licensed        bool
	ActiveConnected bool // active on the network and connected
	InOtherCampaign bool // in another campaign that has not ended
}

// Prerequisites is what a campaign asks of its devices.
type Prerequisites struct {
	Protocol Protocol // the campaign's protocol; its Family picks the checks
	// Family is the campaign's family when Protocol is zero: a /v1 push
	// campaign takes LwM2M and OMA-DM devices alike.
	Family          Family
	Make, Model     string // "" means any
	SoftwareFrom    string // the version being upgraded from; "" means any
	LicenseRequired bool   // the account needs a licence per device
}

// Verdict is the outcome of the eligibility checks for one device:
// Accepted with ReasonCleared, or Rejected with the first failing check's
// reason.
type Verdict struct {
	Status Status
	Reason Reason
}

// EligibilityCheck is one row of Checks.
type EligibilityCheck struct {
	Reason   Reason   // reported when the check fails
	Families []Family // the campaign families it applies to; nil: every family
	// Fails reports whether the device fails the check. It reads the
	// facts and prerequisites through pointers (a scheduling checks a
	// million devices against a dozen rows) and changes neither.
	Fails func(*Facts, *Prerequisites) bool
}

// Checks are the eligibility checks in the order they run (fota's status table, package doc): a
// device failing several is rejected with the first one's reason.
// Comparisons are exact and case-sensitive: the sources say nothing about
// normalising makes, models or versions.
var Checks = []EligibilityCheck{
	{Reason: ReasonNotFound, Fails: func(f *Facts, _ *Prerequisites) bool { return !f.Exists }},
	{Reason: ReasonInvalidIMEI, Fails: func(f *Facts, _ *Prerequisites) bool { return !ValidIMEI(f.IMEI) }},
	{Reason: ReasonNotEligible, Fails: func(f *Facts, p *Prerequisites) bool {
		fam := p.family()
		return !f.FOTACapable ||
			(p.LicenseRequired && !f.Licensed) ||
			fam == 0 || // a campaign for no known protocol has no eligible device
			(fam == FamilyHTTP && f.Protocol != HTTP)
	}},
	// Within the push family, an LwM2M campaign cannot update an OMA-DM
	// device nor the reverse, and an HTTP device (or one whose client type
	// the inventory does not know) is no push client at all.
	{Reason: ReasonUnknownClientType, Families: []Family{FamilyPush}, Fails: func(f *Facts, p *Prerequisites) bool {
		if p.Protocol == 0 {
			return f.Protocol.Family() != FamilyPush
		}
		return f.Protocol != p.Protocol
	}},
	{Reason: ReasonMakeModel, Fails: func(f *Facts, p *Prerequisites) bool {
		return (p.Make != "" && f.Make != p.Make) || (p.Model != "" && f.Model != p.Model)
	}},
	{Reason: ReasonSoftwareVersion, Fails: func(f *Facts, p *Prerequisites) bool {
		return p.SoftwareFrom != "" && f.Software != p.SoftwareFrom
	}},
	{Reason: ReasonInOtherCampaign, Fails: func(f *Facts, _ *Prerequisites) bool { return f.InOtherCampaign }},
	// Push devices that are off are retried by the attempt plan and fail
	// later as Unreachable; HTTP rejects them up front.
	{Reason: ReasonNotActive, Families: []Family{FamilyHTTP}, Fails: func(f *Facts, _ *Prerequisites) bool {
		return !f.ActiveConnected
	}},
}

// Check runs Checks in order for one device and a campaign's
// prerequisites, and changes neither. It allocates nothing: the checks
// read f and p where they are, which a caller checking a fleet keeps in
// one place for all its devices.
func Check(f *Facts, p *Prerequisites) Verdict {
	fam := p.family()
	for i := range Checks {
		c := &Checks[i] // not a copy of each row, for each of a million devices
		if c.Families != nil && !slices.Contains(c.Families, fam) {
			continue
		}
		if c.Fails(f, p) {
			return Verdict{Status: Rejected, Reason: c.Reason}
		}
	}
	return Verdict{Status: Accepted, Reason: ReasonCleared}
}

// family is the campaign's family: its protocol's, or Family when the
// campaign names no single protocol.
func (p Prerequisites) family() Family {
	if p.Protocol != 0 {
		return p.Protocol.Family()
	}
	return p.Family
}
