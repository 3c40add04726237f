package server

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fotakit/fota/examples/lwm2m/linkformat"
)

// FuzzRegistration feeds the Register and Update parser arbitrary query
// strings, Content-Formats and payloads: it never panics, refuses with an
// *ArgError carrying a CoAP code, and what it accepts is well formed.
func FuzzRegistration(f *testing.F) {
	f.Add(false, "ep=urn:imei:350000000000014&lt=60&lwm2m=1.1&b=U", true, uint16(40), []byte(`</>;rt="oma.lwm2m",</1/0>,</5/0>`))
	f.Add(false, "ep=urn:imei:350000000000014&lt=85671&lwm2m=1.0&b=U", false, uint16(0), []byte("</5/0>"))
	f.Add(true, "lt=120", false, uint16(0), []byte(""))
	f.Add(true, "b=U&sms=123", true, uint16(40), []byte("</3/0>,</5/0>"))
	f.Add(false, "ep=x&lt=0&x", true, uint16(50), []byte("</5/0>, </3/0>"))
	f.Fuzz(func(t *testing.T, update bool, query string, hasFormat bool, format uint16, body []byte) {
		var queries []string
		if query != "" {
			queries = strings.Split(query, "&")
		}
		r, err := parseRegistration(update, queries, hasFormat, format, body, time.Second, 30*24*time.Hour)
		if err != nil {
			switch err.Code {
			case "4.00", "4.12", "4.15":
			default:
				t.Fatalf("refusal %v with code %q", err, err.Code)
			}
			if !errors.Is(err, ErrRegistration) || err.Field == "" {
				t.Fatalf("refusal %v does not name a field or match ErrRegistration", err)
			}
			return
		}
		if !update && (r.endpoint == "" || !printable(r.endpoint)) {
			t.Fatalf("accepted endpoint %q", r.endpoint)
		}
		if r.lifetime < time.Second || r.lifetime > 30*24*time.Hour {
			t.Fatalf("accepted lifetime %v", r.lifetime)
		}
		if r.hasObjects {
			back, err := linkformat.ParseObjects([]byte(r.objects.String()))
			if err != nil || back.String() != r.objects.String() {
				t.Fatalf("accepted object list %q does not read back: %v", r.objects.String(), err)
			}
		}
	})
}
