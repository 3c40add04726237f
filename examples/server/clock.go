package main

import "time"

// scaledClock is the Manager's clock: from origin on, it runs speed
// (-speed) times as fast as the wall clock, so that at 3600 a campaign's
// days pass in minutes; at 1 it is the wall clock. It is a fota.Sleeper,
// so Manager.Run and the push transport sleep the matching wall-clock
// time.
type scaledClock struct {
	origin time.Time // the wall clock's reading when the server started (monotonic)
	speed  float64
}

// Now is origin plus the wall-clock time since, times speed.
func (c scaledClock) Now() time.Time {
	return c.origin.Add(time.Duration(float64(time.Since(c.origin)) * c.speed)).Round(0)
}

// After waits d of this clock's time: d/speed of the wall clock's.
func (c scaledClock) After(d time.Duration) <-chan time.Time {
	return time.After(time.Duration(float64(d) / c.speed))
}
