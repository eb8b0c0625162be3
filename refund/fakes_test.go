package refund

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
)

// testStore is the runner's Store for tests: in memory, optionally made
// durable by an append-only file of JSON lines, each fsynced before
// AppendRefund returns (the crash test kills a process using it). Like the
// real store, a new refund that does not fit in the order is refused in the
// same critical section that stores it.
type testStore struct {
	mu      sync.Mutex
	orders  map[string]order.Order
	refunds map[string]Refund
	seq     []string // refund numbers in creation order
	f       *os.File
	appends atomic.Int64
	failing atomic.Bool // AppendRefund fails (disk full)
}

type storeLine struct {
	Order  *order.Order `json:"order,omitempty"`
	Refund *Refund      `json:"refund,omitempty"`
}

func newMemStore() *testStore {
	return &testStore{orders: map[string]order.Order{}, refunds: map[string]Refund{}}
}

// openFileStore replays path and appends to it from then on. A torn last
// line (a crash during a write, before its fsync returned) is cut off, so
// that the next record starts on a line of its own.
func openFileStore(path string) (*testStore, error) {
	s := newMemStore()
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	good := bytes.LastIndexByte(data, '\n') + 1
	sc := bufio.NewScanner(bytes.NewReader(data[:good]))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l storeLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("damaged line in %s: %v", path, err)
		}
		if l.Order != nil {
			s.orders[l.Order.OutTradeNo] = *l.Order
		}
		if l.Refund != nil {
			s.put(*l.Refund)
		}
	}
	if good < len(data) {
		if err := os.Truncate(path, int64(good)); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	s.f = f
	return s, nil
}

func (s *testStore) Close() {
	if s.f != nil {
		s.f.Close()
	}
}

func (s *testStore) write(l storeLine) error {
	if s.f == nil {
		return nil
	}
	b, _ := json.Marshal(l)
	if _, err := s.f.Write(append(b, '\n')); err != nil {
		return err
	}
	return s.f.Sync()
}

func (s *testStore) put(x Refund) {
	if _, ok := s.refunds[x.OutRefundNo]; !ok {
		s.seq = append(s.seq, x.OutRefundNo)
	}
	s.refunds[x.OutRefundNo] = x
}

func (s *testStore) AddOrder(o order.Order) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(storeLine{Order: &o}); err != nil {
		return err
	}
	s.orders[o.OutTradeNo] = o
	return nil
}

func (s *testStore) AppendRefund(x Refund) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing.Load() {
		return errors.New("disk full")
	}
	old, known := s.refunds[x.OutRefundNo]
	if !known {
		o, ok := s.orders[x.OutTradeNo]
		if !ok || o.State != order.StatePaid {
			return ErrNotPaid
		}
		var sum money.Fen
		for _, no := range s.seq {
			if r := s.refunds[no]; r.OutTradeNo == x.OutTradeNo && r.State.MayRefund() {
				sum += r.RefundFen
			}
		}
		if sum+x.RefundFen > o.AmountFen {
			return ErrOverRefund
		}
	} else if old.OutTradeNo != x.OutTradeNo || old.RefundFen != x.RefundFen {
		return fmt.Errorf("refund %s changed order or amount", x.OutRefundNo)
	}
	if err := s.write(storeLine{Refund: &x}); err != nil {
		return err
	}
	s.put(x)
	s.appends.Add(1)
	return nil
}

func (s *testStore) GetRefund(no string) (Refund, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.refunds[no]
	return x, ok, nil
}

func (s *testStore) RefundsOf(no string) ([]Refund, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Refund
	for _, n := range s.seq {
		if r := s.refunds[n]; r.OutTradeNo == no {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *testStore) UnresolvedRefunds() ([]Refund, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Refund
	for _, n := range s.seq {
		if r := s.refunds[n]; !r.State.Terminal() {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *testStore) All() []Refund {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Refund, 0, len(s.seq))
	for _, n := range s.seq {
		out = append(out, s.refunds[n])
	}
	return out
}

func (s *testStore) Order(no string) (order.Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[no]
	return o, ok
}

func paidOrder(no string, fen money.Fen) order.Order {
	t := time.Now()
	return order.Order{OutTradeNo: no, Kind: order.KindMicropay, AmountFen: fen, State: order.StatePaid,
		CreatedAt: t, UpdatedAt: t, TransactionID: "4200" + no}
}

// fakeBank answers from a script per call; it counts every call.
type fakeBank struct {
	mu      sync.Mutex
	calls   []string // "refund:NO" / "query:NO"
	refund  func(n int, r payclient.RefundRequest) (*payclient.Refund, error)
	query   func(n int, no string) (*payclient.Refund, error)
	nRefund int
	nQuery  int
}

func (b *fakeBank) Refund(ctx context.Context, r payclient.RefundRequest) (*payclient.Refund, error) {
	b.mu.Lock()
	b.calls = append(b.calls, "refund:"+r.OutRefundNo)
	b.nRefund++
	n := b.nRefund
	f := b.refund
	b.mu.Unlock()
	if f == nil {
		return answer4(r, payclient.RefundSuccess), nil
	}
	return f(n, r)
}

func (b *fakeBank) RefundQuery(ctx context.Context, no string) (*payclient.Refund, error) {
	b.mu.Lock()
	b.calls = append(b.calls, "query:"+no)
	b.nQuery++
	n := b.nQuery
	f := b.query
	b.mu.Unlock()
	if f == nil {
		return nil, &payclient.APIError{Endpoint: payclient.EndpointRefundQuery, ReturnCode: "SUCCESS", ErrCode: "REFUNDNOTEXIST"}
	}
	return f(n, no)
}

func (b *fakeBank) Calls() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.calls)
}

func answer4(r payclient.RefundRequest, st payclient.RefundState) *payclient.Refund {
	return &payclient.Refund{OutTradeNo: r.OutTradeNo, OutRefundNo: r.OutRefundNo, RefundID: "5000" + r.OutRefundNo,
		RefundFee: r.RefundFee, State: st}
}

func bizErr(ep, code string) error {
	return fmt.Errorf("payclient: %w", &payclient.APIError{Endpoint: ep, ReturnCode: "SUCCESS", ErrCode: code})
}

var errComm = fmt.Errorf("payclient: refund: %w", payclient.ErrCommunication)

// okPIN accepts every PIN.
type okPIN struct{}

func (okPIN) Check(string) error { return nil }

// fastCfg paces tests in milliseconds.
var fastCfg = Config{PollInterval: 5 * time.Millisecond, FollowFor: 300 * time.Millisecond, ResolveEvery: 50 * time.Millisecond}

func newTestRunner(t testing.TB, st Store, bank Bank, opts ...Option) *Runner {
	t.Helper()
	return New(st, bank, okPIN{}, fastCfg, nil, opts...)
}

func dataFile(t testing.TB) string { return filepath.Join(t.TempDir(), "refunds.jsonl") }
