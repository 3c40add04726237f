package pilot

import (
	"context"
	"testing"

	"github.com/looplab/fsm"
)

var sinkGate Gate

// Learn decides with the compiled table; the baseline asks a looplab FSM
// built for the same decision, as a per-gate FSM would.
func BenchmarkLearnPassingPilot(b *testing.B) {
	p := DefaultPolicy()
	o := Outcome{EndedNormally, 10, 5}
	b.Run("table", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			g, _, _ := Gate{Target: tracker}.Learn(o, t0, p)
			sinkGate = g
		}
	})
	b.Run("looplab-baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			f := fsm.NewFSM(Standing.String(), Events, nil)
			if p.Passed(o) {
				_ = f.Event(context.Background(), PilotPassed.String())
			}
			sinkGate.State, _ = ParseState(f.Current())
		}
	})
}

var sinkErr error

// Admit is on every campaign request; the baseline is the bare comparison.
func BenchmarkAdmit(b *testing.B) {
	p := DefaultPolicy()
	g := Gate{Target: tracker}
	b.Run("Admit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkErr = g.Admit(20, p)
		}
	})
	b.Run("compare-baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if g.State != Lifted && 20 > p.MaxDevices {
				sinkErr = ErrPilotRequired
			} else {
				sinkErr = nil
			}
		}
	})
}
