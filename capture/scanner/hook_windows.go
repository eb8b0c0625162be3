//go:build windows

package scanner

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The Win32 keyboard hook, bound by hand: golang.org/x/sys/windows has no
// SetWindowsHookExW and lxn/win lacks WH_KEYBOARD_LL.
var (
	user32                  = windows.NewLazySystemDLL("user32.dll")
	procSetWindowsHookExW   = user32.NewProc("SetWindowsHookExW")
	procUnhookWindowsHookEx = user32.NewProc("UnhookWindowsHookEx")
	procCallNextHookEx      = user32.NewProc("CallNextHookEx")
	procGetMessageW         = user32.NewProc("GetMessageW")
	procPostThreadMessageW  = user32.NewProc("PostThreadMessageW")
	procSendInput           = user32.NewProc("SendInput")
	procGetAsyncKeyState    = user32.NewProc("GetAsyncKeyState")
)

const (
	whKeyboardLL   = 13
	wmKeyDown      = 0x0100
	wmKeyUp        = 0x0101
	wmSysKeyDown   = 0x0104
	wmSysKeyUp     = 0x0105
	wmQuit         = 0x0012
	llkhfExtended  = 0x01
	llkhfInjected  = 0x10
	inputKeyboard  = 1
	keyeventfExt   = 0x0001
	keyeventfKeyUp = 0x0002
	vkReturn       = 0x0D
	vkShift        = 0x10
	vkControl      = 0x11
	vkMenu         = 0x12
	vkNumpad0      = 0x60
	// replayTag marks our own SendInput events (besides LLKHF_INJECTED)
	// so that they are never held a second time.
	replayTag = 0x5CA1B0C5
)

type kbdllhookstruct struct {
	VkCode      uint32
	ScanCode    uint32
	Flags       uint32
	Time        uint32
	DwExtraInfo uintptr
}

type keybdinput struct {
	WVk         uint16
	WScan       uint16
	DwFlags     uint32
	Time        uint32
	DwExtraInfo uintptr
}

// input is INPUT with the keyboard member of its union; the padding makes
// it as large as the union's largest member (MOUSEINPUT) on 386 and amd64.
type input struct {
	Type uint32
	Ki   keybdinput
	_    [8]byte
}

type msg struct {
	Hwnd    uintptr
	Message uint32
	WParam  uintptr
	LParam  uintptr
	Time    uint32
	Pt      struct{ X, Y int32 }
	_       uint32
}

// Wedge is a running keyboard-wedge capture: a WH_KEYBOARD_LL hook on a
// locked OS thread with its own message loop, feeding a Burst detector.
type Wedge struct {
	mu       sync.Mutex
	burst    *Burst
	onCode   func(string)
	timer    *time.Timer
	gen      uint64
	tid      uint32
	done     chan struct{}
	lastTick uint32
	clock    time.Duration // hook ticks made monotonic across the 49-day wrap
	started  bool
}

// treatInjectedAsPhysical lets tests type with SendInput; in the shop,
// injected keys (other programs', on-screen keyboards) always pass.
var treatInjectedAsPhysical bool

// the one hook: a process has one keyboard stream, and the callback needs
// to find its Wedge without a context argument.
var (
	active   *Wedge
	activeMu sync.Mutex
)

// StartWedge installs the hook. onCode gets each scanned code on its own
// goroutine (the hook must return within the system's hook timeout).
func StartWedge(cfg BurstConfig, onCode func(code string)) (*Wedge, error) {
	if err := procSetWindowsHookExW.Find(); err != nil {
		return nil, fmt.Errorf("scanner: keyboard hook: %w", err)
	}
	activeMu.Lock()
	defer activeMu.Unlock()
	if active != nil {
		return nil, errors.New("scanner: a keyboard-wedge capture is already running")
	}
	w := &Wedge{burst: NewBurst(cfg), onCode: onCode, done: make(chan struct{})}
	ready := make(chan error, 1)
	active = w
	go w.loop(ready)
	if err := <-ready; err != nil {
		active = nil
		return nil, err
	}
	return w, nil
}

var hookCallback = windows.NewCallback(hookProc)

func (w *Wedge) loop(ready chan<- error) {
	// A low-level hook is called on the thread that installed it, through
	// that thread's message loop: keep this goroutine on one OS thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer close(w.done)
	w.tid = windows.GetCurrentThreadId()
	var mod windows.Handle
	if err := windows.GetModuleHandleEx(0, nil, &mod); err != nil {
		ready <- fmt.Errorf("scanner: module handle: %w", err)
		return
	}
	h, _, err := procSetWindowsHookExW.Call(whKeyboardLL, hookCallback, uintptr(mod), 0)
	if h == 0 {
		ready <- fmt.Errorf("scanner: SetWindowsHookExW: %w", err)
		return
	}
	defer procUnhookWindowsHookEx.Call(h)
	ready <- nil
	var m msg
	for {
		r, _, _ := procGetMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0)
		if int32(r) <= 0 { // WM_QUIT or an error
			return
		}
	}
}

