//go:build !windows

package agent

import "syscall"

// diskFree is the space available to this user on dir's file system (-1
// when it cannot be measured).
func diskFree(dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return -1
	}
	return int64(st.Bavail) * int64(st.Bsize)
}
