package content

import (
	"errors"
	"strconv"
)

// ErrMalformed is matched by errors reporting a body that is not what its
// Content-Format says.
var ErrMalformed = errors.New("malformed content")

// ErrUnsupportedFormat is matched by errors reporting a Content-Format this
// package does not read or write.
var ErrUnsupportedFormat = errors.New("unsupported content format")

// ErrForeignPath is matched by errors reporting a record outside the path
// that was asked for (a notification of /3/0/0 on an observation of
// /5/0/3, say).
var ErrForeignPath = errors.New("record outside the requested path")

// ErrType is matched by errors reporting a value that is not of the type
// asked for (Int of a string).
var ErrType = errors.New("value of another type")

// Error names the field ("format", "tlv", "senml", "json", "text", "path",
// "value"), the offending text and why.
type Error struct {
	Field  string
	Value  string
	Reason string
	kind   error
}

// Error writes the refusal with its field, value and reason.
func (e *Error) Error() string {
	return "content: " + e.Field + " " + strconv.Quote(e.Value) + ": " + e.Reason
}

// Is reports whether target is the error's kind.
func (e *Error) Is(target error) bool { return target == e.kind }

func malformed(field, value, reason string) *Error {
	if len(value) > 64 {
		value = value[:64] + "…"
	}
	return &Error{Field: field, Value: value, Reason: reason, kind: ErrMalformed}
}
