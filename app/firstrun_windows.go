//go:build windows

package main

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// provisioningKey is where the MSI writes the silent-install properties
// (installer.ProvisioningKey; the two must stay the same).
const provisioningKey = `Software\ScanBox\Provisioning`

// registrySource reads HKLM\Software\ScanBox\Provisioning (64-bit view).
type registrySource struct{}

func (registrySource) String() string { return `HKLM\` + provisioningKey }

func (registrySource) read() (provisioning, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, provisioningKey, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if errors.Is(err, registry.ErrNotExist) {
		return provisioning{}, nil // installed without properties
	}
	if err != nil {
		return provisioning{}, err
	}
	defer k.Close()
	var p provisioning
	for name, dst := range map[string]*string{"BankURL": &p.BankURL, "MchID": &p.MchID, "TerminalID": &p.TerminalID, "ActivationCode": &p.ActivationCode,
		"FleetURL": &p.FleetURL, "FleetCode": &p.FleetCode, "MaxPayment": &p.MaxPayment} {
		v, _, err := k.GetStringValue(name)
		if err != nil && !errors.Is(err, registry.ErrNotExist) {
			return provisioning{}, err
		}
		*dst = v
	}
	return p, nil
}

func (registrySource) remove() error {
	err := registry.DeleteKey(registry.LOCAL_MACHINE, provisioningKey)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	return err
}

// dataDirSDDL: SYSTEM and Administrators full control; Users modify, so
// the tray app, running as whichever cashier logs on, can write the journal
// and logs that firstrun (as LocalSystem) created. Inherited by everything
// below (OI/CI), and protected from %ProgramData%'s creator-owner-only
// defaults.
const dataDirSDDL = "D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1301bf;;;BU)"

// prepareDataDir creates the data directory with dataDirSDDL.
func prepareDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	sd, err := windows.SecurityDescriptorFromString(dataDirSDDL)
	if err != nil {
		return err
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return err
	}
	return windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
}
