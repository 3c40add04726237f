package verboselog

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// Paging from the zero Cursor returns every kept check-in exactly once,
// newest first, with ties and late arrivals, at any page size, and pruning
// between pages loses nothing that is still kept.
func TestHistoryPagingCoversEveryEntryOnce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := DefaultPolicy()
		p.HistoryMax = rapid.IntRange(1, 40).Draw(t, "HistoryMax")
		p.HistoryRetention = rapid.SampledFrom([]time.Duration{0, 10 * time.Minute}).Draw(t, "HistoryRetention")
		var h History
		var added []CheckIn // in arrival order
		n := rapid.IntRange(0, 60).Draw(t, "n")
		for i := range n {
			// Few distinct minutes, so many ties; any arrival order.
			at := t0.Add(time.Duration(rapid.IntRange(0, 15).Draw(t, "minute")) * time.Minute)
			c := CheckIn{DeviceID: "d1", ClientType: ClientType(i), TimeCompleted: at}
			if err := h.Add(c, p); err != nil {
				t.Fatal(err)
			}
			added = append(added, c)
		}
		// The model: stable by time, the newest HistoryMax, newest first.
		kept := slices.Clone(added)
		slices.SortStableFunc(kept, func(a, b CheckIn) int { return a.TimeCompleted.Compare(b.TimeCompleted) })
		kept = kept[max(0, len(kept)-p.HistoryMax):]
		slices.Reverse(kept)
		if h.Len() != len(kept) {
			t.Fatalf("Len %d, model %d", h.Len(), len(kept))
		}
		all := h.All()
		slices.Reverse(all)
		if !slices.Equal(all, kept) {
			t.Fatalf("All (reversed) %v\nmodel %v", all, kept)
		}

		limit := rapid.IntRange(-1, 7).Draw(t, "limit")
		pruneAt := t0.Add(time.Duration(rapid.IntRange(0, 30).Draw(t, "pruneMinute")) * time.Minute)
		pruneAfter := rapid.IntRange(0, 10).Draw(t, "pruneAfterPage")
		var got []CheckIn
		var cur Cursor
		returned := -1 // check-ins returned before the prune; -1: no prune
		for pages := 0; ; pages++ {
			if pages > len(kept)+1 {
				t.Fatalf("%d pages for %d check-ins", pages, len(kept))
			}
			page, next, more := h.Page(cur, limit)
			if limit >= 1 && len(page) > limit {
				t.Fatalf("page of %d, limit %d", len(page), limit)
			}
			got = append(got, page...)
			if !more {
				break
			}
			if len(page) == 0 {
				t.Fatal("empty page with more")
			}
			cur = next
			if pages == pruneAfter {
				h.Prune(pruneAt, p)
				returned = len(got)
			}
		}
		want := kept
		if returned >= 0 && p.HistoryRetention > 0 {
			// What was returned before the prune stays returned; of the
			// rest, what is past retention at pruneAt is gone.
			want = slices.Clone(kept[:returned])
			for _, c := range kept[returned:] {
				if pruneAt.Before(c.TimeCompleted.Add(p.HistoryRetention)) {
					want = append(want, c)
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("pages gave\n%v\nwant\n%v", got, want)
		}
	})
}

// Retention: "with a configurable retention"; a check-in is gone at exactly
// TimeCompleted + HistoryRetention.
func TestHistoryRetention(t *testing.T) {
	p := DefaultPolicy()
	var h History
	for i := range 3 {
		if err := h.Add(CheckIn{DeviceID: "d1", TimeCompleted: t0.Add(time.Duration(i) * time.Hour)}, p); err != nil {
			t.Fatal(err)
		}
	}
	edge := t0.Add(p.HistoryRetention)
	if got := h.NextPrune(p); !got.Equal(edge) {
		t.Fatalf("NextPrune %s, want %s", got, edge)
	}
	if n := h.Prune(edge.Add(-time.Nanosecond), p); n != 0 || h.Len() != 3 {
		t.Fatalf("1ns before: pruned %d", n)
	}
	if n := h.Prune(edge, p); n != 1 || h.Len() != 2 {
		t.Fatalf("at the edge: pruned %d, left %d", n, h.Len())
	}
	if n := h.Prune(edge.Add(365*24*time.Hour), p); n != 2 || h.Len() != 0 || !h.NextPrune(p).IsZero() {
		t.Fatalf("a year on: pruned %d, left %d", n, h.Len())
	}
	forever := p
	forever.HistoryRetention = 0
	_ = h.Add(CheckIn{DeviceID: "d1", TimeCompleted: t0}, forever)
	if n := h.Prune(t0.Add(100*365*24*time.Hour), forever); n != 0 || !h.NextPrune(forever).IsZero() {
		t.Errorf("zero retention pruned %d", n)
	}
}

