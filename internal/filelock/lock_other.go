//go:build !windows

package filelock

import (
	"errors"
	"os"
	"syscall"
)

// ErrWouldBlock is what Lock returns (wrapped or bare) when another holder has the lock.
var ErrWouldBlock = syscall.EWOULDBLOCK

// Lock takes an exclusive, non-blocking flock. flock locks belong to the
// open file description, so a second open in the same process is refused
// too, and the kernel drops the lock when the process dies (even by SIGKILL).
func Lock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		return err
	}
}

// Unlock releases Lock.
func Unlock(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

// SyncDir makes a new entry (file, rename) in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
