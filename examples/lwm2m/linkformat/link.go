package linkformat

import (
	"strconv"
	"strings"
)

// MaxLinks bounds how many links Parse accepts, so a hostile payload costs
// little. LwM2M clients list a handful of object instances.
const MaxLinks = 256

// Link is one link-value: a target URI reference and its parameters in
// payload order.
type Link struct {
	Target string
	Params []Param
	Offset int // where the link starts in the payload
}

// Param is one link parameter. HasValue is false for a bare name (a
// link-extension without "="); Value holds a quoted string unquoted.
type Param struct {
	Name     string
	Value    string
	HasValue bool
}

// Param returns the value of the first parameter called name and whether
// there is one.
func (l Link) Param(name string) (string, bool) {
	for _, p := range l.Params {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

// String writes the link back in link format; quoted values are quoted
// again, so Parse(String()) gives the same link.
func (l Link) String() string {
	var b strings.Builder
	b.WriteByte('<')
	b.WriteString(l.Target)
	b.WriteByte('>')
	for _, p := range l.Params {
		b.WriteByte(';')
		b.WriteString(p.Name)
		if !p.HasValue {
			continue
		}
		b.WriteByte('=')
		if isPtoken(p.Value) {
			b.WriteString(p.Value)
			continue
		}
		b.WriteByte('"')
		for i := 0; i < len(p.Value); i++ {
			if c := p.Value[i]; !isQdtext(c) {
				b.WriteByte('\\')
			}
			b.WriteByte(p.Value[i])
		}
		b.WriteByte('"')
	}
	return b.String()
}

// Format writes links as one payload, comma separated.
func Format(links []Link) string {
	parts := make([]string, len(links))
	for i, l := range links {
		parts[i] = l.String()
	}
	return strings.Join(parts, ",")
}

// Parse reads a link-format payload (RFC 6690 §2). Anything off the grammar
// is an *Error matching ErrSyntax that names the field, the text and its
// offset.
func Parse(payload []byte) ([]Link, error) {
	p := parser{s: string(payload)}
	if len(p.s) == 0 {
		return nil, nil
	}
	var links []Link
	for {
		if len(links) == MaxLinks {
			return nil, syntaxError("link", p.rest(16), p.i, "more than "+strconv.Itoa(MaxLinks)+" links")
		}
		l, err := p.link()
		if err != nil {
			return nil, err
		}
		links = append(links, l)
		if p.i == len(p.s) {
			return links, nil
		}
		if p.s[p.i] != ',' {
			return nil, syntaxError("link", p.rest(16), p.i, "expected ',' between links")
		}
		p.i++
		if p.i == len(p.s) {
			return nil, syntaxError("link", "", p.i, "trailing ','")
		}
	}
}

type parser struct {
	s string
	i int
}

// rest is up to n bytes from the current position, for error messages.
func (p *parser) rest(n int) string {
	r := p.s[p.i:]
	if len(r) > n {
		r = r[:n]
	}
	return r
}

func (p *parser) link() (Link, error) {
	start := p.i
	if p.s[p.i] != '<' {
		return Link{}, syntaxError("link", p.rest(16), p.i, "a link starts with '<'")
	}
	p.i++
	end := strings.IndexByte(p.s[p.i:], '>')
	if end < 0 {
		return Link{}, syntaxError("target", p.rest(16), p.i, "no closing '>'")
	}
	target := p.s[p.i : p.i+end]
	if target == "" {
		return Link{}, syntaxError("target", "", p.i, "empty target")
	}
	for j := 0; j < len(target); j++ {
		if !isTargetChar(target[j]) {
			return Link{}, syntaxError("target", target, p.i, "character "+quoteByte(target[j])+" not allowed in a URI reference")
		}
	}
	p.i += end + 1
	l := Link{Target: target, Offset: start}
	for p.i < len(p.s) && p.s[p.i] == ';' {
		p.i++
		prm, err := p.param()
		if err != nil {
			return Link{}, err
		}
		l.Params = append(l.Params, prm)
	}
	return l, nil
}

func (p *parser) param() (Param, error) {
	start := p.i
	for p.i < len(p.s) && isParmnameChar(p.s[p.i]) {
		p.i++
	}
	name := p.s[start:p.i]
	if name == "" {
		return Param{}, syntaxError("parameter", p.rest(16), start, "empty or invalid parameter name")
	}
	// RFC 5987 ext-name-star: "title*" and the like carry an ext-value.
	if p.i < len(p.s) && p.s[p.i] == '*' {
		p.i++
		name += "*"
	}
	if p.i == len(p.s) || p.s[p.i] != '=' {
		if p.i < len(p.s) && p.s[p.i] != ';' && p.s[p.i] != ',' {
			return Param{}, syntaxError("parameter", p.rest(16), p.i, "unexpected character after parameter "+name)
		}
		return Param{Name: name}, nil
	}
	p.i++
	if p.i < len(p.s) && p.s[p.i] == '"' {
		v, err := p.quoted()
		if err != nil {
			return Param{}, err
		}
		return Param{Name: name, Value: v, HasValue: true}, nil
	}
	vstart := p.i
	for p.i < len(p.s) && isPtokenChar(p.s[p.i]) {
		p.i++
	}
	if p.i == vstart {
		return Param{}, syntaxError("value", p.rest(16), vstart, "empty or invalid value of parameter "+name)
	}
	if p.i < len(p.s) && p.s[p.i] != ';' && p.s[p.i] != ',' {
		return Param{}, syntaxError("value", p.s[vstart:p.i]+p.rest(1), p.i, "character "+quoteByte(p.s[p.i])+" not allowed in a token")
	}
	return Param{Name: name, Value: p.s[vstart:p.i], HasValue: true}, nil
}

func (p *parser) quoted() (string, error) {
	start := p.i
	p.i++ // opening quote
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			if p.i < len(p.s) && p.s[p.i] != ';' && p.s[p.i] != ',' {
				return "", syntaxError("value", p.s[start:p.i], p.i, "unexpected character after quoted string")
			}
			return b.String(), nil
		case c == '\\':
			if p.i+1 == len(p.s) || !isQuotable(p.s[p.i+1]) {
				return "", syntaxError("value", p.s[start:min(p.i+2, len(p.s))], p.i, "bad escape in quoted string")
			}
			b.WriteByte(p.s[p.i+1])
			p.i += 2
		case isQdtext(c):
			b.WriteByte(c)
			p.i++
		default:
			return "", syntaxError("value", p.s[start:p.i+1], p.i, "character "+quoteByte(c)+" not allowed in a quoted string")
		}
	}
	return "", syntaxError("value", p.s[start:], start, "unterminated quoted string")
}

