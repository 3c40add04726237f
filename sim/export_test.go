package sim

// NewSmallQueue returns a queue whose calendar ring has only slots
// buckets and grows once the heap holds growAt events, so that tests
// reach every path of the ring with a handful of events.
func NewSmallQueue[T any](slots, growAt int) *Queue[T] {
	return &Queue[T]{slots: slots, growAt: growAt}
}
