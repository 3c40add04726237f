package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/examples/lwm2m/client"
	"github.com/fotakit/fota/examples/lwm2m/push"
	"github.com/fotakit/fota/examples/lwm2m/replica"
	"github.com/fotakit/fota/examples/lwm2m/server"
	"github.com/fotakit/fota/examples/lwm2m/simtime"
	"github.com/fotakit/fota/schedule"
)

const libVersion = "1.4.0"

// tools finds node and npm, failing under CI and skipping elsewhere when
// one is missing.
func tools(t *testing.T) (node, npm string) {
	t.Helper()
	var missing []string
	node, err := exec.LookPath("node")
	if err != nil {
		missing = append(missing, "node")
	}
	npm, err = exec.LookPath("npm")
	if err != nil {
		missing = append(missing, "npm")
	}
	if len(missing) > 0 {
		msg := "the lwm2m-node-lib interop test needs " + strings.Join(missing, " and ") + " on PATH (node 20 and npm)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return node, npm
}

var install struct {
	once sync.Once
	err  error
	out  string
}

// installLib runs npm ci in testdata unless lwm2m-node-lib 1.4.0 is
// already there.
func installLib(t *testing.T, npm string) {
	t.Helper()
	install.once.Do(func() {
		var pkg struct{ Version string }
		if b, err := os.ReadFile(filepath.Join("testdata", "node_modules", "lwm2m-node-lib", "package.json")); err == nil {
			if json.Unmarshal(b, &pkg) == nil && pkg.Version == libVersion {
				return
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = "testdata"
		out, err := cmd.CombinedOutput()
		install.err, install.out = err, string(out)
	})
	if install.err != nil {
		t.Fatalf("npm ci for lwm2m-node-lib %s: %v\n%s", libVersion, install.err, install.out)
	}
}

// run is one interop run's record.
type run struct {
	mu           sync.Mutex
	observations []lwm2m.Observation
	events       []server.EventKind
	statuses     []string // the device's /v1 statuses, as the Manager's observer saw them
	lines        []string // the node client's JSON lines
}

func (r *run) transcript() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.observations))
	for i, o := range r.observations {
		out[i] = o.String()
	}
	return out
}

func (r *run) statusList() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.statuses...)
}

// outcome is how the Manager left the device and its campaign.
type outcome struct {
	Device   fota.DeviceStatus
	Campaign fota.CampaignInfo
	History  []fota.UpgradeRecord
}

const account = "interop"

