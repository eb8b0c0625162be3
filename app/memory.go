package main

import (
	"runtime/debug"
	"time"
)

// startupSettle is how long after the tray is ready its first windows
// have been drawn (fyne parses every font face on first paint).
const startupSettle = 5 * time.Second

// returnStartupMemory hands the start-up's garbage back to the OS once.
// Start-up allocates far more than the tray keeps: fyne parses the fonts
// once per text style (tens of MiB of tables, most thrown away), the store
// and the configuration are read. The Go runtime would keep those pages
// resident until its background scavenger returned them, slowly; a tray
// that runs all day beside the POS should not sit that much bigger than it
// needs (docs/ui.md, "Weight"). One forced GC, a few ms, once.
func returnStartupMemory() {
	time.Sleep(startupSettle)
	debug.FreeOSMemory()
}
