package content

import (
	"errors"
	"reflect"
	"testing"
)

func mustParse(t testing.TB, s string) Path {
	t.Helper()
	p, err := ParsePath(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func firmwareRecords(t testing.TB) []Record {
	return []Record{
		{mustParse(t, "/5/0/1"), StringValue("coap://127.0.0.1:5683/fw/x")},
		{mustParse(t, "/5/0/3"), IntValue(2)},
		{mustParse(t, "/5/0/5"), IntValue(0)},
		{mustParse(t, "/5/0/8/0"), IntValue(0)},
		{mustParse(t, "/5/0/8/1"), IntValue(300)},
		{mustParse(t, "/5/0/9"), IntValue(0)},
	}
}

func TestRoundTrip(t *testing.T) {
	base := mustParse(t, "/5/0")
	for _, f := range []Format{TLV, SenMLJSON, SenMLCBOR} {
		body, err := Encode(f, base, firmwareRecords(t))
		if err != nil {
			t.Fatalf("Encode(%v): %v", f, err)
		}
		got, err := Decode(f, base, body)
		if err != nil {
			t.Fatalf("Decode(%v, %x): %v", f, body, err)
		}
		want := firmwareRecords(t)
		if len(got) != len(want) {
			t.Fatalf("%v: %d records, want %d", f, len(got), len(want))
		}
		for i := range want {
			if got[i].Path != want[i].Path {
				t.Errorf("%v record %d: path %v, want %v", f, i, got[i].Path, want[i].Path)
			}
			if i == 0 {
				if got[i].Value.String() != want[i].Value.String() {
					t.Errorf("%v: %q, want %q", f, got[i].Value.String(), want[i].Value.String())
				}
				continue
			}
			n, err := got[i].Value.Int()
			if w, _ := want[i].Value.Int(); err != nil || n != w {
				t.Errorf("%v record %v: Int = %d, %v; want %d", f, got[i].Path, n, err, w)
			}
		}
	}
}

func TestDecodeKnownBodies(t *testing.T) {
	tests := []struct {
		name string
		f    Format
		base string
		body []byte
		want map[string]int64
	}{
		{"TLV resources", TLV, "/5/0", []byte{0xC1, 3, 1, 0xC1, 5, 0}, map[string]int64{"/5/0/3": 1, "/5/0/5": 0}},
		{"TLV wrapped in its instance", TLV, "/5/0", []byte{0x06, 0, 0xC1, 3, 2, 0xC1, 5, 8}, map[string]int64{"/5/0/3": 2, "/5/0/5": 8}},
		{"TLV legacy number", tlvOld, "/5/0/3", []byte{0xC1, 3, 3}, map[string]int64{"/5/0/3": 3}},
		{"text legacy number", textOld, "/5/0/5", []byte("8"), map[string]int64{"/5/0/5": 8}},
		{"TLV 16-bit id, 8-bit length", TLV, "/5/0", []byte{0xE8, 0, 5, 1, 7}, map[string]int64{"/5/0/5": 7}},
		{"plain text (lwm2m-node-lib)", TextPlain, "/5/0/3", []byte("1"), map[string]int64{"/5/0/3": 1}},
		{"SenML JSON", SenMLJSON, "/5/0", []byte(`[{"bn":"/5/0/","n":"3","v":0},{"n":"5","v":1}]`), map[string]int64{"/5/0/3": 0, "/5/0/5": 1}},
		{"SenML JSON single", SenMLJSON, "/5/0/5", []byte(`[{"bn":"/5/0/5","v":9}]`), map[string]int64{"/5/0/5": 9}},
		{"SenML CBOR", SenMLCBOR, "/5/0", []byte{0x82, 0xA3, 0x21, 0x65, '/', '5', '/', '0', '/', 0x00, 0x61, '3', 0x02, 0x01, 0xA2, 0x00, 0x61, '5', 0x02, 0x00}, map[string]int64{"/5/0/3": 1, "/5/0/5": 0}},
		{"LwM2M JSON", JSON, "/5/0", []byte(`{"bn":"/5/0/","e":[{"n":"3","v":2},{"n":"5","v":0}]}`), map[string]int64{"/5/0/3": 2, "/5/0/5": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := Decode(tt.f, mustParse(t, tt.base), tt.body)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int64{}
			for _, r := range recs {
				n, err := r.Value.Int()
				if err != nil {
					t.Fatalf("%v: %v", r.Path, err)
				}
				got[r.Path.String()] = n
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDecodeRefuses(t *testing.T) {
	tests := []struct {
		name  string
		f     Format
		base  string
		body  []byte
		kind  error
		field string
	}{
		{"TLV truncated header", TLV, "/5/0", []byte{0xE8, 0}, ErrMalformed, "tlv"},
		{"TLV length past the end", TLV, "/5/0", []byte{0xC4, 3, 1}, ErrMalformed, "tlv"},
		{"TLV other resource on a resource observation", TLV, "/5/0/3", []byte{0xC1, 4, 1}, ErrForeignPath, "path"},
		{"TLV other instance", TLV, "/5/0", []byte{0x03, 1, 0xC1, 3, 1}, ErrForeignPath, "path"},
		{"TLV resource instance at the top of an instance", TLV, "/5/0", []byte{0x41, 0, 1}, ErrMalformed, "tlv"},
		{"TLV resource inside a multiple resource", TLV, "/5/0", []byte{0x83, 3, 0xC1, 3, 1}, ErrMalformed, "tlv"},
		{"TLV resource with no instance", TLV, "/5", []byte{0xC1, 3, 1}, ErrMalformed, "tlv"},
		{"SenML of another object", SenMLJSON, "/5/0", []byte(`[{"bn":"/3/0/","n":"0","vs":"x"}]`), ErrForeignPath, "path"},
		{"SenML CBOR of another object", SenMLCBOR, "/5/0/3", []byte{0x81, 0xA2, 0x21, 0x66, '/', '3', '/', '0', '/', '0', 0x02, 0x01}, ErrForeignPath, "path"},
		{"SenML two values", SenMLJSON, "/5/0", []byte(`[{"n":"/5/0/3","v":1,"vs":"1"}]`), ErrMalformed, "senml"},
		{"SenML no value", SenMLJSON, "/5/0", []byte(`[{"n":"/5/0/3"}]`), ErrMalformed, "senml"},
		{"SenML bad name", SenMLJSON, "/5/0", []byte(`[{"n":"5/0/3","v":1}]`), ErrMalformed, "senml"},
		{"SenML base value", SenMLJSON, "/5/0", []byte(`[{"n":"/5/0/3","v":1,"bv":2}]`), ErrMalformed, "senml"},
		{"SenML wrong type", SenMLJSON, "/5/0", []byte(`[{"n":3,"v":1}]`), ErrMalformed, "senml"},
		{"SenML not JSON", SenMLJSON, "/5/0", []byte(`[{`), ErrMalformed, "senml"},
		{"SenML CBOR garbage", SenMLCBOR, "/5/0", []byte{0xff, 0x00}, ErrMalformed, "senml"},
		{"text for an instance", TextPlain, "/5/0", []byte("1"), ErrMalformed, "text"},
		{"text not UTF-8", TextPlain, "/5/0/3", []byte{0xff}, ErrMalformed, "text"},
		{"unsupported format", Format(50), "/5/0", []byte("{}"), ErrUnsupportedFormat, "format"},
		{"LwM2M JSON trailing data", JSON, "/5/0", []byte(`{"bn":"/5/0/","e":[]} {}`), ErrMalformed, "json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.f, mustParse(t, tt.base), tt.body)
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, tt.kind) || e.Field != tt.field {
				t.Fatalf("Decode = %v, want an *Error on field %q matching %v", err, tt.field, tt.kind)
			}
		})
	}
}

func TestIntRefuses(t *testing.T) {
	for _, v := range []Value{{Kind: KindRaw, Bytes: []byte{1, 2, 3}}, {Kind: KindText, Text: "1.5"}, {Kind: KindNumber, Number: 0.5}} {
		if _, err := v.Int(); !errors.Is(err, ErrMalformed) {
			t.Errorf("Int(%+v) = %v, want ErrMalformed", v, err)
		}
	}
	if _, err := StringValue("x").Int(); !errors.Is(err, ErrType) {
		t.Errorf("Int of a string = %v, want ErrType", err)
	}
}

func TestParsePath(t *testing.T) {
	for _, s := range []string{"/", "/5", "/5/0", "/5/0/3", "/5/0/8/1", "/65535/0"} {
		p, err := ParsePath(s)
		if err != nil || p.String() != s {
			t.Errorf("ParsePath(%q) = %v, %v", s, p, err)
		}
	}
	for _, s := range []string{"", "5/0", "/5/", "//", "/05", "/65536", "/1/2/3/4/5", "/-1", "/+1"} {
		if _, err := ParsePath(s); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParsePath(%q) = %v, want ErrMalformed", s, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(uint16(TLV), "/5/0", []byte{0x06, 0, 0xC1, 3, 2, 0xC1, 5, 8})
	f.Add(uint16(SenMLJSON), "/5/0", []byte(`[{"bn":"/5/0/","n":"3","v":0}]`))
	f.Add(uint16(SenMLCBOR), "/5/0", []byte{0x81, 0xA2, 0x21, 0x65, '/', '5', '/', '0', '/', 0x02, 0x01})
	f.Add(uint16(JSON), "/5/0", []byte(`{"bn":"/5/0/","e":[{"n":"3","v":2}]}`))
	f.Add(uint16(TextPlain), "/5/0/3", []byte("3"))
	f.Fuzz(func(t *testing.T, format uint16, base string, body []byte) {
		b, err := ParsePath(base)
		if err != nil {
			return
		}
		recs, err := Decode(Format(format), b, body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Decode: %v is not an *Error", err)
			}
			return
		}
		if len(recs) > MaxRecords {
			t.Fatalf("%d records", len(recs))
		}
		for _, r := range recs {
			if !b.Contains(r.Path) {
				t.Fatalf("record %v outside %v", r.Path, b)
			}
			_, _ = r.Value.Int()
		}
	})
}
