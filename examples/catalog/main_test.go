package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/fotakit/fota"
)

func TestJSONIsTheCatalog(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-json"}, &out, &errb); code != 0 {
		t.Fatalf("run -json = %d, stderr %q", code, errb.String())
	}
	if errb.Len() != 0 {
		t.Errorf("stderr = %q, want nothing", errb.String())
	}
	var got []fota.CatalogEntry
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not a JSON array of entries: %v", err)
	}
	if want := fota.Catalog(); !reflect.DeepEqual(got, want) {
		t.Errorf("JSON holds %d entries that differ from fota.Catalog() (%d)", len(got), len(want))
	}
	var objs []map[string]json.RawMessage
	if err := json.Unmarshal(out.Bytes(), &objs); err != nil {
		t.Fatal(err)
	}
	want := []string{"detail", "family", "kind", "status"}
	for i, o := range objs {
		if keys := slices.Sorted(maps.Keys(o)); !slices.Equal(keys, want) {
			t.Fatalf("object %d has fields %v, want exactly %v", i, keys, want)
		}
	}
	// Prose stays readable: no \u0026-style escapes.
	if bytes.Contains(out.Bytes(), []byte(`\u00`)) {
		t.Error("JSON output escapes characters a reader needs to see")
	}
}

// padding is what tabwriter put between columns tabwriter put between columns
// (two spaces or more; statuses and details hold single spaces).
var padding = regexp.MustCompile(`  +`)

func TestTableHoldsKnownLines(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(nil, &out, &errb); code != 0 {
		t.Fatalf("run = %d, stderr %q", code, errb.String())
	}
	rows := map[string]bool{}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	for _, l := range lines {
		rows[padding.ReplaceAllString(strings.TrimRight(l, " "), "|")] = true
	}
	for _, want := range []string{
		"FAMILY|KIND|STATUS|DETAIL",
		"HTTP|campaign|CampaignQueued",
		"PUSH|campaign|RequestPending",
		"PUSH|device|Device Accepted|Device cleared all check so it can be added to the scheduled list.",
		"PUSH|device|Device Rejected|Current device firmeware version does not meet firmware prerequisites.",
		"HTTP|device|DeviceRejected|Device make/model does not meet softwware prerequisites.",
		"HTTP|device|UpgradeFailed|Uknown device error.",
		"HTTP|license|LicenseRemoveFailed|Internal error.",
	} {
		if !rows[want] {
			t.Errorf("table has no row %q", want)
		}
	}
	if got, want := len(lines), 1+len(fota.Catalog()); got != want {
		t.Errorf("table has %d lines, want a header and %d entries", got, want-1)
	}
	// Aligned: the DETAIL column starts at the same offset on every row
	// that has a detail.
	col := strings.Index(lines[0], "DETAIL")
	for _, l := range lines[1:] {
		if len(l) > col && (l[col-1] != ' ' || l[col] == ' ') {
			t.Errorf("row %q: detail does not start at column %d", l, col)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"-xml"}, {"-json=maybe"}, {"extra"}, {"-json", "extra"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("run %q = %d, want 2", args, code)
		}
		if out.Len() != 0 {
			t.Errorf("run %q wrote %q to stdout", args, out.String())
		}
		if !strings.Contains(errb.String(), "usage: catalog [-json]") {
			t.Errorf("run %q: stderr %q has no usage", args, errb.String())
		}
	}
}

func TestHelpIsNotAnError(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-h"}, &out, &errb); code != 0 {
		t.Errorf("run -h = %d, want 0", code)
	}
	if !strings.Contains(errb.String(), "-json") {
		t.Errorf("run -h: stderr %q does not describe -json", errb.String())
	}
}

type brokenWriter struct{}

func (brokenWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteFailureIsReported(t *testing.T) {
	for _, args := range [][]string{nil, {"-json"}} {
		var errb bytes.Buffer
		if code := run(args, brokenWriter{}, &errb); code != 1 {
			t.Errorf("run %q to a broken stdout = %d, want 1", args, code)
		}
		if !strings.Contains(errb.String(), "disk full") {
			t.Errorf("run %q: stderr %q does not say why", args, errb.String())
		}
	}
}
