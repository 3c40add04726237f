package api_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fotakit/fota"
)

// BenchmarkCheckIn measures a device check-in through the handler (JSON
// in and out, routing, no network) against its baseline, the same
// check-in as a direct Manager call, in the same run.
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
	b.Run("handler", func(b *testing.B) {
		for b.Loop() {
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, httptest.NewRequest("POST", dev+"/checkin", strings.NewReader(body)))
			if rec.Code != 200 {
				b.Fatal(rec.Code, rec.Body)
			}
		}
	})
}
