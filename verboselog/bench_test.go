package verboselog

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/looplab/fsm"
)

// A check-in on an Enabled session with the compiled table, against the
// baseline of asking a looplab FSM built for the device (what the table
// replaces on the per-device hot path).
func BenchmarkCheckIn(b *testing.B) {
	p := DefaultPolicy()
	s := Session{DeviceID: "d1", State: Enabled, EnabledAt: t0}
	at := t0.Add(time.Hour)
	b.Run("table", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if s.CheckIn(at, p).State != Collecting {
				b.Fatal("not collecting")
			}
		}
	})
	b.Run("baseline=looplab", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			f := fsm.NewFSM(s.State.String(), Events, nil)
			if err := f.Event(context.Background(), "checkIn"); err != nil || f.Current() != "Collecting" {
				b.Fatal(err)
			}
		}
	})
}

// Adding a day's check-in to a full history (HistoryMax 1,000), against the
// baseline of appending and re-sorting.
func BenchmarkHistoryAdd(b *testing.B) {
	p := DefaultPolicy()
	full := func() History {
		var h History
		for i := range p.HistoryMax {
			_ = h.Add(CheckIn{DeviceID: "d1", TimeCompleted: t0.Add(time.Duration(i) * time.Hour)}, p)
		}
		return h
	}
	b.Run("insert", func(b *testing.B) {
		h := full()
		at := t0.Add(time.Duration(p.HistoryMax) * time.Hour)
		b.ReportAllocs()
		for b.Loop() {
			at = at.Add(time.Hour)
			if err := h.Add(CheckIn{DeviceID: "d1", TimeCompleted: at}, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline=append+sort", func(b *testing.B) {
		h := full()
		entries := h.All()
		at := t0.Add(time.Duration(p.HistoryMax) * time.Hour)
		b.ReportAllocs()
		for b.Loop() {
			at = at.Add(time.Hour)
			entries = append(entries, CheckIn{DeviceID: "d1", TimeCompleted: at})
			slices.SortStableFunc(entries, func(x, y CheckIn) int { return x.TimeCompleted.Compare(y.TimeCompleted) })
			entries = slices.Delete(entries, 0, len(entries)-p.HistoryMax)
		}
	})
}
