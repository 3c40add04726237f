package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
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

// The server starts, prints curl commands for its demo devices, answers
// the campaign the first of them prints, and stops when its context ends.
func TestServeDemoAndShutDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	addrs := make(chan string, 1)
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-demo", "3"}, &stderr, func(a string) { addrs <- a })
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
	// The printed schedule body is accepted as printed.
	i := strings.Index(out, `-d '{"campaignName"`)
	body := out[i+4:]
	body = body[:strings.Index(body, "'")]
	resp, err := http.Post("http://"+addr+"/api/fota/v2/campaigns/software/acme", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var c struct{ ID, Status, ErrorCode string }
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("printed schedule: %d %s", resp.StatusCode, b)
	}
	// The printed start date is today (UTC) when printed; should the day
	// turn before the POST, it has passed.
	if !(resp.StatusCode == 200 && c.Status == "CampaignScheduled") && !(resp.StatusCode == 400 && c.ErrorCode == "StartPassed") {
		t.Fatalf("printed schedule: %d %s", resp.StatusCode, b)
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
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-demo", "-1"}, {"-nope"}, {"extra"}} {
		var stderr syncBuffer
		if code := run(context.Background(), args, &stderr, nil); code != 2 {
			t.Errorf("run %v = %d, want 2", args, code)
		}
	}
}
