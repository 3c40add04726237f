package api

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fotakit/fota"
)

// checkText refuses a string longer than max bytes, one that is not
// valid UTF-8, and one holding NUL: nothing this API names (ids, names,
// URLs, dates) needs either, and each breaks a store or a log somewhere.
func checkText(field, v string, max int) error {
	switch {
	case len(v) > max:
		return &fota.RequestError{Field: field, Value: strconv.QuoteToASCII(v[:min(len(v), 32)]) + "…", Reason: "longer than " + strconv.Itoa(max) + " bytes"}
	case !utf8.ValidString(v):
		return &fota.RequestError{Field: field, Value: strconv.QuoteToASCII(v), Reason: "not valid UTF-8"}
	case strings.IndexByte(v, 0) >= 0:
		return &fota.RequestError{Field: field, Value: strconv.QuoteToASCII(v), Reason: "holds NUL"}
	}
	return nil
}

// checkJSON applies checkText to every key and string value of a JSON
// body, naming the innermost key. It runs before the body is decoded:
// encoding/json silently turns invalid UTF-8 into U+FFFD, so the raw
// bytes are checked first. Malformed JSON is left for the decoder to
// report with its offset.
func checkJSON(b []byte, max int) error {
	if !utf8.Valid(b) {
		return &fota.RequestError{Field: "body", Value: "", Reason: "not valid UTF-8"}
	}
	if len(b) <= max && !bytes.Contains(b, []byte(`\u0000`)) {
		return nil // no string in it can be too long or hold NUL (a raw NUL is malformed JSON)
	}
	type level struct {
		object  bool   // an object (else an array)
		wantKey bool   // in an object: the next string is a key
		field   string // the key whose value this level is, or the last key read in it
	}
	stack := []level{{field: "body"}}
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF, or a syntax error the decoder proper reports
		}
		top := &stack[len(stack)-1]
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				stack = append(stack, level{object: d == '{', wantKey: d == '{', field: top.field})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].wantKey = true
				}
			}
			continue
		}
		if top.object && top.wantKey {
			top.wantKey = false
			top.field, _ = tok.(string)
			if err := checkText(top.field, top.field, max); err != nil {
				return err
			}
			continue
		}
		if s, ok := tok.(string); ok {
			if err := checkText(top.field, s, max); err != nil {
				return err
			}
		}
		if top.object {
			top.wantKey = true
		}
	}
}
