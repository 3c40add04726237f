package lwm2m

import (
	"testing"

	"github.com/fotakit/fota/lifecycle"
)

// Step against its baseline, a looplab FSM asked the same question.
func BenchmarkStep(b *testing.B) {
	b.Run("table", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = Step(Downloaded, EventUpdate)
		}
	})
	b.Run("looplab", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = lifecycle.LooplabNext(Events, "Downloaded", "update")
		}
	})
}

// Observe against its baseline, a search of the hand-written pair graph
// (what Observe would cost without the precomputed reachability).
func BenchmarkObserve(b *testing.B) {
	tr := flags{last: obs(Downloading, 0), known: true, written: true, executed: true}.tracker()
	b.Run("tracker", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _, _ = tr.Observe(obs(Idle, Success))
		}
	})
	b.Run("search", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = modelReach(tr.last(), obs(Idle, Success), true)
		}
	})
}
