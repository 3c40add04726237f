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
	dir := t.TempDir()
	secretsFile := filepath.Join(dir, "secrets")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	addrs := make(chan string, 1)
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-demo", "3", "-demo-secrets", secretsFile}, &stderr, func(a string) { addrs <- a })
	}()
	var addr string
	select {
	case addr = <-addrs:
	case code := <-done:
		t.Fatalf("run returned %d: %s", code, stderr.String())
	}
	out := stderr.String()
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
	if code, b := post("/api/fota/device/checkin", checkIn, api.DeviceSignatureHeader, api.Sign([]byte(secret), []byte(checkIn))); code != 200 {
		t.Fatalf("signed check-in: %d %s", code, b)
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
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second): // a hang, not a timing assertion
		t.Fatal("server did not shut down")
	}
	// Every request was logged with its route pattern and status.
	log := stderr.String()
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
	for _, args := range [][]string{{"-demo", "-1"}, {"-nope"}, {"extra"}} {
		var stderr syncBuffer
		if code := run(context.Background(), args, &stderr, nil); code != 2 {
			t.Errorf("run %v = %d, want 2", args, code)
		}
	}
}
