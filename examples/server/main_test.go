package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fotakit/fota/examples/server/api"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The server starts, prints a token, a device secret and curl commands
// for its demo devices, answers the campaign the first of them prints
// (with the printed token) and a device call signed with the printed
// secret, logs every request, and stops when its context ends.
func TestServeDemoAndShutDown(t *testing.T) {
	secretsFile := filepath.Join(t.TempDir(), "secrets")
	srv := startServer(t, "-demo", "3", "-demo-secrets", secretsFile)
	addr := srv.addr
	out := srv.stderr.String()
	if !strings.Contains(out, "curl -s -X POST http://"+addr+"/api/fota/v2/campaigns/software/acme") {
		t.Fatalf("no schedule command for %s in:\n%s", addr, out)
	}
	token := printed(t, out, "TOKEN=")
	secret := printed(t, out, "SECRET=")
	// The printed schedule body is accepted as printed, with the token.
	i := strings.Index(out, `-d '{"campaignName"`)
	body := out[i+4:]
	body = body[:strings.Index(body, "'")]
	post := func(path, body string, header ...string) (int, []byte) {
		req, err := http.NewRequest("POST", "http://"+addr+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, b := post("/api/fota/v2/campaigns/software/acme", body); code != 401 {
		t.Fatalf("schedule without the token: %d %s", code, b)
	}
	code, b := post("/api/fota/v2/campaigns/software/acme", body, "Authorization", "Bearer "+token)
	var c struct{ ID, Status, ErrorCode string }
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("printed schedule: %d %s", code, b)
	}
	// The printed start date is today (UTC) when printed; should the day
	// turn before the POST, it has passed.
	if !(code == 200 && c.Status == "CampaignScheduled") && !(code == 400 && c.ErrorCode == "StartPassed") {
		t.Fatalf("printed schedule: %d %s", code, b)
	}
	// The first device, with its printed secret; the file has them all.
	checkIn := `{"deviceId":"350000000000006","clientType":6}`
	code, b = post("/api/fota/device/checkin", checkIn, api.DeviceSignatureHeader, api.Sign([]byte(secret), []byte(checkIn)))
	if code != 200 {
		t.Fatalf("signed check-in: %d %s", code, b)
	}
	// The printed request names the demo package without make or model:
	// the catalog gives them, and the device is told where to download.
	if c.Status == "CampaignScheduled" && !strings.Contains(string(b), `"downloadUrl":"https://downloads.example.com/acme/lamp-fw-2.0.bin"`) {
		t.Errorf("check-in in the printed campaign: %s", b)
	}
	if code, b := post("/api/fota/device/checkin", checkIn); code != 401 {
		t.Fatalf("unsigned check-in: %d %s", code, b)
	}
	f, err := os.Open(secretsFile)
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := api.ParseSecrets(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"350000000000006", "350000000000014", "350000000000022"} {
		if s, ok, _ := secrets.Secret(context.Background(), id); !ok || (id == "350000000000006" && string(s) != secret) {
			t.Errorf("secrets file: %s: %q %v", id, s, ok)
		}
	}
	if code := srv.stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, srv.stderr.String())
	}
	// Every request was logged with its route pattern and status.
	log := srv.stderr.String()
	for _, want := range []string{
		`msg=request method=POST route="POST /api/fota/v2/campaigns/software/{acc}" status=401 duration=`,
		`msg=request method=POST route="POST /api/fota/v2/campaigns/software/{acc}" status=`,
		`msg=request method=POST route="POST /api/fota/device/checkin" status=200 duration=`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, token) && strings.Count(log, token) > 1 { // printed once, never logged
		t.Errorf("the token appears in the log")
	}
}

// printed returns the value the output prints after prefix on a line.
func printed(t *testing.T, out, prefix string) string {
	t.Helper()
	for line := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
			return v
		}
	}
	t.Fatalf("no %s in:\n%s", prefix, out)
	return ""
}

// Secure by default: without -tokens, -demo or -insecure the server says
// every API call will be refused; -insecure warns; unreadable or bad
// files stop it.
func TestStartupWarningsAndFiles(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "tokens")
	if err := os.WriteFile(bad, []byte("short acme\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-tokens", bad}, 1, bad + ": line 1"},
		{[]string{"-tokens", filepath.Join(dir, "missing")}, 1, "missing"},
		{[]string{"-device-secrets", bad}, 1, "line 1"},
		{[]string{"-subscriptions", bad}, 1, "line 1"},
		{[]string{"-packages", bad}, 1, bad + ": catalog"},
		{[]string{"-db", "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=5"}, 1, "-db"},
		{[]string{}, 0, "every API call will be refused"},
		{[]string{"-insecure"}, 0, "WARNING: -insecure"},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		var stderr syncBuffer
		code := run(ctx, append([]string{"-addr", "127.0.0.1:0"}, tc.args...), &stderr, func(string) { cancel() })
		cancel()
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("run %v = %d, want %d and %q in:\n%s", tc.args, code, tc.code, tc.want, stderr.String())
		}
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-demo", "-1"}, {"-nope"}, {"extra"}, {"-demo", "2", "-push", "coap"}, {"-push", "mixed"},
		{"-speed", "0"}, {"-speed", "-3"}, {"-speed", "NaN"}, {"-speed", "1e9"}} {
		var stderr syncBuffer
		if code := run(context.Background(), args, &stderr, nil); code != 2 {
			t.Errorf("run %v = %d, want 2", args, code)
		}
	}
}

