//go:build !windows

package ui

import "fyne.io/fyne/v2"

// keepOnTop is a no-op outside Windows: X11 window managers differ, and the
// shop PCs this matters on run Windows.
func keepOnTop(fyne.Window) {}
