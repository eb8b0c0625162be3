//go:build windows

package scanner

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

func TestInputLayout(t *testing.T) {
	want := uintptr(40)
	if unsafe.Sizeof(uintptr(0)) == 4 {
		want = 28
	}
	if got := unsafe.Sizeof(input{}); got != want {
		t.Fatalf("sizeof(INPUT) = %d, want %d", got, want)
	}
	if got := unsafe.Sizeof(msg{}); unsafe.Sizeof(uintptr(0)) == 8 && got != 48 {
		t.Fatalf("sizeof(MSG) = %d, want 48", got)
	}
}

// TestWedgeDetectsInjectedScan installs the real hook and types a scan with
// SendInput. Injected keys normally pass untouched, so the test lets them
// through the detector.
func TestWedgeDetectsInjectedScan(t *testing.T) {
	treatInjectedAsPhysical = true
	defer func() { treatInjectedAsPhysical = false }()
	codes := make(chan string, 1)
	w, err := StartWedge(BurstConfig{MaxGap: 200 * time.Millisecond}, func(c string) { codes <- c })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := StartWedge(BurstConfig{}, nil); err == nil {
		t.Fatal("a second wedge started")
	}
	var keys []Key
	for _, c := range "134567890123456789\r" {
		vk := uint16(c)
		keys = append(keys, Key{VK: vk}, Key{VK: vk, Up: true})
	}
	sendKeysTagged(keys, 0)
	select {
	case c := <-codes:
		if c != "134567890123456789" {
			t.Errorf("code = %q", c)
		}
	case <-time.After(10 * time.Second): // hang guard
		t.Fatal("no code detected")
	}
}

// observer is a second low-level hook installed before the wedge's, so it
// is called after it: it sees exactly the keys the wedge let through (and
// its replays), i.e. what the POS would receive.
type observer struct {
	mu   sync.Mutex
	keys []string
	tid  uint32
	done chan struct{}
}

var theObserver *observer

var observerCallback = windows.NewCallback(func(nCode, wParam, lParam uintptr) uintptr {
	if int32(nCode) >= 0 && theObserver != nil {
		kb := *(**kbdllhookstruct)(unsafe.Pointer(&lParam))
		s := string(rune(kb.VkCode))
		if kb.VkCode == vkReturn {
			s = "⏎"
		}
		if wParam == wmKeyUp || wParam == wmSysKeyUp {
			s = "^" + s
		}
		theObserver.mu.Lock()
		theObserver.keys = append(theObserver.keys, s)
		theObserver.mu.Unlock()
	}
	return next(nCode, wParam, lParam)
})

func startObserver(t *testing.T) *observer {
	o := &observer{done: make(chan struct{})}
	theObserver = o
	ready := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer close(o.done)
		o.tid = windows.GetCurrentThreadId()
		var mod windows.Handle
		windows.GetModuleHandleEx(0, nil, &mod)
		h, _, err := procSetWindowsHookExW.Call(whKeyboardLL, observerCallback, uintptr(mod), 0)
		if h == 0 {
			ready <- err
			return
		}
		defer procUnhookWindowsHookEx.Call(h)
		ready <- nil
		var m msg
		for {
			if r, _, _ := procGetMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0); int32(r) <= 0 {
				return
			}
		}
	}()
	if err := <-ready; err != nil {
		t.Fatalf("observer hook: %v", err)
	}
	t.Cleanup(func() {
		procPostThreadMessageW.Call(uintptr(o.tid), wmQuit, 0, 0)
		<-o.done
		theObserver = nil
	})
	return o
}

func (o *observer) seen() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.keys, " ")
}

// TestWedgeSwallowsScanAndReplaysHuman: through the real hook chain, a scan
// never reaches the next hook (the POS), and slow digits do, in order.
func TestWedgeSwallowsScanAndReplaysHuman(t *testing.T) {
	treatInjectedAsPhysical = true
	defer func() { treatInjectedAsPhysical = false }()
	obs := startObserver(t)
	codes := make(chan string, 1)
	w, err := StartWedge(BurstConfig{}, func(c string) { codes <- c })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	tap := func(c rune) []Key { return []Key{{VK: uint16(c)}, {VK: uint16(c), Up: true}} }
	// A person: one key at a time, 150 ms apart.
	for _, c := range "42\r" {
		sendKeysTagged(tap(c), 0)
		time.Sleep(150 * time.Millisecond)
	}
	// A scanner: all at once.
	var scan []Key
	for _, c := range "284567890123456789\r" {
		scan = append(scan, tap(c)...)
	}
	sendKeysTagged(scan, 0)
	select {
	case c := <-codes:
		if c != "284567890123456789" {
			t.Errorf("code = %q", c)
		}
	case <-time.After(10 * time.Second): // hang guard
		t.Fatal("no code detected")
	}
	// Then a person again, so that we know the scan's keys are behind us.
	sendKeysTagged(tap('A'), 0)
	guard := time.Now().Add(10 * time.Second)
	for !strings.HasSuffix(obs.seen(), "A ^A") && time.Now().Before(guard) {
		time.Sleep(10 * time.Millisecond)
	}
	if got, want := obs.seen(), "4 ^4 2 ^2 ⏎ ^⏎ A ^A"; got != want {
		t.Errorf("the POS got %q, want %q", got, want)
	}
}
