package content

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
)

// MaxRecords bounds how many records Decode returns; Object 5 has 15
// resources.
const MaxRecords = 256

// Decode reads body, of format f, answered for path base (the path of the
// Read or Observe). Every record must lie at or below base: anything else is
// an *Error matching ErrForeignPath. A body off its format matches
// ErrMalformed, a format not listed in the package doc
// ErrUnsupportedFormat.
func Decode(f Format, base Path, body []byte) ([]Record, error) {
	var (
		recs []Record
		err  error
	)
	switch f {
	case TextPlain, textOld:
		if base.Len() < 3 {
			return nil, malformed("text", base.String(), "plain text carries one resource, not an object or instance")
		}
		if !utf8.Valid(body) {
			return nil, malformed("text", string(body), "not UTF-8")
		}
		recs = []Record{{Path: base, Value: Value{Kind: KindText, Text: string(body)}}}
	case Opaque, opaqueOld:
		if base.Len() < 3 {
			return nil, malformed("format", base.String(), "opaque content carries one resource, not an object or instance")
		}
		recs = []Record{{Path: base, Value: Value{Kind: KindRaw, Bytes: bytes.Clone(body)}}}
	case TLV, tlvOld:
		recs, err = decodeTLV(base, body)
	case SenMLJSON:
		recs, err = decodeSenMLJSON(body)
	case SenMLCBOR:
		recs, err = decodeSenMLCBOR(body)
	case JSON, jsonOld:
		recs, err = decodeJSON(body)
	default:
		return nil, &Error{Field: "format", Value: strconv.Itoa(int(f)), Reason: "not a format this server reads", kind: ErrUnsupportedFormat}
	}
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if !base.Contains(r.Path) {
			return nil, &Error{Field: "path", Value: r.Path.String(), Reason: "outside " + base.String(), kind: ErrForeignPath}
		}
	}
	return recs, nil
}

// TLV (LwM2M 1.1 Transport §7.4.3). The identifier type fixes an entry's
// level: object instance, resource (with a value, or multiple), resource
// instance.
const (
	tlvInstance         = 0
	tlvResourceInstance = 1
	tlvMultiple         = 2
	tlvResource         = 3
)

var tlvLevel = [4]int{tlvInstance: 1, tlvResourceInstance: 3, tlvMultiple: 2, tlvResource: 2}

func decodeTLV(base Path, body []byte) ([]Record, error) {
	var recs []Record
	if err := walkTLV(base, base, body, -1, 0, &recs); err != nil {
		return nil, err
	}
	if len(recs) == 0 && len(body) == 0 {
		return nil, nil
	}
	return recs, nil
}

// walkTLV decodes the entries of body, whose parent is prefix; parentType
// is -1 at the top level.
func walkTLV(base, prefix Path, body []byte, parentType, depth int, recs *[]Record) error {
	if depth > 3 {
		return malformed("tlv", "", "nested deeper than instance, resource, resource instance")
	}
	for len(body) > 0 {
		typ := int(body[0] >> 6)
		idLen := 1 + int(body[0]>>5&1)
		lenType := int(body[0] >> 3 & 3)
		hdr := 1 + idLen + lenType
		if len(body) < hdr {
			return malformed("tlv", strconv.Itoa(len(body))+" bytes", "truncated header")
		}
		id := uint16(body[1])
		if idLen == 2 {
			id = uint16(body[1])<<8 | uint16(body[2])
		}
		n := int(body[0] & 7)
		if lenType > 0 {
			n = 0
			for _, b := range body[1+idLen : hdr] {
				n = n<<8 | int(b)
			}
		}
		if len(body)-hdr < n {
			return malformed("tlv", "length "+strconv.Itoa(n), "longer than the "+strconv.Itoa(len(body)-hdr)+" bytes left")
		}
		val := body[hdr : hdr+n]
		body = body[hdr+n:]

		switch {
		case parentType == tlvInstance && typ != tlvResource && typ != tlvMultiple,
			parentType == tlvMultiple && typ != tlvResourceInstance,
			parentType == tlvResource || parentType == tlvResourceInstance:
			return malformed("tlv", "type "+strconv.Itoa(typ), "not allowed inside type "+strconv.Itoa(parentType))
		}
		level := tlvLevel[typ]
		if prefix.Len() < level {
			return malformed("tlv", "type "+strconv.Itoa(typ), "no enclosing "+[]string{"object", "object", "instance", "resource"}[level]+" for it under "+prefix.String())
		}
		p := Path{ids: prefix.ids, n: uint8(level)}
		p, _ = p.Child(id)
		if p.Len() <= base.Len() && base.ids[level] != id {
			return &Error{Field: "path", Value: p.String(), Reason: "outside " + base.String(), kind: ErrForeignPath}
		}
		switch typ {
		case tlvInstance, tlvMultiple:
			if err := walkTLV(base, p, val, typ, depth+1, recs); err != nil {
				return err
			}
		default:
			if len(*recs) == MaxRecords {
				return malformed("tlv", "", "more than "+strconv.Itoa(MaxRecords)+" records")
			}
			*recs = append(*recs, Record{Path: p, Value: Value{Kind: KindRaw, Bytes: bytes.Clone(val)}})
		}
	}
	return nil
}

