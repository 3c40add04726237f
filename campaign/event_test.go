package campaign

import (
	"errors"
	"slices"
	"testing"
)

func TestEventNames(t *testing.T) {
	if len(Events) != len(eventWire) {
		t.Fatalf("%d events, model has %d", len(Events), len(eventWire))
	}
	for i, e := range Events {
		if e.String() != eventWire[i] {
			t.Errorf("event %d is %q, want %q", i, e, eventWire[i])
		}
		b, err := e.MarshalText()
		if err != nil || string(b) != eventWire[i] {
			t.Errorf("%v.MarshalText() = %q, %v", e, b, err)
		}
		if got, err := ParseEvent(eventWire[i]); err != nil || got != e {
			t.Errorf("ParseEvent(%q) = %v, %v", eventWire[i], got, err)
		}
	}
	for _, e := range []Event{0, Abort + 1, 255} {
		b, err := e.MarshalText()
		var ee *EventError
		if b != nil || !errors.Is(err, ErrUnknownEvent) || !errors.As(err, &ee) || ee.Value != e.String() {
			t.Errorf("%d.MarshalText() = %q, %v", uint8(e), b, err)
		}
	}
}

func FuzzEventUnmarshalText(f *testing.F) {
	for _, e := range Events {
		f.Add(e.String())
	}
	for _, s := range []string{"", "Accept", "remove last", "Event(1)", "abort\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		e := Event(99)
		err := e.UnmarshalText([]byte(in))
		if err != nil {
			var ee *EventError
			if !errors.Is(err, ErrUnknownEvent) || !errors.As(err, &ee) || ee.Value != in || ee.Field != "event" {
				t.Fatalf("UnmarshalText(%q) error %#v", in, err)
			}
			if e != 99 {
				t.Fatalf("UnmarshalText(%q) failed but changed the event to %v", in, e)
			}
			return
		}
		if !slices.Contains(Events, e) {
			t.Fatalf("UnmarshalText(%q) = %v, not an event", in, e)
		}
		if b, err := e.MarshalText(); err != nil || string(b) != in {
			t.Fatalf("%q parsed as %v, which writes %q, %v", in, e, b, err)
		}
	})
}
