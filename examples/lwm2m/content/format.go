package content

import "strconv"

// Format is a CoAP Content-Format number (IANA CoRE parameters registry,
// https://www.iana.org/assignments/core-parameters/).
type Format uint16

// The formats LwM2M uses.
const (
	TextPlain  Format = 0
	LinkFormat Format = 40
	Opaque     Format = 42
	SenMLJSON  Format = 110
	SenMLCBOR  Format = 112
	TLV        Format = 11542
	JSON       Format = 11543 // LwM2M 1.0 JSON
	tlvOld     Format = 1542  // LwM2M 1.0 drafts' TLV number
	jsonOld    Format = 1543  // LwM2M 1.0 drafts' JSON number
)

// String names the format ("application/vnd.oma.lwm2m+tlv").
func (f Format) String() string {
	switch f {
	case TextPlain:
		return "text/plain"
	case LinkFormat:
		return "application/link-format"
	case Opaque:
		return "application/octet-stream"
	case SenMLJSON:
		return "application/senml+json"
	case SenMLCBOR:
		return "application/senml+cbor"
	case TLV, tlvOld:
		return "application/vnd.oma.lwm2m+tlv"
	case JSON, jsonOld:
		return "application/vnd.oma.lwm2m+json"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}
