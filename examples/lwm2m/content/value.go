package content

import (
	"encoding/binary"
	"math"
	"strconv"
)

// Kind says how a format carried a value.
type Kind uint8

// The kinds.
const (
	KindRaw    Kind = iota // TLV bytes or opaque: typed by the resource, not the format
	KindText               // plain text: typed by the resource
	KindNumber             // SenML v, LwM2M JSON v
	KindString             // SenML vs
	KindBool               // SenML vb
	KindBytes              // SenML vd
	KindLink               // SenML vlo, an object link "3:0"
)

// Value is one resource value.
type Value struct {
	Kind   Kind
	Bytes  []byte  // KindRaw, KindBytes
	Text   string  // KindText, KindString, KindLink
	Number float64 // KindNumber
	Bool   bool    // KindBool
}

// Int reads the value as an LwM2M Integer: TLV's 1, 2, 4 or 8 byte
// two's-complement big-endian, decimal text, or a whole SenML number.
func (v Value) Int() (int64, error) {
	switch v.Kind {
	case KindRaw:
		switch len(v.Bytes) {
		case 1:
			return int64(int8(v.Bytes[0])), nil
		case 2:
			return int64(int16(binary.BigEndian.Uint16(v.Bytes))), nil
		case 4:
			return int64(int32(binary.BigEndian.Uint32(v.Bytes))), nil
		case 8:
			return int64(binary.BigEndian.Uint64(v.Bytes)), nil
		}
		return 0, malformed("value", strconv.Itoa(len(v.Bytes))+" bytes", "a TLV integer has 1, 2, 4 or 8 bytes")
	case KindText:
		n, err := strconv.ParseInt(v.Text, 10, 64)
		if err != nil {
			return 0, malformed("value", v.Text, "not a decimal integer")
		}
		return n, nil
	case KindNumber:
		if v.Number != math.Trunc(v.Number) || math.Abs(v.Number) > 1<<53 {
			return 0, malformed("value", strconv.FormatFloat(v.Number, 'g', -1, 64), "not a whole number")
		}
		return int64(v.Number), nil
	}
	return 0, &Error{Field: "value", Value: v.String(), Reason: "not an integer", kind: ErrType}
}

// String reads the value as an LwM2M String: TLV bytes and text as they
// are, SenML vs.
func (v Value) String() string {
	switch v.Kind {
	case KindRaw, KindBytes:
		return string(v.Bytes)
	case KindNumber:
		return strconv.FormatFloat(v.Number, 'g', -1, 64)
	case KindBool:
		return strconv.FormatBool(v.Bool)
	}
	return v.Text
}

// IntValue is an integer in the typed form of SenML and JSON (KindNumber).
func IntValue(n int64) Value { return Value{Kind: KindNumber, Number: float64(n)} }

// StringValue is a string (KindString).
func StringValue(s string) Value { return Value{Kind: KindString, Text: s} }

// Record is one resource (or resource instance) and its value.
type Record struct {
	Path  Path
	Value Value
}
