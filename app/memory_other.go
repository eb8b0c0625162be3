//go:build !linux || !cgo

package main

// returnCHeap: only glibc's heap is trimmed (app/memory_glibc.go); Windows'
// heap manager decommits large free blocks by itself.
func returnCHeap() {}
