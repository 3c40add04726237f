package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/examples/server/api"
	"github.com/fotakit/fota/schedule"
)

// demoSet is what -demo and -push made: the inventory, the HTTP devices
// and the push devices, the account's token and the HTTP devices'
// secrets.
type demoSet struct {
	inv     *fota.MemoryInventory
	ids     []string     // HTTP devices
	push    []pushDevice // push devices, simulated in-process
	token   string
	secrets map[string]string
}

// pushDevice is a demo push device.
type pushDevice struct {
	id       string
	protocol device.Protocol
}

// pushProtocols are -push's values: the protocol of the i-th push device.
var pushProtocols = map[string]func(i int) device.Protocol{
	"lwm2m": func(int) device.Protocol { return device.LWM2M },
	"omadm": func(int) device.Protocol { return device.OMADM },
	"mixed": func(i int) device.Protocol { return []device.Protocol{device.LWM2M, device.OMADM}[i%2] },
}

// The demo's packages: the HTTP devices' lamp-fw and the push devices'
// meter-fw, each from 1.0 to 2.0 for its devices' make and model. Their
// image (1 MiB of zero bytes) is not served: the URL is an example, the
// size and hash are the image's.
func demoPackage(name, model string, protocols ...device.Protocol) api.Package {
	image := make([]byte, 1<<20)
	sum := sha256.Sum256(image)
	return api.Package{
		Package: fota.Package{Name: name, Make: "Acme", Model: model, From: "1.0", To: "2.0",
			URL: "https://downloads.example.com/acme/" + name + "-2.0.bin", Size: int64(len(image)), SHA256: hex.EncodeToString(sum[:])},
		Listing: api.Listing{Protocols: protocols, ReleaseNote: "the demo's package"},
	}
}

// makeDemo loads -demo's HTTP devices (Acme Lamps, with a secret each) and
// -push's push devices (Acme Meters) of -account into a new inventory,
// their packages into the catalog, a new token for the account and, when
// the account has none, a subscription.
func makeDemo(cfg config, opts *api.Options, secrets *api.MemorySecrets, now time.Time) (demoSet, error) {
	demo := demoSet{inv: fota.NewMemoryInventory(), secrets: map[string]string{}}
	if cfg.demo == 0 {
		return demo, nil
	}
	if err := opts.Packages.Put(cfg.account, demoPackage("lamp-fw", "Lamp", device.HTTP)); err != nil {
		return demo, err
	}
	demo.token = "demo-" + rand.Text()
	if err := opts.Tokens.Add(demo.token, cfg.account); err != nil {
		return demo, err
	}
	if _, ok := opts.Subscriptions[cfg.account]; !ok {
		opts.Subscriptions[cfg.account] = api.Subscription{PurchaseType: "TS-HFOTA-EVNT,TS-HFOTA-MRC", LicenseCount: cfg.demo, UpdateTime: now}
	}
	var list strings.Builder
	for i := range cfg.demo {
		id, err := device.IMEIOf(fmt.Sprintf("35%012d", i))
		if err != nil {
			return demo, err
		}
		demo.ids = append(demo.ids, id)
		demo.inv.Put(fota.DeviceInfo{DeviceID: id, Account: cfg.account, Protocol: device.HTTP, Make: "Acme", Model: "Lamp",
			Software: "1.0", FOTACapable: true, ActiveConnected: true})
		secret := rand.Text()
		demo.secrets[id] = secret
		secrets.Put(id, []byte(secret))
		fmt.Fprintf(&list, "%s %s\n", id, secret)
	}
	if cfg.demoSecrets != "" {
		if err := os.WriteFile(cfg.demoSecrets, []byte(list.String()), 0o600); err != nil {
			return demo, err
		}
	}
	protocol := pushProtocols[cfg.push]
	if protocol == nil {
		return demo, nil
	}
	var kinds []device.Protocol
	for i := range cfg.demo {
		id, err := device.IMEIOf(fmt.Sprintf("86%012d", i))
		if err != nil {
			return demo, err
		}
		p := protocol(i)
		if i < 2 {
			kinds = append(kinds, p)
		}
		demo.push = append(demo.push, pushDevice{id, p})
		demo.inv.Put(fota.DeviceInfo{DeviceID: id, Account: cfg.account, Protocol: p, Make: "Acme", Model: "Meter",
			Software: "1.0", FOTACapable: true, ActiveConnected: true})
	}
	err := opts.Packages.Put(cfg.account, demoPackage("meter-fw", "Meter", kinds...))
	return demo, err
}

