package usbdev

import (
	"fmt"
	"sort"
	"strings"
)

// Present is one present device node as Windows lists it.
type Present struct {
	InstanceID  string   // `USB\VID_1EAB&PID_1D06\NLS-FR40-0012345`
	Parent      string   // the parent node's instance ID; "" when unknown
	Class       string   // setup class name: "Ports", "Keyboard", "USB", "HIDClass", ...
	Name        string   // friendly name, else the device description
	PortName    string   // Ports class: the "PortName" value of the device's registry key
	HardwareIDs []string // `USB\VID_1EAB&PID_1D06&REV_0100`, ...
}

// Setup class names ScanBox looks at.
const (
	ClassPorts    = "Ports"
	ClassKeyboard = "Keyboard"
)

// maxDepth bounds the walk up the device tree (USB hubs nest at most 7 deep).
const maxDepth = 16

// Choose picks the scan box among the present devices. ok is false when
// there is no answer that is surely right; err only for a bad Want.
//
//   - serial mode: the device whose COM port is want.Port. A bridge chip is
//     reported as the bridge (Kind KindBridge) with the port; a COM port with
//     no USB device behind it (a motherboard port) gives no answer.
//   - wedge/hook mode: a keyboard whose vendor is a known scanner maker.
//     Ordinary keyboards, bridges and unknown vendors are never chosen. Two
//     different scanners give no answer, or only the VID:PID and model if
//     they are the same model.
func Choose(devs []Present, want Want) (Device, bool, error) {
	mode, err := ParseMode(want.Mode)
	if err != nil {
		return Device{}, false, err
	}
	t := newTree(devs)
	switch mode {
	case ModeSerial:
		port := NormalizePort(want.Port)
		if port == "" {
			return Device{}, false, ErrNoPort
		}
		d, ok := t.serialPort(port)
		return d, ok, nil
	default:
		d, ok := t.wedge()
		return d, ok, nil
	}
}

type tree struct {
	devs []Present
	byID map[string]int // upper-case instance ID -> index in devs
}

func newTree(devs []Present) *tree {
	t := &tree{byID: make(map[string]int, len(devs))}
	// Sorted by instance ID, so that the answer does not depend on the
	// order SetupAPI listed the nodes in.
	sorted := append([]Present(nil), devs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		return strings.ToUpper(sorted[i].InstanceID) < strings.ToUpper(sorted[j].InstanceID)
	})
	for _, p := range sorted {
		k := strings.ToUpper(strings.TrimSpace(p.InstanceID))
		if k == "" {
			continue
		}
		if i, dup := t.byID[k]; dup {
			// Listed twice (e.g. in the Ports class and under the USB
			// enumerator): keep what each listing knew.
			q := &t.devs[i]
			q.Parent = merge(q.Parent, p.Parent)
			q.Class = merge(q.Class, p.Class)
			q.Name = merge(q.Name, p.Name)
			q.PortName = merge(q.PortName, p.PortName)
			if len(q.HardwareIDs) == 0 {
				q.HardwareIDs = p.HardwareIDs
			}
			continue
		}
		t.byID[k] = len(t.devs)
		t.devs = append(t.devs, p)
	}
	return t
}

// merge keeps the value one listing knew; of two different ones the
// smaller, so that the listing order does not matter.
func merge(a, b string) string {
	if a == "" || (b != "" && b < a) {
		return b
	}
	return a
}

func (t *tree) parent(p Present) (Present, bool) {
	if p.Parent == "" {
		return Present{}, false
	}
	i, ok := t.byID[strings.ToUpper(strings.TrimSpace(p.Parent))]
	if !ok {
		return Present{}, false
	}
	return t.devs[i], true
}

// usbID is the VID:PID of a node: from its instance ID, else its hardware
// IDs, else the nearest ancestor that has one (a vendor's own bus driver
// can enumerate its COM port under a name without VID_/PID_).
func (t *tree) usbID(p Present) (ID, bool) {
	for depth := 0; depth < maxDepth; depth++ {
		if id := ParseInstanceID(p.InstanceID); id.HasVIDPID {
			return id, true
		}
		for _, h := range p.HardwareIDs {
			if id := ParseInstanceID(h); id.HasVIDPID {
				return id, true
			}
		}
		var ok bool
		if p, ok = t.parent(p); !ok {
			break
		}
	}
	return ID{}, false
}

