package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/localapi"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
)

// benchOwner is a served data directory activated against the in-process
// simulator (payer pays at once).
func benchOwner(b *testing.B) (*core.Core, string) {
	b.Helper()
	_, url := simtest.NewServer(b, banksim.Options{})
	dir, err := os.MkdirTemp("", "sbb") // short: a socket path has ~100 bytes
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	cfg := config.Default()
	cfg.PollInterval = config.Duration(10 * time.Millisecond)
	if err := config.Save(dir, cfg); err != nil {
		b.Fatal(err)
	}
	c, err := core.Open(dir, core.Options{Kind: core.KindServe})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	if _, err := c.Activate(context.Background(), core.ActivateRequest{URL: url, MchID: banksim.DefaultMchID,
		TerminalID: banksim.DefaultTerminalID, Code: banksim.DefaultActivationCode}); err != nil {
		b.Fatal(err)
	}
	return c, dir
}

var benchSeq atomic.Int64

// benchCode is a fresh WeChat code paying at once (last digit 0): a code
// paid once is refused the second time.
func benchCode() string { return fmt.Sprintf("13%015d0", benchSeq.Add(1)+time.Now().UnixNano()%1e12) }

// BenchmarkPayInProcess: one payment through the core in this process (the
// tray's path): journal, micropay to the simulator on loopback, final.
func BenchmarkPayInProcess(b *testing.B) {
	c, _ := benchOwner(b)
	ctx := context.Background()
	for b.Loop() {
		o, err := c.Pay(100, benchCode())
		if err == nil {
			o, err = c.Wait(ctx, o.OutTradeNo)
		}
		if err != nil || o.State.String() != "paid" {
			b.Fatalf("%v %v", o.State, err)
		}
	}
}

// BenchmarkPayLocalAPI: the same payment as `scanbox pay --json` run by a
// second process against a running instance: the command goes over the
// local API (Unix socket) and is carried out by the owner, output streamed
// back. The difference to BenchmarkPayInProcess is the added latency.
func BenchmarkPayLocalAPI(b *testing.B) {
	c, dir := benchOwner(b)
	ln, err := localapi.Listen(dir)
	if err != nil {
		b.Fatal(err)
	}
	s := localapi.Serve(ln, localapi.Info{}, serveExec(c), nil)
	defer s.Shutdown(context.Background())
	ctx := context.Background()
	for b.Loop() {
		// A new connection each time, as each `scanbox pay` process makes.
		cl, err := localapi.Dial(ctx, dir)
		if err != nil {
			b.Fatal(err)
		}
		code, err := cl.Run(ctx, []string{"pay", "--data-dir", dir, "--amount", "1.00", "--code", benchCode(), "--json"}, io.Discard, io.Discard)
		cl.Close()
		if err != nil || code != exitOK {
			b.Fatalf("exit %d, %v", code, err)
		}
	}
}

// BenchmarkStatusInProcess and BenchmarkStatusLocalAPI isolate what the
// local API adds to any command (dial, request, framing, streamed output):
// the same `status --json` code, run here or by the owner over the socket.
// A payment's own cost (fsync, bank round trips) is noisy on a busy
// machine; this difference is not.
func BenchmarkStatusInProcess(b *testing.B) {
	c, dir := benchOwner(b)
	ctx := context.Background()
	for b.Loop() {
		if code := cmdStatus(ctx, servedHost{c}, []string{"--data-dir", dir, "--json"}, io.Discard, io.Discard); code != exitOK {
			b.Fatal(code)
		}
	}
}

func BenchmarkStatusLocalAPI(b *testing.B) {
	c, dir := benchOwner(b)
	ln, err := localapi.Listen(dir)
	if err != nil {
		b.Fatal(err)
	}
	s := localapi.Serve(ln, localapi.Info{}, serveExec(c), nil)
	defer s.Shutdown(context.Background())
	ctx := context.Background()
	for b.Loop() {
		cl, err := localapi.Dial(ctx, dir)
		if err != nil {
			b.Fatal(err)
		}
		code, err := cl.Run(ctx, []string{"status", "--data-dir", dir, "--json"}, io.Discard, io.Discard)
		cl.Close()
		if err != nil || code != exitOK {
			b.Fatalf("exit %d, %v", code, err)
		}
	}
}
