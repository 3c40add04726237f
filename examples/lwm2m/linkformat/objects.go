package linkformat

import (
	"strconv"
	"strings"
)

// ObjectList is what an LwM2M client announced in Register or Update: an
// optional alternate root path and its objects and object instances.
type ObjectList struct {
	Root  string   // the alternate root path ("/lwm2m"); "/" when none
	Links []Object // in payload order, root link excluded
}

// Object is one announced object (</3>) or object instance (</5/0>).
type Object struct {
	ID          uint16
	Instance    uint16
	HasInstance bool
	Version     string // the ver parameter (object version), "" when absent
}

// String writes the object as its path relative to the root ("/5/0").
func (o Object) String() string {
	s := "/" + strconv.Itoa(int(o.ID))
	if o.HasInstance {
		s += "/" + strconv.Itoa(int(o.Instance))
	}
	return s
}

// Has reports whether the list announces instance instance of object id.
func (l ObjectList) Has(id, instance uint16) bool {
	for _, o := range l.Links {
		if o.ID == id && o.HasInstance && o.Instance == instance {
			return true
		}
	}
	return false
}

// String writes the list back as a registration payload.
func (l ObjectList) String() string {
	var parts []string
	prefix := ""
	if l.Root != "/" && l.Root != "" {
		parts = append(parts, "<"+l.Root+`>;rt="oma.lwm2m"`)
		prefix = l.Root
	}
	for _, o := range l.Links {
		s := "<" + prefix + o.String() + ">"
		if o.Version != "" {
			s += ";ver=" + o.Version
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

// ParseObjects reads the object list of a Register or Update payload (LwM2M
// Core §6.2.1): Parse, then the LwM2M rules of the package doc. A payload
// off the grammar is an *Error matching ErrSyntax; well-formed links that
// are no object list match ErrObjectList.
func ParseObjects(payload []byte) (ObjectList, error) {
	links, err := Parse(payload)
	if err != nil {
		return ObjectList{}, err
	}
	list := ObjectList{Root: "/"}
	rootSeen := false
	for _, l := range links {
		if !isRoot(l) {
			continue
		}
		if rootSeen {
			return ObjectList{}, listError("root", l.Target, l.Offset, "a second alternate root path")
		}
		rootSeen = true
		root, err := rootPath(l)
		if err != nil {
			return ObjectList{}, err
		}
		list.Root = root
	}
	seen := make(map[[2]int]bool, len(links))
	for _, l := range links {
		if isRoot(l) {
			continue
		}
		o, err := objectOf(l, list.Root)
		if err != nil {
			return ObjectList{}, err
		}
		key := [2]int{int(o.ID), -1}
		if o.HasInstance {
			key[1] = int(o.Instance)
		}
		if seen[key] {
			return ObjectList{}, listError("object", l.Target, l.Offset, "listed twice")
		}
		seen[key] = true
		list.Links = append(list.Links, o)
	}
	return list, nil
}

// isRoot: rt="oma.lwm2m" marks the alternate root path (the value is a
// space-separated list of resource types, RFC 6690 §3.1).
func isRoot(l Link) bool {
	rt, ok := l.Param("rt")
	if !ok {
		return false
	}
	for _, t := range strings.Fields(rt) {
		if t == "oma.lwm2m" {
			return true
		}
	}
	return false
}

func rootPath(l Link) (string, error) {
	t := l.Target
	if !strings.HasPrefix(t, "/") || strings.ContainsAny(t, "?#") {
		return "", listError("root", t, l.Offset, "not an absolute path")
	}
	if t != "/" {
		t = strings.TrimSuffix(t, "/")
		for _, seg := range strings.Split(t[1:], "/") {
			if seg == "" || seg == "." || seg == ".." {
				return "", listError("root", l.Target, l.Offset, "empty or dot segment")
			}
			if _, err := parseID(seg, 65535); err == nil {
				return "", listError("root", l.Target, l.Offset, "a numeric segment would be taken for an object")
			}
		}
	}
	return t, nil
}

func objectOf(l Link, root string) (Object, error) {
	t := l.Target
	if root != "/" {
		if !strings.HasPrefix(t, root+"/") {
			return Object{}, listError("object", t, l.Offset, "not under the root path "+root)
		}
		t = t[len(root):]
	}
	if !strings.HasPrefix(t, "/") {
		return Object{}, listError("object", l.Target, l.Offset, "not an absolute path")
	}
	segs := strings.Split(t[1:], "/")
	if len(segs) > 2 {
		return Object{}, listError("object", l.Target, l.Offset, "a registration lists objects and instances, not resources")
	}
	id, err := parseID(segs[0], 65535)
	if err != nil {
		return Object{}, listError("object", l.Target, l.Offset, err.Error())
	}
	o := Object{ID: id}
	if len(segs) == 2 {
		in, err := parseID(segs[1], 65534)
		if err != nil {
			return Object{}, listError("instance", l.Target, l.Offset, err.Error())
		}
		o.Instance, o.HasInstance = in, true
	}
	if v, ok := l.Param("ver"); ok {
		if !isVersion(v) {
			return Object{}, listError("ver", v, l.Offset, "an object version is major.minor")
		}
		o.Version = v
	}
	return o, nil
}

type idError string

func (e idError) Error() string { return string(e) }

// parseID reads a decimal ID without sign or leading zeros, at most max.
func parseID(s string, max int) (uint16, error) {
	if s == "" {
		return 0, idError("empty ID")
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, idError("leading zero")
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, idError("not a decimal ID")
		}
		n = n*10 + int(c-'0')
		if n > max {
			return 0, idError("ID above " + strconv.Itoa(max))
		}
	}
	return uint16(n), nil
}

func isVersion(v string) bool {
	major, minor, ok := strings.Cut(v, ".")
	if !ok || major == "" || minor == "" || len(v) > 9 {
		return false
	}
	for _, c := range major + minor {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
