//go:build windows

package usbdev

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// Setup class GUIDs (devguid.h).
var (
	guidPorts    = windows.GUID{Data1: 0x4D36E978, Data2: 0xE325, Data3: 0x11CE, Data4: [8]byte{0xBF, 0xC1, 0x08, 0x00, 0x2B, 0xE1, 0x03, 0x18}}
	guidKeyboard = windows.GUID{Data1: 0x4D36E96B, Data2: 0xE325, Data3: 0x11CE, Data4: [8]byte{0xBF, 0xC1, 0x08, 0x00, 0x2B, 0xE1, 0x03, 0x18}}
)

// devpkeyDeviceParent is DEVPKEY_Device_Parent (devpkey.h): the parent
// node's instance ID, which links a HID keyboard or a composite device's
// interface to the USB device node that carries the serial.
var devpkeyDeviceParent = windows.DEVPROPKEY{
	FmtID: windows.DEVPROPGUID{Data1: 0x4340A6C5, Data2: 0x93FA, Data3: 0x4706, Data4: [8]byte{0x97, 0x2C, 0x7B, 0x64, 0x80, 0x08, 0xA5, 0xA7}},
	PID:   8,
}

// maxPerSet bounds one device information set: a PC has tens of such
// nodes, a broken driver must not make the loop endless.
const maxPerSet = 1024

// SetupDiGetDevicePropertyW is Vista+; x/sys panics when a proc is
// missing, so its presence is checked once (older Wine lacks it).
var haveDeviceProperty = sync.OnceValue(func() bool {
	return windows.NewLazySystemDLL("setupapi.dll").NewProc("SetupDiGetDevicePropertyW").Find() == nil
})

// Enumerate lists the present device nodes ScanBox needs: the Ports class
// (with each port's PortName), the Keyboard class, and every node the USB
// enumerator created (the USB device nodes carry the serials). It stops
// at ctx's end with what it has and ctx's error.
func Enumerate(ctx context.Context) ([]Present, error) {
	sets := []struct {
		name       string
		guid       *windows.GUID
		enumerator string
		flags      windows.DIGCF
		class      string
	}{
		{"Ports class", &guidPorts, "", windows.DIGCF_PRESENT, ClassPorts},
		{"Keyboard class", &guidKeyboard, "", windows.DIGCF_PRESENT, ClassKeyboard},
		{"USB enumerator", nil, "USB", windows.DIGCF_PRESENT | windows.DIGCF_ALLCLASSES, ""},
	}
	var out []Present
	var errs []error
	for _, s := range sets {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		got, err := enumSet(ctx, s.guid, s.enumerator, s.flags, s.class)
		out = append(out, got...)
		if err != nil {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			errs = append(errs, fmt.Errorf("%s: %w", s.name, err))
		}
	}
	if len(errs) == len(sets) {
		return nil, errors.Join(errs...)
	}
	// One set failing (say, the USB enumerator) costs serials, not the
	// answer: Choose then finds no USB node and reports none.
	return out, nil
}

func enumSet(ctx context.Context, guid *windows.GUID, enumerator string, flags windows.DIGCF, class string) ([]Present, error) {
	h, err := windows.SetupDiGetClassDevsEx(guid, enumerator, 0, flags, 0, "")
	if err != nil {
		return nil, err
	}
	defer h.Close()
	var out []Present
	for i := 0; i < maxPerSet; i++ {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		data, err := h.EnumDeviceInfo(i)
		if errors.Is(err, windows.ERROR_NO_MORE_ITEMS) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		id, err := h.DeviceInstanceID(data)
		if err != nil || id == "" {
			continue // a node that vanished meanwhile
		}
		p := Present{InstanceID: id, Class: class}
		switch {
		case p.Class != "":
		case data.ClassGUID == guidPorts:
			p.Class = ClassPorts
		case data.ClassGUID == guidKeyboard:
			p.Class = ClassKeyboard
		default:
			p.Class = regString(h, data, windows.SPDRP_CLASS)
		}
		p.Name = regString(h, data, windows.SPDRP_FRIENDLYNAME)
		if p.Name == "" {
			p.Name = regString(h, data, windows.SPDRP_DEVICEDESC)
		}
		if v, err := h.DeviceRegistryProperty(data, windows.SPDRP_HARDWAREID); err == nil {
			switch t := v.(type) {
			case []string:
				p.HardwareIDs = t
			case string:
				p.HardwareIDs = []string{t}
			}
		}
		if haveDeviceProperty() {
			if v, err := windows.SetupDiGetDeviceProperty(h, data, &devpkeyDeviceParent); err == nil {
				if s, ok := v.(string); ok {
					p.Parent = s
				}
			}
		}
		if strings.EqualFold(p.Class, ClassPorts) {
			p.PortName = portName(h, data)
		}
		out = append(out, p)
	}
	return out, nil
}

func regString(h windows.DevInfo, data *windows.DevInfoData, prop windows.SPDRP) string {
	v, err := h.DeviceRegistryProperty(data, prop)
	if err != nil {
		return ""
	}
	s, _ := v.(string)
	return s
}

// portName reads PortName from the device's hardware key
// (HKLM\SYSTEM\CurrentControlSet\Enum\<instance>\Device Parameters), where
// every Ports-class driver writes the COM name it claimed.
func portName(h windows.DevInfo, data *windows.DevInfoData) string {
	kh, err := h.OpenDevRegKey(data, windows.DICS_FLAG_GLOBAL, 0, windows.DIREG_DEV, windows.KEY_READ)
	if err != nil {
		return ""
	}
	k := registry.Key(kh)
	defer k.Close()
	s, _, err := k.GetStringValue("PortName")
	if err != nil {
		return ""
	}
	return s
}
