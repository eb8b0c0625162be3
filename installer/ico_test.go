package installer

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteICO(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		w, h   int
		ok     bool
		wb, hb byte
	}{{32, 32, true, 32, 32}, {256, 256, true, 0, 0}, {48, 16, true, 48, 16}, {300, 300, false, 0, 0}} {
		var pngData bytes.Buffer
		if err := png.Encode(&pngData, image.NewNRGBA(image.Rect(0, 0, tc.w, tc.h))); err != nil {
			t.Fatal(err)
		}
		src, ico := filepath.Join(dir, "i.png"), filepath.Join(dir, "i.ico")
		os.WriteFile(src, pngData.Bytes(), 0o644)
		err := WriteICO(src, ico)
		if (err == nil) != tc.ok {
			t.Errorf("%dx%d: err %v, want ok=%v", tc.w, tc.h, err, tc.ok)
			continue
		}
		if !tc.ok {
			continue
		}
		b, _ := os.ReadFile(ico)
		var hdr [3]uint16
		binary.Read(bytes.NewReader(b), binary.LittleEndian, &hdr)
		size := binary.LittleEndian.Uint32(b[14:18])
		off := binary.LittleEndian.Uint32(b[18:22])
		if hdr != [3]uint16{0, 1, 1} || b[6] != tc.wb || b[7] != tc.hb || int(size) != pngData.Len() || off != 22 ||
			!bytes.Equal(b[off:], pngData.Bytes()) {
			t.Errorf("%dx%d: bad .ico header % x", tc.w, tc.h, b[:22])
		}
	}
	if err := WriteICO(filepath.Join(dir, "missing.png"), filepath.Join(dir, "x.ico")); err == nil {
		t.Error("missing PNG accepted")
	}
}
