//go:build windows

package filelock

import (
	"os"

	"golang.org/x/sys/windows"
)

// ErrWouldBlock is what Lock returns when another holder has the lock.
var ErrWouldBlock = windows.ERROR_LOCK_VIOLATION

// lockRegionHigh puts the locked byte range far past the PID text in the
// lock file: Windows locks are mandatory, and locking byte 0 would stop a
// second process from reading the PID for its error message.
const lockRegionHigh = 1

// Lock takes an exclusive LockFileEx lock without waiting. Windows locks
// belong to the handle, so a second open in the same process is refused
// too, and the system releases them when the process ends.
func Lock(f *os.File) error {
	ol := windows.Overlapped{OffsetHigh: lockRegionHigh}
	return windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
}

// Unlock releases Lock.
func Unlock(f *os.File) error {
	ol := windows.Overlapped{OffsetHigh: lockRegionHigh}
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, &ol)
}

// SyncDir is a no-op on Windows: NTFS makes a new entry or a MoveFileEx
// durable through its own journal, and a directory cannot be opened for
// FlushFileBuffers by an ordinary handle.
func SyncDir(dir string) error { return nil }
