// Command catalog prints fota's status catalog: every campaign status of
// both families, then every device status and licence outcome with the
// sentence ThingSpace sends with it, spelled exactly as ThingSpace spells
// it.
//
//	go run ./examples/catalog          # an aligned table
//	go run ./examples/catalog -json    # a JSON array of {family, kind, status, detail}
//
// The JSON form is what other tools should read; the table is for people.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/fotakit/fota"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program: it parses args, writes the catalog to stdout
// and returns the exit status: 0, 1 when stdout cannot be written, 2 for
// bad usage (reported on stderr with the usage text).
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("catalog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print a JSON array of {family, kind, status, detail} instead of a table")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: catalog [-json]\n\nPrints fota's status catalog.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // -h asked for the usage; flag has printed it
		}
		return 2 // flag has printed the error and the usage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "catalog: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}

	cat := fota.Catalog()
	var err error
	if *asJSON {
		err = writeJSON(stdout, cat)
	} else {
		err = writeTable(stdout, cat)
	}
	if err != nil {
		fmt.Fprintf(stderr, "catalog: %v\n", err)
		return 1
	}
	return 0
}

func writeJSON(w io.Writer, cat []fota.CatalogEntry) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// The details are prose ("make/model", "Internal Error."); keep them
	// readable rather than HTML-escaped.
	enc.SetEscapeHTML(false)
	return enc.Encode(cat)
}

func writeTable(w io.Writer, cat []fota.CatalogEntry) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FAMILY\tKIND\tSTATUS\tDETAIL")
	for _, e := range cat {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Family, e.Kind, e.Status, e.Detail)
	}
	return tw.Flush()
}
