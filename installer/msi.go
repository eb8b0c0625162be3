package installer

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// SecureProperties are the public properties a silent install passes to the
// elevated part of the installation (see the template's Provisioning part).
var SecureProperties = []string{"BANK_URL", "MCH_ID", "TERMINAL_ID", "ACTIVATION_CODE", "FLEET_URL", "FLEET_CODE", "MAX_PAYMENT"}

// HiddenProperties are kept out of the MSI log (MsiHiddenProperties): the
// single-use codes.
var HiddenProperties = []string{"ACTIVATION_CODE", "FLEET_CODE"}

// BuildMSI renders x into x.SourceDir/scanbox.wxs and compiles it to out
// with x.Toolset. It needs wixl and msibuild (msitools) or WiX v3's candle
// and light on PATH.
func BuildMSI(ctx context.Context, x WXS, out string) error {
	out, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	var src bytes.Buffer
	if err := x.Write(&src); err != nil {
		return err
	}
	wxs := filepath.Join(x.SourceDir, "scanbox.wxs")
	if err := os.WriteFile(wxs, src.Bytes(), 0o644); err != nil {
		return fmt.Errorf("installer: %w", err)
	}
	// Build to a temporary name: a failed build must not leave a half MSI
	// under the release name.
	tmp := out + ".tmp"
	defer os.Remove(tmp)
	switch x.Toolset {
	case Wixl:
		if err := run(ctx, x.SourceDir, nil, "wixl", "-a", "x64", "-o", tmp, "scanbox.wxs"); err != nil {
			return err
		}
		if err := secureProperties(ctx, tmp); err != nil {
			return err
		}
	case WiX3:
		if err := run(ctx, x.SourceDir, nil, "candle", "-nologo", "-arch", "x64", "-o", "scanbox.wixobj", "scanbox.wxs"); err != nil {
			return err
		}
		// ICE38/ICE43/ICE57 assume a Start-menu shortcut belongs to one user
		// and want an HKCU key path; this is a per-machine install whose
		// shortcut is in the all-users Start menu, keyed in HKLM on purpose.
		if err := run(ctx, x.SourceDir, nil, "light", "-nologo", "-sice:ICE38", "-sice:ICE43", "-sice:ICE57",
			"-o", tmp, "scanbox.wixobj"); err != nil {
			return err
		}
	default:
		return fmt.Errorf("installer: unknown toolset %d", x.Toolset)
	}
	return os.Rename(tmp, out)
}

// secureProperties appends SecureProperties to the SecureCustomProperties
// that wixl wrote for MajorUpgrade (wixl has no Property/@Secure).
func secureProperties(ctx context.Context, msi string) error {
	props, err := MSITable(ctx, msi, "Property")
	if err != nil {
		return err
	}
	var have []string
	for _, row := range props {
		if row[0] == "SecureCustomProperties" && row[1] != "" {
			have = strings.Split(row[1], ";")
		}
	}
	for _, p := range SecureProperties {
		if !contains(have, p) {
			have = append(have, p)
		}
	}
	value := strings.Join(have, ";")
	q := "UPDATE `Property` SET `Value` = '" + value + "' WHERE `Property` = 'SecureCustomProperties'"
	if !hasRow(props, "SecureCustomProperties") {
		q = "INSERT INTO `Property` (`Property`, `Value`) VALUES ('SecureCustomProperties', '" + value + "')"
	}
	return run(ctx, "", nil, "msibuild", msi, "-q", q)
}

func hasRow(rows [][]string, key string) bool {
	for _, r := range rows {
		if r[0] == key {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// MSITable returns the rows of one table of an MSI, as `msiinfo export`
// prints them (tab-separated, the three header lines dropped).
func MSITable(ctx context.Context, msi, table string) ([][]string, error) {
	abs, err := filepath.Abs(msi)
	if err != nil {
		return nil, err
	}
	// msiinfo writes a table's binary streams (Icon, Binary) as files in
	// its working directory: give it a scratch one.
	scratch, err := os.MkdirTemp("", "msiinfo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	cmd := exec.CommandContext(ctx, "msiinfo", "export", abs, table)
	cmd.Dir = scratch
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("installer: msiinfo export %s %s: %w: %s", msi, table, err, strings.TrimSpace(stderr.String()))
	}
	var rows [][]string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for n := 0; sc.Scan(); n++ {
		if n < 3 { // column names, column types, table name + primary keys
			continue
		}
		line := strings.TrimRight(sc.Text(), "\r")
		rows = append(rows, strings.Split(line, "\t"))
	}
	return rows, sc.Err()
}

// run runs a tool, echoing nothing on success and its output on failure, so
// that a failed step says what the tool said.
func run(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("installer: %s %s: %w\n%s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}
