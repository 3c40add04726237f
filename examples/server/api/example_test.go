package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/examples/server/api"
)

// Schedule a campaign over HTTP, as a ThingSpace client would.
func ExampleNew() {
	clk := &fakeClock{now: time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)}
	inv := fota.NewMemoryInventory(fota.DeviceInfo{
		DeviceID: "356938035643809", Account: "acme", Protocol: device.HTTP, Make: "Acme", Model: "Lamp",
		Software: "1.0", FOTACapable: true, ActiveConnected: true,
	})
	m, err := fota.New(fota.Config{Inventory: inv, Clock: clk, NewID: func(seq uint64) string { return fmt.Sprintf("c%d", seq) }})
	if err != nil {
		fmt.Println(err)
		return
	}
	tokens := &api.Tokens{}
	if err := tokens.Add("acme-token-0123456789", "acme"); err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(api.New(m, api.Options{Inventory: inv, Tokens: tokens}))
	defer srv.Close()

	req, err := http.NewRequest("POST", srv.URL+"/api/fota/v2/campaigns/acme", strings.NewReader(`{
		"campaignName": "lamp 2.0", "softwareName": "lamp-fw", "softwareFrom": "1.0", "softwareTo": "2.0",
		"distributionType": "HTTP", "startDate": "2026-03-02", "endDate": "2026-03-08",
		"downloadTimeWindowList": [{"startTime": 2, "endTime": 4}],
		"deviceList": ["356938035643809"]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	req.Header.Set("Authorization", "Bearer acme-token-0123456789")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out bytes.Buffer
	_ = json.Indent(&out, body, "", "  ")
	fmt.Println(resp.Status)
	fmt.Print(out.String())
	// Output:
	// 200 OK
	// {
	//   "id": "c1",
	//   "accountName": "acme",
	//   "campaignName": "lamp 2.0",
	//   "softwareName": "lamp-fw",
	//   "distributionType": "HTTP",
	//   "make": "",
	//   "model": "",
	//   "softwareFrom": "1.0",
	//   "softwareTo": "2.0",
	//   "startDate": "2026-03-02",
	//   "endDate": "2026-03-08",
	//   "downloadTimeWindowList": [
	//     {
	//       "startTime": 2,
	//       "endTime": 4
	//     }
	//   ],
	//   "status": "CampaignRequestQueued"
	// }
}

// A device signs each call with the HMAC of its body keyed by its
// secret; the server checks it against Options.Secrets.
func ExampleSign() {
	body := []byte(`{"deviceId":"356938035643809","clientType":6}`)
	req := httptest.NewRequest("POST", "/api/fota/device/checkin", bytes.NewReader(body))
	req.Header.Set(api.DeviceSignatureHeader, api.Sign([]byte("the-device-secret-0001"), body))
	fmt.Println(req.Header.Get("X-Device-Signature") != "", len(req.Header.Get("X-Device-Signature")))
	// Output:
	// true 64
}

// A token file maps API tokens to accounts; comments and blank lines are
// skipped.
func ExampleParseTokens() {
	tokens, err := api.ParseTokens(strings.NewReader("# who may call\nacme-token-0123456789 acme\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tokens.Account("acme-token-0123456789"))
	_, err = api.ParseTokens(strings.NewReader("short acme\n"))
	fmt.Println(err)
	// Output:
	// acme true
	// line 1: a token needs at least 16 bytes
}

// A catalog file gives each account its packages; the Manager reads the
// catalog (fota.Config.Packages), so a schedule naming a package takes
// its make, model and versions, and devices are told where to fetch it.
func ExampleParsePackages() {
	catalog, err := api.ParsePackages(strings.NewReader(`{"acme": [
		{"softwareName": "lamp-fw", "make": "Acme", "model": "Lamp", "softwareFrom": "1.0", "softwareTo": "2.0",
		 "distributionTypes": ["HTTP"], "downloadUrl": "https://downloads.example.com/lamp-fw-2.0.bin", "size": 1048576}]}`),
		time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		fmt.Println(err)
		return
	}
	pkgs, _ := catalog.List(context.Background(), "acme") // what GET /software/acme lists
	for _, p := range pkgs {
		fmt.Println(p.Name, p.Make, p.Model, p.From, "->", p.To, p.Protocols, p.LaunchDate, p.URL)
	}

	// A request as the SDK sends it, without make or model.
	inv := fota.NewMemoryInventory(fota.DeviceInfo{DeviceID: "356938035643809", Account: "acme", Protocol: device.HTTP,
		Make: "Acme", Model: "Lamp", Software: "1.0", FOTACapable: true, ActiveConnected: true})
	clk := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	m, err := fota.New(fota.Config{Inventory: inv, Packages: catalog, Clock: clk})
	if err != nil {
		fmt.Println(err)
		return
	}
	var req fota.CampaignRequest
	_ = json.Unmarshal([]byte(`{"softwareName": "lamp-fw", "softwareFrom": "1.0", "softwareTo": "2.0",
		"startDate": "2026-03-01", "endDate": "2026-03-07", "deviceList": ["356938035643809"]}`), &req)
	info, err := m.Schedule(context.Background(), "acme", req)
	if err != nil {
		fmt.Println(err)
		return
	}
	in, _ := m.CheckIn(context.Background(), fota.CheckInRequest{DeviceID: "356938035643809"})
	fmt.Println(info.Make, info.Model, in.Action, in.PackageURL, in.PackageSize)

	_, err = api.ParsePackages(strings.NewReader(`{"acme": [{"softwareName": "lamp-fw", "distributionTypes": ["HTTP"]}]}`), time.Now())
	fmt.Println(err)
	// Output:
	// lamp-fw Acme Lamp 1.0 -> 2.0 [HTTP] 2026-03-01 https://downloads.example.com/lamp-fw-2.0.bin
	// Acme Lamp download https://downloads.example.com/lamp-fw-2.0.bin 1048576
	// acme[0].softwareTo: "": required
}
