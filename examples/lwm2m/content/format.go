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
	textOld    Format = 1541  // LwM2M 1.0 drafts' plain text number (lwm2m-node-lib registers it)
	tlvOld     Format = 1542  // LwM2M 1.0 drafts' TLV number
	jsonOld    Format = 1543  // LwM2M 1.0 drafts' JSON number
	opaqueOld  Format = 1544  // LwM2M 1.0 drafts' opaque number
)

// String names the format ("application/vnd.oma.lwm2m+tlv").
func (f Format) String() string {
	switch f {
	case TextPlain, textOld:
		return "text/plain"
	case LinkFormat:
		return "application/link-format"
	case Opaque, opaqueOld:
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
