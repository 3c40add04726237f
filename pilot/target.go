package pilot

import (
	"fmt"
	"strconv"
	"strings"
)

// Target is the software a gate guards: devices of one make and model moving
// from one software version to another. Fields are compared exactly, as
// given (no case folding or trimming): the host spells them the way its
// campaign requests do. Target is comparable and serves as a map key.
type Target struct {
	Make         string
	Model        string
	SoftwareFrom string // the prerequisite (current) software version
	SoftwareTo   string // the software the campaign installs
}

// String writes the target as make/model from->to, each part quoted only
// when needed to keep it readable ("Acme/Tracker 1.0->1.1").
func (t Target) String() string {
	return fmt.Sprintf("%s/%s %s->%s", part(t.Make), part(t.Model), part(t.SoftwareFrom), part(t.SoftwareTo))
}

// part quotes a field that is empty or holds characters that would make the
// rendering ambiguous (spaces, "/", "->", quotes, control or non-ASCII).
func part(s string) string {
	if s == "" || strings.Contains(s, "->") {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if r <= ' ' || r == '/' || r == '"' || r > '~' {
			return strconv.Quote(s)
		}
	}
	return s
}
