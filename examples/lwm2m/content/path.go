package content

import (
	"strconv"
	"strings"
)

// Path is an LwM2M path of one to four IDs: object, instance, resource,
// resource instance. The zero Path is the root "/".
type Path struct {
	ids [4]uint16
	n   uint8
}

// NewPath builds a path from up to four IDs.
func NewPath(ids ...uint16) (Path, error) {
	if len(ids) > 4 {
		return Path{}, &Error{Field: "path", Value: strconv.Itoa(len(ids)) + " IDs", Reason: "an LwM2M path has at most 4 IDs", kind: ErrMalformed}
	}
	var p Path
	copy(p.ids[:], ids)
	p.n = uint8(len(ids))
	return p, nil
}

// MustPath is NewPath for constant paths in this module's own code; it
// panics on more than four IDs, which only a programming error can cause.
func MustPath(ids ...uint16) Path {
	p, err := NewPath(ids...)
	if err != nil {
		panic(err)
	}
	return p
}

// ParsePath reads "/5/0/3". IDs are decimal 0..65535 without leading zeros;
// "/" is the root.
func ParsePath(s string) (Path, error) {
	bad := func(reason string) (Path, error) {
		return Path{}, &Error{Field: "path", Value: s, Reason: reason, kind: ErrMalformed}
	}
	if !strings.HasPrefix(s, "/") {
		return bad("not absolute")
	}
	if s == "/" {
		return Path{}, nil
	}
	segs := strings.Split(s[1:], "/")
	if len(segs) > 4 {
		return bad("more than 4 IDs")
	}
	var p Path
	for i, seg := range segs {
		if seg == "" || len(seg) > 5 || (len(seg) > 1 && seg[0] == '0') {
			return bad("bad ID " + strconv.Quote(seg))
		}
		v, err := strconv.ParseUint(seg, 10, 16)
		if err != nil {
			return bad("bad ID " + strconv.Quote(seg))
		}
		p.ids[i] = uint16(v)
	}
	p.n = uint8(len(segs))
	return p, nil
}

// Len is the number of IDs.
func (p Path) Len() int { return int(p.n) }

// ID is the i-th ID (0: object).
func (p Path) ID(i int) uint16 { return p.ids[i] }

// Child appends one ID. A path of four IDs has no children: ok is false.
func (p Path) Child(id uint16) (Path, bool) {
	if p.n == 4 {
		return p, false
	}
	p.ids[p.n] = id
	p.n++
	return p, true
}

// Contains reports whether q is p or below it.
func (p Path) Contains(q Path) bool {
	if q.n < p.n {
		return false
	}
	for i := uint8(0); i < p.n; i++ {
		if p.ids[i] != q.ids[i] {
			return false
		}
	}
	return true
}

// String writes "/5/0/3".
func (p Path) String() string {
	if p.n == 0 {
		return "/"
	}
	var b strings.Builder
	for i := uint8(0); i < p.n; i++ {
		b.WriteByte('/')
		b.WriteString(strconv.Itoa(int(p.ids[i])))
	}
	return b.String()
}
