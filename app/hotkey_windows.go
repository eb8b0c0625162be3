//go:build windows

package main

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	user32                 = windows.NewLazySystemDLL("user32.dll")
	procRegisterHotKey     = user32.NewProc("RegisterHotKey")
	procUnregisterHotKey   = user32.NewProc("UnregisterHotKey")
	procGetMessageW        = user32.NewProc("GetMessageW")
	procPostThreadMessageW = user32.NewProc("PostThreadMessageW")
)

const (
	wmQuit   = 0x0012
	wmHotkey = 0x0312
	hotkeyID = 0x5342 // any id unique in this thread
)

type winMsg struct {
	hwnd    uintptr
	message uint32
	wParam  uintptr
	lParam  uintptr
	time    uint32
	pt      struct{ x, y int32 }
	private uint32
}

// startHotkey registers spec with RegisterHotKey on a thread of its own with
// a message loop (WM_HOTKEY is posted to the registering thread's queue),
// and calls fn on each press. fn runs on that thread: it must hand off.
func startHotkey(spec string, fn func()) (stop func(), err error) {
	h, err := parseHotkey(spec)
	if err != nil {
		return func() {}, err
	}
	mods, vk := h.win32()
	ready := make(chan error, 1)
	tidCh := make(chan uint32, 1)
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer close(done)
		tid := windows.GetCurrentThreadId()
		r, _, e := procRegisterHotKey.Call(0, hotkeyID, uintptr(mods), uintptr(vk))
		if r == 0 {
			ready <- fmt.Errorf("hotkey %s is taken by another program: %v", h, e)
			return
		}
		defer procUnregisterHotKey.Call(0, hotkeyID)
		tidCh <- tid
		ready <- nil
		var m winMsg
		for {
			r, _, _ := procGetMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0)
			if int32(r) <= 0 { // WM_QUIT or error
				return
			}
			if m.message == wmHotkey && m.wParam == hotkeyID {
				fn()
			}
		}
	}()
	if err := <-ready; err != nil {
		return func() {}, err
	}
	tid := <-tidCh
	return func() {
		procPostThreadMessageW.Call(uintptr(tid), wmQuit, 0, 0)
		<-done
	}, nil
}
