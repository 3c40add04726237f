package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/examples/lwm2m/client"
	"github.com/fotakit/fota/examples/lwm2m/push"
	"github.com/fotakit/fota/examples/lwm2m/server"
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

func interop(t *testing.T, mode string) (*run, push.Device, server.Firmware, server.Stats) {
	node, npm := tools(t)
	installLib(t, npm)

	imei := client.IMEI(4242)
	rec := &run{}
	var runner *push.Runner
	ready := make(chan struct{})
	srv, err := server.New(server.Config{
		Known: func(_ context.Context, id string) (bool, error) { return id == imei, nil },
		OnRegistration: func(ev server.Event) {
			rec.mu.Lock()
			rec.events = append(rec.events, ev.Kind)
			rec.mu.Unlock()
			<-ready
			runner.HandleRegistration(ev)
		},
		OnObservation: func(id string, o lwm2m.Observation) {
			rec.mu.Lock()
			rec.observations = append(rec.observations, o)
			rec.mu.Unlock()
			<-ready
			runner.HandleObservation(id, o)
		},
		Errors:        func(err error) { t.Logf("server: %v", err) },
		AnswerTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	defer srv.Close()
	image := make([]byte, 3000) // six 512-byte blocks
	for i := range image {
		image[i] = byte(i * 7)
	}
	fw, err := srv.AddFirmware("fw-2.0.bin", image)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	plan := push.NewPlan(fw.URI, []string{imei}, push.Policy{ReadAfter: 3 * time.Second, RetryAfter: 2 * time.Second, MaxAttempts: 20}, nil)
	runner = push.NewRunner(ctx, plan, 4)
	runner.Server = srv
	runner.Logf = t.Logf
	close(ready)
	runDone := make(chan struct{})
	go func() { defer close(runDone); _ = runner.Run() }()

	cmd := exec.CommandContext(ctx, node, "client.js", "127.0.0.1", itoa(srv.Addr().Port), "urn:imei:"+imei, mode)
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
	werr := cmd.Wait()
	<-lines
	if werr != nil {
		t.Fatalf("node client.js %s: %v\n%s", mode, werr, stderr.String())
	}
	// The client de-registered after its last notification; let the last
	// deliveries land.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if d := plan.Devices()[0]; d.State.Terminal() {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-runDone
	return rec, plan.Devices()[0], fw, srv.Stats()
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

// TestLwm2mNodeLibUpdate takes lwm2m-node-lib's client through
// registration, Write of the package URI, Execute and the state and result
// it reports through Observe, to Upgrade Success.
func TestLwm2mNodeLibUpdate(t *testing.T) {
	rec, d, fw, stats := interop(t, "success")
	tr := rec.transcript()
	t.Logf("observations in order: %s", strings.Join(tr, " "))
	t.Logf("server: %+v", stats)
	want := []string{"(Downloading, Initial)", "(Downloaded, Initial)", "(Updating, Initial)", "(Idle, Success)"}
	if !subsequence(tr, want) || tr[len(tr)-1] != "(Idle, Success)" {
		t.Fatalf("observations %v, want %v in order, ending (Idle, Success)", tr, want)
	}
	if d.State != device.StateSucceeded || d.State.Status().Wire(device.FamilyPush) != "Upgrade Success" {
		t.Fatalf("device ended %v (%q), want Upgrade Success", d.State, d.State.Status().Wire(device.FamilyPush))
	}
	checkDownload(t, rec, fw)
	checkEvents(t, rec)
}

// TestLwm2mNodeLibFailedUpdate has the client report Update Result 8.
func TestLwm2mNodeLibFailedUpdate(t *testing.T) {
	rec, d, fw, _ := interop(t, "fail")
	tr := rec.transcript()
	t.Logf("observations in order: %s", strings.Join(tr, " "))
	want := []string{"(Downloading, Initial)", "(Downloaded, Initial)", "(Updating, Initial)", "(Idle, UpdateFailed)"}
	if !subsequence(tr, want) || tr[len(tr)-1] != "(Idle, UpdateFailed)" {
		t.Fatalf("observations %v, want %v in order, ending (Idle, UpdateFailed)", tr, want)
	}
	if d.Last.Result != lwm2m.UpdateFailed || d.State != device.StateUpdateFailed {
		t.Fatalf("device ended %v with %v, want UpdateFailed with Update Result 8", d.State, d.Last)
	}
	if got := d.State.Reason().Text(device.FamilyPush); got == "" {
		t.Fatalf("no reason for %v", d.State)
	} else {
		t.Logf("Upgrade Failed: %s", got)
	}
	checkDownload(t, rec, fw)
	checkEvents(t, rec)
}
