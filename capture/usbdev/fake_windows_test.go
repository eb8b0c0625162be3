//go:build windows

package usbdev

import (
	"context"
	"os"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// guidUSB is the USB setup class (devguid.h).
var guidUSB = windows.GUID{Data1: 0x36FC9E60, Data2: 0xC465, Data3: 0x11CF, Data4: [8]byte{0x80, 0x56, 0x44, 0x45, 0x53, 0x54, 0x00, 0x00}}

var procCreateDevRegKey = windows.NewLazySystemDLL("setupapi.dll").NewProc("SetupDiCreateDevRegKeyW")

// fakeNode registers a device node with the given instance ID in the
// given setup class, as a driver installer would, and gives it a friendly
// name, hardware ID and (for a port) PortName in its device key.
func fakeNode(t *testing.T, class *windows.GUID, instanceID, name, hwid, port string) {
	t.Helper()
	set, err := windows.SetupDiCreateDeviceInfoListEx(class, 0, "")
	if err != nil {
		t.Fatalf("SetupDiCreateDeviceInfoListEx: %v", err)
	}
	defer set.Close()
	data, err := set.CreateDeviceInfo(instanceID, class, name, 0, 0)
	if err != nil {
		t.Fatalf("SetupDiCreateDeviceInfo(%s): %v", instanceID, err)
	}
	if err := set.SetDeviceRegistryPropertyString(data, windows.SPDRP_FRIENDLYNAME, name); err != nil {
		t.Fatalf("friendly name: %v", err)
	}
	hw := windows.StringToUTF16(hwid)
	hw = append(hw, 0) // REG_MULTI_SZ: one string, then an empty one
	if err := set.SetDeviceRegistryProperty(data, windows.SPDRP_HARDWAREID, unsafe.Slice((*byte)(unsafe.Pointer(&hw[0])), len(hw)*2)); err != nil {
		t.Fatalf("hardware ID: %v", err)
	}
	if err := set.CallClassInstaller(windows.DIF_REGISTERDEVICE, data); err != nil {
		t.Fatalf("DIF_REGISTERDEVICE(%s): %v", instanceID, err)
	}
	if port == "" {
		return
	}
	r, _, e := procCreateDevRegKey.Call(uintptr(set), uintptr(unsafe.Pointer(data)), uintptr(windows.DICS_FLAG_GLOBAL), 0, uintptr(windows.DIREG_DEV), 0, 0)
	if windows.Handle(r) == windows.InvalidHandle {
		t.Fatalf("SetupDiCreateDevRegKey: %v", e)
	}
	k := registry.Key(r)
	defer k.Close()
	if err := k.SetStringValue("PortName", port); err != nil {
		t.Fatalf("PortName: %v", err)
	}
}

// Under Wine (wine-test.sh sets SCANBOX_USBDEV_FAKE_NODES=1 in a throw-away
// prefix), register a Newland CDC scanner on COM3 and a Honeywell keyboard
// with its USB node, and check the real enumeration and Lookup find them.
// It writes to the device registry, so it never runs on a real PC.
func TestEnumerateRegisteredNodes(t *testing.T) {
	if os.Getenv("SCANBOX_USBDEV_FAKE_NODES") != "1" {
		t.Skip("registers device nodes: only in wine-test.sh's throw-away Wine prefix")
	}
	fakeNode(t, &guidPorts, `USB\VID_1EAB&PID_1D06\NLS-FR40-0012345`, "USB Serial Device (COM3)", `USB\VID_1EAB&PID_1D06&REV_0100`, "COM3")
	fakeNode(t, &guidUSB, `USB\VID_0C2E&PID_0B61\17043B1234`, "USB Composite Device", `USB\VID_0C2E&PID_0B61&REV_0100`, "")
	fakeNode(t, &guidKeyboard, `HID\VID_0C2E&PID_0B61&MI_00\7&3A0B5C1&0&0000`, "HID Keyboard Device", `HID\VID_0C2E&PID_0B61&REV_0100&MI_00`, "")
	fakeNode(t, &guidKeyboard, `HID\VID_046D&PID_C31C&MI_00\7&2D3E4F&0&0000`, "HID Keyboard Device", `HID\VID_046D&PID_C31C&REV_6400&MI_00`, "")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	devs, err := Enumerate(ctx)
	if err != nil {
		t.Fatalf("Enumerate: %v", err)
	}
	for _, p := range devs {
		t.Logf("%-9s %-50s port=%q name=%q parent=%q hwids=%q", p.Class, p.InstanceID, p.PortName, p.Name, p.Parent, p.HardwareIDs)
	}
	f := NewFinder(Enumerate, time.Minute)
	d, ok, err := f.Lookup(ctx, Want{Mode: "serial", Port: "COM3"})
	want := Device{VIDPID: "1EAB:1D06", Serial: "NLS-FR40-0012345", Vendor: "Newland", Model: "FM430 Barcode scanner engine (Serial CDC)",
		Product: "FM430 Barcode scanner engine (Serial CDC)", Kind: KindScanner, Port: "COM3", Name: "USB Serial Device (COM3)",
		InstanceID: `USB\VID_1EAB&PID_1D06\NLS-FR40-0012345`}
	if err != nil || !ok || d != want {
		t.Errorf("serial COM3: %+v, %v, %v\nwant %+v", d, ok, err, want)
	}
	d, ok, err = f.Lookup(ctx, Want{Mode: "hook"})
	if err != nil || !ok || d.VIDPID != "0C2E:0B61" || d.Serial != "17043B1234" || d.Vendor != "Honeywell" {
		t.Errorf("hook: %+v, %v, %v; want the Honeywell 0C2E:0B61 serial 17043B1234, not the Logitech keyboard", d, ok, err)
	}
	if n := f.Runs(); n != 1 {
		t.Errorf("runs = %d, want 1", n)
	}
}
