//go:build !windows

// Package winpipe holds the named-pipe checks the local API and the shared
// OCR helper both make on Windows; elsewhere it has nothing to check.
package winpipe

// UnderWine is false outside Windows.
func UnderWine() bool { return false }
