// Package tmpdeps pins the chosen third-party modules in go.mod while the packages that use them are written.
//go:build tools

package tmpdeps

import (
	_ "fyne.io/fyne/v2"
	_ "fyne.io/fyne/v2/app"
	_ "fyne.io/fyne/v2/test"
	_ "github.com/kbinani/screenshot"
	_ "github.com/lxn/win"
	_ "github.com/otiai10/gosseract/v2"
	_ "go.bug.st/serial"
	_ "golang.org/x/sys/windows"
	_ "golang.org/x/text/encoding/simplifiedchinese"
	_ "github.com/skip2/go-qrcode"
)
