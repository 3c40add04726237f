package device

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

const goodIMEI = "490154203237518"

// campaign returns prerequisites for a campaign on protocol p.
func campaign(p Protocol) Prerequisites {
	return Prerequisites{Protocol: p, Make: "Acme", Model: "M1", SoftwareFrom: "1.0", LicenseRequired: true}
}

// eligibleFor returns the facts of a device that passes every check of a
// campaign on protocol p.
func eligibleFor(p Protocol) Facts {
	return Facts{Exists: true, IMEI: goodIMEI, Protocol: p, Make: "Acme", Model: "M1", Software: "1.0",
		FOTACapable: true, Licensed: true, ActiveConnected: true}
}

// breaks makes a device fail exactly one check (for a campaign whose
// protocol is LWM2M or HTTP), leaving the others passing.
var breaks = map[Reason]func(*Facts){
	ReasonNotFound:          func(f *Facts) { f.Exists = false },
	ReasonInvalidIMEI:       func(f *Facts) { f.IMEI = "490154203237517" },
	ReasonNotEligible:       func(f *Facts) { f.FOTACapable = false },
	ReasonUnknownClientType: func(f *Facts) { f.Protocol = OMADM }, // only meaningful for the LWM2M campaign
	ReasonMakeModel:         func(f *Facts) { f.Model = "M2" },
	ReasonSoftwareVersion:   func(f *Facts) { f.Software = "0.9" },
	ReasonInOtherCampaign:   func(f *Facts) { f.InOtherCampaign = true },
	ReasonNotActive:         func(f *Facts) { f.ActiveConnected = false },
}

// Each reason, with the spec sentence it is reported with.
func TestCheckEachReason(t *testing.T) {
	for _, c := range []struct {
		campaign Protocol
		reason   Reason
		quote    string // "" where the family does not check it
	}{
		{HTTP, ReasonNotFound, "DeviceRejected Device not found."},
		{HTTP, ReasonInvalidIMEI, "DeviceRejected Invalid device IMEI."},
		{HTTP, ReasonNotEligible, "DeviceRejected Device not eligible for service (not FOTA capable)"},
		{HTTP, ReasonMakeModel, "DeviceRejected Device make/model does not meet softwware prerequisites."},
		{HTTP, ReasonSoftwareVersion, "DeviceRejected Current device software version does not meet software prerequisites."},
		{HTTP, ReasonInOtherCampaign, "DeviceRejected Device scheduled for firmware upgrade previously, needs to be completed before another upgrade is scheduled."},
		{HTTP, ReasonNotActive, "DeviceRejected Device is not in active state or is not connected."},
		{LWM2M, ReasonNotFound, "Device Rejected Device not found."},
		{LWM2M, ReasonInvalidIMEI, "Device Rejected Invalid Device IMEI."},
		{LWM2M, ReasonNotEligible, "Device Rejected Device not eligible for service."},
		{LWM2M, ReasonUnknownClientType, "Device Rejected Unknown client device type."},
		{LWM2M, ReasonMakeModel, "Device Rejected Device make/model do not meet firmware prerequisites."},
		{LWM2M, ReasonSoftwareVersion, "Device Rejected Current device firmeware version does not meet firmware prerequisites."},
		{LWM2M, ReasonInOtherCampaign, "Device Rejected Device scheduled for firmware-upgrade previously, it needs to be completed before another upgrade is schedule."},
		// Push devices that are off are accepted and fail later
		// ("Upgrade Failed Device is not in an active state or is not connected.").
		{LWM2M, ReasonNotActive, ""},
	} {
		fam := c.campaign.Family()
		f := eligibleFor(c.campaign)
		breaks[c.reason](&f)
		got := check(f, campaign(c.campaign))
		if c.quote == "" {
			if got != (Verdict{Accepted, ReasonCleared}) {
				t.Errorf("%s campaign, %s: %+v, want accepted", c.campaign, c.reason, got)
			}
			continue
		}
		line := got.Status.Wire(fam) + " " + got.Reason.Text(fam)
		if got != (Verdict{Rejected, c.reason}) || line != c.quote {
			t.Errorf("%s campaign: %+v reported as %q, want %q", c.campaign, got, line, c.quote)
		}
	}
	for _, p := range Protocols {
		if got := check(eligibleFor(p), campaign(p)); got != (Verdict{Accepted, ReasonCleared}) {
			t.Errorf("%s: eligible device got %+v", p, got)
		}
	}
}

