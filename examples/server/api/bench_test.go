package api_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/examples/server/api"
)

// BenchmarkCheckIn measures a device check-in through the handler (JSON
// in and out, routing, the body's string checks, the signature check, no
// network) against its baseline, the same check-in as a direct Manager
// call, in the same run.
func BenchmarkCheckIn(b *testing.B) {
	f := newFixture(b, fixtureConfig{opts: quietOptions()})
	f.ok("POST", v2+"/campaigns/acme", campaignBody(today, "2026-03-05", f.ids[:1], ""), nil)
	f.ok("POST", dev+"/checkin", `{"deviceId":"`+f.ids[0]+`"}`, nil) // now downloading: a steady answer
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
	b.Run("handler", func(b *testing.B) {
		for b.Loop() {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("POST", dev+"/checkin", strings.NewReader(body))
			req.Header.Set(api.DeviceSignatureHeader, sig)
			f.h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatal(rec.Code, rec.Body)
			}
		}
	})
}
