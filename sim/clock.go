package sim

import (
	"sync"
	"time"
)

// Clock is simulated time: it stands still until told to move, and moving
// it costs nothing. It satisfies fota.Clock. Unlike
// github.com/benbjohnson/clock's Mock, Set and Advance do not sleep or wake
// timers, so a simulation jumps from event to event at memory speed.
//
// A Clock is safe for concurrent use, so a test harness may share one
// between goroutines that call a Manager; the zero Clock reads the zero
// time.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the simulated time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	t := c.now
	c.mu.Unlock()
	return t
}

// Set moves the clock to t, forwards or backwards.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Advance moves the clock by d (back, if d is negative) and returns the
// new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	c.now = c.now.Add(d)
	t := c.now
	c.mu.Unlock()
	return t
}
