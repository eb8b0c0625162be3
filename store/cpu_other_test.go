//go:build !unix

package store

// cpuNanos is not measured here (the benchmarks' cpu-ns/op reads 0).
func cpuNanos() int64 { return 0 }
