//go:build unix

package store

import "syscall"

// cpuNanos is the CPU time (user + system) this process has used: on a
// shared machine it varies far less with the load than wall time does.
func cpuNanos() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
