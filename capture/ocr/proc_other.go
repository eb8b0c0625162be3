//go:build !windows

package ocr

import "syscall"

func helperSysProcAttr() *syscall.SysProcAttr { return nil }
