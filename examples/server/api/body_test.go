package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/fotakit/fota/examples/server/api"
)

// bodyRoute is a route that reads a JSON body.
type bodyRoute struct {
	method, path string
	valid        string // a body the route accepts (in a fresh body fixture)
	field        string // a field of the body ...
	wrongType    string // ... and a body where it has the wrong type
}

// bodyRoutes lists every route with a body, for the malformed-JSON test
// and the fuzz target. Their paths refer to bodyFixture's campaigns.
func bodyRoutes(f *fixture) []bodyRoute {
	d := f.ids[3]
	return []bodyRoute{
		{"POST", v2 + "/campaigns/acme", campaignBody(tomorrow, "2026-03-05", f.ids[5:6], ""), "deviceList", `{"deviceList":"` + d + `"}`},
		{"POST", v2 + "/campaigns/software/acme", campaignBody(tomorrow, "2026-03-05", f.ids[6:7], `"installTimeWindowList":[{"startTime":"1","endTime":3}]`), "installTimeWindowList", `{"installTimeWindowList":{}}`},
		{"PUT", v2 + "/campaigns/acme/c1", `{"Type":"append","deviceList":` + list(f.ids[7]) + `}`, "Type", `{"Type":["append"]}`},
		{"PUT", v2 + "/campaigns/acme/c1/dates", `{"startDate":"2026-03-03","endDate":"2026-03-09"}`, "endDate", `{"startDate":"2026-03-03","endDate":20260309}`},
		{"PUT", v2 + "/logging/acme/devices", `{"deviceIds":` + list(f.ids[8]) + `}`, "deviceIds", `{"deviceIds":[1,2]}`},
		{"DELETE", v2 + "/logging/acme/devices", `{"deviceIds":` + list(d) + `}`, "deviceIds", `{"deviceIds":true}`},
		{"POST", v2 + "/licenses/acme/assign", `{"deviceList":` + list(f.ids[9]) + `}`, "deviceList", `{"deviceList":[{}]}`},
		{"POST", v2 + "/licenses/acme/remove", `{"deviceList":` + list(d) + `}`, "deviceList", `{"deviceList":7}`},
		{"POST", v1 + "/upgrades", upgradeBody("acme", tomorrow, "2026-03-05", f.push[1]), "deviceList", `{"accountName":"acme","deviceList":"x"}`},
		{"PUT", v1 + "/upgrades/acme/upgrade/c3", `{"type":"append","deviceList":` + list(f.push[2]) + `}`, "deviceList", `{"type":"append","deviceList":[true]}`},
		{"POST", dev + "/checkin", `{"deviceId":"` + d + `","clientType":1,"result":"ok"}`, "clientType", `{"deviceId":"x","clientType":1.5}`},
		{"POST", dev + "/report", `{"deviceId":"` + f.ids[0] + `","campaignId":"c2","outcome":"downloaded"}`, "outcome", `{"deviceId":"x","campaignId":"c2","outcome":3}`},
		{"POST", dev + "/logs", `{"deviceId":"` + d + `","logTime":"2026-03-01T22:10:00Z","logType":"Event"}`, "logTime", `{"deviceId":"x","logTime":"yesterday","logType":"Event"}`},
		{"POST", v2 + "/licenses/acme/cancel", `{"type":"append","count":1,"deviceList":` + list(d) + `}`, "count", `{"count":"1","deviceList":` + list(d) + `}`},
		{"POST", v1 + "/licenses/acme/cancel", `{"deviceList":` + list(d) + `}`, "type", `{"type":1,"deviceList":` + list(d) + `}`},
		{"POST", v2 + "/campaigns/files/acme", fileCampaignBody(tomorrow, "2026-03-05", f.ids[10:11], ""), "fileName", `{"fileName":5}`},
	}
}

// bodyFixture: c1 queued (ids 1, 2), c2 started with ids[0] downloading,
// c3 a queued /v1 upgrade of push[0], ids[3] logging and collecting,
// ids[3] licensed, the configuration file hello-world.txt uploaded.
// Every ThingSpace call carries acme's token (POST /upgrades has no
// account in its path).
func bodyFixture(t testing.TB) *fixture { return bodyFixtureWith(t, api.Options{}) }

// bodyFixtureWith is bodyFixture with the handler's options.
func bodyFixtureWith(t testing.TB, opts api.Options) *fixture {
	f := newFixture(t, fixtureConfig{opts: opts})
	f.ok("POST", v2+"/campaigns/acme", campaignBody(tomorrow, "2026-03-05", f.ids[1:3], ""), nil)
	f.ok("POST", v2+"/campaigns/acme", campaignBody(today, "2026-03-05", f.ids[0:1], ""), nil)
	f.ok("POST", dev+"/checkin", `{"deviceId":"`+f.ids[0]+`"}`, nil)
	f.ok("PUT", v2+"/logging/acme/devices/"+f.ids[3], "", nil)
	f.ok("POST", dev+"/checkin", `{"deviceId":"`+f.ids[3]+`"}`, nil)
	f.ok("POST", v2+"/licenses/acme/assign", `{"deviceList":`+list(f.ids[3])+`}`, nil)
	if code, b := f.upload(helloParts("greeting=hello\n", "7")...); code != 200 {
		t.Fatalf("upload: %d %s", code, b)
	}
	f.tok = tokens["acme"]
	f.ok("POST", v1+"/upgrades", upgradeBody("acme", tomorrow, "2026-03-05", f.push[0]), nil)
	return f
}