// senml is one SenML record with the fields LwM2M uses.
type senml struct {
	bn, n                 *string
	v                     *float64
	vs, vd, vlo           *string
	vb                    *bool
	hasBaseValue, hasBSum bool
}

// resolve turns SenML records into LwM2M records: names are base name plus
// name (RFC 8428 §4.5.1), each record carries one value.
func resolve(field string, in []senml) ([]Record, error) {
	if len(in) > MaxRecords {
		return nil, malformed(field, strconv.Itoa(len(in))+" records", "more than "+strconv.Itoa(MaxRecords))
	}
	base := ""
	out := make([]Record, 0, len(in))
	for i, r := range in {
		if r.hasBaseValue || r.hasBSum {
			return nil, malformed(field, "record "+strconv.Itoa(i), "base value or base sum, which LwM2M does not use")
		}
		if r.bn != nil {
			base = *r.bn
		}
		name := base
		if r.n != nil {
			name += *r.n
		}
		p, err := ParsePath(name)
		if err != nil {
			return nil, malformed(field, name, "name is not an LwM2M path")
		}
		var v Value
		count := 0
		if r.v != nil {
			v, count = Value{Kind: KindNumber, Number: *r.v}, count+1
		}
		if r.vs != nil {
			v, count = Value{Kind: KindString, Text: *r.vs}, count+1
		}
		if r.vb != nil {
			v, count = Value{Kind: KindBool, Bool: *r.vb}, count+1
		}
		if r.vlo != nil {
			v, count = Value{Kind: KindLink, Text: *r.vlo}, count+1
		}
		if r.vd != nil {
			b, err := base64.RawURLEncoding.DecodeString(*r.vd)
			if err != nil {
				return nil, malformed(field, *r.vd, "vd is not base64url")
			}
			v, count = Value{Kind: KindBytes, Bytes: b}, count+1
		}
		if count != 1 {
			return nil, malformed(field, name, strconv.Itoa(count)+" values in one record")
		}
		out = append(out, Record{Path: p, Value: v})
	}
	return out, nil
}

func decodeSenMLJSON(body []byte) ([]Record, error) {
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, malformed("senml", string(body), "not a JSON array of objects")
	}
	in := make([]senml, len(raw))
	for i, m := range raw {
		for k, v := range m {
			var err error
			switch k {
			case "bn":
				err = jsonField(v, &in[i].bn)
			case "n":
				err = jsonField(v, &in[i].n)
			case "v":
				err = jsonField(v, &in[i].v)
			case "vs":
				err = jsonField(v, &in[i].vs)
			case "vd":
				err = jsonField(v, &in[i].vd)
			case "vlo":
				err = jsonField(v, &in[i].vlo)
			case "vb":
				err = jsonField(v, &in[i].vb)
			case "bv":
				in[i].hasBaseValue = true
			case "bs":
				in[i].hasBSum = true
			}
			if err != nil {
				return nil, malformed("senml", k, "field of the wrong type")
			}
		}
	}
	return resolve("senml", in)
}

func jsonField[T any](raw json.RawMessage, dst **T) error {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	*dst = &v
	return nil
}