// Close removes the hook, replaying anything still held.
func (w *Wedge) Close() error {
	w.mu.Lock()
	if w.burst.Holding() {
		sendKeys(w.burst.release(nil))
	}
	if w.timer != nil {
		w.timer.Stop()
	}
	w.gen++
	w.mu.Unlock()
	procPostThreadMessageW.Call(uintptr(w.tid), wmQuit, 0, 0)
	<-w.done
	activeMu.Lock()
	if active == w {
		active = nil
	}
	activeMu.Unlock()
	return nil
}

func hookProc(nCode, wParam, lParam uintptr) uintptr {
	activeMu.Lock()
	w := active
	activeMu.Unlock()
	if int32(nCode) < 0 || w == nil {
		return next(nCode, wParam, lParam)
	}
	// lParam points to a KBDLLHOOKSTRUCT owned by the system for this call.
	kb := *(**kbdllhookstruct)(unsafe.Pointer(&lParam))
	if kb.DwExtraInfo == replayTag || kb.Flags&llkhfInjected != 0 && !treatInjectedAsPhysical {
		return next(nCode, wParam, lParam) // our replay, or another program's
	}
	up := wParam == wmKeyUp || wParam == wmSysKeyUp
	if !up && wParam != wmKeyDown && wParam != wmSysKeyDown {
		return next(nCode, wParam, lParam)
	}
	if w.handle(kb, up) == Swallow {
		return 1
	}
	return next(nCode, wParam, lParam)
}

func next(nCode, wParam, lParam uintptr) uintptr {
	r, _, _ := procCallNextHookEx.Call(0, nCode, wParam, lParam)
	return r
}

func keyDown(vk uintptr) bool {
	r, _, _ := procGetAsyncKeyState.Call(vk)
	return r&0x8000 != 0
}

func (w *Wedge) handle(kb *kbdllhookstruct, up bool) Verdict {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started {
		w.clock += time.Duration(kb.Time-w.lastTick) * time.Millisecond // uint32 maths survives the wrap
	}
	w.lastTick, w.started = kb.Time, true
	k := Key{VK: uint16(kb.VkCode), Scan: uint16(kb.ScanCode), Flags: kb.Flags, Up: up, At: w.clock}
	switch {
	case kb.VkCode == vkReturn:
		k.Char = '\r'
	case kb.VkCode >= '0' && kb.VkCode <= '9':
		k.Char = rune(kb.VkCode)
	case kb.VkCode >= vkNumpad0 && kb.VkCode <= vkNumpad0+9:
		k.Char = rune('0' + kb.VkCode - vkNumpad0)
	}
	// Shift+1 is '!', Ctrl+1 a shortcut: not digits a scanner types.
	if k.Char != 0 && !up && (keyDown(vkShift) || keyDown(vkControl) || keyDown(vkMenu)) {
		k.Char = 0
	}
	out := w.burst.Key(k)
	w.apply(out)
	return out.Verdict
}

// apply injects replays, hands over a code and (re)arms the timeout.
// Called with w.mu held.
func (w *Wedge) apply(out Output) {
	if len(out.Replay) > 0 {
		sendKeys(out.Replay)
	}
	if out.Code != "" && w.onCode != nil {
		go w.onCode(out.Code)
	}
	if w.timer != nil {
		w.timer.Stop()
	}
	w.gen++
	if out.Deadline == 0 {
		return
	}
	gen, deadline := w.gen, out.Deadline
	w.timer = time.AfterFunc(deadline-w.clock, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.gen != gen {
			return // a key came first
		}
		w.apply(w.burst.Timeout(deadline))
	})
}

// sendKeys re-injects held keys in order, as they were typed. SendInput
// queues them behind the key being processed, before any later key.
func sendKeys(keys []Key) { sendKeysTagged(keys, replayTag) }

func sendKeysTagged(keys []Key, tag uintptr) {
	if len(keys) == 0 {
		return
	}
	in := make([]input, len(keys))
	for i, k := range keys {
		in[i].Type = inputKeyboard
		in[i].Ki = keybdinput{WVk: k.VK, WScan: k.Scan, DwExtraInfo: tag}
		if k.Flags&llkhfExtended != 0 {
			in[i].Ki.DwFlags |= keyeventfExt
		}
		if k.Up {
			in[i].Ki.DwFlags |= keyeventfKeyUp
		}
	}
	procSendInput.Call(uintptr(len(in)), uintptr(unsafe.Pointer(&in[0])), unsafe.Sizeof(in[0]))
}
