package sim

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fotakit/fota/schedule"
)

// Duration is a time.Duration that a scenario file writes as a Go
// duration string ("24h", "90m", "1h30m"), never as nanoseconds.
type Duration time.Duration

// String is the duration as a scenario writes it: time.Duration's form
// without trailing zero units ("24h", not "24h0m0s").
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalText writes the duration as String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a Go duration string (time.ParseDuration). A bare
// number is refused: "24" could mean hours or nanoseconds.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("not a Go duration such as \"24h\" or \"90m\"")
	}
	*d = Duration(v)
	return nil
}

// Range is a span of durations. A draw from it is uniform over the whole
// seconds in [Min, Max].
type Range struct {
	Min Duration `json:"min"`
	Max Duration `json:"max"`
}

// mean is the middle of the range, the forecast's stand-in for a draw.
func (rg Range) mean() time.Duration { return time.Duration(rg.Min+rg.Max) / 2 }

// At is an instant of a simulation, written relative to its start or to
// the end of its pilot campaign:
//
//	"36h"            36 hours after Scenario.Start
//	"pilotEnd"       when the pilot campaign ends (the start, without a pilot)
//	"pilotEnd+12h"   12 hours after that
//
// The zero At is the start.
type At struct {
	PilotEnd bool          // relative to the pilot's end, not the start
	After    time.Duration // how long after it, never negative
}

// String is the instant as a scenario writes it.
func (a At) String() string {
	switch {
	case !a.PilotEnd:
		return Duration(a.After).String()
	case a.After == 0:
		return "pilotEnd"
	}
	return "pilotEnd+" + Duration(a.After).String()
}

// MarshalText writes the instant as String does.
func (a At) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads "36h", "pilotEnd" or "pilotEnd+12h".
func (a *At) UnmarshalText(b []byte) error {
	s, v := string(b), At{}
	if rest, ok := strings.CutPrefix(s, "pilotEnd"); ok {
		v.PilotEnd, s = true, rest
		if s == "" {
			*a = v
			return nil
		}
		if s, ok = strings.CutPrefix(s, "+"); !ok {
			return errors.New(`not "pilotEnd" or "pilotEnd+<duration>"`)
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return errors.New(`not a duration after the start such as "36h", nor "pilotEnd" or "pilotEnd+12h"`)
	}
	v.After = d
	*a = v
	return nil
}

// DateSpec is a campaign date as a scenario writes it: a ThingSpace date,
// or a whole number of days after the day the campaign is scheduled or
// after the scenario's start day (all UTC days, as ThingSpace's dates):
//
//	"2026-01-12"     that day
//	"+48h"           two days after the day the campaign is scheduled
//	"start+48h"      two days after the day of Scenario.Start
//
// The zero DateSpec is an absent date (an absent endDate of an on-demand
// campaign is its startDate + 7, as ThingSpace has it).
type DateSpec struct {
	From DateFrom      // what the date counts from
	Days int           // days after it (relative dates)
	Abs  schedule.Date // the date (FromNothing)
}

// DateFrom is what a DateSpec counts from.
type DateFrom uint8

// What a date counts from.
const (
	FromNothing   DateFrom = iota // an absolute date, or absent
	FromScheduled                 // the UTC day the campaign is scheduled
	FromStart                     // the UTC day of Scenario.Start
)

// Relative is the date days after the day its campaign is scheduled.
func Relative(days int) DateSpec { return DateSpec{From: FromScheduled, Days: days} }

// IsZero reports an absent date.
func (d DateSpec) IsZero() bool { return d.From == FromNothing && d.Abs.IsZero() }

// Resolve is the date for a campaign scheduled at scheduled in a
// simulation that started at start; zero for an absent date.
func (d DateSpec) Resolve(scheduled, start time.Time) schedule.Date {
	switch d.From {
	case FromScheduled:
		return schedule.DateOf(scheduled).AddDays(d.Days)
	case FromStart:
		return schedule.DateOf(start).AddDays(d.Days)
	}
	return d.Abs
}

// String is the date as a scenario writes it ("" when absent).
func (d DateSpec) String() string {
	rel := "+" + strconv.Itoa(24*d.Days) + "h"
	switch {
	case d.From == FromScheduled:
		return rel
	case d.From == FromStart:
		return "start" + rel
	case d.Abs.IsZero():
		return ""
	}
	return d.Abs.String()
}

// MarshalText writes the date as String does.
func (d DateSpec) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// maxDays bounds a relative date: ten years.
const maxDays = 3660

// UnmarshalText reads "YYYY-MM-DD", "+48h" or "start+48h"; "" is absent.
func (d *DateSpec) UnmarshalText(b []byte) error {
	s := string(b)
	if s == "" {
		*d = DateSpec{}
		return nil
	}
	v := DateSpec{From: FromScheduled}
	if rest, ok := strings.CutPrefix(s, "start"); ok {
		v.From, s = FromStart, rest
	}
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		dur, err := time.ParseDuration(rest)
		if err != nil || dur < 0 || dur%(24*time.Hour) != 0 || dur > maxDays*24*time.Hour {
			return errors.New(`a relative date is "+" and a whole number of days, at most ten years, as a Go duration, such as "+48h"`)
		}
		v.Days = int(dur / (24 * time.Hour))
		*d = v
		return nil
	}
	if v.From == FromStart {
		return errors.New(`not "start+<whole days>" such as "start+48h"`)
	}
	abs, err := schedule.ParseDate("date", s)
	if err != nil {
		return errors.New(`not a date "YYYY-MM-DD", "+48h" (after the day the campaign is scheduled) or "start+48h"`)
	}
	*d = DateSpec{Abs: abs}
	return nil
}

