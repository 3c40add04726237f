package linkformat

import (
	"errors"
	"strconv"
)

// ErrSyntax is matched by errors reporting a payload that is not RFC 6690
// link format.
var ErrSyntax = errors.New("not link format")

// ErrObjectList is matched by errors reporting well-formed links that are not
// an LwM2M object list.
var ErrObjectList = errors.New("not an LwM2M object list")

// Error names what was refused: the field ("link", "target", "parameter",
// "value", "object", "instance", "root"), the offending text, where it starts
// in the payload, and why.
type Error struct {
	Field  string
	Value  string
	Offset int
	Reason string
	kind   error // ErrSyntax or ErrObjectList
}

// Error writes the refusal with its field, value and reason.
func (e *Error) Error() string {
	return "linkformat: " + e.Field + " " + strconv.Quote(e.Value) + " at byte " + strconv.Itoa(e.Offset) + ": " + e.Reason
}

// Is reports whether target is the error's kind (ErrSyntax or
// ErrObjectList).
func (e *Error) Is(target error) bool { return target == e.kind }

func syntaxError(field, value string, offset int, reason string) *Error {
	return &Error{Field: field, Value: value, Offset: offset, Reason: reason, kind: ErrSyntax}
}

func listError(field, value string, offset int, reason string) *Error {
	return &Error{Field: field, Value: value, Offset: offset, Reason: reason, kind: ErrObjectList}
}
