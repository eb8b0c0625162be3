//go:build !linux || !cgo

package main

// returnCHeap: Windows' heap decommits free pages itself.
func returnCHeap() {}
