package schedule

import (
	"fmt"
	"time"
)

// Date is a whole UTC day, the unit of every ThingSpace campaign date
// ("YYYY-MM-DD"). The zero Date means "absent" (an omitted optional date).
//
// A date covers [Start(), End()): End is the next day's 00:00 UTC, an
// exclusive bound. The inclusive end that ThingSpace describes ("the end
// date could be on a Saturday at 11:59:59 PM UTC") is End()-1ns =
// 23:59:59.999999999 UTC.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses s as "YYYY-MM-DD" strictly: exactly ten bytes, ASCII
// digits, years 0001..9999, a real calendar day. Anything else is a
// *FieldError naming field and s, matching ErrBadDate.
func ParseDate(field, s string) (Date, error) {
	bad := func(reason string) (Date, error) {
		return Date{}, fieldErr(field, s, ErrBadDate, reason)
	}
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return bad(`want "YYYY-MM-DD"`)
	}
	num := func(b string) (int, bool) {
		n := 0
		for i := 0; i < len(b); i++ {
			c := b[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(s[0:4])
	m, ok2 := num(s[5:7])
	d, ok3 := num(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return bad(`want "YYYY-MM-DD"`)
	}
	if y < 1 {
		return bad("year must be 0001..9999")
	}
	if m < 1 || m > 12 {
		return bad("month must be 01..12")
	}
	if d < 1 || d > daysIn(y, time.Month(m)) {
		return bad("no such day in that month")
	}
	return Date{Year: y, Month: time.Month(m), Day: d}, nil
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// DateOf is the UTC day containing t.
func DateOf(t time.Time) Date {
	y, m, d := t.UTC().Date()
	return Date{Year: y, Month: m, Day: d}
}

// IsZero reports whether d is the zero Date ("absent").
func (d Date) IsZero() bool { return d == Date{} }

// valid reports whether d is a date ParseDate would accept.
func (d Date) valid() bool {
	return d.Year >= 1 && d.Year <= 9999 && d.Month >= 1 && d.Month <= 12 &&
		d.Day >= 1 && d.Day <= daysIn(d.Year, d.Month)
}

// Start is 00:00 UTC on d.
func (d Date) Start() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// End is 00:00 UTC on the day after d: the exclusive end of d. The last
// instant of d is End()-1ns (23:59:59.999999999 UTC).
func (d Date) End() time.Time { return time.Date(d.Year, d.Month, d.Day+1, 0, 0, 0, 0, time.UTC) }

// AddDays is the date n days after d (before it when n < 0).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 0, 0, 0, 0, time.UTC))
}

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool { return d.cmp(e) < 0 }

// After reports whether d is a later day than e.
func (d Date) After(e Date) bool { return d.cmp(e) > 0 }

// Equal reports whether d and e are the same day.
func (d Date) Equal(e Date) bool { return d == e }

func (d Date) cmp(e Date) int {
	switch {
	case d.Year != e.Year:
		return sign(d.Year - e.Year)
	case d.Month != e.Month:
		return sign(int(d.Month) - int(e.Month))
	}
	return sign(d.Day - e.Day)
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// String is "YYYY-MM-DD" (the zero Date prints as "0000-00-00").
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalText writes "YYYY-MM-DD", or nothing for the zero Date. A Date
// that ParseDate would refuse is an error (ErrBadDate), so what is written
// can always be read back.
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return []byte{}, nil
	}
	if !d.valid() {
		return nil, fieldErr("date", d.String(), ErrBadDate, "not a calendar day in 0001..9999")
	}
	return []byte(d.String()), nil
}

// UnmarshalText reads "YYYY-MM-DD" strictly; the empty string reads as the
// zero Date (absent), as some clients send "" for an omitted date. On error
// d is unchanged.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate("date", string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
