//go:build windows

package config

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/windows"
)

// protect encrypts with DPAPI in machine scope (CRYPTPROTECT_LOCAL_MACHINE):
// the installer (running elevated) and the tray app (running as the cashier)
// must both read the same secrets, and the blob is useless on another PC.
// The purpose string is passed as DPAPI entropy.
func protect(data []byte, purpose string) ([]byte, error) {
	if len(data) == 0 {
		return nil, errors.New("nothing to protect")
	}
	ent := []byte(purpose)
	in := windows.DataBlob{Size: uint32(len(data)), Data: &data[0]}
	entropy := windows.DataBlob{Size: uint32(len(ent)), Data: &ent[0]}
	name, err := windows.UTF16PtrFromString(purpose)
	if err != nil {
		return nil, err
	}
	var out windows.DataBlob
	err = windows.CryptProtectData(&in, name, &entropy, 0, nil,
		windows.CRYPTPROTECT_LOCAL_MACHINE|windows.CRYPTPROTECT_UI_FORBIDDEN, &out)
	if err != nil {
		return nil, err
	}
	defer windows.LocalFree(windows.Handle(unsafe.Pointer(out.Data)))
	return append([]byte(nil), unsafe.Slice(out.Data, out.Size)...), nil
}

func unprotect(blob []byte, purpose string) ([]byte, error) {
	ent := []byte(purpose)
	in := windows.DataBlob{Size: uint32(len(blob)), Data: &blob[0]}
	entropy := windows.DataBlob{Size: uint32(len(ent)), Data: &ent[0]}
	var out windows.DataBlob
	if err := windows.CryptUnprotectData(&in, nil, &entropy, 0, nil, windows.CRYPTPROTECT_UI_FORBIDDEN, &out); err != nil {
		return nil, err
	}
	plain := unsafe.Slice(out.Data, out.Size)
	res := append([]byte(nil), plain...)
	// Do not leave the secret in freed heap memory.
	clear(plain)
	windows.LocalFree(windows.Handle(unsafe.Pointer(out.Data)))
	return res, nil
}
