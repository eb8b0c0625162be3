//go:build !windows

package agent

// verifyAuthenticode: an MSI's Authenticode signature can only be checked
// by Windows (WinVerifyTrust); elsewhere the signed manifest's SHA-256 is
// the whole check, and no install is possible anyway.
func verifyAuthenticode(path string) error { return nil }