// printTryIt prints the demo's credentials and curl commands that walk a
// campaign through the API, the device calls signed with openssl, and,
// with push devices, a /v1 upgrade that the in-process transport runs.
func printTryIt(w io.Writer, addr, account string, demo demoSet, now time.Time, speed float64) {
	base := "http://" + addr
	if len(demo.ids) == 0 {
		fmt.Fprintf(w, "\nNo devices: start with -demo 20 to try the API, e.g.\n  curl -s -H 'Authorization: Bearer TOKEN' %s/api/fota/v2/reports/%s/campaigns\n\n", base, account)
		return
	}
	devs := demo.ids[:min(len(demo.ids), 20)] // the pilot gate admits 20 until a pilot succeeds
	list := `"` + strings.Join(devs, `","`) + `"`
	today := schedule.DateOf(now)
	fmt.Fprintf(w, `
Demo account %[2]s: API token (send "Authorization: Bearer TOKEN"):
  TOKEN=%[8]s
Each demo device signs its calls with X-Device-Signature, the hex HMAC-SHA256 of the body keyed by its secret
(-demo-secrets FILE writes every device's secret). Device %[7]s's:
  SECRET=%[9]s

Try it (an on-demand campaign of %[6]d devices, then one device's update):

  dev() { curl -s -X POST %[1]s/api/fota/device/$1 -d "$2" -H "X-Device-Signature: $(printf %%s "$2" | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1)"; echo; }
  ID=$(curl -s -X POST %[1]s/api/fota/v2/campaigns/software/%[2]s -H "Authorization: Bearer $TOKEN" \
    -d '{"campaignName":"demo","softwareName":"lamp-fw","softwareFrom":"1.0","softwareTo":"2.0","distributionType":"HTTP","startDate":"%[3]s","endDate":"%[4]s","deviceList":[%[5]s]}' \
    | sed 's/.*"id":"\([^"]*\)".*/\1/'); echo "$ID"
  curl -s %[1]s/api/fota/v2/software/%[2]s -H "Authorization: Bearer $TOKEN"
  curl -s %[1]s/api/fota/v2/campaigns/%[2]s/$ID -H "Authorization: Bearer $TOKEN"
  dev checkin '{"deviceId":"%[7]s","clientType":6}'
  dev report '{"deviceId":"%[7]s","campaignId":"'$ID'","outcome":"downloaded"}'
  dev checkin '{"deviceId":"%[7]s"}'
  dev report '{"deviceId":"%[7]s","campaignId":"'$ID'","outcome":"installed"}'
  curl -s '%[1]s/api/fota/v2/reports/%[2]s/campaigns/'$ID'/devices?lastSeenDeviceId=0' -H "Authorization: Bearer $TOKEN"
  curl -s '%[1]s/api/fota/v2/reports/%[2]s/campaigns?campaignStatus=CampaignScheduled' -H "Authorization: Bearer $TOKEN"
  curl -s -X PUT %[1]s/api/fota/v2/logging/%[2]s/devices -d '{"deviceIds":["%[7]s"]}' -H "Authorization: Bearer $TOKEN"
  curl -s %[1]s/api/fota/v2/logging/%[2]s/devices/%[7]s/checkInHistory -H "Authorization: Bearer $TOKEN"
  curl -s -X DELETE %[1]s/api/fota/v2/campaigns/%[2]s/$ID -H "Authorization: Bearer $TOKEN"
  curl -s %[1]s/openapi.json
`, base, account, today, today.AddDays(7), list, len(devs), devs[0], demo.token, demo.secrets[devs[0]])
	if len(demo.push) > 0 {
		pace := "Run the server with -speed 3600 to watch that in seconds (an hour passes each second)."
		if speed != 1 {
			pace = fmt.Sprintf("This server's clock runs %g times as fast as the wall clock.", speed)
		}
		var meters []string
		for _, d := range demo.push[:min(len(demo.push), 50)] {
			meters = append(meters, d.id)
		}
		fmt.Fprintf(w, `
Push devices: %[9]d LwM2M and OMA-DM meters simulated in this process (they always answer and succeed).
A /v1 upgrade of %[4]d of them: on demand, it starts 2 hours after it is scheduled (ThingSpace's pre-validation), its
devices go from "Device Accepted" to "Upgrade Pending" to "Upgrade Success", and it is Finished at the end of
its end date (UTC). %[7]s

  UPG=$(curl -s -X POST %[1]s/api/fota/v1/upgrades -H "Authorization: Bearer $TOKEN" \
    -d '{"accountName":"%[2]s","firmwareName":"meter-fw","firmwareTo":"2.0","startDate":"%[3]s","endDate":"%[6]s","deviceList":[%[5]s]}' \
    | sed 's/.*"id":"\([^"]*\)".*/\1/'); echo "$UPG"
  curl -s %[1]s/api/fota/v1/upgrades/%[2]s/upgrade/$UPG -H "Authorization: Bearer $TOKEN"
  curl -s %[1]s/api/fota/v1/reports/%[2]s/status/Finished/index/0 -H "Authorization: Bearer $TOKEN"
  curl -s %[1]s/api/fota/v1/reports/%[2]s/devices/%[8]s -H "Authorization: Bearer $TOKEN"
`, base, account, today, len(meters), `"`+strings.Join(meters, `","`)+`"`, today.AddDays(1), pace, meters[0], len(demo.push))
	}
	fmt.Fprintln(w)
}
