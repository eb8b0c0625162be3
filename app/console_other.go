//go:build !windows

package main

// Outside Windows a program started from a terminal always has its standard
// streams, so there is no console to attach to: this twin of
// console_windows.go is deliberately empty.
