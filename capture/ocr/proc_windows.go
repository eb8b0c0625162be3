package ocr

import "syscall"

// createNoWindow keeps the console helper from flashing a window over the POS.
const createNoWindow = 0x08000000

func helperSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{HideWindow: true, CreationFlags: createNoWindow}
}
