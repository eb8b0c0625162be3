package ocr

import "syscall"

// createNewProcessGroup keeps a console's Ctrl+C for the command that
// started the shared helper from reaching it.
const createNewProcessGroup = 0x00000200

// detachedSysProcAttr: no window over the POS, its own process group.
func detachedSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{HideWindow: true, CreationFlags: createNoWindow | createNewProcessGroup}
}
