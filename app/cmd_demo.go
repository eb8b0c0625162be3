package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
)

func init() {
	commands["demo"] = command{"try the whole flow on the embedded bank simulator (tray app, or --headless)", cmdDemo}
}

// trayDemo opens the tray app on the simulator; the tray's file sets it.
// While it is nil, or with no display, the demo runs headless.
var trayDemo func(stdout, stderr io.Writer) int

func cmdDemo(args []string, stdout, stderr io.Writer) int {
	fs, _ := newFlags("demo", stderr)
	headless := fs.Bool("headless", false, "take sample payments in the terminal instead of opening the tray app")
	if !parseFlags(fs, args, stderr) {
		return exitUsage
	}
	if !*headless && trayDemo != nil {
		if hasDisplay() {
			return trayDemo(stdout, stderr)
		}
		fmt.Fprintln(stderr, "scanbox demo: no display found, so the demo runs in the terminal (--headless)")
	}
	return runHeadlessDemo(stdout, stderr)
}

// hasDisplay reports whether a window can be opened.
func hasDisplay() bool {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}
