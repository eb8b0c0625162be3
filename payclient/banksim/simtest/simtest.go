// Package simtest starts the bank simulator for tests of any package. It is
// apart from banksim so that the scanbox program, which embeds the
// simulator for `scanbox demo` and `scanbox banksim`, does not link the
// testing package.
package simtest

import (
	"net/http/httptest"
	"testing"

	"github.com/scanbox/scanbox/payclient/banksim"
)

// NewServer starts a simulator on loopback for a test and stops it when the
// test ends. It returns the simulator and the API base URL to give
// payclient.Config.BaseURL.
func NewServer(t testing.TB, opts banksim.Options) (*banksim.Sim, string) {
	t.Helper()
	sim := banksim.New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv.URL + sim.Options().BasePath
}
