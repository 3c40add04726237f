package content

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/fxamacker/cbor/v2"
)

// Encode writes recs, all at or below base, in format f: what a client
// answers to a Read of base. Plain text takes exactly one record. TLV
// writes resources (and resource instances under a Multiple Resource
// entry) below an object instance or a resource. A record outside base is
// an *Error matching ErrForeignPath.
func Encode(f Format, base Path, recs []Record) ([]byte, error) {
	for _, r := range recs {
		if !base.Contains(r.Path) {
			return nil, &Error{Field: "path", Value: r.Path.String(), Reason: "outside " + base.String(), kind: ErrForeignPath}
		}
	}
	switch f {
	case TextPlain:
		if len(recs) != 1 {
			return nil, malformed("text", strconv.Itoa(len(recs))+" records", "plain text carries exactly one")
		}
		return []byte(recs[0].Value.String()), nil
	case TLV:
		return encodeTLV(base, recs)
	case SenMLJSON, SenMLCBOR:
		return encodeSenML(f, base, recs)
	}
	return nil, &Error{Field: "format", Value: strconv.Itoa(int(f)), Reason: "not a format this package writes", kind: ErrUnsupportedFormat}
}

func encodeTLV(base Path, recs []Record) ([]byte, error) {
	if base.Len() < 2 {
		return nil, malformed("tlv", base.String(), "TLV is written below an object instance")
	}
	var out []byte
	for i := 0; i < len(recs); {
		r := recs[i]
		switch r.Path.Len() {
		case 3:
			out = appendTLV(out, tlvResource, r.Path.ID(2), tlvBytes(r.Value))
			i++
		case 4:
			// Consecutive instances of one resource form a Multiple Resource.
			var inner []byte
			j := i
			for ; j < len(recs) && recs[j].Path.Len() == 4 && recs[j].Path.ID(2) == r.Path.ID(2); j++ {
				inner = appendTLV(inner, tlvResourceInstance, recs[j].Path.ID(3), tlvBytes(recs[j].Value))
			}
			out = appendTLV(out, tlvMultiple, r.Path.ID(2), inner)
			i = j
		default:
			return nil, malformed("tlv", r.Path.String(), "not a resource or resource instance")
		}
	}
	return out, nil
}

// tlvBytes writes a value as TLV does: integers in the fewest of 1, 2, 4
// or 8 bytes, booleans as one byte, strings and opaque as they are.
func tlvBytes(v Value) []byte {
	switch v.Kind {
	case KindNumber:
		if v.Number == math.Trunc(v.Number) && math.Abs(v.Number) <= 1<<53 {
			n := int64(v.Number)
			switch {
			case n >= math.MinInt8 && n <= math.MaxInt8:
				return []byte{byte(n)}
			case n >= math.MinInt16 && n <= math.MaxInt16:
				return binary.BigEndian.AppendUint16(nil, uint16(n))
			case n >= math.MinInt32 && n <= math.MaxInt32:
				return binary.BigEndian.AppendUint32(nil, uint32(n))
			}
			return binary.BigEndian.AppendUint64(nil, uint64(n))
		}
		return binary.BigEndian.AppendUint64(nil, math.Float64bits(v.Number))
	case KindBool:
		if v.Bool {
			return []byte{1}
		}
		return []byte{0}
	case KindRaw, KindBytes:
		return v.Bytes
	}
	return []byte(v.Text)
}

func appendTLV(out []byte, typ int, id uint16, val []byte) []byte {
	h := byte(typ) << 6
	idBytes := []byte{byte(id)}
	if id > 255 {
		h |= 1 << 5
		idBytes = []byte{byte(id >> 8), byte(id)}
	}
	n := len(val)
	var lenBytes []byte
	switch {
	case n < 8:
		h |= byte(n)
	case n < 1<<8:
		h |= 1 << 3
		lenBytes = []byte{byte(n)}
	case n < 1<<16:
		h |= 2 << 3
		lenBytes = []byte{byte(n >> 8), byte(n)}
	default:
		h |= 3 << 3
		lenBytes = []byte{byte(n >> 16), byte(n >> 8), byte(n)}
	}
	out = append(out, h)
	out = append(out, idBytes...)
	out = append(out, lenBytes...)
	return append(out, val...)
}

func encodeSenML(f Format, base Path, recs []Record) ([]byte, error) {
	bn := base.String()
	if !strings.HasSuffix(bn, "/") {
		bn += "/"
	}
	jsonRecs := make([]map[string]any, len(recs))
	cborRecs := make([]map[any]any, len(recs))
	for i, r := range recs {
		name := strings.TrimPrefix(r.Path.String(), bn)
		if r.Path == base {
			name = ""
		}
		j := map[string]any{}
		c := map[any]any{}
		if i == 0 {
			j["bn"], c[cborBaseName] = bn, bn
			if r.Path == base {
				j["bn"], c[cborBaseName] = base.String(), base.String()
			}
		}
		if name != "" {
			j["n"], c[cborName] = name, name
		}
		switch r.Value.Kind {
		case KindNumber:
			j["v"] = r.Value.Number
			if r.Value.Number == math.Trunc(r.Value.Number) && math.Abs(r.Value.Number) <= 1<<53 {
				c[cborValue] = int64(r.Value.Number)
			} else {
				c[cborValue] = r.Value.Number
			}
		case KindBool:
			j["vb"], c[cborBool] = r.Value.Bool, r.Value.Bool
		case KindBytes, KindRaw:
			j["vd"], c[cborData] = base64.RawURLEncoding.EncodeToString(r.Value.Bytes), r.Value.Bytes
		case KindLink:
			j["vlo"], c["vlo"] = r.Value.Text, r.Value.Text
		default:
			j["vs"], c[cborString] = r.Value.Text, r.Value.Text
		}
		jsonRecs[i], cborRecs[i] = j, c
	}
	if f == SenMLJSON {
		return json.Marshal(jsonRecs)
	}
	return cbor.Marshal(cborRecs)
}
