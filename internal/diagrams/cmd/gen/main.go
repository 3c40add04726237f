// Command gen writes docs/lifecycles.md from diagrams.Markdown. It is run
// by `go generate ./...` from the module root (see generate.go there);
// -o names another output file.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/fotakit/fota/internal/diagrams"
)

func main() {
	out := flag.String("o", "docs/lifecycles.md", "the file to write, relative to the working directory")
	flag.Parse()
	page, err := diagrams.Markdown()
	if err == nil {
		err = os.WriteFile(*out, []byte(page), 0o644)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
}
