//go:build !windows

package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a writer safe for the watchdog's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Issue 11 item 15: a process still running limit after SIGTERM dumps every
// goroutine (to stderr and to the data directory's logs) and exits 3,
// instead of hanging until someone kills it blind.
func TestShutdownWatchdogDumpsGoroutinesAndExits(t *testing.T) {
	exited := make(chan int, 1)
	exitProcess = func(code int) { exited <- code }
	defer func() { exitProcess = os.Exit }()
	dir := t.TempDir()
	var stderr syncBuffer
	signalled := make(chan struct{})
	stop := watchShutdown(dir, 200*time.Millisecond, &stderr, func() { close(signalled) })
	defer stop()
	// A goroutine stuck the way a shutdown gets stuck: it must show.
	block := make(chan struct{})
	defer close(block)
	go stuckInShutdownForTest(block)
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-signalled:
	case <-time.After(10 * time.Second):
		t.Fatal("onSignal was not called")
	}
	select {
	case code := <-exited:
		if code != exitUnknown {
			t.Errorf("exit %d, want %d", code, exitUnknown)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the watchdog did not fire")
	}
	out := stderr.String()
	if !strings.Contains(out, "after the stop signal") || !strings.Contains(out, "goroutine ") || !strings.Contains(out, "stuckInShutdownForTest") {
		t.Fatalf("stderr has no goroutine dump:\n%.2000s", out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "logs", "shutdown-hang-*.txt"))
	if len(files) != 1 {
		t.Fatalf("dump files %v", files)
	}
	if b, _ := os.ReadFile(files[0]); !strings.Contains(string(b), "stuckInShutdownForTest") {
		t.Errorf("the file has no goroutine dump")
	}
}

// Disarmed before any signal, the watchdog never fires.
func TestShutdownWatchdogDisarmed(t *testing.T) {
	exited := make(chan int, 1)
	exitProcess = func(code int) { exited <- code }
	defer func() { exitProcess = os.Exit }()
	stop := watchShutdown("", 50*time.Millisecond, &syncBuffer{}, func() { t.Error("onSignal without a signal") })
	stop()
	stop() // twice is harmless
	select {
	case <-exited:
		t.Fatal("fired without a signal")
	case <-time.After(300 * time.Millisecond):
	}
}

func stuckInShutdownForTest(block chan struct{}) { <-block }

// A stop signal while the tray is still opening its data directory (before
// the GUI loop exists) is not swallowed by the watchdog: the tray sees it
// and does not start; one after that quits the loop.
func TestTrayShutdownSignalBeforeAndAfterTheLoop(t *testing.T) {
	exited := make(chan int, 2)
	exitProcess = func(code int) { exited <- code }
	defer func() { exitProcess = os.Exit }()

	// Each armed watchdog fires (into the stub) before the test ends.
	early := watchTrayShutdown("", 100*time.Millisecond, &syncBuffer{})
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	for !early.stopping.Load() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if !early.setQuit(func() { t.Error("quit called for a loop that never ran") }) {
		t.Fatal("a signal before the GUI loop was lost: the tray would start anyway")
	}
	early.disarm()

	late := watchTrayShutdown("", 100*time.Millisecond, &syncBuffer{})
	defer late.disarm()
	quit := make(chan struct{})
	if late.setQuit(func() { close(quit) }) {
		t.Fatal("stopped with no signal")
	}
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case <-quit:
	case <-time.After(5 * time.Second):
		t.Fatal("the signal did not quit the GUI loop")
	}
	for range 2 {
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			t.Fatal("a watchdog did not fire")
		}
	}
}