func TestCheckFamilies(t *testing.T) {
	for _, c := range []struct {
		name string
		f    Facts
		p    Prerequisites
		want Reason
	}{
		{"HTTP campaign, LwM2M device", eligibleFor(LWM2M), campaign(HTTP), ReasonNotEligible},
		{"LwM2M campaign, HTTP device", eligibleFor(HTTP), campaign(LWM2M), ReasonUnknownClientType},
		{"OMA-DM campaign, LwM2M device", eligibleFor(LWM2M), campaign(OMADM), ReasonUnknownClientType},
		{"unlicensed where licences are required", func() Facts { f := eligibleFor(HTTP); f.Licensed = false; return f }(), campaign(HTTP), ReasonNotEligible},
		{"unlicensed where none are required", func() Facts { f := eligibleFor(HTTP); f.Licensed = false; return f }(),
			func() Prerequisites { p := campaign(HTTP); p.LicenseRequired = false; return p }(), ReasonCleared},
		{"any make, model and version", Facts{Exists: true, IMEI: goodIMEI, Protocol: OMADM, Make: "X", Model: "Y", Software: "Z", FOTACapable: true},
			Prerequisites{Protocol: OMADM}, ReasonCleared},
		{"make differs", func() Facts { f := eligibleFor(HTTP); f.Make = "acme"; return f }(), campaign(HTTP), ReasonMakeModel},
		{"campaign of no protocol", eligibleFor(HTTP), Prerequisites{}, ReasonNotEligible},
	} {
		got := check(c.f, c.p)
		if got.Reason != c.want || (got.Status == Accepted) != (c.want == ReasonCleared) {
			t.Errorf("%s: %+v, want %s", c.name, got, c.want)
		}
	}
}

// "The order of checks decides which reason is reported": a device failing
// two checks reports the earlier one.
func TestCheckOrder(t *testing.T) {
	wantOrder := []Reason{ReasonNotFound, ReasonInvalidIMEI, ReasonNotEligible, ReasonUnknownClientType,
		ReasonMakeModel, ReasonSoftwareVersion, ReasonInOtherCampaign, ReasonNotActive}
	if len(Checks) != len(wantOrder) {
		t.Fatalf("%d checks, want %d", len(Checks), len(wantOrder))
	}
	for i, c := range Checks {
		if c.Reason != wantOrder[i] {
			t.Errorf("check %d is %s, want %s", i, c.Reason, wantOrder[i])
		}
	}
	for _, p := range []Protocol{HTTP, LWM2M} {
		var applies []Reason
		for _, c := range Checks {
			f := eligibleFor(p)
			breaks[c.Reason](&f)
			if check(f, campaign(p)).Reason == c.Reason {
				applies = append(applies, c.Reason)
			}
		}
		for i, first := range applies {
			for _, second := range applies[i+1:] {
				t.Run(fmt.Sprintf("%s/%s+%s", p, first, second), func(t *testing.T) {
					f := eligibleFor(p)
					breaks[second](&f)
					breaks[first](&f)
					if got := check(f, campaign(p)); got != (Verdict{Rejected, first}) {
						t.Errorf("%+v, want %s", got, first)
					}
				})
			}
		}
	}
}

