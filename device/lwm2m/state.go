package lwm2m

import (
	"errors"
	"fmt"
	"github.com/fotakit/fota/internal/reqerr"
	"strconv"
)

// State is resource /5/0/3 (State) of the Firmware Update object, with the
// numeric values the registry gives it.
type State uint8

// The states, numbered as on the wire.
const (
	Idle        State = 0 // no package, or the last update ended
	Downloading State = 1 // receiving a package (push) or fetching it (pull)
	Downloaded  State = 2 // a verified package is waiting for Execute Update
	Updating    State = 3 // installing the package

	numStates = 4
)

// States lists every state in wire order.
var States = []State{Idle, Downloading, Downloaded, Updating}

var stateNames = [numStates]string{"Idle", "Downloading", "Downloaded", "Updating"}

// String is the state's name in Events ("Downloaded").
func (s State) String() string {
	if s >= numStates {
		return fmt.Sprintf("State(%d)", uint8(s))
	}
	return stateNames[s]
}

// MarshalText writes the state's name; a value off the wire range is an
// error.
func (s State) MarshalText() ([]byte, error) {
	if s >= numStates {
		return nil, &RangeError{Resource: ResourceState, Value: int64(s)}
	}
	return []byte(stateNames[s]), nil
}

// UnmarshalText accepts a state's name. On error s is unchanged.
func (s *State) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if n == string(b) {
			*s = State(i)
			return nil
		}
	}
	return &NameError{Field: "state", Value: string(b)}
}

// ParseState reads the value of resource /5/0/3 as a device reports it.
// Anything outside 0..3 is a *RangeError naming /5/0/3.
func ParseState(v int64) (State, error) {
	if v < 0 || v >= numStates {
		return Idle, &RangeError{Resource: ResourceState, Value: v}
	}
	return State(v), nil
}

// Result is resource /5/0/5 (Update Result): how the last download or
// update ended. Values 10 and 11 exist from object version 1.1 on.
type Result uint8

// The results, numbered as on the wire (registry names in comments).
const (
	Initial                Result = 0  // initial value; reset when an update process starts
	Success                Result = 1  // firmware updated successfully
	NotEnoughFlash         Result = 2  // not enough flash memory
	OutOfRAM               Result = 3  // out of RAM during download
	ConnectionLost         Result = 4  // connection lost during download
	IntegrityCheckFailure  Result = 5  // integrity check failure
	UnsupportedPackageType Result = 6  // unsupported package type
	InvalidURI             Result = 7  // invalid URI
	UpdateFailed           Result = 8  // firmware update failed
	UnsupportedProtocol    Result = 9  // unsupported protocol (URI scheme)
	Cancelled              Result = 10 // firmware update cancelled (v1.1)
	Deferred               Result = 11 // firmware update deferred (v1.1)

	numResults = 12
)

// Results lists every result in wire order.
var Results = func() []Result {
	rs := make([]Result, numResults)
	for i := range rs {
		rs[i] = Result(i)
	}
	return rs
}()

var resultInfos = [numResults]struct{ name, meaning string }{
	{"Initial", "Initial value"},
	{"Success", "Firmware updated successfully"},
	{"NotEnoughFlash", "Not enough flash memory"},
	{"OutOfRAM", "Out of RAM during download"},
	{"ConnectionLost", "Connection lost during download"},
	{"IntegrityCheckFailure", "Integrity check failure"},
	{"UnsupportedPackageType", "Unsupported package type"},
	{"InvalidURI", "Invalid URI"},
	{"UpdateFailed", "Firmware update failed"},
	{"UnsupportedProtocol", "Unsupported protocol (URI scheme)"},
	{"Cancelled", "Firmware update cancelled"},
	{"Deferred", "Firmware update deferred"},
}

// String is the result's Go-like name ("IntegrityCheckFailure").
func (r Result) String() string {
	if r >= numResults {
		return fmt.Sprintf("Result(%d)", uint8(r))
	}
	return resultInfos[r].name
}

// Meaning is the registry's description of the result ("Integrity check
// failure"), "" for a value off the wire range.
func (r Result) Meaning() string {
	if r >= numResults {
		return ""
	}
	return resultInfos[r].meaning
}

// MarshalText writes the result's name; a value off the wire range is an
// error.
func (r Result) MarshalText() ([]byte, error) {
	if r >= numResults {
		return nil, &RangeError{Resource: ResourceResult, Value: int64(r)}
	}
	return []byte(resultInfos[r].name), nil
}

// UnmarshalText accepts a result's name. On error r is unchanged.
func (r *Result) UnmarshalText(b []byte) error {
	for i, info := range resultInfos {
		if info.name == string(b) {
			*r = Result(i)
			return nil
		}
	}
	return &NameError{Field: "result", Value: string(b)}
}

// ParseResult reads the value of resource /5/0/5 as a device reports it.
// Anything outside 0..11 is a *RangeError naming /5/0/5. A v1.0 client
// never sends 10 or 11, but accepting them costs nothing.
func ParseResult(v int64) (Result, error) {
	if v < 0 || v >= numResults {
		return Initial, &RangeError{Resource: ResourceResult, Value: v}
	}
	return Result(v), nil
}

// The resource paths errors name.
const (
	ResourceState  = "/5/0/3" // State
	ResourceResult = "/5/0/5" // Update Result
)

// ErrOutOfRange is matched by errors reporting a State or Update Result
// value outside the registry's range.
var ErrOutOfRange = errors.New("value out of range")

// RangeError names the resource and the value it cannot hold.
type RangeError struct {
	Resource string // ResourceState or ResourceResult
	Value    int64
}

func (e *RangeError) Error() string {
	return "fota: lwm2m: " + e.Resource + ": value " + strconv.FormatInt(e.Value, 10) + " out of range"
}

// Is reports whether target is ErrOutOfRange.
func (e *RangeError) Is(target error) bool {
	return target == ErrOutOfRange || target == reqerr.ErrBadRequest
}

// FieldValue names the resource and the value that were refused.
func (e *RangeError) FieldValue() (field, value string) {
	return e.Resource, strconv.FormatInt(e.Value, 10)
}

// ErrUnknownName is matched by errors parsing a state or result name that
// is not one.
var ErrUnknownName = errors.New("unknown name")

// NameError names the field and the text that is not a name.
type NameError struct {
	Field string // "state", "result"
	Value string
}

func (e *NameError) Error() string {
	return fmt.Sprintf("fota: lwm2m: %s: unknown name %q", e.Field, e.Value)
}

// Is reports whether target is ErrUnknownName.
func (e *NameError) Is(target error) bool {
	return target == ErrUnknownName || target == reqerr.ErrBadRequest
}

// FieldValue names the field and the value that were refused.
func (e *NameError) FieldValue() (field, value string) { return e.Field, e.Value }
