package main

import (
	"fmt"
	"io"
	"time"

	"github.com/fotakit/fota/sim"
)

// progressAfter is how long a run goes on before a progress line shows,
// and progressEvery how often it is rewritten: a short run prints none.
const (
	progressAfter = time.Second
	progressEvery = 250 * time.Millisecond
)

// progress writes one line on a terminal, rewritten in place, while a
// long run goes on: the simulated day and the events per second since
// the last line. It writes nothing when the terminal is not one (a pipe,
// a file, a test) or before the run has lasted progressAfter.
type progress struct {
	w        io.Writer
	terminal bool
	now      func() time.Time
	start    time.Time // simulated start
	began    time.Time // wall time the run began
	last     time.Time // wall time of the last line (began before any)
	events   int64     // events at the last line
	shown    bool
}

func newProgress(w io.Writer, e env, start time.Time) *progress {
	t := e.now()
	return &progress{w: w, terminal: e.terminal, now: e.now, start: start, began: t, last: t}
}

// update is sim.Scenario.OnProgress.
func (p *progress) update(pr sim.Progress) {
	if !p.terminal {
		return
	}
	t := p.now()
	if t.Sub(p.began) < progressAfter || (p.shown && t.Sub(p.last) < progressEvery) {
		return
	}
	rate := float64(pr.Events-p.events) / t.Sub(p.last).Seconds()
	day := int(pr.At.Sub(p.start.Truncate(24*time.Hour))/(24*time.Hour)) + 1
	fmt.Fprintf(p.w, "\r\033[Ksimulate: day %d, %s, %d events, %.0f events/s",
		day, pr.At.UTC().Format("Mon 01-02 15:04"), pr.Events, rate)
	p.last, p.events, p.shown = t, pr.Events, true
}

// done clears the line, if one was written.
func (p *progress) done() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}
