package linkformat

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseObjectsAccepts(t *testing.T) {
	tests := []struct {
		name, payload string
		want          ObjectList
	}{
		{"lwm2m-node-lib", "</5/0>", ObjectList{Root: "/", Links: []Object{{ID: 5, Instance: 0, HasInstance: true}}}},
		{"empty", "", ObjectList{Root: "/"}},
		{"Leshan root with content type", `</>;rt="oma.lwm2m";ct=11543,</1/0>,</3/0>,</5/0>`, ObjectList{Root: "/", Links: []Object{
			{ID: 1, HasInstance: true}, {ID: 3, HasInstance: true}, {ID: 5, HasInstance: true}}}},
		{"alternate root", `</lwm2m>;rt="oma.lwm2m",</lwm2m/1/0>,</lwm2m/5/0>`, ObjectList{Root: "/lwm2m", Links: []Object{
			{ID: 1, HasInstance: true}, {ID: 5, HasInstance: true}}}},
		{"object version and instances", `</3>;ver=1.1,</3/0>,</5/0>,</65535/65534>`, ObjectList{Root: "/", Links: []Object{
			{ID: 3, Version: "1.1"}, {ID: 3, HasInstance: true}, {ID: 5, HasInstance: true}, {ID: 65535, Instance: 65534, HasInstance: true}}}},
		{"unknown parameters kept", `</5/0>;foo;title="a \"b\"";sz=5`, ObjectList{Root: "/", Links: []Object{{ID: 5, HasInstance: true}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseObjects([]byte(tt.payload))
			if err != nil {
				t.Fatalf("ParseObjects(%q): %v", tt.payload, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseObjects(%q) = %+v, want %+v", tt.payload, got, tt.want)
			}
			if !got.Has(5, 0) && strings.Contains(tt.payload, "5/0") {
				t.Fatalf("Has(5, 0) is false for %q", tt.payload)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		payload string
		kind    error
		field   string
	}{
		{"5/0", ErrSyntax, "link"},
		{"</5/0", ErrSyntax, "target"},
		{"<>", ErrSyntax, "target"},
		{"</5/0>,", ErrSyntax, "link"},
		{"</5/0>,,</3/0>", ErrSyntax, "link"},
		{"</5/0>, </3/0>", ErrSyntax, "link"},
		{"</5/0> ", ErrSyntax, "link"},
		{"</5 0>", ErrSyntax, "target"},
		{"</5/0>;", ErrSyntax, "parameter"},
		{"</5/0>;=1", ErrSyntax, "parameter"},
		{"</5/0>;ct=", ErrSyntax, "value"},
		{"</5/0>;ct=1 2", ErrSyntax, "value"},
		{`</5/0>;rt="oma`, ErrSyntax, "value"},
		{`</5/0>;rt="a"b`, ErrSyntax, "value"},
		{`</5/0>;rt="a\`, ErrSyntax, "value"},
		{"</5/0>;rt=\"a\x01\"", ErrSyntax, "value"},
		{"</5/0>x", ErrSyntax, "link"},
		{"</5/\xff>", ErrSyntax, "target"},
		{"</5/0/1>", ErrObjectList, "object"},
		{"</5/00>", ErrObjectList, "instance"},
		{"</05/0>", ErrObjectList, "object"},
		{"</65536/0>", ErrObjectList, "object"},
		{"</5/65535>", ErrObjectList, "instance"},
		{"</-5/0>", ErrObjectList, "object"},
		{"</5/0>,</5/0>", ErrObjectList, "object"},
		{"<5/0>", ErrObjectList, "object"},
		{"</5/0>;ver=1", ErrObjectList, "ver"},
		{`</a>;rt="oma.lwm2m",</b>;rt="oma.lwm2m"`, ErrObjectList, "root"},
		{`</a>;rt="oma.lwm2m",</5/0>`, ErrObjectList, "object"},
		{`</7>;rt="oma.lwm2m"`, ErrObjectList, "root"},
		{`<coap://x/>;rt="oma.lwm2m"`, ErrObjectList, "root"},
		{strings.Repeat("</1>,", MaxLinks) + "</2>", ErrSyntax, "link"},
	}
	for _, tt := range tests {
		_, err := ParseObjects([]byte(tt.payload))
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, tt.kind) {
			t.Errorf("ParseObjects(%q) = %v, want an *Error matching %v", tt.payload, err, tt.kind)
			continue
		}
		if e.Field != tt.field {
			t.Errorf("ParseObjects(%q): field %q, want %q (%v)", tt.payload, e.Field, tt.field, err)
		}
		if e.Offset < 0 || e.Offset > len(tt.payload) {
			t.Errorf("ParseObjects(%q): offset %d outside the payload", tt.payload, e.Offset)
		}
	}
}

func TestFormatRoundTrip(t *testing.T) {
	in := `</>;rt="oma.lwm2m";ct="60 110",</5/0>;title="x\\y\"z";flag`
	links, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := links[1].Param("title"); v != `x\y"z` {
		t.Fatalf("title = %q", v)
	}
	again, err := Parse([]byte(Format(links)))
	if err != nil {
		t.Fatalf("Parse(Format()) = %v", err)
	}
	for i := range again {
		again[i].Offset = links[i].Offset
	}
	if !reflect.DeepEqual(links, again) {
		t.Fatalf("round trip changed the links:\n%+v\n%+v", links, again)
	}
}

func FuzzParseObjects(f *testing.F) {
	for _, s := range []string{"</5/0>", `</>;rt="oma.lwm2m";ct=11543,</1/0>,</3/0>,</5/0>`, `</lwm2m>;rt="oma.lwm2m",</lwm2m/1/0>`,
		`</3>;ver=1.1,</3/0>`, `</5/0>;t="a\"b"`, "<>", "</5/0>,", "</5/0/1>", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		links, err := Parse(payload)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrSyntax) || e.Offset < 0 || e.Offset > len(payload) {
				t.Fatalf("Parse(%q) = %v: not a syntax *Error inside the payload", payload, err)
			}
			return
		}
		again, err := Parse([]byte(Format(links)))
		if err != nil || len(again) != len(links) {
			t.Fatalf("Parse(Format(Parse(%q))) = %v, %v", payload, again, err)
		}
		for i := range links {
			if links[i].Target != again[i].Target || !reflect.DeepEqual(links[i].Params, again[i].Params) {
				t.Fatalf("round trip of %q changed link %d: %+v, %+v", payload, i, links[i], again[i])
			}
		}
		list, err := ParseObjects(payload)
		if err != nil {
			if !errors.Is(err, ErrObjectList) {
				t.Fatalf("ParseObjects(%q) = %v after Parse accepted it", payload, err)
			}
			return
		}
		back, err := ParseObjects([]byte(list.String()))
		if err != nil || !reflect.DeepEqual(back, list) {
			t.Fatalf("ParseObjects(String()) of %q = %+v, %v; want %+v", payload, back, err, list)
		}
	})
}
