//go:build linux && cgo

package main

// #include <malloc.h>
import "C"

// returnCHeap hands glibc's free heap pages back to the OS. glibc returns
// only the top of its heap by itself; what Mesa and GLFW free in the middle
// (a closed window's context and textures) stays resident without this.
func returnCHeap() { C.malloc_trim(0) }
