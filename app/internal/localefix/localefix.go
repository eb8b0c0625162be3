// Package localefix keeps fyne from printing "Error parsing user locale C"
// three times on stderr at start-up under LANG=C.UTF-8 (the default of
// containers and CI), which would break the CLI contract's "errors are one
// line". Its init must run before fyne.io/fyne/v2/lang's: Go initialises
// packages in import-path order among those whose imports are ready, and
// this package (no imports but os and strings) sorts before
// golang.org/x/text, which fyne's lang package waits for.
package localefix

import (
	"os"
	"strings"
)

func init() {
	loc := ""
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if loc = os.Getenv(k); loc != "" {
			break
		}
	}
	// "C" and "POSIX" alone are handled by fyne; "C.UTF-8" is not.
	if (strings.HasPrefix(loc, "C.") || strings.HasPrefix(loc, "POSIX.")) && os.Getenv("LANGUAGE") == "" {
		// LANGUAGE only picks message translations; the encoding stays.
		os.Setenv("LANGUAGE", "en")
	}
}
