package sim_test

import (
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/fotakit/fota/sim"
	"pgregory.net/rapid"
)

// queueModel is the obvious queue: a slice kept sorted by (time, push
// order), popped from the front.
type queueModel struct {
	items []modelItem
	seq   int
}

type modelItem struct {
	at  int64
	seq int
	v   int
}

func (m *queueModel) push(at int64, v int) {
	m.seq++
	i := sort.Search(len(m.items), func(i int) bool { return m.items[i].at > at })
	m.items = append(m.items, modelItem{})
	copy(m.items[i+1:], m.items[i:])
	m.items[i] = modelItem{at, m.seq, v}
}

// TestQueue checks Queue against the model: Pop returns the earliest
// event, the first pushed among equal instants, whatever the instants
// (microseconds apart, before 1970, far future, spread over days), and
// Len, Peek and Reset agree.
func TestQueue(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// Most runs use a queue whose calendar ring is tiny (8 buckets of
		// about 16 s) and grows early, so that every path of the ring is
		// taken; the others use the real sizes.
		q := new(sim.Queue[int])
		if rapid.IntRange(0, 3).Draw(t, "small") > 0 {
			q = sim.NewSmallQueue[int](8, rapid.IntRange(1, 8).Draw(t, "growAt"))
		}
		var m queueModel
		base := sim.Micros(time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC))
		const second = int64(1e6)
		instant := rapid.Custom(func(t *rapid.T) int64 {
			switch rapid.IntRange(0, 6).Draw(t, "kind") {
			case 5, 6: // minutes: several buckets, several events in each
				return base + int64(rapid.IntRange(0, 120).Draw(t, "s"))*second
			case 4: // over days: many buckets of the ring, and beyond it
				return base + int64(rapid.IntRange(-100, 5*24*3600).Draw(t, "s"))*second
			case 0: // a few distinct seconds: many ties
				return base + int64(rapid.IntRange(0, 5).Draw(t, "s"))*second
			case 1: // microseconds apart
				return base + int64(rapid.IntRange(-3, 3).Draw(t, "us"))
			case 2: // long before the Unix epoch
				return sim.Micros(time.Date(1601, 1, 1, 0, 0, rapid.IntRange(0, 3).Draw(t, "s"), 0, time.UTC))
			}
			return sim.Micros(time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)) + int64(rapid.IntRange(0, 999999).Draw(t, "us"))
		})
		next := 0
		t.Repeat(map[string]func(*rapid.T){
			"push": func(t *rapid.T) {
				at := instant.Draw(t, "at")
				next++
				q.Push(at, next)
				m.push(at, next)
			},
			"pop": func(t *rapid.T) {
				at, v, ok := q.Pop()
				if len(m.items) == 0 {
					if ok {
						t.Fatalf("popped %d at %v from an empty queue", v, at)
					}
					return
				}
				want := m.items[0]
				m.items = m.items[1:]
				if !ok || v != want.v || at != want.at {
					t.Fatalf("popped %d at %v (%v), want %d at %v", v, at, ok, want.v, want.at)
				}
			},
			"popAt": func(t *rapid.T) {
				// Pops the earliest only when it is at the instant asked and
				// accepted (here: odd); else removes nothing.
				at := instant.Draw(t, "at")
				if len(m.items) > 0 && rapid.Bool().Draw(t, "asked") {
					at = m.items[0].at
				}
				odd := func(v int) bool { return v%2 == 1 }
				v, ok := q.PopAt(at, odd)
				want := len(m.items) > 0 && m.items[0].at == at && odd(m.items[0].v)
				if ok != want || ok && v != m.items[0].v {
					t.Fatalf("PopAt(%v) = %d, %v; queued %v", at, v, ok, m.items)
				}
				if ok {
					m.items = m.items[1:]
				}
			},
			"upcoming": func(t *rapid.T) {
				// A hint: up to n queued events, in the order they will pop.
				n := rapid.IntRange(0, 20).Draw(t, "n")
				got := q.Upcoming(nil, n)
				if len(got) > n {
					t.Fatalf("Upcoming(%d) gave %d events", n, len(got))
				}
				j := 0
				for _, v := range got {
					for j < len(m.items) && m.items[j].v != v {
						j++
					}
					if j == len(m.items) {
						t.Fatalf("Upcoming gave %v: not queued in this order (queued %v)", got, m.items)
					}
					j++
				}
			},
			"reset": func(t *rapid.T) {
				if rapid.IntRange(0, 9).Draw(t, "rarely") == 0 {
					q.Reset()
					m.items = nil
				}
			},
			"": func(t *rapid.T) {
				if q.Len() != len(m.items) {
					t.Fatalf("Len %d, model %d", q.Len(), len(m.items))
				}
				at, v, ok := q.Peek()
				if ok != (len(m.items) > 0) || ok && (v != m.items[0].v || at != m.items[0].at) {
					t.Fatalf("Peek %d at %v (%v), model %v", v, at, ok, m.items)
				}
			},
		})
	})
}

