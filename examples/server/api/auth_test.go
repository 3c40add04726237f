package api_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/fotakit/fota/examples/server/api"
)

// operation is one operation of the OpenAPI document, with a concrete
// path for the fixture.
type operation struct {
	method, path string
	served       bool
}

// operations lists every operation of the served document, its path
// parameters filled for account acc: campaign c1, the fixture's first
// device, service Fota, index 0, status Queued, file id 0.
func operations(t testing.TB, f *fixture, acc string) []operation {
	c, err := contract()
	if err != nil {
		t.Fatal(err)
	}
	fill := regexp.MustCompile(`{(\w+)}`)
	values := map[string]string{"account": acc, "acc": acc, "accountName": acc, "campaignId": "c1", "upgradeId": "c1",
		"deviceId": f.ids[0], "service": "Fota", "startIndex": "0", "upgradeStatus": "Queued", "fileId": "0"}
	var out []operation
	for _, path := range c.doc.Paths.InMatchingOrder() {
		for method, op := range c.doc.Paths.Value(path).Operations() {
			concrete := fill.ReplaceAllStringFunc(path, func(m string) string { return values[m[1:len(m)-1]] })
			out = append(out, operation{method: method, path: concrete, served: strings.HasPrefix(fmt.Sprint(op.Extensions["x-fota-route"]), "served")})
		}
	}
	slices.SortFunc(out, func(a, b operation) int { return strings.Compare(a.method+a.path, b.method+b.path) })
	return out
}

// The authentication matrix: every ThingSpace operation without a
// token, with a wrong one, with the other account's and with its own; a
// refused call changes nothing. The document and the routes agree: an
// operation marked served has a route, the others have none.
func TestAuthenticationMatrix(t *testing.T) {
	f := newFixture(t, fixtureConfig{opts: quietOptions()})
	f.ok("POST", v2+"/campaigns/acme", campaignBody(tomorrow, "2026-03-05", f.ids[:2], ""), nil)
	f.ok("PUT", v2+"/logging/acme/devices/"+f.ids[0], "", nil)
	f.ok("POST", v2+"/licenses/acme/assign", `{"deviceList":`+list(f.ids[0])+`}`, nil)
	before := snapshot(f)

	ops := operations(t, f, "acme")
	var thingSpace, devices int
	for _, op := range ops {
		if strings.HasPrefix(op.path, dev) {
			devices++ // TestDeviceAuthentication
			continue
		}
		thingSpace++
		if !op.served {
			continue // no route: nothing to authenticate for (checked below)
		}
		for _, c := range []struct {
			label, auth string
			want        int
		}{
			{"no token", "", http.StatusUnauthorized},
			{"not a bearer token", "Basic " + tokens["acme"], http.StatusUnauthorized},
			{"a wrong token", "Bearer wrong-token-0123456789", http.StatusUnauthorized},
			{"the other account's token", "Bearer " + tokens["other"], http.StatusForbidden},
		} {
			req := newRequest(op.method, op.path, `{"accountName":"acme","deviceList":["`+f.ids[1]+`"]}`) // accountName: POST /upgrades names its account in the body
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			req.Header.Set("VZ-M2M-Token", tokens["acme"]) // the session token alone is no credential
			if code, body := f.send(req); code != c.want {
				t.Errorf("%s %s with %s: %d %s, want %d", op.method, op.path, c.label, code, body, c.want)
			}
		}
	}
	if thingSpace != 50 || devices != 4 {
		t.Fatalf("the document has %d ThingSpace and %d device operations, want 50 and 4", thingSpace, devices)
	}
	if after := snapshot(f); !maps.Equal(before, after) {
		t.Errorf("refused calls changed the campaigns:\nbefore %v\nafter  %v", before, after)
	}

	// The right token, without VZ-M2M-Token: past authentication, and
	// answered by a route exactly when the document says it is served.
	for _, op := range ops {
		if strings.HasPrefix(op.path, dev) {
			continue
		}
		req := newRequest(op.method, op.path, "")
		req.Header.Set("Authorization", "Bearer "+tokens["acme"])
		code, body := f.send(req)
		var e api.Error
		_ = json.Unmarshal(body, &e)
		noRoute := strings.HasPrefix(e.ErrorMessage, "no route") || e.ErrorCode == api.CodeMethodNotAllowed
		switch {
		case code == http.StatusUnauthorized || code == http.StatusForbidden:
			t.Errorf("%s %s with its account's token: %d %s", op.method, op.path, code, body)
		case op.served && noRoute:
			t.Errorf("%s %s: marked served in openapi.json, but no route: %s", op.method, op.path, body)
		case !op.served && (!noRoute || code != http.StatusBadRequest):
			t.Errorf("%s %s: not marked served in openapi.json, but answered %d %s", op.method, op.path, code, body)
		}
	}
}

