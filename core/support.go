package core

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"github.com/scanbox/scanbox/logging"
	"github.com/scanbox/scanbox/version"
)

// ExportSupport writes the zip support staff ask for: the log files, the
// recent orders as JSON and the configuration. config.json never holds a
// secret (the key is stored apart, protected), so it is copied as loaded;
// the pending activation's URL and numbers are not secret either. The tray
// exports it from its log window; the fleet agent uploads it (after
// agent.SanitizeBundle) when the bank asks for a terminal's logs.
func (c *Core) ExportSupport(w io.Writer) error {
	z := zip.NewWriter(w)
	add := func(name string, data []byte) error {
		f, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Now()})
		if err != nil {
			return err
		}
		_, err = f.Write(data)
		return err
	}
	logs, _ := filepath.Glob(filepath.Join(logging.LogDir(c.dir), "*"))
	sort.Strings(logs)
	for _, p := range logs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // a rotating file may vanish; the others still help
		}
		if err := add("logs/"+filepath.Base(p), b); err != nil {
			return err
		}
	}
	orders, _ := json.MarshalIndent(c.journal.Recent(100), "", "  ")
	if err := add("orders.json", orders); err != nil {
		return err
	}
	cfgJSON, _ := json.MarshalIndent(c.Config(), "", "  ")
	if err := add("config.json", cfgJSON); err != nil {
		return err
	}
	about := fmt.Sprintf("%s %s\nos=%s arch=%s\ndata_dir=%s\nexported=%s\n", version.Product, version.Version,
		runtime.GOOS, runtime.GOARCH, c.dir, time.Now().Format(time.RFC3339))
	if err := add("about.txt", []byte(about)); err != nil {
		return err
	}
	c.log.Info("support bundle exported", "log_files", len(logs))
	return z.Close()
}
