//go:build !linux && !windows

package ocrpipe

import (
	"context"
	"net"
)

// Endpoint is the name of the shared helper's endpoint for key.
func Endpoint(key string) string { return "scanbox-ocr-" + key }

// Supported says whether a shared helper can be used here: not on this
// system (no abstract sockets to keep it file-free; a private helper is used).
func Supported() error { return ErrUnsupported }

// Listen is not supported on this system.
func Listen(string) (net.Listener, error) { return nil, ErrUnsupported }

// Dial is not supported on this system.
func Dial(context.Context, string) (net.Conn, error) { return nil, ErrUnsupported }

func quietStdio() {}

func closeInherited() {}
