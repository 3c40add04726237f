package device

import (
	"errors"
	"fmt"
	"github.com/fotakit/fota/internal/reqerr"
)

// Protocol is how a device is managed, and so which ThingSpace resource
// path and lifecycle family its campaigns follow.
type Protocol uint8

// The protocols. The zero value is not a protocol.
const (
	LWM2M Protocol = iota + 1 // pushed, /v1 (and /v3); Object 5 below the status
	OMADM                     // pushed, /v1; FUMO below the status
	HTTP                      // checks in, /v2
)

// Protocols lists every protocol.
var Protocols = []Protocol{LWM2M, OMADM, HTTP}

// Family is a group of protocols sharing one campaign lifecycle and one set
// of status spellings.
type Family uint8

// The families. The zero value is not a family.
const (
	FamilyPush Family = iota + 1 // LWM2M and OMA-DM: the server pushes
	FamilyHTTP                   // HTTP: the device checks in
)

// Families lists every family.
var Families = []Family{FamilyPush, FamilyHTTP}

// ErrUnknownProtocol is matched by errors parsing a protocol or family name.
var ErrUnknownProtocol = errors.New("unknown protocol")

// ProtocolError names the field and the value that is not a protocol.
type ProtocolError struct {
	Field string
	Value string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("fota: %s: unknown protocol %q", e.Field, e.Value)
}

// Is reports whether target is ErrUnknownProtocol.
func (e *ProtocolError) Is(target error) bool {
	return target == ErrUnknownProtocol || target == reqerr.ErrBadRequest
}

// FieldValue names the field and the value that were refused.
func (e *ProtocolError) FieldValue() (field, value string) { return e.Field, e.Value }

// Family is the lifecycle family the protocol belongs to.
func (p Protocol) Family() Family {
	switch p {
	case LWM2M, OMADM:
		return FamilyPush
	case HTTP:
		return FamilyHTTP
	}
	return 0
}

// String is the protocol's ThingSpace spelling: "LWM2M", "OMA-DM" or "HTTP".
func (p Protocol) String() string {
	switch p {
	case LWM2M:
		return "LWM2M"
	case OMADM:
		return "OMA-DM"
	case HTTP:
		return "HTTP"
	}
	return fmt.Sprintf("Protocol(%d)", uint8(p))
}

// MarshalText writes the ThingSpace spelling.
func (p Protocol) MarshalText() ([]byte, error) {
	if p.Family() == 0 {
		return nil, &ProtocolError{Field: "protocol", Value: p.String()}
	}
	return []byte(p.String()), nil
}

// UnmarshalText accepts every spelling ThingSpace uses: "LWM2M", "HTTP",
// "OMA-DM", "OMA" (v2's distributionType) and "OMD-DM" (v3's enum, sic).
func (p *Protocol) UnmarshalText(b []byte) error {
	q, err := ParseProtocol(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// ParseProtocol parses a ThingSpace protocol spelling (see UnmarshalText).
func ParseProtocol(s string) (Protocol, error) {
	switch s {
	case "LWM2M":
		return LWM2M, nil
	case "OMA-DM", "OMA", "OMD-DM", "OMADM":
		return OMADM, nil
	case "HTTP":
		return HTTP, nil
	}
	return 0, &ProtocolError{Field: "protocol", Value: s}
}

// String is the catalog's spelling of the family: "PUSH" or "HTTP".
func (f Family) String() string {
	switch f {
	case FamilyPush:
		return "PUSH"
	case FamilyHTTP:
		return "HTTP"
	}
	return fmt.Sprintf("Family(%d)", uint8(f))
}

// MarshalText writes "PUSH" or "HTTP".
func (f Family) MarshalText() ([]byte, error) {
	if f != FamilyPush && f != FamilyHTTP {
		return nil, &ProtocolError{Field: "family", Value: f.String()}
	}
	return []byte(f.String()), nil
}

// UnmarshalText accepts "PUSH" or "HTTP".
func (f *Family) UnmarshalText(b []byte) error {
	switch string(b) {
	case "PUSH":
		*f = FamilyPush
	case "HTTP":
		*f = FamilyHTTP
	default:
		return &ProtocolError{Field: "family", Value: string(b)}
	}
	return nil
}
