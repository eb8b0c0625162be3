package main

import (
	"fmt"
	"io"
)

// amountOCR is replaced by the OCR engineer's implementation.
func amountOCR(_ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "scanbox amount: the OCR source is not built yet")
	return exitUsage
}
