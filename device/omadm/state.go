package omadm

import (
	"errors"
	"fmt"
	"github.com/fotakit/fota/internal/reqerr"
	"strconv"
)

// State is the FUMO node x/State, with the values of FUMO's State values. The node
// is an Int; the type is a uint8 because lifecycle.Compile indexes its
// table by state value, and every FUMO value fits.
type State uint8

// The states, numbered as on the wire.
const (
	Idle                     State = 10  // Idle/Start: no pending operation
	DownloadFailed           State = 20  // download failed
	DownloadProgressing      State = 30  // download has started
	DownloadComplete         State = 40  // download has been completed successfully
	ReadyToUpdate            State = 50  // have data and awaiting command to start update
	UpdateProgressing        State = 60  // update has started
	UpdateFailedHaveData     State = 70  // update failed but have update package
	UpdateFailedNoData       State = 80  // update failed and no update package available
	UpdateSuccessfulHaveData State = 90  // update complete and data still available
	UpdateSuccessfulNoData   State = 100 // data deleted or removed after a successful update
)

// States lists every state in wire order.
var States = []State{Idle, DownloadFailed, DownloadProgressing, DownloadComplete, ReadyToUpdate,
	UpdateProgressing, UpdateFailedHaveData, UpdateFailedNoData, UpdateSuccessfulHaveData, UpdateSuccessfulNoData}

// stateInfo is a state's name in Events, the spec's label and description.
type stateInfo struct{ name, label, description string }

var stateInfos = map[State]stateInfo{
	Idle:                     {"Idle", "Idle/Start", "No pending operation"},
	DownloadFailed:           {"DownloadFailed", "Download Failed", "Download failed"},
	DownloadProgressing:      {"DownloadProgressing", "Download Progressing", "Download has started"},
	DownloadComplete:         {"DownloadComplete", "Download Complete", "Download has been completed successfully"},
	ReadyToUpdate:            {"ReadyToUpdate", "Ready to Update", "Have data and awaiting command to start update"},
	UpdateProgressing:        {"UpdateProgressing", "Update Progressing", "Update has started"},
	UpdateFailedHaveData:     {"UpdateFailedHaveData", "Update Failed / Have Data", "Update failed but have update package"},
	UpdateFailedNoData:       {"UpdateFailedNoData", "Update Failed / No Data", "Update failed and no update package available"},
	UpdateSuccessfulHaveData: {"UpdateSuccessfulHaveData", "Update Successful / Have Data", "Update complete and data still available"},
	UpdateSuccessfulNoData:   {"UpdateSuccessfulNoData", "Update Successful / No Data", "Data deleted or removed after a successful Update"},
}

// String is the state's name in Events ("ReadyToUpdate").
func (s State) String() string {
	if i, ok := stateInfos[s]; ok {
		return i.name
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Label is the spec's name for the state ("Ready to Update"), "" for a
// value that is not a state.
func (s State) Label() string { return stateInfos[s].label }

// Description is the spec's description of the state, "" for a value
// that is not a state.
func (s State) Description() string { return stateInfos[s].description }

// Terminating reports whether the spec calls s a terminating state (20,
// 70, 80, 90, 100): the operation has ended and its Generic Alert is due.
func (s State) Terminating() bool {
	switch s {
	case DownloadFailed, UpdateFailedHaveData, UpdateFailedNoData, UpdateSuccessfulHaveData, UpdateSuccessfulNoData:
		return true
	}
	return false
}

// MarshalText writes the state's name; a value that is not a state is an
// error.
func (s State) MarshalText() ([]byte, error) {
	i, ok := stateInfos[s]
	if !ok {
		return nil, &StateError{Field: "state", Value: strconv.Itoa(int(s))}
	}
	return []byte(i.name), nil
}

// UnmarshalText accepts a state's name. On error s is unchanged.
func (s *State) UnmarshalText(b []byte) error {
	for _, t := range States {
		if stateInfos[t].name == string(b) {
			*s = t
			return nil
		}
	}
	return &StateError{Field: "state", Value: string(b)}
}

// ParseState reads the value of x/State as a device reports it. A value
// that is not one of the ten is a *StateError naming x/State.
func ParseState(v int64) (State, error) {
	if v >= 0 && v <= 255 {
		if _, ok := stateInfos[State(v)]; ok {
			return State(v), nil
		}
	}
	return Idle, &StateError{Field: "x/State", Value: strconv.FormatInt(v, 10)}
}

// ErrUnknownState is matched by errors reporting a FUMO state value or
// name that is not one.
var ErrUnknownState = errors.New("unknown FUMO state")

// StateError names the field and the value that is not a state.
type StateError struct {
	Field string // "x/State", "state"
	Value string
}

func (e *StateError) Error() string {
	return fmt.Sprintf("fota: omadm: %s: unknown state %q", e.Field, e.Value)
}

// Is reports whether target is ErrUnknownState.
func (e *StateError) Is(target error) bool {
	return target == ErrUnknownState || target == reqerr.ErrBadRequest
}

// FieldValue names the field and the value that were refused.
func (e *StateError) FieldValue() (field, value string) { return e.Field, e.Value }
