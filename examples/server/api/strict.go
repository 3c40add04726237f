package api

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/fotakit/fota"
)

// Request bodies decode strictly: a top-level field the request type does
// not have is refused with its name, so a misspelt optional field
// (downloadTimeWindowsList) is a 400 instead of a campaign that silently
// ignores it. Keys match as encoding/json matches them, regardless of case
// (v1 sends "type" where v2 sends "Type"). Options.Lenient ignores unknown
// fields instead, for clients that send more than their model's fields.

// checkFields refuses a top-level key of the JSON object b that the
// request type v (a pointer) does not decode. fota's own request types
// (CampaignRequest, UpgradeRequest) refuse unknown fields themselves, and
// are left to their decoders. A body that is not an object is left to the
// decoder, which says what is wrong with it.
func checkFields(b []byte, v any) error {
	switch v.(type) {
	case *fota.CampaignRequest, *fota.UpgradeRequest:
		return nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(b, &obj) != nil {
		return nil
	}
	known := fieldsOf(reflect.TypeOf(v))
	if _, ok := v.(*FileCampaignRequest); ok { // its timing sits at the top level
		known = fileCampaignFields
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys) // name the first unknown field deterministically
	for _, k := range keys {
		if !slices.ContainsFunc(known, func(f string) bool { return strings.EqualFold(f, k) }) {
			raw := string(obj[k])
			if len(raw) > 64 {
				raw = raw[:64] + "…"
			}
			return &fota.RequestError{Field: k, Value: raw, Reason: "unknown field"}
		}
	}
	return nil
}

// fields caches fieldsOf per type.
var fields sync.Map // reflect.Type → []string

// fieldsOf lists the JSON names of a struct type's fields (through a
// pointer, and through embedded structs as encoding/json promotes them).
func fieldsOf(t reflect.Type) []string {
	if f, ok := fields.Load(t); ok {
		return f.([]string)
	}
	var out []string
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		for i := range t.NumField() {
			sf := t.Field(i)
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			switch {
			case name == "-":
			case sf.Anonymous && name == "":
				walk(sf.Type)
			case !sf.IsExported():
			case name == "":
				out = append(out, sf.Name)
			default:
				out = append(out, name)
			}
		}
	}
	walk(t)
	fields.Store(t, out)
	return out
}
