//go:build !windows

package ocr

import "syscall"

// detachedSysProcAttr puts the shared helper in a session of its own: a
// Ctrl+C or hang-up meant for the command that started it is not for it.
func detachedSysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
