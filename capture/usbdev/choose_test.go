package usbdev

import (
	"errors"
	"testing"
)

// Device trees as SetupAPI lists them on a cashier PC.
const rootHub = `USB\ROOT_HUB30\4&2A1B3C4D&0&0`

var (
	hub = Present{InstanceID: rootHub, Class: "USB", Name: "USB Root Hub (USB 3.0)"}

	// A Newland FR40 in USB CDC mode, reporting a serial, on COM3.
	newlandCDC = Present{InstanceID: `USB\VID_1EAB&PID_1D06\NLS-FR40-0012345`, Parent: rootHub, Class: "Ports",
		Name: "USB Serial Device (COM3)", PortName: "COM3", HardwareIDs: []string{`USB\VID_1EAB&PID_1D06&REV_0100`, `USB\VID_1EAB&PID_1D06`}}

	// A composite Newland (CDC + keyboard): the serial is on the composite node, COM4 on interface 0.
	newlandComposite = Present{InstanceID: `USB\VID_1EAB&PID_1306\NLS-EM3000-77`, Parent: rootHub, Class: "USB", Name: "USB Composite Device"}
	newlandIface0    = Present{InstanceID: `USB\VID_1EAB&PID_1306&MI_00\6&1F2E3D&0&0000`, Parent: newlandComposite.InstanceID, Class: "Ports",
		Name: "USB Serial Device (COM4)", PortName: "COM4"}

	// A CH340 bridge (no serial: Windows made the instance up) on COM5.
	ch340 = Present{InstanceID: `USB\VID_1A86&PID_7523\5&1C2F3A&0&3`, Parent: rootHub, Class: "Ports", Name: "USB-SERIAL CH340 (COM5)", PortName: "COM5"}

	// An FTDI FT232R with serial A1B2C3D4, its port on FTDI's bus as COM6.
	ftdiUSB  = Present{InstanceID: `USB\VID_0403&PID_6001\A1B2C3D4`, Parent: rootHub, Class: "USB", Name: "USB Serial Converter"}
	ftdiPort = Present{InstanceID: `FTDIBUS\VID_0403+PID_6001+A1B2C3D4A\0000`, Parent: ftdiUSB.InstanceID, Class: "Ports",
		Name: "USB Serial Port (COM6)", PortName: "COM6"}

	// The motherboard's own port.
	com1 = Present{InstanceID: `ACPI\PNP0501\1`, Class: "Ports", Name: "Communications Port (COM1)", PortName: "COM1"}

	// An ordinary USB keyboard (Logitech), its HID interface and keyboard node.
	logiUSB   = Present{InstanceID: `USB\VID_046D&PID_C31C\5&3B2A1C&0&1`, Parent: rootHub, Class: "USB", Name: "USB Composite Device"}
	logiIface = Present{InstanceID: `USB\VID_046D&PID_C31C&MI_00\6&AB12&0&0000`, Parent: logiUSB.InstanceID, Class: "HIDClass", Name: "USB Input Device"}
	logiKbd   = Present{InstanceID: `HID\VID_046D&PID_C31C&MI_00\7&2D3E4F&0&0000`, Parent: logiIface.InstanceID, Class: "Keyboard", Name: "HID Keyboard Device"}
	ps2Kbd    = Present{InstanceID: `ACPI\PNP0303\4&1D2C3B&0`, Class: "Keyboard", Name: "Standard PS/2 Keyboard"}

	// A CH9329-style keyboard emulator: the bridge vendor's VID on a keyboard.
	qinhengKbd = Present{InstanceID: `HID\VID_1A86&PID_E129\7&11&0&0000`, Class: "Keyboard", Name: "HID Keyboard Device"}

	// A Honeywell Vuquest 3310g in keyboard mode, serial 17043B1234.
	honUSB   = Present{InstanceID: `USB\VID_0C2E&PID_0B61\17043B1234`, Parent: rootHub, Class: "USB", Name: "USB Composite Device"}
	honIface = Present{InstanceID: `USB\VID_0C2E&PID_0B61&MI_00\6&77&0&0000`, Parent: honUSB.InstanceID, Class: "HIDClass", Name: "USB Input Device"}
	honKbd   = Present{InstanceID: `HID\VID_0C2E&PID_0B61&MI_00\7&3A0B5C1&0&0000`, Parent: honIface.InstanceID, Class: "Keyboard", Name: "HID Keyboard Device"}
	// Its second keyboard collection (some scanners expose two).
	honKbd2 = Present{InstanceID: `HID\VID_0C2E&PID_0B61&MI_00&Col02\7&3A0B5C1&0&0001`, Parent: honIface.InstanceID, Class: "Keyboard", Name: "HID Keyboard Device"}

	// A Newland in keyboard mode, not composite.
	nlsKbdUSB = Present{InstanceID: `USB\VID_1EAB&PID_0D03\5&9&0&4`, Parent: rootHub, Class: "HIDClass", Name: "USB Input Device"}
	nlsKbd    = Present{InstanceID: `HID\VID_1EAB&PID_0D03\7&5&0&0000`, Parent: nlsKbdUSB.InstanceID, Class: "Keyboard", Name: "HID Keyboard Device"}
)

