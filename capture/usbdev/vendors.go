package usbdev

import "fmt"

// vendorInfo is what ScanBox knows about a USB vendor ID.
type vendorInfo struct {
	Brand string // the name a bank's device stock uses
	Kind  Kind
}

// knownVendors are the vendor IDs ScanBox names. Every ID is cited by the
// USB ID database (usb.ids, Debian package usb.ids/hwdata; ids_gen.go holds
// the registered names and TestKnownVendorsAreInUSBIDs checks each one is
// there). The brand is the current owner of the scanner line where the
// registered name is a company since acquired: Metrologic, Hand Held
// Products and Intermec are Honeywell's; Symbol is Zebra's; PSC is
// Datalogic's (usb.ids itself lists Honeywell's Voyager/Vuquest under 0C2E
// and Datalogic's Gryphon/Magellan under 05F9).
//
// Only vendors whose USB ID is used for data-capture devices are scanners:
// a keyboard's vendor must never be here, since in hook mode a keyboard of
// a scanner vendor is taken for the scan box. Vendors not in usb.ids (for
// example Hikvision's) are left out until a public source gives their ID.
var knownVendors = map[uint16]vendorInfo{
	0x1EAB: {"Newland", KindScanner},   // Fujian Newland Computer Co., Ltd
	0x0C2E: {"Honeywell", KindScanner}, // Metrologic Instruments
	0x0536: {"Honeywell", KindScanner}, // Hand Held Products (Welch Allyn, Inc.)
	0x067E: {"Honeywell", KindScanner}, // Intermec Technologies Corp.
	0x05E0: {"Zebra", KindScanner},     // Symbol Technologies
	0x05F9: {"Datalogic", KindScanner}, // PSC Scanning, Inc.
	0x080C: {"Datalogic", KindScanner}, // Datalogic S.p.A.
	0x065A: {"Opticon", KindScanner},   // Optoelectronics Co., Ltd
	0x27DD: {"Mindeo", KindScanner},    // Mindeo

	// Generic USB-serial bridges: the scan box is behind them, unnamed.
	0x0403: {"FTDI", KindBridge},                  // Future Technology Devices International, Ltd
	0x067B: {"Prolific", KindBridge},              // Prolific Technology, Inc.
	0x1A86: {"QinHeng (CH340)", KindBridge},       // QinHeng Electronics
	0x10C4: {"Silicon Labs (CP210x)", KindBridge}, // Silicon Labs
}

// describe fills the vendor, model and kind of a VID:PID.
func describe(vid, pid uint16) Device {
	d := Device{VIDPID: fmt.Sprintf("%04X:%04X", vid, pid)}
	v, ok := knownVendors[vid]
	if !ok {
		return d
	}
	d.Vendor, d.Kind = v.Brand, v.Kind
	d.Product = productName[uint32(vid)<<16|uint32(pid)]
	if v.Kind == KindScanner {
		d.Model = d.Product
	}
	return d
}
