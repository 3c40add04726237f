package omadm

import (
	"errors"
	"testing"
)

// FUMO's State values, "Value | State | Description".
func TestStateValues(t *testing.T) {
	for _, c := range []struct {
		v           int64
		want        State
		label, desc string
	}{
		{10, Idle, "Idle/Start", "No pending operation"},
		{20, DownloadFailed, "Download Failed", "Download failed"},
		{30, DownloadProgressing, "Download Progressing", "Download has started"},
		{40, DownloadComplete, "Download Complete", "Download has been completed successfully"},
		{50, ReadyToUpdate, "Ready to Update", "Have data and awaiting command to start update"},
		{60, UpdateProgressing, "Update Progressing", "Update has started"},
		{70, UpdateFailedHaveData, "Update Failed / Have Data", "Update failed but have update package"},
		{80, UpdateFailedNoData, "Update Failed / No Data", "Update failed and no update package available"},
		{90, UpdateSuccessfulHaveData, "Update Successful / Have Data", "Update complete and data still available"},
		{100, UpdateSuccessfulNoData, "Update Successful / No Data", "Data deleted or removed after a successful Update"},
	} {
		s, err := ParseState(c.v)
		if err != nil || s != c.want || s.Label() != c.label || s.Description() != c.desc {
			t.Errorf("ParseState(%d) = %v %q %q, %v", c.v, s, s.Label(), s.Description(), err)
		}
	}
	// "The spec calls 20, 70, 80, 90 and 100 the "terminating states"."
	for _, s := range States {
		want := s == 20 || s == 70 || s == 80 || s == 90 || s == 100
		if s.Terminating() != want {
			t.Errorf("%v.Terminating() = %v", s, s.Terminating())
		}
	}
}

func TestParseStateRefusals(t *testing.T) {
	for _, v := range []int64{0, 5, 15, 101, 110, 255, 256, -10, 1 << 40} {
		s, err := ParseState(v)
		var se *StateError
		if !errors.Is(err, ErrUnknownState) || !errors.As(err, &se) || se.Field != "x/State" || s != Idle {
			t.Errorf("ParseState(%d) = %v, %v", v, s, err)
		}
	}
	if _, err := ParseState(15); err.Error() != `fota: omadm: x/State: unknown state "15"` {
		t.Errorf("message %v", err)
	}
}

func TestStateText(t *testing.T) {
	for _, s := range States {
		b, err := s.MarshalText()
		back := Idle
		if err != nil || back.UnmarshalText(b) != nil || back != s {
			t.Errorf("%v does not round-trip", s)
		}
	}
	if _, err := State(15).MarshalText(); !errors.Is(err, ErrUnknownState) {
		t.Errorf("State(15).MarshalText: %v", err)
	}
	s := UpdateProgressing
	if err := s.UnmarshalText([]byte("Idle/Start")); !errors.Is(err, ErrUnknownState) || s != UpdateProgressing {
		t.Errorf("UnmarshalText(label) = %v, left %v", err, s)
	}
	if State(15).String() != "State(15)" || State(15).Label() != "" || Event(0).String() != "Event(0)" {
		t.Error("names of non-states")
	}
}