// interop runs one campaign for one lwm2m-node-lib client through a
// replica of the host (Manager, Run loop, LwM2M server, push Runner): the
// campaign is scheduled for tomorrow, the Manager's clock jumps to its
// start, the client registers and is updated, and once the device has its
// outcome the clock jumps to the campaign's end.
func interop(t *testing.T, mode string) (*run, outcome, server.Firmware, server.Stats) {
	node, npm := tools(t)
	installLib(t, npm)

	imei := client.IMEI(4242)
	rec := &run{}
	inv := fota.NewMemoryInventory(fota.DeviceInfo{DeviceID: imei, Account: account, Protocol: device.LWM2M, Make: "Telefonica",
		Model: "lwm2m-node-lib", Software: "1.0", FOTACapable: true, ActiveConnected: true})
	pkgs := fota.NewMemoryPackages()
	clock := simtime.New(time.Now())
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	r, err := replica.Start(ctx, replica.Config{
		Inventory: inv, Packages: pkgs, Clock: clock,
		Push: fota.PushPolicy{LeaseTTL: time.Minute, ObserveTimeout: 3 * time.Second},
		Observer: fota.ObserverFunc(func(c fota.Change) {
			if c.Kind == fota.DeviceChanged && c.DeviceID == imei {
				rec.mu.Lock()
				rec.statuses = append(rec.statuses, c.Status())
				rec.mu.Unlock()
			}
		}),
		Server: server.Config{
			OnRegistration: func(ev server.Event) {
				rec.mu.Lock()
				rec.events = append(rec.events, ev.Kind)
				rec.mu.Unlock()
			},
			OnObservation: func(_ string, o lwm2m.Observation) {
				rec.mu.Lock()
				rec.observations = append(rec.observations, o)
				rec.mu.Unlock()
			},
			Errors:        func(err error) { t.Logf("server: %v", err) },
			AnswerTimeout: 5 * time.Second,
		},
		Runner: push.Config{Workers: 4, Poll: 100 * time.Millisecond, Logf: t.Logf},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	image := make([]byte, 3000) // six 512-byte blocks
	for i := range image {
		image[i] = byte(i * 7)
	}
	fw, err := r.Server.AddFirmware("fw-2.0.bin", image)
	if err != nil {
		t.Fatal(err)
	}
	pkgs.Put(account, fota.Package{Name: "node-fw", From: "1.0", To: "2.0", URL: fw.URI, Size: int64(fw.Size), SHA256: fw.Hash()})
	start := schedule.DateOf(clock.Now()).AddDays(1)
	info, err := r.Manager.ScheduleUpgrade(ctx, account, fota.UpgradeRequest{AccountName: account, FirmwareName: "node-fw", FirmwareTo: "2.0",
		StartDate: start, EndDate: start, DeviceList: []string{imei}})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, node, "client.js", "127.0.0.1", itoa(r.Server.Addr().Port), "urn:imei:"+imei, mode)
	cmd.Dir = "testdata"
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan struct{})
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			rec.mu.Lock()
			rec.lines = append(rec.lines, sc.Text())
			rec.mu.Unlock()
			if strings.HasPrefix(sc.Text(), `{"event"`) {
				t.Logf("node: %s", sc.Text())
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	// The campaign starts once the client has registered (and the Runner
	// has reported it), so its first command finds the client listening;
	// from then on the Manager's clock jumps over idle stretches (a
	// command the client did not answer is retried at the next 04:00 UTC).
	registered := func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, l := range rec.lines {
			if strings.HasPrefix(l, `{"event":"registered"`) {
				return true
			}
		}
		return false
	}
	skipping := make(chan struct{})
	go func() {
		defer close(skipping)
		for ctx.Err() == nil && !(registered() && r.Runner.Stats().Connections > 0) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		clock.Skip(info.StartsAt)
		r.Runner.Wake()
		for ctx.Err() == nil {
			if at, ok := replica.SkipIdle(clock, []*replica.Replica{r}, time.Second, time.Minute); ok {
				t.Logf("nothing under way: the Manager's clock jumps to %v", at)
			}
			select {
			case <-ctx.Done():
			case <-lines:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	werr := cmd.Wait()
	<-lines
	<-skipping
	if werr != nil {
		t.Fatalf("node client.js %s: %v\n%s", mode, werr, stderr.String())
	}
	// The client de-registered after its last notification; the outcome
	// is in. The campaign's end is the clock's next jump.
	var out outcome
	deadline := time.Now().Add(10 * time.Second)
	for {
		page, err := r.Manager.Devices(ctx, account, info.ID, "", 1)
		if err != nil {
			t.Fatal(err)
		}
		if out.Device = page.DeviceList[0]; out.Device.State.Terminal() || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	clock.Skip(info.EndsAt)
	for out.Campaign.Status != campaign.PushFinished && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if out.Campaign, err = r.Manager.Campaign(ctx, account, info.ID); err != nil {
			t.Fatal(err)
		}
	}
	if out.History, err = r.Manager.UpgradeHistory(ctx, account, imei); err != nil {
		t.Fatal(err)
	}
	r.Stop()
	return rec, out, fw, r.Server.Stats()
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// subsequence reports whether want appears in got in order.
func subsequence(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

func checkDownload(t *testing.T, rec *run, fw server.Firmware) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, l := range rec.lines {
		var ev struct {
			Event  string
			Bytes  int
			Sha256 string
		}
		if json.Unmarshal([]byte(l), &ev) == nil && ev.Event == "download" {
			if ev.Bytes != fw.Size || ev.Sha256 != fw.Hash() {
				t.Fatalf("lwm2m-node-lib downloaded %d bytes with SHA-256 %s, want %d and %s", ev.Bytes, ev.Sha256, fw.Size, fw.Hash())
			}
			return
		}
	}
	t.Fatal("the node client never reported its download")
}

func checkEvents(t *testing.T, rec *run) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.events) < 2 || rec.events[0] != server.Registered || rec.events[len(rec.events)-1] != server.Deregistered {
		t.Fatalf("registration events %v, want Registered ... Deregistered", rec.events)
	}
}

// checkManager verifies the Manager's account of the run: the statuses
// its observer saw, the device's final status, reason and Update Result,
// its upgrade history, and the campaign Finished.
func checkManager(t *testing.T, rec *run, out outcome, status, reason string, result lwm2m.Result) {
	t.Helper()
	statuses := rec.statusList()
	t.Logf("statuses in order, as the Manager's observer saw them: %s", strings.Join(statuses, " -> "))
	want := []string{"Device Accepted", "Upgrade Pending", status}
	if !reflect.DeepEqual(statuses, want) {
		t.Fatalf("statuses %q, want %q", statuses, want)
	}
	d := out.Device
	if d.Status != status || d.ResultReason != reason || d.Result != uint16(result) || d.Protocol != device.LWM2M {
		t.Fatalf("device %s ended %q %q with result %d (%v), want %q %q with %d", d.DeviceID, d.Status, d.ResultReason, d.Result, d.Protocol, status, reason, result)
	}
	if len(out.History) != 1 || out.History[0].Status != status || out.History[0].Result != uint16(result) {
		t.Fatalf("upgrade history %+v, want one record %q with result %d", out.History, status, result)
	}
	if out.Campaign.Status != campaign.PushFinished {
		t.Fatalf("campaign %s ended %v, want Finished", out.Campaign.ID, out.Campaign.Status)
	}
}

// TestLwm2mNodeLibUpdate takes lwm2m-node-lib's client through a /v1
// campaign of the Manager: registration, Write of the package URI,
// Execute, and the state and result it reports through Observe, to
// "Upgrade Success"; the campaign ends Finished.
func TestLwm2mNodeLibUpdate(t *testing.T) {
	rec, out, fw, stats := interop(t, "success")
	tr := rec.transcript()
	t.Logf("observations in order: %s", strings.Join(tr, " "))
	t.Logf("server: %+v", stats)
	want := []string{"(Downloading, Initial)", "(Downloaded, Initial)", "(Updating, Initial)", "(Idle, Success)"}
	if !subsequence(tr, want) || tr[len(tr)-1] != "(Idle, Success)" {
		t.Fatalf("observations %v, want %v in order, ending (Idle, Success)", tr, want)
	}
	checkManager(t, rec, out, "Upgrade Success", "The firmware upgrade was successful.", lwm2m.Success)
	checkDownload(t, rec, fw)
	checkEvents(t, rec)
}

// TestLwm2mNodeLibFailedUpdate has the client report Update Result 8: the
// Manager ends the device "Upgrade Failed" with the mapped reason and the
// result beside it.
func TestLwm2mNodeLibFailedUpdate(t *testing.T) {
	rec, out, fw, _ := interop(t, "fail")
	tr := rec.transcript()
	t.Logf("observations in order: %s", strings.Join(tr, " "))
	want := []string{"(Downloading, Initial)", "(Downloaded, Initial)", "(Updating, Initial)", "(Idle, UpdateFailed)"}
	if !subsequence(tr, want) || tr[len(tr)-1] != "(Idle, UpdateFailed)" {
		t.Fatalf("observations %v, want %v in order, ending (Idle, UpdateFailed)", tr, want)
	}
	checkManager(t, rec, out, "Upgrade Failed", "Firmware update to device failed.", lwm2m.UpdateFailed)
	checkDownload(t, rec, fw)
	checkEvents(t, rec)
}
