package omadm

import (
	"strconv"
	"testing"

	"github.com/fotakit/fota/lifecycle"
)

// Step against its baseline, a looplab FSM asked the same question.
func BenchmarkStep(b *testing.B) {
	b.Run("table", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = Step(ReadyToUpdate, EventServerExecUpdate)
		}
	})
	b.Run("looplab", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = lifecycle.LooplabNext(Events, "ReadyToUpdate", "serverExecUpdate")
		}
	})
}

// Outcome (validation and code lookup) against its baseline, reading the
// code with strconv.Atoi alone.
func BenchmarkOutcome(b *testing.B) {
	a := Alert{Code: GenericAlert, Type: TypeUpdate, Source: "./FwUpdate/x/Update", Correlator: "c", Data: "403"}
	b.Run("outcome", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _, _ = Outcome(a)
		}
	})
	b.Run("atoi", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = strconv.Atoi(a.Data)
		}
	})
}
