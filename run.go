package fota

import (
	"context"
	"math"
	"time"
)

// Sleeper is a Clock that can also wait: Run sleeps through it, so a test
// or a simulation drives Run on simulated time. github.com/benbjohnson/
// clock's clocks (the real one and the Mock) satisfy it; a Clock that is
// not a Sleeper makes Run wait on the system's timers.
type Sleeper interface {
	After(d time.Duration) <-chan time.Time
}

// Run is the Tick loop a host starts in a goroutine: it applies whatever
// is due (Tick), sleeps until the next deadline, and wakes early when an
// operation of this Manager creates an earlier one (a schedule, a date
// change, a cancel). With several replicas over one store, each runs its
// own Run; Run also wakes every Config.RunPoll (a minute) to see deadlines
// other replicas created. A Tick that fails is logged and tried again after
// a pause that doubles from a second up to RunPoll. Run returns ctx.Err()
// when ctx ends. Start one Run per Manager.
func (m *Manager) Run(ctx context.Context) error {
	sleeper, ok := m.clock.(Sleeper)
	if !ok {
		sleeper = systemClock{}
	}
	pause := time.Second
	for {
		// While ticking, any new deadline wakes the next sleep at once.
		m.sleepUntil.Store(math.MaxInt64)
		next, err := m.Tick(ctx)
		if ctx.Err() != nil {
			m.sleepUntil.Store(0)
			return ctx.Err()
		}
		wait := m.runPoll
		switch {
		case err != nil:
			m.log.Warn("fota: tick failed", "err", err, "retry in", pause)
			wait, pause = min(pause, m.runPoll), min(2*pause, m.runPoll)
		case !next.IsZero():
			pause = time.Second
			wait = min(max(next.Sub(m.clock.Now()), 0), m.runPoll)
		}
		m.sleepUntil.Store(m.clock.Now().Add(wait).UnixNano())
		select {
		case <-ctx.Done():
			m.sleepUntil.Store(0)
			return ctx.Err()
		case <-m.wake:
		case <-sleeper.After(wait):
		}
	}
}

// nudge wakes Run when an operation wrote a deadline earlier than the one
// it sleeps until.
func (m *Manager) nudge(t time.Time) {
	if t.IsZero() {
		return
	}
	if su := m.sleepUntil.Load(); su != 0 && t.UnixNano() < su {
		select {
		case m.wake <- struct{}{}:
		default:
		}
	}
}