// refCheck is a straightforward re-implementation of the eligibility rules.
func refCheck(f Facts, p Prerequisites) Verdict {
	push := p.Protocol == LWM2M || p.Protocol == OMADM
	http := p.Protocol == HTTP
	r := ReasonCleared
	switch {
	case !f.Exists:
		r = ReasonNotFound
	case !refLuhn(f.IMEI):
		r = ReasonInvalidIMEI
	case !f.FOTACapable, p.LicenseRequired && !f.Licensed, !push && !http, http && f.Protocol != HTTP:
		r = ReasonNotEligible
	case push && f.Protocol != p.Protocol:
		r = ReasonUnknownClientType
	case p.Make != "" && p.Make != f.Make, p.Model != "" && p.Model != f.Model:
		r = ReasonMakeModel
	case p.SoftwareFrom != "" && p.SoftwareFrom != f.Software:
		r = ReasonSoftwareVersion
	case f.InOtherCampaign:
		r = ReasonInOtherCampaign
	case http && !f.ActiveConnected:
		r = ReasonNotActive
	}
	if r == ReasonCleared {
		return Verdict{Accepted, r}
	}
	return Verdict{Rejected, r}
}

func TestCheckMatchesReference(t *testing.T) {
	word := rapid.SampledFrom([]string{"", "a", "b"})
	proto := rapid.Map(rapid.Uint8Range(0, 4), func(v uint8) Protocol { return Protocol(v) })
	rapid.Check(t, func(t *rapid.T) {
		f := Facts{
			Exists:          rapid.Bool().Draw(t, "exists"),
			IMEI:            rapid.SampledFrom([]string{goodIMEI, "490154203237517", "", "12345"}).Draw(t, "imei"),
			Protocol:        proto.Draw(t, "protocol"),
			Make:            word.Draw(t, "make"),
			Model:           word.Draw(t, "model"),
			Software:        word.Draw(t, "software"),
			FOTACapable:     rapid.Bool().Draw(t, "fota"),
			Licensed:        rapid.Bool().Draw(t, "licensed"),
			ActiveConnected: rapid.Bool().Draw(t, "active"),
			InOtherCampaign: rapid.Bool().Draw(t, "other"),
		}
		p := Prerequisites{
			Protocol:        proto.Draw(t, "campaign protocol"),
			Make:            word.Draw(t, "campaign make"),
			Model:           word.Draw(t, "campaign model"),
			SoftwareFrom:    word.Draw(t, "softwareFrom"),
			LicenseRequired: rapid.Bool().Draw(t, "licenseRequired"),
		}
		got, want := check(f, p), refCheck(f, p)
		if got != want {
			t.Fatalf("Check = %+v, reference %+v", got, want)
		}
		// Every rejection is reportable in the campaign's family.
		if fam := p.Protocol.Family(); fam != 0 && (got.Reason.Status(fam) != got.Status || got.Reason.Text(fam) == "") {
			t.Fatalf("%+v cannot be reported in %s", got, fam)
		}
	})
}

func TestCheckAllocs(t *testing.T) {
	f, p := eligibleFor(HTTP), campaign(HTTP)
	if n := testing.AllocsPerRun(100, func() { Check(&f, &p) }); n != 0 {
		t.Fatalf("Check allocates %v times", n)
	}
}

// A /v1 campaign names no protocol: it takes LwM2M and OMA-DM devices
// alike, and refuses an HTTP device or one of unknown client type as
// "Unknown client device type.".
func TestCheckMixedPushCampaign(t *testing.T) {
	mixed := campaign(0)
	mixed.Family = FamilyPush
	for _, c := range []struct {
		device Protocol
		want   Verdict
	}{
		{LWM2M, Verdict{Accepted, ReasonCleared}},
		{OMADM, Verdict{Accepted, ReasonCleared}},
		{HTTP, Verdict{Rejected, ReasonUnknownClientType}},
		{0, Verdict{Rejected, ReasonUnknownClientType}},
	} {
		if got := check(eligibleFor(c.device), mixed); got != c.want {
			t.Errorf("device %v in a mixed push campaign: %+v, want %+v", c.device, got, c.want)
		}
	}
	// Without a family either, no device is eligible.
	if got := check(eligibleFor(LWM2M), campaign(0)); got.Reason != ReasonNotEligible {
		t.Errorf("campaign of no family: %+v, want ReasonNotEligible", got)
	}
}

// check is Check of values, for the tests' literals.
func check(f Facts, p Prerequisites) Verdict { return Check(&f, &p) }
