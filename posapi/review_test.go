package posapi

// Regression tests from the adversarial review before issue 8 was closed
// (each failed before its fix).

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/scanbox/scanbox/payclient/banksim"
)

// A POS that sends a payment again because it did not hear the first answer
// (its own timeout, a dropped connection) must never be told "definite
// failure" (exit_code 1) while the first attempt is charging or has charged
// the customer: it would ask the customer to pay again. Before the fix a
// repeated request without an amount answered NO_AMOUNT (the first had
// consumed the amount), and one for a paid code answered CODE_ALREADY_PAID,
// both with exit_code 1.
func TestRegressionRetriedPaymentNotReportedFailed(t *testing.T) {
	c := activated(t, banksim.Options{})
	h := NewHandler(c, testToken, "")
	local := func(r *http.Request) { r.RemoteAddr = "127.0.0.1:1" }
	type refusal struct {
		Code       string `json:"code"`
		ExitCode   int    `json:"exit_code"`
		OutTradeNo string `json:"out_trade_no"`
	}
	pay := func(body string) (int, refusal, Order) {
		w := do(h, "POST", "/v1/payments", body, local)
		var o Order
		if w.Code == http.StatusAccepted {
			json.Unmarshal(w.Body.Bytes(), &o)
			return w.Code, refusal{}, o
		}
		var e map[string]refusal
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
			t.Fatalf("not an error body: %s", w.Body)
		}
		return w.Code, e["error"], o
	}
	setAmount := func(a string) {
		if w := do(h, "PUT", "/v1/amount", `{"amount":"`+a+`"}`, local); w.Code != http.StatusOK {
			t.Fatalf("set amount: %d %s", w.Code, w.Body)
		}
	}

	// In flight: the payer is still confirming (6: never confirms).
	setAmount("3.00")
	if st, e, _ := pay(`{"code":"134567890123456786"}`); st != http.StatusAccepted {
		t.Fatalf("first payment: %d %+v", st, e)
	}
	if st, e, _ := pay(`{"code":"134567890123456786"}`); e.ExitCode != exitUnknown || e.Code != "CODE_UNRESOLVED" {
		t.Errorf("the same request again while it is being paid: %d %+v (exit_code 1 tells the POS nothing was charged)", st, e)
	}

	// Paid.
	setAmount("12.50")
	st, e, o := pay(`{"code":"134567890123456780"}`)
	if st != http.StatusAccepted {
		t.Fatalf("payment: %d %+v", st, e)
	}
	w := do(h, "GET", "/v1/orders/"+o.OutTradeNo+"?wait=20s", "", local)
	json.Unmarshal(w.Body.Bytes(), &o)
	if o.State != "paid" {
		t.Fatalf("order: %s", w.Body)
	}
	for _, body := range []string{`{"code":"134567890123456780"}`, `{"code":"134567890123456780","amount":"12.50"}`} {
		if st, e, _ := pay(body); e.Code != "CODE_ALREADY_PAID" || e.ExitCode != exitUnknown || e.OutTradeNo != o.OutTradeNo {
			t.Errorf("%s sent again after it paid: %d %+v (want CODE_ALREADY_PAID, exit_code 3, naming %s)", body, st, e, o.OutTradeNo)
		}
	}
	// Another amount with that code is another sale: refused as before.
	if st, e, _ := pay(`{"code":"134567890123456780","amount":"1.00"}`); e.Code != "CODE_ALREADY_PAID" || e.ExitCode != exitFailed {
		t.Errorf("a paid code for another amount: %d %+v", st, e)
	}
	if n := len(c.Journal().Recent(10)); n != 2 {
		t.Errorf("%d orders journaled, want 2", n)
	}
}

// The current amount is one customer's: requests arriving together (two
// codes scanned in quick succession, a POS sending twice) must not both
// charge it. Before the fix each request read the amount, charged it, and
// only then consumed it, so all requests within that window charged it.
func TestRegressionCurrentAmountChargedOnce(t *testing.T) {
	c := activated(t, banksim.Options{})
	h := NewHandler(c, testToken, "")
	local := func(r *http.Request) { r.RemoteAddr = "127.0.0.1:1" }
	if w := do(h, "PUT", "/v1/amount", `{"amount":"12.50"}`, local); w.Code != http.StatusOK {
		t.Fatalf("set amount: %d %s", w.Code, w.Body)
	}
	const n = 8
	codes := make(chan int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			w := do(h, "POST", "/v1/payments", fmt.Sprintf(`{"code":"13456789012345%02d00"}`, i), local)
			codes <- w.Code
		}()
	}
	close(start)
	wg.Wait()
	close(codes)
	accepted := 0
	for c := range codes {
		if c == http.StatusAccepted {
			accepted++
		}
	}
	if accepted != 1 {
		t.Errorf("%d payments charged the one current amount, want 1", accepted)
	}
	if n := len(c.Journal().Recent(20)); n != 1 {
		t.Errorf("%d orders journaled, want 1", n)
	}
}
