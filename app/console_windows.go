//go:build windows

package main

import (
	"log"
	"os"

	"golang.org/x/sys/windows"
)

// scanbox.exe is linked with -H windowsgui so that the tray app opens no
// console window. The price: Windows gives a GUI program no console, so a
// headless subcommand run from cmd.exe or PowerShell would print nothing.
// When a subcommand is given, attach to the console of the program that
// started us and point stdout/stderr at it — but only the streams that are
// not already connected: a pipe or file the caller redirected to (POS
// scripts, `scanbox orders --json > orders.json`, the wine smoke test) must
// keep receiving the output.
//
// Hazard: cmd.exe does not wait for a windowed program, so its prompt may
// come back before the output; `start /wait scanbox.exe …` waits and keeps
// %ERRORLEVEL% (docs/install.md says so).
func init() {
	if len(os.Args) < 2 {
		return // the tray app: no console wanted
	}
	outOK, errOK := usable(windows.STD_OUTPUT_HANDLE), usable(windows.STD_ERROR_HANDLE)
	if outOK && errOK {
		return
	}
	// Fails when the parent has no console (started from Explorer, the Run
	// key or msiexec): then there is nowhere to print, and nothing to do.
	const attachParentProcess = ^uintptr(0) // ATTACH_PARENT_PROCESS, (DWORD)-1
	if r, _, _ := procAttachConsole.Call(attachParentProcess); r == 0 {
		return
	}
	if !outOK {
		if f := openConsoleOutput(windows.STD_OUTPUT_HANDLE, "/dev/stdout"); f != nil {
			os.Stdout = f
		}
	}
	if !errOK {
		if f := openConsoleOutput(windows.STD_ERROR_HANDLE, "/dev/stderr"); f != nil {
			os.Stderr = f
			// The log package captured the old os.Stderr when it was
			// initialised; slog's default handler writes through it.
			log.SetOutput(f)
		}
	}
}

var procAttachConsole = windows.NewLazySystemDLL("kernel32.dll").NewProc("AttachConsole")

// usable reports whether a standard handle leads somewhere: a console, a
// file or a pipe. A GUI program started from a console gets 0 or an invalid
// handle, on which GetFileType fails.
func usable(std uint32) bool {
	h, err := windows.GetStdHandle(std)
	if err != nil || h == 0 || h == windows.InvalidHandle {
		return false
	}
	t, err := windows.GetFileType(h)
	return err == nil && t != windows.FILE_TYPE_UNKNOWN
}

// openConsoleOutput opens the attached console's screen buffer and makes it
// the process's standard handle, so that the Go runtime's own writes (panic
// messages go to STD_ERROR_HANDLE) reach it too.
func openConsoleOutput(std uint32, name string) *os.File {
	conout, err := windows.UTF16PtrFromString("CONOUT$")
	if err != nil {
		return nil
	}
	h, err := windows.CreateFile(conout, windows.GENERIC_READ|windows.GENERIC_WRITE,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		return nil
	}
	if err := windows.SetStdHandle(std, h); err != nil {
		windows.CloseHandle(h)
		return nil
	}
	return os.NewFile(uintptr(h), name)
}