// noParents drops what DEVPKEY_Device_Parent said (older Windows, Wine).
func noParents(devs ...Present) []Present {
	out := make([]Present, len(devs))
	for i, d := range devs {
		d.Parent = ""
		out[i] = d
	}
	return out
}

func withInstance(d Device, id string) Device { d.InstanceID = id; return d }

func pc(devs ...Present) []Present { return append([]Present{hub}, devs...) }

func TestChooseSerial(t *testing.T) {
	all := pc(newlandCDC, newlandComposite, newlandIface0, ch340, ftdiUSB, ftdiPort, com1, logiUSB, logiIface, logiKbd, ps2Kbd)
	tests := []struct {
		name string
		devs []Present
		port string
		ok   bool
		want Device
	}{
		{"CDC scanner with a serial", all, "COM3", true, Device{VIDPID: "1EAB:1D06", Serial: "NLS-FR40-0012345", Vendor: "Newland",
			Model: "FM430 Barcode scanner engine (Serial CDC)", Product: "FM430 Barcode scanner engine (Serial CDC)", Kind: KindScanner,
			Port: "COM3", Name: "USB Serial Device (COM3)", InstanceID: newlandCDC.InstanceID}},
		{"port written differently", all, `\\.\com3`, true, Device{VIDPID: "1EAB:1D06", Serial: "NLS-FR40-0012345", Vendor: "Newland",
			Model: "FM430 Barcode scanner engine (Serial CDC)", Product: "FM430 Barcode scanner engine (Serial CDC)", Kind: KindScanner,
			Port: "COM3", Name: "USB Serial Device (COM3)", InstanceID: newlandCDC.InstanceID}},
		{"composite: serial from the parent node", all, "COM4", true, Device{VIDPID: "1EAB:1306", Serial: "NLS-EM3000-77", Vendor: "Newland",
			Model: "EM30xx/EM20xx/HR3260 corded/HR200C Barcode scanner engine (USB serial CDC)", Product: "EM30xx/EM20xx/HR3260 corded/HR200C Barcode scanner engine (USB serial CDC)",
			Kind: KindScanner, Port: "COM4", Name: "USB Serial Device (COM4)", InstanceID: newlandIface0.InstanceID}},
		{"composite without parent links: the only node of that VID:PID", noParents(all...), "COM4", true, Device{VIDPID: "1EAB:1306", Serial: "NLS-EM3000-77", Vendor: "Newland",
			Model: "EM30xx/EM20xx/HR3260 corded/HR200C Barcode scanner engine (USB serial CDC)", Product: "EM30xx/EM20xx/HR3260 corded/HR200C Barcode scanner engine (USB serial CDC)",
			Kind: KindScanner, Port: "COM4", Name: "USB Serial Device (COM4)", InstanceID: newlandIface0.InstanceID}},
		{"CH340 bridge: the bridge, no serial, no model", all, "COM5", true, Device{VIDPID: "1A86:7523", Vendor: "QinHeng (CH340)",
			Product: "CH340 serial converter", Kind: KindBridge, Port: "COM5", Name: "USB-SERIAL CH340 (COM5)", InstanceID: ch340.InstanceID}},
		{"FTDI bridge: serial from its USB node", all, "COM6", true, Device{VIDPID: "0403:6001", Serial: "A1B2C3D4", Vendor: "FTDI",
			Product: "FT232 Serial (UART) IC", Kind: KindBridge, Port: "COM6", Name: "USB Serial Port (COM6)", InstanceID: ftdiPort.InstanceID}},
		{"FTDI bridge without its USB node: serial from FTDIBUS", pc(ftdiPort), "COM6", true, Device{VIDPID: "0403:6001", Serial: "A1B2C3D4", Vendor: "FTDI",
			Product: "FT232 Serial (UART) IC", Kind: KindBridge, Port: "COM6", Name: "USB Serial Port (COM6)", InstanceID: ftdiPort.InstanceID}},
		{"motherboard port: no USB device, no answer", all, "COM1", false, Device{}},
		{"port not present", all, "COM9", false, Device{}},
		{"no devices", nil, "COM3", false, Device{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := Choose(tt.devs, Want{Mode: "serial", Port: tt.port})
			if err != nil || ok != tt.ok || got != tt.want {
				t.Errorf("Choose(%s) = %+v, %v, %v\nwant %+v, %v", tt.port, got, ok, err, tt.want, tt.ok)
			}
		})
	}
}

