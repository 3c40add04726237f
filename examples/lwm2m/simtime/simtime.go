// Package simtime is a clock for driving a fota Manager through a
// campaign that spans days while the devices and the CoAP exchanges run
// in real time: it runs at the speed of the system clock from a chosen
// start, and jumps ahead when told to (over a night until the 04:00 UTC
// retry, to a campaign's end). It never goes back, so leases, observation
// timeouts and deadlines the Manager computed stay in order.
//
// The demo and the tests that need a whole campaign (start, retries,
// Finished) in seconds use it; a test that wants every instant in its hands
// uses github.com/benbjohnson/clock's Mock instead.
package simtime

import (
	"sync"
	"time"
)

// Clock is the system clock shifted to start at a chosen instant, plus
// whatever Skip added. It satisfies fota.Clock; it is safe for concurrent
// use.
type Clock struct {
	mu        sync.Mutex
	base      time.Time // the simulated instant at origin
	origin    time.Time // the system time when base held
	skipped   time.Duration
	skippedAt time.Time // the system time of the last jump
}

// New returns a clock that reads start now and runs on from there.
func New(start time.Time) *Clock {
	return &Clock{base: start.UTC(), origin: time.Now()}
}

// Now is the simulated time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base.Add(time.Since(c.origin) + c.skipped)
}

// Skip jumps to t if t is later than now, and reports whether it did.
func (c *Clock) Skip(t time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.base.Add(time.Since(c.origin) + c.skipped)
	if !t.After(now) {
		return false
	}
	c.skipped += t.Sub(now)
	c.skippedAt = time.Now()
	return true
}

// SkippedAt is the system time of the last jump (zero before the first):
// whoever decides to jump again can wait until what the last jump made
// due has been looked at.
func (c *Clock) SkippedAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.skippedAt
}

// Skipped is how far the clock jumped in all.
func (c *Clock) Skipped() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.skipped
}
