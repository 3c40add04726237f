package lifecycle

import (
	"errors"
	"fmt"
)

// ErrInvalidTransition is matched (errors.Is) by every error reporting an
// event that the current state does not allow, in any fota lifecycle.
var ErrInvalidTransition = errors.New("invalid transition")

// TransitionError names the lifecycle, the state and the refused event.
// The state is left unchanged by the operation that returned it.
type TransitionError struct {
	Lifecycle string // e.g. "campaign (HTTP)", "device (push)"
	State     string // the state the event was refused in
	Event     string // the refused event
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("fota: %s: event %q not allowed in state %q", e.Lifecycle, e.Event, e.State)
}

// Is reports whether target is ErrInvalidTransition.
func (e *TransitionError) Is(target error) bool { return target == ErrInvalidTransition }
