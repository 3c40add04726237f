package push

import (
	"errors"
	"strconv"
)

// ErrBadConfig is matched by errors refusing a Runner's configuration.
var ErrBadConfig = errors.New("bad runner configuration")

// ArgError names the configuration field refused, its value, and why.
type ArgError struct {
	Field  string
	Value  string
	Reason string
}

// Error writes the refusal with its field, value and reason.
func (e *ArgError) Error() string {
	return "push: " + e.Field + " " + strconv.Quote(e.Value) + ": " + e.Reason
}

// Is reports whether target is ErrBadConfig.
func (e *ArgError) Is(target error) bool { return target == ErrBadConfig }
