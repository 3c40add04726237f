package decimal

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"testing"

	"pgregory.net/rapid"
)

// Text8's eight digits are those printed one by one, for any number
// below 10^8.
func TestText8IsItsDigits(t *testing.T) {
	check := func(x uint64) {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], Text8(x))
		if got, want := string(b[:]), fmt.Sprintf("%08d", x); got != want {
			t.Fatalf("Text8(%d) = %q, want %q", x, got, want)
		}
	}
	for _, x := range []uint64{0, 9, 10, 99, 100, 9999, 10000, 99999999, 10000000, 12345678, 90909090} {
		check(x)
	}
	rapid.Check(t, func(rt *rapid.T) { check(rapid.Uint64Range(0, 1e8-1).Draw(rt, "x")) })
}

// Eight reads what strconv reads, and refuses any eight bytes of which
// one is not a digit.
func TestEightReadsDigits(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var b [8]byte
		for i := range b {
			if rapid.IntRange(0, 3).Draw(t, "kind") == 0 {
				b[i] = rapid.Byte().Draw(t, "byte")
			} else {
				b[i] = '0' + byte(rapid.IntRange(0, 9).Draw(t, "digit"))
			}
		}
		s := string(b[:])
		v, ok := Eight(Load8(s))
		want, err := strconv.ParseUint(s, 10, 64)
		if digits := err == nil && s[0] != '+' && s[0] != '-'; ok != digits || ok && v != want {
			t.Fatalf("Eight(%q) = %d, %v; strconv says %d, %v", s, v, ok, want, err)
		}
	})
	if v, ok := Eight(Load8("00000000")); !ok || v != 0 {
		t.Fatalf("Eight(00000000) = %d, %v", v, ok)
	}
	if v, ok := Eight(Load8("35000000123")); !ok || v != 35000000 {
		t.Fatalf("Eight of 35000000123's first eight = %d, %v", v, ok)
	}
	for _, s := range []string{"1234567/", "1234567:", "a2345678", "1234 678", "\x0034567890"} {
		if _, ok := Eight(Load8(s)); ok {
			t.Fatalf("Eight(%q) accepted", s)
		}
	}
}

// Parse reads what strconv reads for 1 to 19 bytes of digits, refuses any
// other byte, and refuses empty or longer text.
func TestParseReadsDigits(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 21).Draw(t, "len")
		b := make([]byte, n)
		for i := range b {
			if rapid.IntRange(0, 20).Draw(t, "kind") == 0 {
				b[i] = rapid.Byte().Draw(t, "byte")
			} else {
				b[i] = '0' + byte(rapid.IntRange(0, 9).Draw(t, "digit"))
			}
		}
		s := string(b)
		v, ok := Parse(s)
		want, err := strconv.ParseUint(s, 10, 64)
		digits := err == nil && s[0] != '+' && s[0] != '-' && n <= 19
		if ok != digits || ok && v != want {
			t.Fatalf("Parse(%q) = %d, %v; strconv says %d, %v", s, v, ok, want, err)
		}
	})
	if v, ok := Parse("350000000123452"); !ok || v != 350000000123452 {
		t.Fatalf("Parse of an IMEI = %d, %v", v, ok)
	}
}
