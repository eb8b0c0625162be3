// Package winpipe holds the named-pipe checks the local API and the shared
// OCR helper both make: who the current user is, and whether the program
// answering on a pipe can be trusted.
package winpipe

import (
	"errors"
	"fmt"
	"net"
	"unsafe"

	"golang.org/x/sys/windows"
)

// ErrOwner: the pipe is owned by someone other than SYSTEM, the
// Administrators or the current user.
var ErrOwner = errors.New("winpipe: the pipe's owner is not this user, an administrator or the system")

// CurrentUserSID is the SID of the user running this process, as SDDL text.
func CurrentUserSID() (string, error) {
	tu, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return "", err
	}
	return tu.User.Sid.String(), nil
}

// CheckOwner accepts a pipe owned by SYSTEM, the Administrators group or
// the user running this client (or this user's default owner for new
// objects); anything else is ErrOwner, wrapped with why when the owner
// cannot be read. c must be a go-winio pipe connection.
func CheckOwner(c net.Conn) error {
	f, ok := c.(interface{ Fd() uintptr })
	if !ok {
		return fmt.Errorf("%w (cannot read the pipe's owner)", ErrOwner)
	}
	sd, err := windows.GetSecurityInfo(windows.Handle(f.Fd()), windows.SE_KERNEL_OBJECT, windows.OWNER_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("%w (%v)", ErrOwner, err)
	}
	owner, _, err := sd.Owner()
	if err != nil || owner == nil {
		return fmt.Errorf("%w (no owner)", ErrOwner)
	}
	if owner.IsWellKnown(windows.WinLocalSystemSid) || owner.IsWellKnown(windows.WinBuiltinAdministratorsSid) {
		return nil
	}
	tok := windows.GetCurrentProcessToken()
	u, err := tok.GetTokenUser()
	if err == nil && owner.Equals(u.User.Sid) {
		return nil
	}
	// The owner Windows gives the objects this user creates (the token's
	// TokenOwner): the user, or Administrators when elevated, both
	// accepted above; Wine gives its primary group instead, so a genuine
	// server of this user under Wine was taken for an impostor
	// (localapi/wine-test.sh).
	if o, err := tokenOwner(tok); err == nil && owner.Equals(o) {
		return nil
	}
	return ErrOwner
}

// tokenOwner is the token's default owner for new objects.
func tokenOwner(t windows.Token) (*windows.SID, error) {
	var n uint32
	_ = windows.GetTokenInformation(t, windows.TokenOwner, nil, 0, &n)
	if n == 0 {
		return nil, errors.New("winpipe: no token owner")
	}
	buf := make([]byte, n)
	if err := windows.GetTokenInformation(t, windows.TokenOwner, &buf[0], n, &n); err != nil {
		return nil, err
	}
	// TOKEN_OWNER is one pointer to a SID inside buf.
	sid := (*struct{ Owner *windows.SID })(unsafe.Pointer(&buf[0])).Owner
	if sid == nil || !sid.IsValid() {
		return nil, errors.New("winpipe: no token owner")
	}
	return sid.Copy()
}

// UnderWine says whether this Windows process runs under Wine (ntdll
// exports wine_get_version there).
func UnderWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}
