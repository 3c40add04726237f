package lifecycle

import (
	"fmt"

	"github.com/looplab/fsm"
)

// State and event types are small unsigned integers; the table is indexed
// by their values directly.
type code interface{ ~uint8 }

// Table is a compiled lifecycle: for every (state, event) pair, the
// destination state or nothing. It is immutable after Compile and safe for
// concurrent use.
type Table[S, E code] struct {
	name    string
	nEvents int
	next    []uint8 // next[s*nEvents+e] = dst+1; 0 means not allowed
	stateN  []string
	eventN  []string
	events  fsm.Events
}

// Compile builds the table of a lifecycle named name from its fsm.Events.
// stateName and eventName give the name each typed value has in events;
// states and events list every value of the two types (values must be
// below 255). It fails if events name a state or event not in the lists,
// or give one (state, event) pair two destinations.
func Compile[S, E code](name string, events fsm.Events, states []S, stateName func(S) string, evs []E, eventName func(E) string) (*Table[S, E], error) {
	maxS, maxE := 0, 0
	for _, s := range states {
		maxS = max(maxS, int(s)+1)
	}
	for _, e := range evs {
		maxE = max(maxE, int(e)+1)
	}
	t := &Table[S, E]{
		name:    name,
		nEvents: maxE,
		next:    make([]uint8, maxS*maxE),
		stateN:  make([]string, maxS),
		eventN:  make([]string, maxE),
		events:  events,
	}
	stateOf := make(map[string]S, len(states))
	for _, s := range states {
		n := stateName(s)
		if _, dup := stateOf[n]; dup {
			return nil, fmt.Errorf("lifecycle %s: state name %q used twice", name, n)
		}
		stateOf[n] = s
		t.stateN[s] = n
	}
	eventOf := make(map[string]E, len(evs))
	for _, e := range evs {
		n := eventName(e)
		if _, dup := eventOf[n]; dup {
			return nil, fmt.Errorf("lifecycle %s: event name %q used twice", name, n)
		}
		eventOf[n] = e
		t.eventN[e] = n
	}
	for _, d := range events {
		e, ok := eventOf[d.Name]
		if !ok {
			return nil, fmt.Errorf("lifecycle %s: unknown event %q", name, d.Name)
		}
		dst, ok := stateOf[d.Dst]
		if !ok {
			return nil, fmt.Errorf("lifecycle %s: unknown state %q", name, d.Dst)
		}
		for _, src := range d.Src {
			s, ok := stateOf[src]
			if !ok {
				return nil, fmt.Errorf("lifecycle %s: unknown state %q", name, src)
			}
			i := int(s)*maxE + int(e)
			if t.next[i] != 0 {
				return nil, fmt.Errorf("lifecycle %s: %s --%s--> declared twice", name, src, d.Name)
			}
			t.next[i] = uint8(dst) + 1
		}
	}
	return t, nil
}

// MustCompile is Compile for package-level tables declared in fota's own
// code, where a malformed declaration is a programming error caught by any
// test run.
func MustCompile[S, E code](name string, events fsm.Events, states []S, stateName func(S) string, evs []E, eventName func(E) string) *Table[S, E] {
	t, err := Compile(name, events, states, stateName, evs, eventName)
	if err != nil {
		panic(err)
	}
	return t
}

// Next returns the state that event e leads to from state s, or an error
// matching ErrInvalidTransition. It allocates nothing on success.
func (t *Table[S, E]) Next(s S, e E) (S, error) {
	if d, ok := t.Lookup(s, e); ok {
		return d, nil
	}
	return s, &TransitionError{Lifecycle: t.name, State: t.StateName(s), Event: t.EventName(e)}
}

// Lookup is Next without the error value: the destination and whether the
// transition exists.
func (t *Table[S, E]) Lookup(s S, e E) (S, bool) {
	i := int(s)*t.nEvents + int(e)
	if int(e) >= t.nEvents || i >= len(t.next) || t.next[i] == 0 {
		return s, false
	}
	return S(t.next[i] - 1), true
}

// Can reports whether event e is allowed in state s.
func (t *Table[S, E]) Can(s S, e E) bool {
	_, ok := t.Lookup(s, e)
	return ok
}

// Terminal reports whether no event leaves state s.
func (t *Table[S, E]) Terminal(s S) bool {
	if int(s)*t.nEvents >= len(t.next) {
		return true
	}
	for _, d := range t.next[int(s)*t.nEvents : int(s+1)*t.nEvents] {
		if d != 0 {
			return false
		}
	}
	return true
}

// Name is the lifecycle's name, as used in errors and diagrams.
func (t *Table[S, E]) Name() string { return t.name }

// StateName is the name state s has in the declaration.
func (t *Table[S, E]) StateName(s S) string {
	if int(s) < len(t.stateN) && t.stateN[s] != "" {
		return t.stateN[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// EventName is the name event e has in the declaration.
func (t *Table[S, E]) EventName(e E) string {
	if int(e) < len(t.eventN) && t.eventN[e] != "" {
		return t.eventN[e]
	}
	return fmt.Sprintf("event(%d)", uint8(e))
}

// Events returns the declaration the table was compiled from.
func (t *Table[S, E]) Events() fsm.Events { return t.events }
