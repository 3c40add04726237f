package pilot

import (
	"fmt"
	"strconv"
)

// Ending is how a campaign stopped. Only EndedNormally lets a campaign count
// as a pilot. The zero value is not an ending, so an Outcome whose Ending
// was never set is refused instead of silently counting.
type Ending uint8

// The endings, by the campaign status they correspond to.
const (
	EndedNormally Ending = iota + 1 // CampaignEnded: ran to its end date
	Cancelled                       // CampaignCancelled: stopped before its start date
	Aborted                         // CampaignAborted: stopped after its start date
	Failed                          // CampaignFailed or CampaignRequestFailed: never ran
)

var endingNames = [...]string{EndedNormally: "EndedNormally", Cancelled: "Cancelled", Aborted: "Aborted", Failed: "Failed"}

// String is the ending's name: "EndedNormally", "Cancelled", "Aborted" or
// "Failed".
func (e Ending) String() string {
	if e.valid() {
		return endingNames[e]
	}
	return fmt.Sprintf("Ending(%d)", uint8(e))
}

func (e Ending) valid() bool { return e >= EndedNormally && e <= Failed }

// MarshalText writes the ending's name; an unknown ending is an
// *OutcomeError.
func (e Ending) MarshalText() ([]byte, error) {
	if !e.valid() {
		return nil, &OutcomeError{Field: "Ending", Value: e.String(), Rule: "is not an ending"}
	}
	return []byte(e.String()), nil
}

// UnmarshalText reads a name written by String; anything else is an
// *OutcomeError and leaves e unchanged.
func (e *Ending) UnmarshalText(b []byte) error {
	for i, n := range endingNames {
		if n != "" && n == string(b) {
			*e = Ending(i)
			return nil
		}
	}
	return &OutcomeError{Field: "Ending", Value: strconv.Quote(string(b)), Rule: "is not an ending"}
}

// Outcome is what a finished campaign for a target tells its gate.
type Outcome struct {
	Ending Ending
	// Devices is the campaign's size as a pilot: the devices accepted into
	// it, not counting those rejected at scheduling (DeviceRejected) and
	// those removed before it ran, which were never offered the software.
	Devices int
	// Succeeded is how many of those devices ended in UpgradeSuccess.
	Succeeded int
}

// validate reports the first impossible field as an *OutcomeError.
func (o Outcome) validate(t Target) error {
	switch {
	case !o.Ending.valid():
		return &OutcomeError{Target: t, Field: "Ending", Value: o.Ending.String(), Rule: "is not an ending"}
	case o.Devices < 0:
		return &OutcomeError{Target: t, Field: "Devices", Value: itoa(o.Devices), Rule: "must not be negative"}
	case o.Succeeded < 0:
		return &OutcomeError{Target: t, Field: "Succeeded", Value: itoa(o.Succeeded), Rule: "must not be negative"}
	case o.Succeeded > o.Devices:
		return &OutcomeError{Target: t, Field: "Succeeded", Value: itoa(o.Succeeded), Rule: "must not exceed Devices = " + itoa(o.Devices)}
	}
	return nil
}