// Without the PortName value the friendly name's "(COMn)" is used.
func TestChooseSerialFromFriendlyName(t *testing.T) {
	p := ch340
	p.PortName = ""
	got, ok, err := Choose(pc(p), Want{Mode: "serial", Port: "COM5"})
	if err != nil || !ok || got.VIDPID != "1A86:7523" || got.Kind != KindBridge || got.Port != "COM5" {
		t.Fatalf("got %+v, %v, %v", got, ok, err)
	}
	// PortName wins over a stale friendly name: the device that says COM5
	// in its registry key is the one, not the one whose name says so.
	stale := newlandCDC
	stale.Name = "USB Serial Device (COM5)"
	stale.PortName = "COM8"
	got, ok, _ = Choose(pc(stale, ch340), Want{Mode: "serial", Port: "COM5"})
	if !ok || got.VIDPID != "1A86:7523" {
		t.Fatalf("stale friendly name: got %+v, %v", got, ok)
	}
}

// Windows' rule: a device whose instance has '&' reported no serial, and no
// other device's serial is lent to it.
func TestChooseSerialNeverBorrowed(t *testing.T) {
	noSerial := Present{InstanceID: `USB\VID_1EAB&PID_1D06\5&1A2B3C&0&2`, Parent: rootHub, Class: "Ports", Name: "USB Serial Device (COM7)", PortName: "COM7"}
	for _, devs := range [][]Present{pc(newlandCDC, noSerial), noParents(pc(newlandCDC, noSerial)...)} {
		got, ok, err := Choose(devs, Want{Mode: "serial", Port: "COM7"})
		if err != nil || !ok || got.VIDPID != "1EAB:1D06" || got.Serial != "" {
			t.Errorf("got %+v, %v, %v; want 1EAB:1D06 without a serial", got, ok, err)
		}
	}
	// Two composite scanners of one model, parents unknown: whose serial
	// interface 0 has is unknown, so none.
	other := Present{InstanceID: `USB\VID_1EAB&PID_1306\NLS-EM3000-99`, Class: "USB", Name: "USB Composite Device"}
	got, ok, _ := Choose(noParents(newlandComposite, other, newlandIface0), Want{Mode: "serial", Port: "COM4"})
	if !ok || got.VIDPID != "1EAB:1306" || got.Serial != "" {
		t.Errorf("two composites: got %+v, %v; want 1EAB:1306 without a serial", got, ok)
	}
	// Parents known but the USB node missing from the list: not guessed
	// from another node either.
	got, ok, _ = Choose(pc(newlandIface0, other), Want{Mode: "serial", Port: "COM4"})
	if !ok || got.Serial != "" {
		t.Errorf("parent missing: got %+v, %v; want no serial", got, ok)
	}
}

