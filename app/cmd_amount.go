package main

import (
	"fmt"
	"io"
	"strings"
)

func init() {
	commands["amount"] = command{"read the amount to charge from the screen (OCR) or the customer-display line", cmdAmount}
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
				fmt.Fprintln(stderr, "scanbox amount: --source needs a value (ocr or serial)")
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
		fmt.Fprintln(stderr, "scanbox amount: say where to read from with --source ocr or --source serial")
	default:
		fmt.Fprintf(stderr, "scanbox amount: unknown source %q (use ocr or serial)\n", source)
	}
	return exitUsage
}