// ReadScenario reads a scenario file (see the package doc for its format)
// on top of base: what the file leaves out keeps base's value, except
// that each fleet group starts from DefaultGroup and each campaign's
// dates and windows are exactly what the file writes (an absent window
// list is all hours, as in a ThingSpace request). A field the format does
// not know, a value of the wrong type and broken JSON are refused with a
// *ScenarioError naming the field as the file spells it, e.g.
// "fleet[1].checkInEvery". ReadScenario does not Validate.
func ReadScenario(r io.Reader, base Scenario) (Scenario, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return base, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var one json.RawMessage
	if err := dec.Decode(&one); err != nil {
		return base, fileError("", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return base, &ScenarioError{Field: "(file)", Value: short(b[dec.InputOffset():]), Reason: "more than one JSON value"}
	}
	if err := strict(b, reflect.TypeFor[Scenario](), ""); err != nil {
		return base, err
	}
	s := base
	s.Fleet = nil // a file's fleet replaces the base's
	if err := json.Unmarshal(b, &s); err != nil {
		return base, fileError("", err)
	}
	if s.Fleet == nil {
		s.Fleet = base.Fleet
	}
	return s, nil
}

// fileError turns a decoding error into a *ScenarioError naming the field.
func fileError(path string, err error) error {
	se := &ScenarioError{Field: path, Err: err, Reason: err.Error()}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		se.Field, se.Value = "(file)", "offset "+strconv.FormatInt(syn.Offset, 10)
	case errors.As(err, &typ):
		if se.Field == "" {
			se.Field = typ.Field
		}
		se.Value, se.Reason = typ.Value, "must be "+jsonKind(typ.Type)
	}
	if se.Field == "" {
		se.Field = "(file)"
	}
	return se
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Struct:
		return "an object"
	}
	return t.String()
}

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	simPackage      = reflect.TypeFor[Scenario]().PkgPath()
)

// strict walks raw against t before the real decoding, so that an
// unknown field or a wrong value is reported with its full path
// ("fleet[1].checkInEvery"); encoding/json names neither the path nor,
// for DisallowUnknownFields, anything but the key. Keys must match the
// format's spelling exactly (encoding/json would accept any case).
func strict(raw []byte, t reflect.Type, path string) error {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	p := reflect.PointerTo(t)
	leaf := p.Implements(textUnmarshaler) ||
		(p.Implements(jsonUnmarshaler) && t.PkgPath() != simPackage) ||
		t.Kind() != reflect.Struct && t.Kind() != reflect.Slice
	if t.Kind() == reflect.Struct && !p.Implements(textUnmarshaler) {
		// Structs, ours or not (schedule.Window), refuse unknown keys.
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return &ScenarioError{Field: orFile(path), Value: short(raw), Reason: "must be an object"}
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			f, ok := fields[k]
			if !ok {
				return &ScenarioError{Field: join(path, k), Value: short(obj[k]), Reason: "unknown field", Err: ErrUnknownField}
			}
			if !leaf {
				if err := strict(obj[k], f.Type, join(path, k)); err != nil {
					return err
				}
			}
		}
	} else if t.Kind() == reflect.Slice && !leaf {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return &ScenarioError{Field: orFile(path), Value: short(raw), Reason: "must be a list"}
		}
		for i, el := range list {
			if err := strict(el, t.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		return nil
	}
	if !leaf {
		return nil
	}
	v := reflect.New(t)
	if err := json.Unmarshal(raw, v.Interface()); err != nil {
		se := &ScenarioError{Field: orFile(path), Value: short(raw), Reason: err.Error(), Err: err}
		var typ *json.UnmarshalTypeError
		var fe *schedule.FieldError
		var s string
		switch {
		case p.Implements(textUnmarshaler) && json.Unmarshal(raw, &s) != nil:
			se.Reason = "must be a string"
		case errors.As(err, &typ) && typ.Field != "":
			se.Field, se.Reason = join(path, typ.Field), "must be "+jsonKind(typ.Type)
		case errors.As(err, &typ):
			se.Reason = "must be " + jsonKind(typ.Type)
		case errors.As(err, &fe):
			// A window names itself "window"; the path already does.
			se.Field, se.Value = join(path, strings.TrimPrefix(fe.Field, "window.")), fe.Value
			se.Reason = fe.Err.Error()
			if fe.Reason != "" {
				se.Reason += ": " + fe.Reason
			}
		}
		return se
	}
	return nil
}

// jsonFields maps each JSON key of struct t (embedded structs flattened,
// as encoding/json does) to its field.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, g := range jsonFields(f.Type) {
				out[k] = g
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orFile(path string) string {
	if path == "" {
		return "(file)"
	}
	return path
}

// short is a value as the file wrote it, cut for an error message.
func short(raw []byte) string {
	s := string(bytes.TrimSpace(raw))
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