func TestClock(t *testing.T) {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	c := sim.NewClock(start)
	if !c.Now().Equal(start) {
		t.Fatalf("NewClock: %v", c.Now())
	}
	if got := c.Advance(90 * time.Minute); !got.Equal(start.Add(90*time.Minute)) || !c.Now().Equal(got) {
		t.Fatalf("Advance: %v, Now %v", got, c.Now())
	}
	c.Set(start.Add(-time.Hour))
	if !c.Now().Equal(start.Add(-time.Hour)) {
		t.Fatalf("Set backwards: %v", c.Now())
	}
	if got := c.Advance(-time.Hour); !got.Equal(start.Add(-2 * time.Hour)) {
		t.Fatalf("Advance backwards: %v", got)
	}
	var zero sim.Clock
	if !zero.Now().IsZero() {
		t.Fatalf("zero Clock reads %v", zero.Now())
	}
	// Safe for concurrent use: a harness may share it (go test -race).
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				c.Advance(time.Second)
				_ = c.Now()
			}
		}()
	}
	wg.Wait()
	if got := c.Now(); !got.Equal(start.Add(-2*time.Hour + 400*time.Second)) {
		t.Fatalf("after 400 concurrent advances of 1 s: %v", got)
	}
}

// TestQueueRing drives a queue with a tiny calendar ring (8 buckets of
// about 16 s, a 134 s window) through uniformly random pushes and pops
// around its window, including its edges, the past and sub-second
// instants, and checks every pop against the model. rapid's generators
// favour small values; these sequences put events out of order inside
// buckets.
func TestQueueRing(t *testing.T) {
	base := sim.Micros(time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC))
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 0))
		q := sim.NewSmallQueue[int](8, 1+int(seed%4))
		var m queueModel
		for i := range 400 {
			if rng.IntN(3) > 0 {
				at := base + int64(rng.IntN(400)-40)*1e6 + int64(rng.IntN(3))*1e3
				q.Push(at, i)
				m.push(at, i)
				continue
			}
			at, v, ok := q.Pop()
			if len(m.items) == 0 {
				if ok {
					t.Fatalf("seed %d: popped %d from an empty queue", seed, v)
				}
				continue
			}
			want := m.items[0]
			m.items = m.items[1:]
			if !ok || v != want.v || at != want.at {
				t.Fatalf("seed %d, step %d: popped %d at %v, want %d at %v", seed, i, v, at-base, want.v, want.at-base)
			}
		}
		for len(m.items) > 0 {
			at, v, _ := q.Pop()
			if v != m.items[0].v || at != m.items[0].at {
				t.Fatalf("seed %d, draining: popped %d at %v, want %d at %v", seed, v, at-base, m.items[0].v, m.items[0].at-base)
			}
			m.items = m.items[1:]
		}
		if q.Len() != 0 {
			t.Fatalf("seed %d: %d left", seed, q.Len())
		}
	}
}

// TestQueueUpcoming: on a large queue whose next events fall in one
// bucket of its ring, Upcoming gives exactly the events the next pops
// return.
func TestQueueUpcoming(t *testing.T) {
	q := sim.NewSmallQueue[int](8, 1)                                           // a ring from the second event on
	base := sim.Micros(time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)) >> 24 << 24 // a bucket's start
	q.Push(base, -2)
	for i := range 10000 {
		q.Push(base+1<<24+int64(i*37%10000)*1000, i) // 10 s of the next bucket, shuffled
	}
	if _, v, _ := q.Pop(); v != -2 {
		t.Fatalf("popped %d first", v)
	}
	for popped := 0; popped < 10000; {
		ahead := q.Upcoming(nil, 16)
		if len(ahead) == 0 {
			t.Fatalf("Upcoming gave nothing with %d events of the bucket left", 10000-popped)
		}
		for _, want := range ahead {
			if _, v, _ := q.Pop(); v != want {
				t.Fatalf("popped %d, Upcoming said %d", v, want)
			}
			popped++
		}
	}
}

// TestQueueSortsLargeBuckets: events of one large bucket, pushed in a
// random order with many ties, at instants spread over the bucket's low
// bits, pop in (instant, push) order.
func TestQueueSortsLargeBuckets(t *testing.T) {
	for _, spread := range []int64{1, 200, 1 << 16, 1<<24 - 1} {
		q := sim.NewSmallQueue[int](8, 1)
		base := sim.Micros(time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)) >> 24 << 24
		q.Push(base, -1)
		rng := rand.New(rand.NewPCG(uint64(spread), 7))
		var m queueModel
		for i := range 5000 {
			at := base + 1<<24 + rng.Int64N(spread)
			q.Push(at, i)
			m.push(at, i)
		}
		if _, v, _ := q.Pop(); v != -1 {
			t.Fatalf("popped %d first", v)
		}
		for _, want := range m.items {
			at, v, ok := q.Pop()
			if !ok || v != want.v || at != want.at {
				t.Fatalf("spread %d: popped %d at %d, want %d at %d", spread, v, at, want.v, want.at)
			}
		}
	}
}
