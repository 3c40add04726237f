package callback

import (
	"testing"
	"time"
)

// The wait after each failed attempt doubles from Backoff and stops at
// MaxBackoff.
func TestBackoffDoubles(t *testing.T) {
	d := New(Config{Backoff: time.Second, MaxBackoff: 5 * time.Second})
	for failed, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 5 * time.Second, 60: 5 * time.Second} {
		if got := d.backoff(failed); got != want {
			t.Errorf("backoff(%d) = %v, want %v", failed, got, want)
		}
	}
	if d := New(Config{}); d.backoff(1) != time.Second || d.backoff(20) != time.Minute {
		t.Errorf("defaults: %v, %v", d.backoff(1), d.backoff(20))
	}
}