// Two nodes claiming one port: no answer rather than a wrong one.
func TestChooseSerialTwoClaimants(t *testing.T) {
	twin := ch340
	twin.InstanceID = `USB\VID_067B&PID_2303\5&9&0&1`
	if got, ok, _ := Choose(pc(ch340, twin), Want{Mode: "serial", Port: "COM5"}); ok {
		t.Fatalf("got %+v", got)
	}
}

func TestChooseWedge(t *testing.T) {
	honeywell := Device{VIDPID: "0C2E:0B61", Serial: "17043B1234", Vendor: "Honeywell", Model: "Vuquest 3310g", Product: "Vuquest 3310g",
		Kind: KindScanner, Name: "USB Composite Device", InstanceID: honKbd.InstanceID}
	ordinary := []Present{hub, logiUSB, logiIface, logiKbd, ps2Kbd}
	tests := []struct {
		name string
		devs []Present
		mode string
		ok   bool
		want Device
	}{
		{"scanner among ordinary keyboards", append(ordinary[:len(ordinary):len(ordinary)], honUSB, honIface, honKbd), "hook", true, honeywell},
		{"wedge is hook", append(ordinary[:len(ordinary):len(ordinary)], honUSB, honIface, honKbd), "wedge", true, honeywell},
		{"two keyboard collections of one scanner are one scanner", append(ordinary[:len(ordinary):len(ordinary)], honUSB, honIface, honKbd, honKbd2), "hook", true, withInstance(honeywell, honKbd2.InstanceID)},
		{"parent links unknown: the only USB node of that VID:PID", noParents(append(ordinary[:len(ordinary):len(ordinary)], honUSB, honIface, honKbd)...), "hook", true, honeywell},
		{"ordinary keyboards only: no answer", ordinary, "hook", false, Device{}},
		{"bridge vendor's keyboard is no scanner", append(ordinary[:len(ordinary):len(ordinary)], qinhengKbd), "hook", false, Device{}},
		{"scanner not a keyboard (HID POS / CDC): no answer", append(ordinary[:len(ordinary):len(ordinary)], honUSB, honIface, newlandCDC), "hook", false, Device{}},
		{"two different scanners: no answer", append(ordinary[:len(ordinary):len(ordinary)], honUSB, honIface, honKbd, nlsKbdUSB, nlsKbd), "hook", false, Device{}},
		{"non-composite Newland keyboard without serial", pc(logiUSB, logiIface, logiKbd, nlsKbdUSB, nlsKbd), "hook", true, Device{VIDPID: "1EAB:0D03",
			Vendor: "Newland", Model: "EM2028 Barcode scanner engine (HID keyboard)", Product: "EM2028 Barcode scanner engine (HID keyboard)",
			Kind: KindScanner, Name: "USB Input Device", InstanceID: nlsKbd.InstanceID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := Choose(tt.devs, Want{Mode: tt.mode})
			if err != nil || ok != tt.ok || got != tt.want {
				t.Errorf("got %+v, %v, %v\nwant %+v, %v", got, ok, err, tt.want, tt.ok)
			}
		})
	}
}

