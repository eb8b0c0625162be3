package main

import (
	"fmt"
	"io"

	"github.com/scanbox/scanbox/version"
)

func init() {
	commands["version"] = command{"print the version", func(_ []string, stdout, _ io.Writer) int {
		fmt.Fprintf(stdout, "%s %s\n", version.Product, version.Version)
		return exitOK
	}}
}
