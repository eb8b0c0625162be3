//go:build windows

package agent

import "golang.org/x/sys/windows"

// diskFree is the space available to this user on dir's volume (-1 when it
// cannot be measured).
func diskFree(dir string) int64 {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return -1
	}
	var avail, total, free uint64
	if err := windows.GetDiskFreeSpaceEx(p, &avail, &total, &free); err != nil {
		return -1
	}
	return int64(avail)
}
