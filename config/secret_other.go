//go:build !windows

package config

// Off Windows there is no machine-bound protection to use without extra
// dependencies; the secret's protection is the file's 0600 mode in a data
// directory that only ScanBox's user can read.
func protect(data []byte, purpose string) ([]byte, error) {
	return append([]byte(nil), data...), nil
}

func unprotect(blob []byte, purpose string) ([]byte, error) {
	return append([]byte(nil), blob...), nil
}
