package sim

import (
	"sync/atomic"
	"time"
)

// Clock is simulated time: it stands still until told to move, and moving
// it costs nothing. It satisfies fota.Clock. Unlike
// github.com/benbjohnson/clock's Mock, Set and Advance do not sleep or wake
// timers, so a simulation jumps from event to event at memory speed.
//
// A Clock keeps instants to the microsecond, as the Manager does, in one
// atomic integer (microseconds since the zero time.Time): reading it takes
// no lock, and a test harness may still share one between goroutines that
// call a Manager. Instants come back in UTC; the zero Clock reads the zero
// time.
type Clock struct {
	us atomic.Int64 // microseconds since 0001-01-01 00:00 UTC
}

// zeroUnixMicro is the zero time.Time in Unix microseconds.
const zeroUnixMicro = -62135596800 * 1_000_000

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock {
	c := &Clock{}
	c.Set(t)
	return c
}

// Now returns the simulated time, in UTC.
func (c *Clock) Now() time.Time { return time.UnixMicro(c.us.Load() + zeroUnixMicro).UTC() }

// Set moves the clock to t, forwards or backwards (to t's microsecond).
func (c *Clock) Set(t time.Time) { c.us.Store(t.UnixMicro() - zeroUnixMicro) }

// Advance moves the clock by d (back, if d is negative; to the
// microsecond) and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	return time.UnixMicro(c.us.Add(d.Microseconds()) + zeroUnixMicro).UTC()
}

// setMicro moves the clock to us, in Unix microseconds: the event loop's
// integer time.
func (c *Clock) setMicro(us int64) { c.us.Store(us - zeroUnixMicro) }
