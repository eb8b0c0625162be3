package main

import (
	"fmt"
	"io"
)

// runTray starts the tray app. Until the UI lands (issue 4) it says so.
func runTray(_, stderr io.Writer) int {
	fmt.Fprintln(stderr, "scanbox: the tray app is not built yet; see scanbox --help for the headless commands")
	return exitUsage
}
