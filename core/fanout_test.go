package core

import (
	"reflect"
	"testing"
)

// Subscribers are called in subscription order, every time: the tray
// controller's bookkeeping (subscribed first) runs before a view's handler.
func TestFanoutOrder(t *testing.T) {
	var f Fanout[int]
	var got []string
	f.Add(func(int) { got = append(got, "a") })
	unB := f.Add(func(int) { got = append(got, "b") })
	f.Add(func(int) { got = append(got, "c") })
	for i := 0; i < 50; i++ {
		got = got[:0]
		f.Emit(i)
		if !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
			t.Fatalf("emit %d called %v", i, got)
		}
	}
	unB()
	unB() // a second unsubscribe is harmless
	got = got[:0]
	f.Emit(0)
	if !reflect.DeepEqual(got, []string{"a", "c"}) {
		t.Fatalf("after unsubscribe: %v", got)
	}
	// A subscriber may unsubscribe itself while being called.
	var un func()
	calls := 0
	un = f.Add(func(int) { calls++; un() })
	f.Emit(0)
	f.Emit(0)
	if calls != 1 {
		t.Fatalf("self-unsubscribing subscriber called %d times", calls)
	}
}
