package installer

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image/png"
	"os"
)

// WriteICO wraps a PNG (at most 256×256) in a one-image .ico file, the form
// Windows Vista and later read directly. The MSI uses it for the Start-menu
// shortcut and Add/Remove Programs, so the tray's own app icon is the one
// people see (scanbox.exe carries no icon resource).
func WriteICO(pngPath, icoPath string) error {
	data, err := os.ReadFile(pngPath)
	if err != nil {
		return fmt.Errorf("installer: icon: %w", err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("installer: icon %s: %w", pngPath, err)
	}
	if cfg.Width > 256 || cfg.Height > 256 || cfg.Width < 1 || cfg.Height < 1 {
		return fmt.Errorf("installer: icon %s is %dx%d; an .ico image is 1 to 256 pixels a side", pngPath, cfg.Width, cfg.Height)
	}
	dim := func(n int) byte { return byte(n % 256) } // 256 is written as 0
	var b bytes.Buffer
	// ICONDIR: reserved, type 1 (icon), one image.
	binary.Write(&b, binary.LittleEndian, [3]uint16{0, 1, 1})
	// ICONDIRENTRY: width, height, palette size, reserved, planes, bits per
	// pixel, size of the image data, offset of the image data (6 + 16).
	b.Write([]byte{dim(cfg.Width), dim(cfg.Height), 0, 0})
	binary.Write(&b, binary.LittleEndian, [2]uint16{1, 32})
	binary.Write(&b, binary.LittleEndian, [2]uint32{uint32(len(data)), 22})
	b.Write(data)
	return os.WriteFile(icoPath, b.Bytes(), 0o644)
}
