package ocr

import (
	"context"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestCaptureScreenRegion reads an amount off a real X screen: Xvfb shows a
// corpus image with ImageMagick's display at a known place, and Capture +
// Read must read it there, the way `scanbox amount --region` does.
func TestCaptureScreenRegion(t *testing.T) {
	for _, tool := range []string{"Xvfb", "display"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (Debian: xvfb, imagemagick)", tool)
		}
	}
	helper := realHelper(t)
	disp := ""
	for n := 91; n < 130; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); os.IsNotExist(err) {
			if _, err := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n)); os.IsNotExist(err) {
				disp = fmt.Sprintf(":%d", n)
				break
			}
		}
	}
	if disp == "" {
		t.Fatal("no free X display number")
	}
	x := exec.Command("Xvfb", disp, "-screen", "0", "640x480x24", "-nolisten", "tcp")
	if err := x.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { x.Process.Signal(os.Interrupt); x.Wait() }() // lets Xvfb remove its lock
	t.Setenv("DISPLAY", disp)
	for i := 0; ; i++ { // bounded wait for the server's socket
		if _, err := os.Stat("/tmp/.X11-unix/X" + disp[1:]); err == nil {
			break
		}
		if i == 100 {
			t.Fatalf("Xvfb %s did not start", disp)
		}
		time.Sleep(50 * time.Millisecond)
	}
	img := filepath.Join("testdata", "corpus", "r002.png") // 应收 ¥716.20, white on green, 155x45
	d := exec.Command("display", "-geometry", "+100+120", img)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { d.Process.Kill(); d.Wait() }()

	region, err := ParseRegion("104,124,150,40") // inside the window border
	if err != nil {
		t.Fatal(err)
	}
	// Wait (bounded) until the window is mapped: its green shows at the region.
	var shot *image.RGBA
	for i := 0; ; i++ {
		shot, err = Capture(region)
		if err == nil {
			// Capture's image starts at 0,0 whatever the region.
			if r, g, b, _ := shot.At(1, 1).RGBA(); g>>8 > 0x60 && r>>8 < 0x60 && b>>8 < 0x60 {
				break
			}
		}
		if i == 100 {
			if shot != nil {
				t.Logf("pixel at 1,1: %v", shot.At(1, 1))
			}
			t.Fatalf("the image never appeared on %s (last capture error: %v)", disp, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r := NewReader(Options{Command: helper, Tessdata: testTessdata()})
	defer r.Close()
	res, err := r.Read(context.Background(), shot)
	if err != nil || res.Amount != 71620 {
		t.Fatalf("read %v, %v from the screen; want 716.20 (readings %q)", res.Amount, err, texts(res))
	}
}