// isTargetChar: visible ASCII allowed in a URI reference (RFC 3986 reserved,
// unreserved and '%'), excluding what would end or confuse the link.
func isTargetChar(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	switch c {
	case '<', '>', '"', '\\', '^', '`', '{', '|', '}':
		return false
	}
	return true
}

// isParmnameChar: RFC 6690 parmname = 1*( ALPHA / DIGIT / "!" / "#" / "$" /
// "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" ).
func isParmnameChar(c byte) bool {
	if isAlnum(c) {
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}

// isPtokenChar: RFC 6690 ptokenchar.
func isPtokenChar(c byte) bool {
	if isAlnum(c) {
		return true
	}
	return strings.IndexByte("!#$%&'()*+-./:<=>?@[]^_`{|}~", c) >= 0
}

func isPtoken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isPtokenChar(s[i]) {
			return false
		}
	}
	return true
}

// isQdtext: printable ASCII and space, except '"' and '\' (RFC 7230
// qdtext without obs-text: a registration is ASCII).
func isQdtext(c byte) bool { return c >= ' ' && c < 0x7f && c != '"' && c != '\\' }

// isQuotable: what may follow a backslash (RFC 7230 quoted-pair, ASCII).
func isQuotable(c byte) bool { return c >= ' ' && c < 0x7f || c == '\t' }

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func quoteByte(c byte) string {
	const hex = "0123456789abcdef"
	if c >= ' ' && c < 0x7f {
		return "'" + string(c) + "'"
	}
	return "0x" + string(hex[c>>4]) + string(hex[c&15])
}
