package device

import (
	"context"
	"testing"

	"github.com/looplab/fsm"
)

// BenchmarkTransition compares one device transition (Downloading ->
// Downloaded) through the compiled HTTPTable with the same transition
// through a looplab *fsm.FSM built once outside the loop: the baseline.
func BenchmarkTransition(b *testing.B) {
	b.Run("table", func(b *testing.B) {
		b.ReportAllocs()
		var s State
		for b.Loop() {
			s, _ = HTTPTable.Next(StateDownloading, EventDownloaded)
		}
		if s != StateDownloaded {
			b.Fatal(s)
		}
	})
	b.Run("looplab", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		f := fsm.NewFSM("Downloading", HTTPEvents, nil)
		for b.Loop() {
			f.SetState("Downloading")
			if err := f.Event(ctx, "downloaded"); err != nil {
				b.Fatal(err)
			}
		}
		if f.Current() != "Downloaded" {
			b.Fatal(f.Current())
		}
	})
}
