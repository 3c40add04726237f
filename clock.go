package fota

import "time"

// Clock tells the Manager the time. It is the only clock fota reads, once
// per operation; the pure packages take now as an argument instead.
// github.com/benbjohnson/clock's real and mock clocks satisfy it, so tests
// and simulations can drive a Manager on simulated time.
type Clock interface {
	Now() time.Time
}

// systemClock is the default Clock.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
