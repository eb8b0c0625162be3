package usbdev

import (
	"fmt"
	"testing"
)

// benchPC is a busy cashier PC's listing: the scan box, keyboards, and
// ~200 other USB nodes (hubs, a printer, a display's HID interfaces...).
func benchPC() []Present {
	devs := pc(newlandCDC, newlandComposite, newlandIface0, ch340, ftdiUSB, ftdiPort, com1, logiUSB, logiIface, logiKbd, ps2Kbd, honUSB, honIface, honKbd)
	for i := range 200 {
		usb := Present{InstanceID: fmt.Sprintf(`USB\VID_%04X&PID_%04X\5&%X&0&%d`, 0x2000+i, i, i*7919, i%8), Parent: rootHub, Class: "USB", Name: "USB Composite Device"}
		iface := Present{InstanceID: fmt.Sprintf(`USB\VID_%04X&PID_%04X&MI_00\6&%X&0&0000`, 0x2000+i, i, i*104729), Parent: usb.InstanceID, Class: "HIDClass", Name: "USB Input Device"}
		devs = append(devs, usb, iface)
	}
	return devs
}

func BenchmarkChoose(b *testing.B) {
	devs := benchPC()
	for _, w := range []Want{{Mode: "serial", Port: "COM4"}, {Mode: "hook"}} {
		b.Run(w.Mode, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok, _ := Choose(devs, w); !ok {
					b.Fatal("no answer")
				}
			}
		})
	}
}