// server is a run of the command on a loopback port, for a test.
type server struct {
	t      *testing.T
	addr   string
	stderr *syncBuffer
	token  string // the demo token, if -demo printed one
	cancel context.CancelFunc
	done   chan int
	code   *int // the exit code, once stopped
}

// startServer runs the command with args (and -addr 127.0.0.1:0) until
// stop, or the end of the test, which then checks that it exited 0.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{t: t, stderr: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	addrs := make(chan string, 1)
	go func() {
		s.done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), s.stderr, func(a string) { addrs <- a })
	}()
	select {
	case s.addr = <-addrs:
	case code := <-s.done:
		cancel()
		t.Fatalf("run %v returned %d: %s", args, code, s.stderr.String())
	}
	if strings.Contains(s.stderr.String(), "TOKEN=") {
		s.token = printed(t, s.stderr.String(), "TOKEN=")
	}
	t.Cleanup(func() {
		if code := s.stop(); code != 0 {
			t.Errorf("exit %d: %s", code, s.stderr.String())
		}
	})
	return s
}

// stop ends the run as SIGINT would and returns its exit code.
func (s *server) stop() int {
	if s.code == nil {
		s.cancel()
		select {
		case code := <-s.done:
			s.code = &code
		case <-time.After(30 * time.Second): // a hang, not a timing assertion
			s.t.Fatal("server did not shut down")
		}
	}
	return *s.code
}

// call sends one API request with the demo token and returns the status
// and body.
func (s *server) call(method, path, body string) (int, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, "http://"+s.addr+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// Requests decode strictly: a body with a field its model lacks is
// refused naming it, unless the server runs with -lenient.
func TestLenientFlag(t *testing.T) {
	start := time.Now().UTC().AddDate(0, 0, 2).Format("2006-01-02")
	body := `{"softwareName":"lamp-fw","softwareFrom":"1.0","softwareTo":"2.0","startDate":"` + start +
		`","endDate":"` + start + `","deviceList":["350000000000006"],"autoAssignLicenseFlag":true}`
	strict := startServer(t, "-demo", "1")
	if code, b := strict.call("POST", "/api/fota/v2/campaigns/acme", body); code != 400 || !strings.Contains(string(b), "autoAssignLicenseFlag") {
		t.Errorf("strict: %d %s", code, b)
	}
	lenient := startServer(t, "-demo", "1", "-lenient")
	if code, b := lenient.call("POST", "/api/fota/v2/campaigns/acme", body); code != 200 {
		t.Errorf("-lenient: %d %s", code, b)
	}
}

// With -push, the demo adds push devices that a transport inside the
// server drives: the printed /v1 upgrade, scheduled with the printed
// token, takes its make and model from the demo's catalog and, on a clock
// that runs an hour a second, its devices reach "Upgrade Success".
func TestPushDemo(t *testing.T) {
	s := startServer(t, "-demo", "2", "-push", "mixed", "-speed", "3600")
	out := s.stderr.String()
	i := strings.Index(out, `-d '{"accountName"`)
	if i < 0 {
		t.Fatalf("no /v1 upgrade printed:\n%s", out)
	}
	body := out[i+4:]
	body = body[:strings.Index(body, "'")]
	code, b := s.call("POST", "/api/fota/v1/upgrades", body)
	if code == 400 && strings.Contains(string(b), "StartPassed") { // the server's day turned since it printed: a day later
		var req map[string]any
		if err := json.Unmarshal([]byte(body), &req); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"startDate", "endDate"} {
			d, _ := time.Parse("2006-01-02", req[k].(string))
			req[k] = d.AddDate(0, 0, 1).Format("2006-01-02")
		}
		next, _ := json.Marshal(req)
		code, b = s.call("POST", "/api/fota/v1/upgrades", string(next))
	}
	var u api.FirmwareUpgrade
	_ = json.Unmarshal(b, &u)
	if code != 200 || u.Status != "Queued" || u.Make != "Acme" || u.Model != "Meter" || len(u.DeviceList) != 2 {
		t.Fatalf("printed upgrade: %d %s", code, b)
	}
	deadline := time.Now().Add(60 * time.Second) // a hang, not a timing assertion
	for {
		code, b := s.call("GET", "/api/fota/v1/upgrades/acme/upgrade/"+u.ID, "")
		var got api.FirmwareUpgrade
		if err := json.Unmarshal(b, &got); err != nil || code != 200 {
			t.Fatalf("GET upgrade: %d %s", code, b)
		}
		done := len(got.DeviceList) == 2
		for _, d := range got.DeviceList {
			done = done && d.Status == "Upgrade Success"
		}
		if done && (got.Status == "InProgress" || got.Status == "Finished") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the upgrade did not run: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
