package fota

import (
	"testing"

	"pgregory.net/rapid"
)

// TestKeyIndexModel: puts and deletes in any order, with the clusters a
// small table makes, leave every key findable at its row and no other:
// the backward shift of a deletion never strands an entry behind a hole.
func TestKeyIndexModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var x keyIndex
		var rows []invRow
		model := map[idKey]uint32{}
		keys := rapid.Custom(func(t *rapid.T) idKey {
			return idKey(15)<<keyLenShift | idKey(rapid.IntRange(0, 200).Draw(t, "serial"))
		})
		for range rapid.IntRange(1, 300).Draw(t, "ops") {
			k := keys.Draw(t, "key")
			if _, ok := model[k]; ok && rapid.IntRange(0, 2).Draw(t, "delete") > 0 {
				x.del(k, rows)
				rows[model[k]] = invRow{}
				delete(model, k)
			} else if !ok {
				rows = append(rows, invRow{key: k, live: true})
				x.put(k, uint32(len(rows)-1), rows)
				model[k] = uint32(len(rows) - 1)
			}
			if x.n != len(model) {
				t.Fatalf("%d entries, want %d", x.n, len(model))
			}
			for s := range 201 {
				k := idKey(15)<<keyLenShift | idKey(s)
				row, ok := x.get(k, rows)
				want, wantOK := model[k]
				if ok != wantOK || ok && row != want {
					t.Fatalf("get(%d) = %d, %v; want %d, %v", s, row, ok, want, wantOK)
				}
			}
		}
	})
}