func TestHistoryRefusals(t *testing.T) {
	p := DefaultPolicy()
	var h History
	ok := CheckIn{DeviceID: "d1", TimeCompleted: t0}
	if err := h.Add(ok, p); err != nil || h.DeviceID() != "d1" {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		c   CheckIn
		err error
	}{
		"another device":       {CheckIn{DeviceID: "d2", TimeCompleted: t0}, ErrDeviceID},
		"no device":            {CheckIn{TimeCompleted: t0}, ErrDeviceID},
		"no time":              {CheckIn{DeviceID: "d1"}, ErrTime},
		"negative client type": {CheckIn{DeviceID: "d1", ClientType: -1, TimeCompleted: t0}, ErrClientType},
	} {
		if err := h.Add(tc.c, p); !errors.Is(err, tc.err) || h.Len() != 1 {
			t.Errorf("%s: %v, len %d", name, err, h.Len())
		}
	}
	if _, err := NewHistory("d1", []CheckIn{ok, {DeviceID: "d2", TimeCompleted: t0}}, p); !errors.Is(err, ErrDeviceID) {
		t.Errorf("NewHistory with another device: %v", err)
	}
	if _, err := NewHistory("", nil, p); !errors.Is(err, ErrDeviceID) {
		t.Errorf("NewHistory without device: %v", err)
	}
	p.HistoryMax = 2
	r, err := NewHistory("d1", []CheckIn{
		{DeviceID: "d1", TimeCompleted: t0.Add(2 * time.Hour)},
		{DeviceID: "d1", TimeCompleted: t0},
		{DeviceID: "d1", TimeCompleted: t0.Add(time.Hour)},
	}, p)
	if err != nil {
		t.Fatal(err)
	}
	page, _, more := r.Page(Cursor{}, 0)
	if len(page) != 2 || more || !page[0].TimeCompleted.Equal(t0.Add(2*time.Hour)) || !page[1].TimeCompleted.Equal(t0.Add(time.Hour)) {
		t.Errorf("NewHistory kept %v", page)
	}
}

// "0- Uknown, 1 - Device, 3 - RovaContainer, 5 - WiFiClient, 6 -
// RovaClient, 7 - RovaClientAppStore …" (sic): the names, the wire spelling
// kept, the JSON a number.
func TestClientTypes(t *testing.T) {
	for _, tc := range []struct {
		c    ClientType
		name string
	}{
		{0, "Uknown"}, {1, "Device"}, {3, "RovaContainer"}, {5, "WiFiClient"}, {6, "RovaClient"}, {7, "RovaClientAppStore"}, {2, "ClientType(2)"},
	} {
		if got := tc.c.String(); got != tc.name {
			t.Errorf("%d.String() = %q, want %q", int(tc.c), got, tc.name)
		}
		j, err := json.Marshal(CheckIn{ClientType: tc.c})
		if err != nil || !strings.Contains(string(j), `"clientType":`+strconv.Itoa(int(tc.c))+`,`) {
			t.Errorf("%d as JSON: %s, %v", int(tc.c), j, err)
		}
	}
	if _, err := ClientType(-2).MarshalJSON(); !errors.Is(err, ErrClientType) {
		t.Errorf("negative: %v", err)
	}
	if _, err := ClientType(-2).MarshalText(); !errors.Is(err, ErrClientType) {
		t.Errorf("negative: %v", err)
	}
}