// Two scanners of the same model: the VID:PID and model are sure, the
// serial is not.
func TestChooseWedgeSameModelTwice(t *testing.T) {
	usb2 := Present{InstanceID: `USB\VID_0C2E&PID_0B61\17043B9999`, Parent: rootHub, Class: "USB"}
	iface2 := Present{InstanceID: `USB\VID_0C2E&PID_0B61&MI_00\6&88&0&0000`, Parent: usb2.InstanceID, Class: "HIDClass"}
	kbd2 := Present{InstanceID: `HID\VID_0C2E&PID_0B61&MI_00\7&99&0&0000`, Parent: iface2.InstanceID, Class: "Keyboard"}
	got, ok, err := Choose(pc(honUSB, honIface, honKbd, usb2, iface2, kbd2), Want{Mode: "hook"})
	want := Device{VIDPID: "0C2E:0B61", Vendor: "Honeywell", Model: "Vuquest 3310g", Product: "Vuquest 3310g", Kind: KindScanner}
	if err != nil || !ok || got != want {
		t.Fatalf("got %+v, %v, %v; want %+v", got, ok, err, want)
	}
}

// The answer does not depend on the order SetupAPI lists devices in.
func TestChooseOrderIndependent(t *testing.T) {
	devs := pc(newlandCDC, newlandComposite, newlandIface0, ch340, ftdiUSB, ftdiPort, com1, logiUSB, logiIface, logiKbd, ps2Kbd, honUSB, honIface, honKbd, honKbd2)
	wants := []Want{{Mode: "serial", Port: "COM3"}, {Mode: "serial", Port: "COM4"}, {Mode: "serial", Port: "COM6"}, {Mode: "hook"}}
	base := make([]Device, len(wants))
	for i, w := range wants {
		d, ok, err := Choose(devs, w)
		if err != nil || !ok {
			t.Fatalf("%+v: %v %v", w, ok, err)
		}
		base[i] = d
	}
	for shift := 1; shift < len(devs); shift++ {
		rot := append(append([]Present{}, devs[shift:]...), devs[:shift]...)
		rev := make([]Present, len(rot))
		for i := range rot {
			rev[len(rot)-1-i] = rot[i]
		}
		for _, order := range [][]Present{rot, rev} {
			for i, w := range wants {
				if d, ok, _ := Choose(order, w); !ok || d != base[i] {
					t.Fatalf("shift %d, %+v: got %+v, %v; want %+v", shift, w, d, ok, base[i])
				}
			}
		}
	}
}

// A node listed twice (Ports class and USB enumerator) is merged: the
// PortName of one listing and the parent of the other.
func TestChooseMergesDuplicateListings(t *testing.T) {
	asPort := newlandIface0
	asPort.Parent = ""
	asUSB := newlandIface0
	asUSB.PortName = ""
	other := Present{InstanceID: `USB\VID_1EAB&PID_1306\NLS-EM3000-99`, Parent: rootHub, Class: "USB"}
	got, ok, err := Choose(pc(asPort, newlandComposite, other, asUSB), Want{Mode: "serial", Port: "COM4"})
	if err != nil || !ok || got.Serial != "NLS-EM3000-77" {
		t.Fatalf("got %+v, %v, %v; want serial NLS-EM3000-77 via the merged parent", got, ok, err)
	}
}

func TestChooseBadWant(t *testing.T) {
	if _, _, err := Choose(pc(newlandCDC), Want{Mode: "bluetooth"}); !errors.Is(err, ErrMode) {
		t.Errorf("bad mode: %v", err)
	}
	if _, _, err := Choose(pc(newlandCDC), Want{Mode: "serial", Port: "  "}); !errors.Is(err, ErrNoPort) {
		t.Errorf("no port: %v", err)
	}
}

// A parent loop (a broken listing) ends.
func TestChooseParentLoop(t *testing.T) {
	a := Present{InstanceID: `X\A\1`, Parent: `X\B\1`, Class: "Ports", PortName: "COM2"}
	b := Present{InstanceID: `X\B\1`, Parent: `X\A\1`}
	if got, ok, _ := Choose([]Present{a, b}, Want{Mode: "serial", Port: "COM2"}); ok {
		t.Fatalf("got %+v", got)
	}
}
