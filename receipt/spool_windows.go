package receipt

import (
	"context"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The spooler's API (winspool.drv). A slip goes to the queue as one RAW
// document, so the driver passes the ESC/POS bytes through untouched.
var (
	winspool             = windows.NewLazySystemDLL("winspool.drv")
	procOpenPrinterW     = winspool.NewProc("OpenPrinterW")
	procClosePrinter     = winspool.NewProc("ClosePrinter")
	procStartDocPrinterW = winspool.NewProc("StartDocPrinterW")
	procEndDocPrinter    = winspool.NewProc("EndDocPrinter")
	procStartPagePrinter = winspool.NewProc("StartPagePrinter")
	procEndPagePrinter   = winspool.NewProc("EndPagePrinter")
	procWritePrinter     = winspool.NewProc("WritePrinter")
	procEnumPrintersW    = winspool.NewProc("EnumPrintersW")
)

// docInfo1 is DOC_INFO_1W.
type docInfo1 struct {
	docName    *uint16
	outputFile *uint16
	datatype   *uint16
}

// printerInfo4 is PRINTER_INFO_4W.
type printerInfo4 struct {
	printerName *uint16
	serverName  *uint16
	attributes  uint32
}

const (
	printerEnumLocal       = 0x2
	printerEnumConnections = 0x4
)

// SpoolPrinter prints to a Windows printer queue as RAW.
type SpoolPrinter struct{ Queue string }

func (s *SpoolPrinter) Name() string { return s.Queue }

func (s *SpoolPrinter) Print(ctx context.Context, data []byte) error {
	if err := winspool.Load(); err != nil {
		return &Error{Printer: s.Queue, Kind: ErrNotSupported, Cause: err}
	}
	// The spooler's calls cannot be interrupted; on a deadline Print
	// returns and the call finishes (or fails) on its own.
	return withContext(ctx, s.Queue, func() error { return s.spool(data) }, nil)
}

func (s *SpoolPrinter) spool(data []byte) error {
	name, err := windows.UTF16PtrFromString(s.Queue)
	if err != nil {
		return &Error{Printer: s.Queue, Kind: ErrUnavailable, Cause: err}
	}
	var h windows.Handle
	if r, _, e := procOpenPrinterW.Call(uintptr(unsafe.Pointer(name)), uintptr(unsafe.Pointer(&h)), 0); r == 0 {
		return &Error{Printer: s.Queue, Kind: ErrUnavailable, Cause: fmt.Errorf("OpenPrinterW: %w", e)}
	}
	defer procClosePrinter.Call(uintptr(h))
	doc := docInfo1{
		docName:  windows.StringToUTF16Ptr("ScanBox receipt"),
		datatype: windows.StringToUTF16Ptr("RAW"),
	}
	if r, _, e := procStartDocPrinterW.Call(uintptr(h), 1, uintptr(unsafe.Pointer(&doc))); r == 0 {
		return &Error{Printer: s.Queue, Kind: ErrFailed, Cause: fmt.Errorf("StartDocPrinterW: %w", e)}
	}
	failed := func(call string, e error) error {
		procEndDocPrinter.Call(uintptr(h))
		return &Error{Printer: s.Queue, Kind: ErrFailed, Cause: fmt.Errorf("%s: %w", call, e)}
	}
	if r, _, e := procStartPagePrinter.Call(uintptr(h)); r == 0 {
		return failed("StartPagePrinter", e)
	}
	for len(data) > 0 {
		var written uint32
		r, _, e := procWritePrinter.Call(uintptr(h), uintptr(unsafe.Pointer(&data[0])), uintptr(len(data)), uintptr(unsafe.Pointer(&written)))
		if r == 0 {
			return failed("WritePrinter", e)
		}
		if written == 0 {
			return failed("WritePrinter", errors.New("no byte was taken"))
		}
		data = data[written:]
	}
	if r, _, e := procEndPagePrinter.Call(uintptr(h)); r == 0 {
		return failed("EndPagePrinter", e)
	}
	if r, _, e := procEndDocPrinter.Call(uintptr(h)); r == 0 {
		return &Error{Printer: s.Queue, Kind: ErrFailed, Cause: fmt.Errorf("EndDocPrinter: %w", e)}
	}
	return nil
}

// Printers lists the installed printer queues (local and connected), for
// the Settings picker.
func Printers() ([]string, error) {
	if err := winspool.Load(); err != nil {
		return nil, &Error{Kind: ErrNotSupported, Cause: err}
	}
	flags := uintptr(printerEnumLocal | printerEnumConnections)
	var needed, returned uint32
	// The first call asks for the size; the list may grow in between, so retry.
	for range 3 {
		var buf []byte
		var p uintptr
		if needed > 0 {
			buf = make([]byte, needed)
			p = uintptr(unsafe.Pointer(&buf[0]))
		}
		r, _, e := procEnumPrintersW.Call(flags, 0, 4, p, uintptr(len(buf)),
			uintptr(unsafe.Pointer(&needed)), uintptr(unsafe.Pointer(&returned)))
		if r != 0 {
			if returned == 0 || len(buf) == 0 {
				return nil, nil
			}
			infos := unsafe.Slice((*printerInfo4)(unsafe.Pointer(&buf[0])), returned)
			out := make([]string, 0, returned)
			for _, in := range infos {
				out = append(out, windows.UTF16PtrToString(in.printerName))
			}
			return out, nil
		}
		if !errors.Is(e, windows.ERROR_INSUFFICIENT_BUFFER) {
			return nil, &Error{Kind: ErrUnavailable, Cause: fmt.Errorf("EnumPrintersW: %w", e)}
		}
	}
	return nil, &Error{Kind: ErrUnavailable, Cause: errors.New("EnumPrintersW: the list kept growing")}
}
