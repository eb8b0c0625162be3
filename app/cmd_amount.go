package main

import (
	"fmt"
	"io"
	"strings"
)

func init() {
	commands["amount"] = command{summary: "read the amount to charge from the screen (OCR) or the customer-display line", run: cmdAmount}
}

// cmdAmount dispatches on --source; each source parses its own flags.
func cmdAmount(args []string, stdout, stderr io.Writer) int {
	source := ""
	rest := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--source" || a == "-source":
			if i+1 >= len(args) {
				fmt.Fprintf(stderr, "scanbox amount: --source needs a value, ocr or serial; %s\n", seeHelp("amount"))
				return exitUsage
			}
			source = args[i+1]
			i++
		case strings.HasPrefix(a, "--source=") || strings.HasPrefix(a, "-source="):
			source = a[strings.Index(a, "=")+1:]
		default:
			rest = append(rest, a)
		}
	}
	switch source {
	case "ocr":
		return amountOCR(rest, stdout, stderr)
	case "serial":
		return amountSerial(rest, stdout, stderr)
	case "":
		if wantsHelp(rest) {
			return amountHelp(stdout, stderr)
		}
		fmt.Fprintf(stderr, "scanbox amount: say where to read from with --source ocr or --source serial; %s\n", seeHelp("amount"))
	default:
		fmt.Fprintf(stderr, "scanbox amount: unknown source %q, use ocr or serial; %s\n", source, seeHelp("amount"))
	}
	return exitUsage
}

// amountHelp is `scanbox amount --help`: both sources' usage.
func amountHelp(stdout, stderr io.Writer) int {
	amountOCR([]string{"--help"}, stdout, stderr)
	fmt.Fprintln(stdout)
	amountSerial([]string{"--help"}, stdout, stderr)
	return exitOK
}
