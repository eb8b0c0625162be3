//go:build windows

package store

import (
	"os"

	"golang.org/x/sys/windows"
)

var errWouldBlock = windows.ERROR_LOCK_VIOLATION

// lockRegionHigh puts the locked byte range far past the PID text in the
// lock file: Windows locks are mandatory, and locking byte 0 would stop a
// second process from reading the PID for its error message. The region is
// the one the journal package locks, so an old ScanBox and a new one exclude
// each other on the journal's lock file.
const lockRegionHigh = 1

// lockFile takes an exclusive LockFileEx lock without waiting. Windows locks
// belong to the handle, so a second Open in the same process is refused too,
// and the system releases them when the process ends.
func lockFile(f *os.File) error {
	ol := windows.Overlapped{OffsetHigh: lockRegionHigh}
	return windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
}

func unlockFile(f *os.File) error {
	ol := windows.Overlapped{OffsetHigh: lockRegionHigh}
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, &ol)
}

// syncDir is a no-op on Windows: NTFS makes a new entry or a MoveFileEx
// durable through its own journal, and a directory cannot be opened for
// FlushFileBuffers by an ordinary handle.
func syncDir(dir string) error { return nil }