// usbDevice finds the USB device node (not an interface of it) the node
// belongs to: the nearest ancestor-or-self USB\VID_x&PID_y\... without
// MI_. When Windows did not say who the parent is, the only present USB
// node with that VID:PID is taken; two of them give none, so that one
// scanner's serial is never reported for the other.
func (t *tree) usbDevice(p Present, id ID) (Present, ID, bool) {
	q := p
	for depth := 0; depth < maxDepth; depth++ {
		qid := ParseInstanceID(q.InstanceID)
		if qid.Enumerator == "USB" && qid.HasVIDPID && qid.MI < 0 && qid.VID == id.VID && qid.PID == id.PID {
			return q, qid, true
		}
		next, ok := t.parent(q)
		if !ok {
			break
		}
		q = next
	}
	if q.Parent != "" {
		// Windows named the parent and the walk still found no such
		// node (it is not listed, or the chain loops): do not guess.
		return Present{}, ID{}, false
	}
	var found []int
	for i, d := range t.devs {
		did := ParseInstanceID(d.InstanceID)
		if did.Enumerator == "USB" && did.HasVIDPID && did.MI < 0 && did.VID == id.VID && did.PID == id.PID {
			found = append(found, i)
		}
	}
	if len(found) != 1 {
		return Present{}, ID{}, false
	}
	d := t.devs[found[0]]
	return d, ParseInstanceID(d.InstanceID), true
}

// identify builds the Device for a node.
func (t *tree) identify(p Present) (Device, string, bool) {
	id, ok := t.usbID(p)
	if !ok {
		return Device{}, "", false
	}
	d := describe(id.VID, id.PID)
	d.InstanceID = p.InstanceID
	d.Name = p.Name
	root := ""
	if u, uid, ok := t.usbDevice(p, id); ok {
		d.Serial = uid.Serial
		root = strings.ToUpper(u.InstanceID)
		if d.Name == "" {
			d.Name = u.Name
		}
	} else if id.Serial != "" {
		// No USB node to ask (FTDIBUS without its parent listed, or a
		// USB device node itself): the ID's own serial, by the same rule.
		d.Serial = id.Serial
	}
	return d, root, true
}

func (t *tree) serialPort(port string) (Device, bool) {
	var byPortName, byFriendly []Present
	for _, p := range t.devs {
		switch {
		case p.PortName != "":
			if NormalizePort(p.PortName) == port {
				byPortName = append(byPortName, p)
			}
		case PortFromName(p.Name) == port:
			byFriendly = append(byFriendly, p)
		}
	}
	cands := byPortName
	if len(cands) == 0 {
		cands = byFriendly
	}
	if len(cands) != 1 {
		return Device{}, false
	}
	d, _, ok := t.identify(cands[0])
	if !ok {
		return Device{}, false
	}
	d.Port = port
	return d, true
}

func (t *tree) wedge() (Device, bool) {
	type cand struct {
		d    Device
		root string
	}
	var picks []cand
	seen := map[string]bool{}
	for _, p := range t.devs {
		if !strings.EqualFold(p.Class, ClassKeyboard) {
			continue
		}
		d, root, ok := t.identify(p)
		if !ok || d.Kind != KindScanner {
			continue
		}
		// One physical scanner can show several keyboard interfaces
		// (MI_00, Col01...): they share the USB device node.
		key := root
		if key == "" {
			key = fmt.Sprintf("%s|%s|%s", d.VIDPID, d.Serial, strings.ToUpper(p.InstanceID))
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		if root != "" {
			if i, ok := t.byID[root]; ok && t.devs[i].Name != "" {
				d.Name = t.devs[i].Name
			}
		}
		picks = append(picks, cand{d, key})
	}
	switch {
	case len(picks) == 0:
		return Device{}, false
	case len(picks) == 1:
		return picks[0].d, true
	}
	first := picks[0].d
	for _, c := range picks[1:] {
		if c.d.VIDPID != first.VIDPID {
			return Device{}, false // two different scanners: which one scans payments is unknown
		}
	}
	// The same model twice: its VID:PID and model are right, a serial
	// or instance would be a guess.
	first.Serial, first.InstanceID, first.Name = "", "", ""
	return first, true
}
