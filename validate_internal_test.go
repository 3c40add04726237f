package fota

import (
	"errors"
	"testing"

	"pgregory.net/rapid"
)

// Device lists: numeric ids are told apart with their leading zeros, and
// any repeat is refused naming it, numeric or not.
func TestCheckDeviceListDuplicates(t *testing.T) {
	for _, c := range []struct {
		ids []string
		dup string
	}{
		{[]string{"0123", "123", "00123"}, ""},
		{[]string{"356938035643809", "a-1", "356938035643809"}, "356938035643809"},
		{[]string{"a-1", "b", "a-1"}, "a-1"},
		{[]string{"123456789012345678", "123456789012345678"}, "123456789012345678"}, // 18 digits: a string key
	} {
		err := checkDeviceList(c.ids)
		var re *RequestError
		switch {
		case c.dup == "" && err != nil:
			t.Errorf("%v: %v", c.ids, err)
		case c.dup != "" && (!errors.As(err, &re) || re.Value != c.dup):
			t.Errorf("%v: %v, want %q listed twice", c.ids, err, c.dup)
		}
	}
}

// Text checks take plain ASCII in one pass and refuse the rest exactly as
// before.
func TestCheckText(t *testing.T) {
	for v, ok := range map[string]bool{"lamp-fw 1.0": true, "": true, "é": true, "a\x00b": false, "\xff": false} {
		if err := checkText("f", v, 16); (err == nil) != ok {
			t.Errorf("%q: %v", v, err)
		}
	}
	if err := checkText("f", "12345", 4); err == nil {
		t.Error("a text over the limit passed")
	}
}

// TestPlainASCIIIsItsBytes: the eight-at-a-time check answers as one that
// reads byte by byte, whatever the bytes and wherever the odd one is.
func TestPlainASCIIIsItsBytes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := rapid.SliceOfN(rapid.ByteRange(1, 0x7f), 0, 40).Draw(t, "text")
		if len(b) > 0 && rapid.Bool().Draw(t, "spoil") {
			odd := rapid.SampledFrom([]byte{0, 0x80, 0x81, 0xff, 0xc3}).Draw(t, "byte")
			b[rapid.IntRange(0, len(b)-1).Draw(t, "at")] = odd
		}
		want := true
		for _, c := range b {
			want = want && c != 0 && c < 0x80
		}
		if got := plainASCII(string(b)); got != want {
			t.Fatalf("plainASCII(%q) = %v, want %v", b, got, want)
		}
	})
}
