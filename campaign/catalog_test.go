package campaign

import (
	"testing"

	"github.com/fotakit/fota/device"
)

func TestCatalog(t *testing.T) {
	c := Catalog()
	seen := map[string]bool{}
	wire := map[device.Family][]string{device.FamilyPush: pushWire, device.FamilyHTTP: httpWire}
	for _, e := range c {
		if e.Description == "" {
			t.Errorf("%s has no description", e.Status)
		}
		if seen[e.Status] {
			t.Errorf("%s listed twice", e.Status)
		}
		seen[e.Status] = true
		s, err := ParseStatus(e.Status)
		if err != nil || s.Family() != e.Family {
			t.Errorf("%v %s: parses as %v (%v), %v", e.Family, e.Status, s, s.Family(), err)
		}
	}
	for f, spellings := range wire {
		for _, w := range spellings {
			if !seen[w] {
				t.Errorf("%v status %s missing from the catalog", f, w)
			}
		}
	}
	if len(c) != len(pushWire)+len(httpWire) {
		t.Errorf("catalog has %d entries, sources %d", len(c), len(pushWire)+len(httpWire))
	}
	c[0].Status = "changed"
	if Catalog()[0].Status == "changed" {
		t.Error("Catalog shares its slice with callers")
	}
}
