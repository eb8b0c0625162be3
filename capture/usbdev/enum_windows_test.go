//go:build windows

package usbdev

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The real SetupAPI enumeration runs and returns (under Wine there are no
// USB devices, so the list may be empty; on a cashier PC it lists them).
func TestEnumerateOnThisPC(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	devs, err := Enumerate(ctx)
	if err != nil {
		t.Fatalf("Enumerate: %v", err)
	}
	t.Logf("%d device nodes; DEVPKEY_Device_Parent available: %v", len(devs), haveDeviceProperty())
	for _, p := range devs {
		t.Logf("%-9s %-60s port=%q name=%q parent=%q hwids=%q", p.Class, p.InstanceID, p.PortName, p.Name, p.Parent, p.HardwareIDs)
		if strings.TrimSpace(p.InstanceID) == "" {
			t.Errorf("node without an instance ID: %+v", p)
		}
		if p.PortName != "" && !strings.EqualFold(p.Class, ClassPorts) {
			t.Errorf("PortName on a non-Ports node: %+v", p)
		}
	}
	for _, w := range []Want{{Mode: "serial", Port: "COM1"}, {Mode: "serial", Port: "COM3"}, {Mode: "hook"}} {
		d, ok, err := Lookup(ctx, w)
		if err != nil {
			t.Fatalf("Lookup(%+v): %v", w, err)
		}
		t.Logf("Lookup(%+v) = %+v, %v (model %q)", w, d, ok, d.ModelLabel())
	}
}

// A cancelled context stops the enumeration with the context's error.
func TestEnumerateCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Enumerate(ctx); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
