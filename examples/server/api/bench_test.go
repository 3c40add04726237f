package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/examples/server/api"
)

// BenchmarkCheckIn measures a device check-in through the handler (JSON
// in and out, routing, the body's string checks, strict decoding, the
// signature check, no network) against its baseline, the same check-in
// as a direct Manager call, in the same run; handler-lenient is the
// handler without the strict field check.
func BenchmarkCheckIn(b *testing.B) {
	f := newFixture(b, fixtureConfig{opts: quietOptions()})
	f.ok("POST", v2+"/campaigns/acme", campaignBody(today, "2026-03-05", f.ids[:1], ""), nil)
	f.ok("POST", dev+"/checkin", `{"deviceId":"`+f.ids[0]+`"}`, nil) // now downloading: a steady answer
	lenientOpts := f.opts()
	lenientOpts.Lenient = true
	lenient := api.New(f.m, lenientOpts)
	body := `{"deviceId":"` + f.ids[0] + `","clientType":6}`
	b.Run("baseline=Manager.CheckIn", func(b *testing.B) {
		ctx := context.Background()
		req := fota.CheckInRequest{DeviceID: f.ids[0], ClientType: 6}
		for b.Loop() {
			if _, err := f.m.CheckIn(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	sig := api.Sign(secretOf(f.ids[0]), []byte(body))
	for _, h := range []struct {
		name string
		h    http.Handler
	}{{"handler", f.h}, {"handler-lenient", lenient}} {
		b.Run(h.name, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest("POST", dev+"/checkin", strings.NewReader(body))
				req.Header.Set(api.DeviceSignatureHeader, sig)
				h.h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatal(rec.Code, rec.Body)
				}
			}
		})
	}
}
