// Package filelock owns the one exclusive, non-blocking lock that ScanBox's
// money records (the old journal and the SQLite store) take on their lock
// files, and making a directory entry durable. Both packages must take the
// very same lock — same call, same byte region on Windows — so that an old
// ScanBox and a new one exclude each other; keeping it here makes that one
// fact instead of two copies that must agree. It never decides what is locked.
package filelock