// Every body type: its valid body passes; malformed JSON and a wrong
// field type are 400 BadRequest, naming the field when there is one.
func TestMalformedBodies(t *testing.T) {
	malformed := []string{`{`, `{"deviceList":[}`, `[]`, `"text"`, `42`, `{"a":1}}`, `{"a":1} {"b":2}`, `nul`, "\xff", `{"deviceList":["a",]}`}
	for _, r := range bodyRoutes(bodyFixture(t)) {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			f := bodyFixture(t)
			for _, b := range malformed {
				f.fails(r.method, r.path, b, http.StatusBadRequest, api.CodeBadRequest)
			}
			if msg := f.fails(r.method, r.path, r.wrongType, http.StatusBadRequest, api.CodeBadRequest); !strings.Contains(msg, r.field) {
				t.Errorf("wrong type of %s: message %q does not name it", r.field, msg)
			}
			f.ok(r.method, r.path, r.valid, nil)
		})
	}
}

// No body makes the handler panic or answer 500, and every answer is
// JSON: a 200 value or an Error with a code and a message.
func FuzzBodies(f *testing.F) {
	routes := bodyRoutes(bodyFixture(f))
	for i, r := range routes {
		f.Add(uint8(i), r.valid)
		f.Add(uint8(i), r.wrongType)
		f.Add(uint8(i), `{}`)
		f.Add(uint8(i), `null`)
	}
	f.Add(uint8(0), `{"startDate":"2026-03-01","endDate":"9999-12-31","downloadTimeWindowList":[{"startTime":0,"endTime":24}],"timeZone":"Pacific/Kiritimati","softwareName":"a","softwareFrom":"b","softwareTo":"c","deviceList":["350000000000006"]}`)
	f.Add(uint8(3), `{"startDate":"2026-03-01","endDate":"2026-03-09","campaignTimeWindowList":[{"startTime":"23","endTime":"24"}]}`)
	f.Add(uint8(9), `{"deviceId":"350000000000006","campaignId":"c2","outcome":"installed"}`)
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		fx := bodyFixture(t)
		r := bodyRoutes(fx)[int(route)%len(routes)]
		code, b := fx.do(r.method, r.path, body)
		if !json.Valid(b) {
			t.Fatalf("%s %s %q: %d, body not JSON: %q", r.method, r.path, body, code, b)
		}
		switch code {
		case http.StatusOK:
		case http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge,
			http.StatusUnauthorized: // a device body naming a device without a secret
			var e api.Error
			if err := json.Unmarshal(b, &e); err != nil || e.ErrorCode == "" || e.ErrorMessage == "" {
				t.Fatalf("%s %s %q: %d %s", r.method, r.path, body, code, b)
			}
		default:
			t.Fatalf("%s %s %q: %d %s", r.method, r.path, body, code, b)
		}
	})
}

// A body with a field its type does not have is refused, naming the
// field; with Options.Lenient the same body is accepted.
func TestUnknownFields(t *testing.T) {
	for _, r := range bodyRoutes(bodyFixture(t)) {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			body := `{"downloadTimeWindowsList":[{"startTime":1,"endTime":2}],` + r.valid[1:]
			if msg := bodyFixture(t).fails(r.method, r.path, body, http.StatusBadRequest, api.CodeBadRequest); !strings.Contains(msg, "downloadTimeWindowsList") || !strings.Contains(msg, "unknown field") {
				t.Errorf("message %q does not name the unknown field", msg)
			}
			bodyFixtureWith(t, api.Options{Lenient: true}).ok(r.method, r.path, body, nil)
		})
	}
}

// Strict decoding refuses no field of the SDK's request models: every
// operation served with a JSON body gets a body holding every property
// of its model in the OpenAPI document (as Verizon's SDK may send them),
// and no answer names an unknown field.
func TestSDKRequestModelsDecodeStrictly(t *testing.T) {
	c, err := contract()
	if err != nil {
		t.Fatal(err)
	}
	f := bodyFixture(t)
	var tried int
	for _, op := range operations(t, f, "acme") {
		if !op.served {
			continue
		}
		route, _, err := c.router.FindRoute(newRequest(op.method, op.path, ""))
		if err != nil {
			t.Fatal(err)
		}
		rb := route.Operation.RequestBody
		if rb == nil || rb.Value.Content.Get("application/json") == nil {
			continue
		}
		body, err := json.Marshal(sdkExample(rb.Value.Content.Get("application/json").Schema.Value))
		if err != nil {
			t.Fatal(err)
		}
		tried++
		if code, b := f.do(op.method, op.path, string(body)); strings.Contains(string(b), "unknown field") {
			t.Errorf("%s %s %s: %d %s", op.method, op.path, body, code, b)
		}
	}
	if tried < 15 {
		t.Fatalf("only %d operations with a JSON body tried", tried)
	}
}

// sdkExample is a value with every property of the schema: the fixture's
// account for accountName, the first member of an enum, and placeholders.
func sdkExample(s *openapi3.Schema) any {
	switch {
	case s.Type.Is("object"):
		m := map[string]any{}
		for name, p := range s.Properties {
			m[name] = sdkExample(p.Value)
			if name == "accountName" {
				m[name] = "acme"
			}
		}
		return m
	case s.Type.Is("array"):
		return []any{sdkExample(s.Items.Value)}
	case len(s.Enum) > 0:
		return s.Enum[0]
	case s.Type.Is("string"):
		return "2026-03-05"
	case s.Type.Is("integer"), s.Type.Is("number"):
		return 3
	case s.Type.Is("boolean"):
		return true
	}
	return nil
}
