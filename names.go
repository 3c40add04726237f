package fota

import "fmt"

// names spells a small enum of this package: names[v] is value v's name,
// "" for a value that has none. Action, Outcome, CommandKind and
// ChangeKind print, marshal and parse through it alike.
type names struct {
	typ    string   // the Go type, for values without a name: "Action(9)"
	field  string   // the JSON field a refused value is reported under
	values []string // by value
}

func (n names) string(v uint8) string {
	if int(v) < len(n.values) && n.values[v] != "" {
		return n.values[v]
	}
	return fmt.Sprintf("%s(%d)", n.typ, v)
}

func (n names) marshal(v uint8) ([]byte, error) {
	if int(v) < len(n.values) && n.values[v] != "" {
		return []byte(n.values[v]), nil
	}
	return nil, &RequestError{Field: n.field, Value: n.string(v), Reason: "unknown " + n.field}
}

func (n names) parse(b []byte) (uint8, error) {
	for i, s := range n.values {
		if s != "" && s == string(b) {
			return uint8(i), nil
		}
	}
	return 0, &RequestError{Field: n.field, Value: string(b), Reason: "unknown " + n.field}
}
