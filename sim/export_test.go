package sim

// NewSmallQueue returns a queue whose calendar ring has only slots
// buckets and grows once the heap holds growAt events, so that tests
// reach every path of the ring with a handful of events.
func NewSmallQueue[T any](slots, growAt int) *Queue[T] {
	return &Queue[T]{slots: slots, growAt: growAt}
}

// Draws is a stream of draws: a device event's dice.
type Draws interface {
	Int64N(n int64) int64
	Float64() float64
}

// EventDice returns the dice of device dev's event of kind (1 a check-in,
// 2 a report, 0 its joining a campaign) at instant at in its generation
// gen, as the simulator draws them.
func EventDice(seed uint64, dev int32, at int64, kind uint8, gen uint8) Draws {
	d := eventDice(seed, dev, at, eventKind(kind), gen)
	return &d
}