// SenML CBOR labels (RFC 8428 §6).
const (
	cborBaseName = -2
	cborBaseVal  = -5
	cborBaseSum  = -6
	cborName     = 0
	cborValue    = 2
	cborString   = 3
	cborBool     = 4
	cborData     = 8
)

var cborDec = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		MaxNestedLevels:  4,
		MaxArrayElements: MaxRecords,
		MaxMapPairs:      32,
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthAllowed,
		TagsMd:           cbor.TagsForbidden,
	}.DecMode()
	if err != nil {
		panic(err) // constant options
	}
	return dm
}()

func decodeSenMLCBOR(body []byte) ([]Record, error) {
	var raw []map[any]cbor.RawMessage
	if err := cborDec.Unmarshal(body, &raw); err != nil {
		return nil, malformed("senml", string(body), "not a CBOR array of maps: "+err.Error())
	}
	in := make([]senml, len(raw))
	for i, m := range raw {
		for k, v := range m {
			var err error
			switch key := k.(type) {
			case int64, uint64:
				label, ok := cborLabel(key)
				if !ok {
					continue
				}
				switch label {
				case cborBaseName:
					err = cborField(v, &in[i].bn)
				case cborName:
					err = cborField(v, &in[i].n)
				case cborValue:
					err = cborNumber(v, &in[i].v)
				case cborString:
					err = cborField(v, &in[i].vs)
				case cborBool:
					err = cborField(v, &in[i].vb)
				case cborData:
					var b []byte
					if err = cborDec.Unmarshal(v, &b); err == nil {
						s := base64.RawURLEncoding.EncodeToString(b)
						in[i].vd = &s
					}
				case cborBaseVal:
					in[i].hasBaseValue = true
				case cborBaseSum:
					in[i].hasBSum = true
				}
			case string:
				if key == "vlo" {
					err = cborField(v, &in[i].vlo)
				}
			}
			if err != nil {
				return nil, malformed("senml", strconv.Quote(anyString(k)), "field of the wrong type")
			}
		}
	}
	return resolve("senml", in)
}

func cborLabel(k any) (int, bool) {
	switch k := k.(type) {
	case int64:
		if k >= -16 && k <= 16 {
			return int(k), true
		}
	case uint64:
		if k <= 16 {
			return int(k), true
		}
	}
	return 0, false
}

func anyString(k any) string {
	switch k := k.(type) {
	case string:
		return k
	case int64:
		return strconv.FormatInt(k, 10)
	case uint64:
		return strconv.FormatUint(k, 10)
	}
	return "?"
}

func cborField[T any](raw cbor.RawMessage, dst **T) error {
	var v T
	if err := cborDec.Unmarshal(raw, &v); err != nil {
		return err
	}
	*dst = &v
	return nil
}

// cborNumber reads an integer or a float: SenML CBOR writes whole numbers
// as integers.
func cborNumber(raw cbor.RawMessage, dst **float64) error {
	var v any
	if err := cborDec.Unmarshal(raw, &v); err != nil {
		return err
	}
	var f float64
	switch n := v.(type) {
	case int64:
		f = float64(n)
	case uint64:
		f = float64(n)
	case float64:
		f = n
	default:
		return malformed("senml", "v", "not a number")
	}
	*dst = &f
	return nil
}

// LwM2M 1.0 JSON (TS 1.0 §6.4.4): {"bn":"/5/0/","e":[{"n":"3","v":1}]}.
func decodeJSON(body []byte) ([]Record, error) {
	var doc struct {
		BN *string `json:"bn"`
		E  []struct {
			N  *string  `json:"n"`
			V  *float64 `json:"v"`
			SV *string  `json:"sv"`
			BV *bool    `json:"bv"`
			OV *string  `json:"ov"`
			T  *float64 `json:"t"`
		} `json:"e"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&doc); err != nil || dec.More() {
		return nil, malformed("json", string(body), "not an LwM2M JSON object")
	}
	in := make([]senml, len(doc.E))
	for i, e := range doc.E {
		if i == 0 {
			in[i].bn = doc.BN
		}
		in[i].n, in[i].v, in[i].vs, in[i].vb, in[i].vlo = e.N, e.V, e.SV, e.BV, e.OV
	}
	return resolve("json", in)
}
