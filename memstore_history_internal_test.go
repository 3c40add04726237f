package fota

import (
	"testing"

	"pgregory.net/rapid"
)

// TestHistorySlab checks a slab's rings against plain slices: each keeps
// its newest keep check-ins, in order, whatever the sizes, while blocks
// are cut across chunk boundaries, freed and reused, and a ring outgrows
// a chunk.
func TestHistorySlab(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var sl historySlab
		const rings = 5
		var offs [rings]uint32
		var model [rings][]int64
		for i := range offs {
			offs[i] = sl.newRing(rapid.IntRange(1, 20).Draw(t, "first"))
		}
		at := int64(0)
		t.Repeat(map[string]func(*rapid.T){
			"add": func(t *rapid.T) {
				i := rapid.IntRange(0, rings-1).Draw(t, "ring")
				keep := rapid.SampledFrom([]int{1, 2, 3, 5, 8, 20, 100}).Draw(t, "keep")
				n := rapid.IntRange(1, 40).Draw(t, "n")
				for range n {
					at++
					offs[i] = sl.add(offs[i], at, uint32(at), keep)
					model[i] = append(model[i], at)
					if len(model[i]) > keep {
						model[i] = model[i][len(model[i])-keep:]
					}
				}
			},
			"fill": func(t *rapid.T) {
				// A ring longer than a chunk, now and then.
				if rapid.IntRange(0, 30).Draw(t, "rarely") != 0 {
					return
				}
				i := rapid.IntRange(0, rings-1).Draw(t, "ring")
				n := histChunk + rapid.IntRange(0, 100).Draw(t, "over")
				for range n {
					at++
					offs[i] = sl.add(offs[i], at, uint32(at), 2*histChunk)
					model[i] = append(model[i], at)
					if len(model[i]) > 2*histChunk {
						model[i] = model[i][1:]
					}
				}
			},
			"": func(t *rapid.T) {
				for i := range offs {
					r := sl.ring(offs[i])
					if int(r.n) != len(model[i]) {
						t.Fatalf("ring %d holds %d entries, want %d", i, r.n, len(model[i]))
					}
					for j := range r.n {
						e := sl.at(r.pos(j))
						if e.at() != model[i][j] || e.text != uint32(model[i][j]) {
							t.Fatalf("ring %d entry %d is %+v, want at %d", i, j, *e, model[i][j])
						}
					}
				}
			},
		})
	})
}
