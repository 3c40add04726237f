package simtime

import (
	"fmt"
	"testing"
	"time"
)

func TestClockRunsAndSkips(t *testing.T) {
	start := time.Date(2026, 5, 1, 23, 0, 0, 0, time.UTC)
	c := New(start)
	a := c.Now()
	if a.Before(start) || a.Sub(start) > time.Minute {
		t.Fatalf("Now = %v right after New(%v)", a, start)
	}
	time.Sleep(5 * time.Millisecond)
	if b := c.Now(); !b.After(a) {
		t.Fatalf("the clock stood still: %v then %v", a, b)
	}
	at := time.Date(2026, 5, 2, 4, 0, 0, 0, time.UTC)
	if !c.Skip(at) {
		t.Fatal("Skip to a later instant did not jump")
	}
	if got := c.Now(); got.Before(at) || got.Sub(at) > time.Minute {
		t.Fatalf("after Skip(%v), Now = %v", at, got)
	}
	if c.Skip(start) {
		t.Fatal("Skip went back")
	}
	if got := c.Now(); got.Before(at) {
		t.Fatalf("Now = %v went back before %v", got, at)
	}
	if s := c.Skipped(); s < 4*time.Hour || s > 5*time.Hour {
		t.Fatalf("Skipped = %v, want about 5 h less the time run", s)
	}
}

func ExampleClock() {
	c := New(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	c.Skip(time.Date(2026, 5, 2, 4, 0, 0, 0, time.UTC)) // over the night to the retry
	fmt.Println(c.Now().Truncate(time.Minute).Format(time.RFC3339))
	// Output: 2026-05-02T04:00:00Z
}
