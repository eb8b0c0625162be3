//go:build !windows

package usbdev

import "context"

// Enumerate lists the present device nodes. Only Windows has them in the
// form this package reads (device instance IDs); elsewhere the list is
// empty, so Lookup answers ok=false.
func Enumerate(ctx context.Context) ([]Present, error) {
	return nil, ctx.Err()
}
