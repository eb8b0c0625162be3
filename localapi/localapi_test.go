package localapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// shortDir is a data directory with a path short enough for a socket.
func shortDir(t *testing.T) string {
	d, err := os.MkdirTemp("", "la")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestRunStreamsOutputAndExitCode(t *testing.T) {
	dir := shortDir(t)
	ln, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	exec := func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		var wg sync.WaitGroup
		for i := range 50 { // progress lines from other goroutines, as a payment's are
			wg.Add(1)
			go func() { defer wg.Done(); fmt.Fprintf(stdout, "line %d\n", i) }()
		}
		wg.Wait()
		fmt.Fprintf(stderr, "scanbox %s: one line\n", args[0])
		return 3
	}
	s := Serve(ln, Info{PID: os.Getpid(), Kind: "serve", DataDir: dir}, exec, nil)
	defer s.Shutdown(context.Background())
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(Address(dir))
		if err != nil || fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
			t.Fatalf("socket %v, %v", fi.Mode(), err)
		}
	}
	c, err := Dial(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	in, err := c.Info(context.Background())
	if err != nil || in.PID != os.Getpid() || in.Kind != "serve" {
		t.Fatalf("info %+v, %v", in, err)
	}
	var out, errb strings.Builder
	code, err := c.Run(context.Background(), []string{"pay", "--json"}, &out, &errb)
	if err != nil || code != 3 {
		t.Fatalf("run: %d, %v", code, err)
	}
	if n := strings.Count(out.String(), "\n"); n != 50 {
		t.Errorf("%d stdout lines, want 50: %q", n, out.String())
	}
	if errb.String() != "scanbox pay: one line\n" {
		t.Errorf("stderr %q", errb.String())
	}
}

func TestNoInstance(t *testing.T) {
	dir := shortDir(t)
	if _, err := Dial(context.Background(), dir); !errors.Is(err, ErrNoInstance) {
		t.Fatalf("nothing there: %v", err)
	}
	if runtime.GOOS == "windows" {
		return
	}
	// A socket left by a crashed owner: nobody answers, so the command
	// opens the directory itself; the next owner replaces the socket.
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: Address(dir), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	if _, err := os.Stat(Address(dir)); err != nil {
		t.Fatal(err)
	}
	if _, err := Dial(context.Background(), dir); !errors.Is(err, ErrNoInstance) {
		t.Fatalf("stale socket: %v", err)
	}
	ln, err := Listen(dir)
	if err != nil {
		t.Fatalf("listen over a stale socket: %v", err)
	}
	s := Serve(ln, Info{}, func(context.Context, []string, io.Writer, io.Writer) int { return 0 }, nil)
	if _, err := Dial(context.Background(), dir); err != nil {
		t.Fatalf("after listen: %v", err)
	}
	s.Shutdown(context.Background())
	if _, err := os.Stat(Address(dir)); !os.IsNotExist(err) {
		t.Errorf("the socket outlives the server: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".sock-*")); len(m) != 0 {
		t.Errorf("scratch directories left: %v", m)
	}
}

// A client that goes away ends the command's context (the CLI's Ctrl+C).
func TestClientGoneCancelsCommand(t *testing.T) {
	dir := shortDir(t)
	ln, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	started, ended := make(chan struct{}), make(chan struct{})
	s := Serve(ln, Info{}, func(ctx context.Context, _ []string, stdout, _ io.Writer) int {
		io.WriteString(stdout, "started\n")
		close(started)
		<-ctx.Done()
		close(ended)
		return 3
	}, nil)
	defer s.Shutdown(context.Background())
	c, err := Dial(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	if _, err := c.Run(ctx, []string{"pay"}, io.Discard, io.Discard); !errors.Is(err, ErrLost) {
		t.Errorf("cancelled run: %v", err)
	}
	<-ended
}

// A show request runs the owner's handler (the tray raises its pay window);
// before one is set, and for an owner without windows, it is ErrNoWindow.
func TestShow(t *testing.T) {
	dir := shortDir(t)
	ln, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := Serve(ln, Info{PID: os.Getpid(), Kind: "tray", DataDir: dir}, func(context.Context, []string, io.Writer, io.Writer) int { return 0 }, nil)
	defer s.Shutdown(context.Background())
	c, err := Dial(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Show(context.Background()); !errors.Is(err, ErrNoWindow) {
		t.Fatalf("show with no handler: %v", err)
	}
	shown := make(chan struct{}, 4)
	s.OnShow(func() { shown <- struct{}{} })
	for range 2 { // a second start again, on the same client
		if err := c.Show(context.Background()); err != nil {
			t.Fatalf("show: %v", err)
		}
		select {
		case <-shown:
		default:
			t.Fatal("show answered before the handler ran")
		}
	}
	// The run endpoint is unaffected.
	if code, err := c.Run(context.Background(), []string{"status"}, io.Discard, io.Discard); err != nil || code != 0 {
		t.Fatalf("run after show: %d %v", code, err)
	}
}