// Device calls: without a signature, with a wrong one (another device's
// secret, or the right secret over another body), and with the right one.
func TestDeviceAuthentication(t *testing.T) {
	f := newFixture(t, fixtureConfig{opts: quietOptions()})
	f.ok("POST", v2+"/campaigns/acme", campaignBody(today, "2026-03-05", f.ids[:1], ""), nil)
	f.ok("PUT", v2+"/logging/acme/devices/"+f.ids[0], "", nil)
	d := f.ids[0]
	bodies := map[string]string{
		"/checkin": `{"deviceId":"` + d + `","clientType":6}`,
		"/report":  `{"deviceId":"` + d + `","campaignId":"c1","outcome":"downloaded"}`,
		"/logs":    `{"deviceId":"` + d + `","logTime":"2026-03-01T22:10:00Z","logType":"Event","eventLog":"x","binaryLogFileBase64":"","binaryLogFilename":""}`,
	}
	// The right one last, in an order the device's state allows.
	for _, route := range []string{"/checkin", "/report", "/logs"} {
		body := bodies[route]
		for _, c := range []struct{ label, sig string }{
			{"no signature", ""},
			{"not hex", "zz"},
			{"another device's secret", api.Sign(secretOf(f.ids[1]), []byte(body))},
			{"its secret over another body", api.Sign(secretOf(d), []byte(body+" "))},
			{"its secret as the signature", string(secretOf(d))},
		} {
			req := newRequest("POST", dev+route, body)
			if c.sig != "" {
				req.Header.Set(api.DeviceSignatureHeader, c.sig)
			}
			if code, b := f.send(req); code != http.StatusUnauthorized {
				t.Errorf("%s with %s: %d %s", route, c.label, code, b)
			}
		}
		// A device without a secret cannot call at all, even signed.
		stranger := strings.ReplaceAll(body, d, "490154203237518")
		req := newRequest("POST", dev+route, stranger)
		req.Header.Set(api.DeviceSignatureHeader, api.Sign([]byte("guessed-secret-0123"), []byte(stranger)))
		if code, b := f.send(req); code != http.StatusUnauthorized {
			t.Errorf("%s from a device without a secret: %d %s", route, code, b)
		}
		f.ok("POST", dev+route, body, nil)
	}
}

// -insecure: no credentials needed anywhere.
func TestInsecure(t *testing.T) {
	f := newFixture(t, fixtureConfig{opts: api.Options{Insecure: true, Logger: quietLogger()}})
	req := newRequest("POST", v2+"/campaigns/acme", campaignBody(today, "2026-03-05", f.ids[:1], ""))
	if code, b := f.send(req); code != 200 {
		t.Fatalf("schedule without a token: %d %s", code, b)
	}
	if code, b := f.send(newRequest("POST", dev+"/checkin", `{"deviceId":"`+f.ids[0]+`"}`)); code != 200 {
		t.Fatalf("check-in without a signature: %d %s", code, b)
	}
}

// Token and secret files: comments and blank lines skipped; bad lines
// named; short, spaced and conflicting tokens refused.
func TestTokenFiles(t *testing.T) {
	tok, err := api.ParseTokens(strings.NewReader("# tokens\n\nacme-token-0123456789 acme\n\tother-token-0123456789\tother\nsecond-acme-token-01 acme\n"))
	if err != nil {
		t.Fatal(err)
	}
	for token, want := range map[string]string{"acme-token-0123456789": "acme", "other-token-0123456789": "other", "second-acme-token-01": "acme"} {
		if acc, ok := tok.Account(token); !ok || acc != want {
			t.Errorf("Account(%q) = %q, %v", token, acc, ok)
		}
	}
	if _, ok := tok.Account("acme"); ok {
		t.Error("an account name is a token")
	}
	for text, line := range map[string]int{
		"acme-token-0123456789 acme\nshort acme\n":                       2,
		"acme-token-0123456789\n":                                        1,
		"acme-token-0123456789 acme extra\n":                             1,
		"# c\nacme-token-0123456789 acme\nacme-token-0123456789 other\n": 3,
		"tok\x01en-0123456789abc acme\n":                                 1,
	} {
		_, err := api.ParseTokens(strings.NewReader(text))
		var te *api.ConfigError
		if !errors.As(err, &te) || te.Line != line {
			t.Errorf("ParseTokens(%q) = %v, want an error on line %d", text, err, line)
		}
		if err != nil && strings.Contains(err.Error(), "0123456789") {
			t.Errorf("the error %q shows a token", err)
		}
	}
	sec, err := api.ParseSecrets(strings.NewReader("# devices\n350000000000006 device-secret-000001\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s, ok, _ := sec.Secret(t.Context(), "350000000000006"); !ok || string(s) != "device-secret-000001" {
		t.Fatalf("secret %q %v", s, ok)
	}
	if _, err := api.ParseSecrets(strings.NewReader("350000000000006 short\n")); err == nil {
		t.Fatal("a short secret was accepted")
	}
}
