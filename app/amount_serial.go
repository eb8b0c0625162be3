package main

import (
	"fmt"
	"io"
)

// amountSerial is replaced by the capture engineer's implementation.
func amountSerial(_ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "scanbox amount: the serial source is not built yet")
	return exitUsage
}
