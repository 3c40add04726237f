package pilot

import (
	"fmt"
	"strconv"
	"strings"
)

// Target is the software a gate guards, for one account: the software
// named SoftwareName moving devices from one version to another. Each
// account has its own gates, so one account's pilot never lifts another's;
// the software's name is part of the key, so another package that happens
// to share the versions is gated on its own. Make and model are not: the
// software package decides which devices it fits, and a request that
// names a make is gated as one that does not. Fields are compared exactly,
// as given (no case folding or trimming). Target is comparable and serves
// as a map key.
type Target struct {
	Account      string
	SoftwareName string
	SoftwareFrom string // the prerequisite (current) software version
	SoftwareTo   string // the software the campaign installs
}

// String writes the target as account:name from->to, each part quoted only
// when needed to keep it readable ("acme:lamp-fw 1.0->1.1").
func (t Target) String() string {
	return fmt.Sprintf("%s:%s %s->%s", part(t.Account), part(t.SoftwareName), part(t.SoftwareFrom), part(t.SoftwareTo))
}

// part quotes a field that is empty or holds characters that would make the
// rendering ambiguous (spaces, ":", "->", quotes, control or non-ASCII).
func part(s string) string {
	if s == "" || strings.Contains(s, "->") {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if r <= ' ' || r == ':' || r == '"' || r > '~' {
			return strconv.Quote(s)
		}
	}
	return s
}
