package agent

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/scanbox/scanbox/fleet/proto"
)

const isWindows = runtime.GOOS == "windows"

// queue is the bounded on-disk queue of reports not yet delivered, oldest
// first: one JSON report per line. It is kept in memory and rewritten
// atomically when it changes, so a crash leaves either the old or the new
// file. Delivery is at least once: a report sent but not yet removed from
// the file when the PC dies is sent again, and the fleet counts every
// (terminal, Seq) once.
type queue struct {
	mu       sync.Mutex
	path     string
	maxN     int
	maxBytes int
	items    [][]byte // encoded proto.Heartbeat, oldest first
	size     int
}

func openQueue(path string, maxN, maxBytes int) (*queue, error) {
	q := &queue{path: path, maxN: maxN, maxBytes: maxBytes}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return q, nil
	}
	if err != nil {
		return nil, fmt.Errorf("agent: report queue: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := append([]byte(nil), sc.Bytes()...)
		var hb proto.Heartbeat
		if json.Unmarshal(line, &hb) != nil {
			continue // a torn last line: that report is lost, the rest are kept
		}
		q.items = append(q.items, line)
		q.size += len(line) + 1
	}
	return q, nil
}

func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// push appends a report, dropping the oldest ones past the bounds; it
// returns the dropped reports.
func (q *queue) push(hb proto.Heartbeat) (dropped [][]byte, err error) {
	line, err := json.Marshal(hb)
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items = append(q.items, line)
	q.size += len(line) + 1
	for len(q.items) > 1 && (len(q.items) > q.maxN || q.size > q.maxBytes) {
		q.size -= len(q.items[0]) + 1
		dropped = append(dropped, q.items[0])
		q.items = q.items[1:]
	}
	return dropped, q.saveLocked()
}

// peek returns up to n of the oldest reports.
func (q *queue) peek(n int) [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	if n > len(q.items) {
		n = len(q.items)
	}
	return append([][]byte(nil), q.items[:n]...)
}

// remove drops the n oldest reports (those just delivered) and saves.
func (q *queue) remove(n int) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if n > len(q.items) {
		n = len(q.items)
	}
	for _, it := range q.items[:n] {
		q.size -= len(it) + 1
	}
	q.items = append([][]byte(nil), q.items[n:]...)
	return q.saveLocked()
}

func (q *queue) saveLocked() error {
	var b bytes.Buffer
	for _, it := range q.items {
		b.Write(it)
		b.WriteByte('\n')
	}
	if err := writeAtomic(q.path, b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("agent: report queue: %w", err)
	}
	return nil
}
