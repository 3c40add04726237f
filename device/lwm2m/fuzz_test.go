package lwm2m

import (
	"errors"
	"testing"

	"github.com/fotakit/fota/lifecycle"
)

func FuzzParseObservation(f *testing.F) {
	for _, c := range [][2]int64{{0, 0}, {3, 0}, {2, 11}, {4, 0}, {0, 12}, {-1, -1}, {1 << 62, 3}} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, state, result int64) {
		o, err := ParseObservation(state, result)
		if err != nil {
			var re *RangeError
			if !errors.Is(err, ErrOutOfRange) || !errors.As(err, &re) || o != (Observation{}) {
				t.Fatalf("(%d, %d): %v, %v", state, result, o, err)
			}
			bad := re.Resource == ResourceState && re.Value == state && (state < 0 || state > 3) ||
				re.Resource == ResourceResult && re.Value == result && (result < 0 || result > 11) && state >= 0 && state <= 3
			if !bad {
				t.Fatalf("(%d, %d): error names %s=%d", state, result, re.Resource, re.Value)
			}
			return
		}
		if int64(o.State) != state || int64(o.Result) != result {
			t.Fatalf("(%d, %d) read as %v", state, result, o)
		}
	})
}

func FuzzUnmarshalText(f *testing.F) {
	for _, s := range States {
		f.Add(s.String())
	}
	for _, r := range Results {
		f.Add(r.String())
	}
	f.Add("")
	f.Add("idle")
	f.Fuzz(func(t *testing.T, w string) {
		s := State(9)
		if err := s.UnmarshalText([]byte(w)); err != nil {
			if !errors.Is(err, ErrUnknownName) || s != 9 {
				t.Fatalf("state %q: %v, left %d", w, err, s)
			}
		} else if b, _ := s.MarshalText(); string(b) != w {
			t.Fatalf("state %q read as %v", w, s)
		}
		r := Result(99)
		if err := r.UnmarshalText([]byte(w)); err != nil {
			if !errors.Is(err, ErrUnknownName) || r != 99 {
				t.Fatalf("result %q: %v, left %d", w, err, r)
			}
		} else if b, _ := r.MarshalText(); string(b) != w {
			t.Fatalf("result %q read as %v", w, r)
		}
	})
}

// FuzzTracker drives a Tracker with arbitrary commands and observations
// (raw bytes, including values off the range): nothing panics, every
// refusal is typed and changes nothing, at most one outcome is reported
// between resets, every tracker survives Pack and UnpackTracker, the
// package write never follows an acknowledged reset before an observation
// of (Idle, Initial), and Execute never follows the write before an
// observation of (Downloaded, Initial).
func FuzzTracker(f *testing.F) {
	// A byte with the top bit set is an observation, state in bits 4..6 and
	// result in bits 0..3 (so values off both ranges occur); any other
	// byte is a command in bits 0..2.
	f.Add([]byte{0x01, 0x02, 0x90, 0xa0, 0x03, 0xb0, 0x81})
	f.Add([]byte{0x01, 0x02, 0x90, 0x84, 0x01, 0x02, 0x90, 0xa0, 0x03, 0xa0, 0xab, 0xb0, 0xa8})
	f.Add([]byte{0x03, 0xff, 0xc0, 0x8c, 0x05})
	f.Add([]byte{0xa0, 0x01, 0xa0, 0x80, 0x02, 0xa0}) // a stale Downloaded after the reset, then the reset seen
	f.Fuzz(func(t *testing.T, ops []byte) {
		var tr Tracker
		reports := 0
		var resetUnseen, writeUnseen bool // since the last reset, no (Idle, Initial); since the last write, no (Downloaded, Initial)
		for _, op := range ops {
			before := tr
			var err error
			if op&0x80 == 0 {
				c := Command(op & 0x07)
				tr, err = tr.Sent(c)
				if err != nil && (!errors.Is(err, lifecycle.ErrInvalidTransition) || tr != before) {
					t.Fatalf("Sent(%v): %v, %+v", c, err, tr)
				}
				if err == nil && c == CommandReset {
					reports, resetUnseen, writeUnseen = 0, true, false
				}
				if err == nil && c == CommandWritePackage {
					writeUnseen = true
				}
			} else {
				o := Observation{State(op >> 4 & 0x07), Result(op & 0x0f)}
				var out Outcome
				tr, out, err = tr.Observe(o)
				if err != nil {
					if !(errors.Is(err, ErrUnreachable) || errors.Is(err, ErrOutOfRange)) || tr != before || out != (Outcome{}) {
						t.Fatalf("Observe(%v): %v, %+v", o, err, tr)
					}
					continue
				}
				resetUnseen = resetUnseen && o != (Observation{Idle, Initial})
				writeUnseen = writeUnseen && o != (Observation{Downloaded, Initial})
				if out.Verdict == Succeeded || out.Verdict == Failed {
					reports++
					if out.Event == 0 || reports > 1 {
						t.Fatalf("outcome %+v, %d reports", out, reports)
					}
				}
			}
			if back, err := UnpackTracker(tr.Pack()); err != nil || back != tr {
				t.Fatalf("UnpackTracker(%#x) = %+v, %v; want %+v", tr.Pack(), back, err, tr)
			}
			if next := tr.Next(); next == CommandWritePackage && resetUnseen || next == CommandExecuteUpdate && writeUnseen {
				t.Fatalf("next %v with the reset unseen %v, the write's download unseen %v: %+v", next, resetUnseen, writeUnseen, tr)
			}
		}
	})
}
