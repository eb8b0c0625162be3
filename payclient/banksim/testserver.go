package banksim

import (
	"net/http/httptest"
	"testing"
)

// NewTestServer starts a simulator on loopback for a test (any package's)
// and stops it when the test ends. It returns the simulator and the API base
// URL to give payclient.Config.BaseURL.
func NewTestServer(t testing.TB, opts Options) (*Sim, string) {
	t.Helper()
	sim := New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv.URL + sim.opts.BasePath
}
