package campaign

import (
	"context"
	"testing"

	"github.com/looplab/fsm"
)

// benchSteps walks an HTTP campaign through its whole life. Refused events
// are left out: they allocate their *lifecycle.TransitionError, by design.
var benchSteps = []struct {
	from  Status
	event Event
}{
	{HTTPRequestPending, Accept},
	{HTTPQueued, Start},
	{HTTPScheduled, Begin},
	{HTTPInProgress, End},
}

var sink Status

// BenchmarkNext compares the compiled table with looplab, the baseline,
// in the same run: "looplab" reuses one FSM (SetState, Event), as a
// per-campaign FSM would; "looplab-new" builds one per event, as a
// per-device FSM loaded from storage would.
func BenchmarkNext(b *testing.B) {
	b.Run("table", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			st := benchSteps[i%len(benchSteps)]
			sink, _ = Next(st.from, st.event)
		}
	})
	b.Run("looplab", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		f := fsm.NewFSM("RequestPending", HTTPEvents, nil)
		for i := 0; b.Loop(); i++ {
			st := benchSteps[i%len(benchSteps)]
			f.SetState(st.from.Name())
			_ = f.Event(ctx, st.event.String())
		}
	})
	b.Run("looplab-new", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		for i := 0; b.Loop(); i++ {
			st := benchSteps[i%len(benchSteps)]
			f := fsm.NewFSM(st.from.Name(), HTTPEvents, nil)
			_ = f.Event(ctx, st.event.String())
		}
	})
}

// TestNextAllocatesNothing: a legal transition is a table load.
func TestNextAllocatesNothing(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		for _, st := range benchSteps {
			s, err := Next(st.from, st.event)
			if err != nil {
				t.Fatal(err)
			}
			sink = s
		}
	})
	if allocs != 0 {
		t.Fatalf("Next allocates %v times per walk", allocs)
	}
}
