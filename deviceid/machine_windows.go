//go:build windows

package deviceid

import (
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// machineIdentity reads the MachineGuid Windows writes at installation. A
// 32-bit build reads the 64-bit view too (WOW64_64KEY): the value lives only
// there.
func machineIdentity() (string, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\Microsoft\Cryptography`, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNoIdentity, err)
	}
	defer k.Close()
	v, _, err := k.GetStringValue("MachineGuid")
	if err != nil {
		return "", fmt.Errorf("%w: MachineGuid: %w", ErrNoIdentity, err)
	}
	return v, nil
}
