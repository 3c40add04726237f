package device

import (
	"errors"
	"testing"

	"pgregory.net/rapid"

	"github.com/fotakit/fota/lifecycle"
)

// A rapid state-machine test of the licence operations against a model:
// a licence and whether the device has ever upgraded firmware.
func TestLicenseOperations(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		licensed := rapid.Bool().Draw(rt, "licensed")
		l := Unlicensed
		if licensed {
			l = Licensed
		}
		rt.Repeat(map[string]func(*rapid.T){
			"assign": func(rt *rapid.T) {
				n, out, err := AssignLicense(l)
				if err != nil || n != Licensed || out != (LicenseOutcome{Status: LicenseAssignSuccess}) {
					rt.Fatalf("AssignLicense(%s) = (%s, %+v, %v)", l, n, out, err)
				}
				l, licensed = n, true
			},
			"remove": func(rt *rapid.T) {
				ever := rapid.Bool().Draw(rt, "everUpgraded")
				n, out, err := RemoveLicense(l, ever)
				switch {
				case !licensed:
					// "remove" is not in the table for Unlicensed.
					if !errors.Is(err, lifecycle.ErrInvalidTransition) || n != l || out != (LicenseOutcome{}) {
						rt.Fatalf("RemoveLicense(%s) = (%s, %+v, %v), want refusal", l, n, out, err)
					}
				case ever:
					// "LicenseRemoveFailed License removal not allowed for
					// devices that have ever upgraded firmware."
					want := LicenseOutcome{Status: LicenseRemoveFailed, Reason: ReasonLicenseEverUpgraded}
					if err != nil || n != Licensed || out != want {
						rt.Fatalf("RemoveLicense(%s, ever) = (%s, %+v, %v)", l, n, out, err)
					}
				default:
					if err != nil || n != Unlicensed || out != (LicenseOutcome{Status: LicenseRemoveSuccess}) {
						rt.Fatalf("RemoveLicense(%s) = (%s, %+v, %v)", l, n, out, err)
					}
					licensed = false
				}
				l = n
			},
			"": func(rt *rapid.T) {
				if (l == Licensed) != licensed {
					rt.Fatalf("state %s, model licensed=%v", l, licensed)
				}
			},
		})
	})
}

func TestLicenseInvalid(t *testing.T) {
	for _, l := range []License{0, 3, 255} {
		n, out, err := AssignLicense(l)
		if n != l || out != (LicenseOutcome{}) || !errors.Is(err, lifecycle.ErrInvalidTransition) {
			t.Errorf("AssignLicense(%d) = (%s, %+v, %v)", l, n, out, err)
		}
		n, out, err = RemoveLicense(l, true)
		if n != l || out != (LicenseOutcome{}) || !errors.Is(err, lifecycle.ErrInvalidTransition) {
			t.Errorf("RemoveLicense(%d) = (%s, %+v, %v)", l, n, out, err)
		}
	}
}

func TestLicenseText(t *testing.T) {
	for _, s := range LicenseStatuses {
		b, err := s.MarshalText()
		var back LicenseStatus
		if err != nil || back.UnmarshalText(b) != nil || back != s {
			t.Errorf("%s does not round-trip", s)
		}
	}
	for _, l := range Licenses {
		b, err := l.MarshalText()
		var back License
		if err != nil || back.UnmarshalText(b) != nil || back != l {
			t.Errorf("%s does not round-trip", l)
		}
	}
	var se *StatusError
	ls := LicenseRemoveFailed
	if err := ls.UnmarshalText([]byte("LicenseRemoveFail")); !errors.Is(err, ErrUnknownStatus) || !errors.As(err, &se) ||
		se.Field != "licenseStatus" || se.Value != "LicenseRemoveFail" || ls != LicenseRemoveFailed {
		t.Errorf("LicenseStatus.UnmarshalText(bad) = %v, left %s", err, ls)
	}
	if _, err := LicenseStatus(0).MarshalText(); !errors.Is(err, ErrUnknownStatus) {
		t.Errorf("LicenseStatus(0).MarshalText = %v", err)
	}
	l := Licensed
	if err := l.UnmarshalText([]byte("licensed")); !errors.Is(err, ErrUnknownState) || l != Licensed {
		t.Errorf("License.UnmarshalText(bad) = %v, left %s", err, l)
	}
	if _, err := License(0).MarshalText(); !errors.Is(err, ErrUnknownState) {
		t.Errorf("License(0).MarshalText = %v", err)
	}
}
