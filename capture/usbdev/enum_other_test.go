//go:build !windows

package usbdev

import (
	"context"
	"testing"
)

// Off Windows there are no devices: no answer, no error.
func TestPackageLookupOffWindows(t *testing.T) {
	for _, w := range []Want{serialCOM3, {Mode: "hook"}} {
		d, ok, err := Lookup(context.Background(), w)
		if err != nil || ok || d != (Device{}) {
			t.Fatalf("Lookup(%+v) = %+v, %v, %v", w, d, ok, err)
		}
	}
}
