package posapi

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// restrictToOwner gives the token file its own access list: SYSTEM,
// Administrators and the user this instance runs as, and nobody else. The
// data directory lets every local user modify what is in it (the tray runs
// as whichever cashier logs on), and an inherited ACL would let any local
// account read the token and drive payments.
func restrictToOwner(path string) error {
	tok := windows.GetCurrentProcessToken()
	u, err := tok.GetTokenUser()
	if err != nil {
		return fmt.Errorf("posapi: who runs this instance: %w", err)
	}
	sddl := "D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;" + u.User.Sid.String() + ")"
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return fmt.Errorf("posapi: %w", err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("posapi: %w", err)
	}
	if err := windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil); err != nil {
		return fmt.Errorf("posapi: restrict %s: %w", path, err)
	}
	return nil
}
