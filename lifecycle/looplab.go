package lifecycle

import (
	"context"
	"errors"

	"github.com/looplab/fsm"
)

// LooplabNext asks a real looplab FSM, placed in state src, what event does:
// the destination and whether looplab allows it. Tests use it as the oracle
// that a compiled Table must agree with. It is slow (it builds an FSM per
// call) and is not meant for production paths.
func LooplabNext(events fsm.Events, src, event string) (string, bool) {
	f := fsm.NewFSM(src, events, nil)
	if !f.Can(event) {
		return src, false
	}
	err := f.Event(context.Background(), event)
	var same fsm.NoTransitionError
	if err != nil && !errors.As(err, &same) {
		return src, false
	}
	return f.Current(), true
}

// Diagram draws the lifecycle as a Mermaid state diagram starting at
// initial, with fsm.VisualizeWithType, so the picture comes from the same
// declaration as the table.
func Diagram(events fsm.Events, initial string) (string, error) {
	return fsm.VisualizeWithType(fsm.NewFSM(initial, events, nil), fsm.MERMAID)
}
