package main

import (
	"fmt"
	"io"

	"github.com/scanbox/scanbox/version"
)

func init() {
	commands["version"] = command{summary: "print the version", run: func(args []string, stdout, stderr io.Writer) int {
		fs, _ := newFlags("version", stdout, stderr)
		if code, ok := fs.parse(args); !ok {
			return code
		}
		fmt.Fprintf(stdout, "%s %s\n", version.Product, version.Version)
		return exitOK
	}}
}
