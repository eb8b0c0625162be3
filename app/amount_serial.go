package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/scanbox/scanbox/capture/display"
	"github.com/scanbox/scanbox/capture/serialport"
)

// amountSerial is `scanbox amount --source serial`: it sniffs the
// customer-display line (or replays a capture) with the same sniffer as the
// tray app and prints each total as it appears.
func amountSerial(args []string, stdout, stderr io.Writer) int {
	fs, _ := newFlags("amount --source serial", stdout, stderr) // --data-dir is accepted but unused here
	var (
		port     = fs.String("port", "", "serial port the POS's display line arrives on (COM3, /dev/ttyUSB0)")
		file     = fs.String("file", "", "replay a captured byte stream instead of a port")
		baud     = fs.Int("baud", 9600, "baud rate (2400 and 9600 are common)")
		dataBits = fs.Int("data-bits", 8, "data bits (5 to 8)")
		parity   = fs.String("parity", "none", "parity: none, odd, even, mark or space")
		stop     = fs.String("stop-bits", "1", "stop bits: 1, 1.5 or 2")
		forward  = fs.String("forward", "", "port of the real display to pass every byte on to")
		profile  = fs.String("profile", "auto", "display profile: "+strings.Join(display.ProfileNames(), ", "))
		width    = fs.Int("width", 20, "characters per line of a 2-line display")
		once     = fs.Bool("once", false, "exit after the first total")
		record   = fs.String("record", "", "also save every byte read to this file, for replay with --file")
		asJSON   = fs.Bool("json", false, `print {"amount_fen":…,"kind":"total"} per line`)
		explain  = fs.Bool("explain", false, "with --file: print the frames seen, which profiles read which totals and why nothing (or what) was reported")
	)
	if code, ok := fs.parse(args); !ok {
		return code
	}
	usage := fs.usage
	if (*port == "") == (*file == "") {
		return usage("give either --port PORT or --file CAPTURE.bin")
	}
	prof, err := display.ParseProfile(*profile)
	if err != nil {
		return usage("%v", err)
	}
	if *width < 1 || *width > 40 {
		return usage("--width %d is not a display width (1 to 40)", *width)
	}
	printTotal := func(e display.Event) {
		if *asJSON {
			b, _ := json.Marshal(struct {
				AmountFen int64  `json:"amount_fen"`
				Kind      string `json:"kind"`
				Profile   string `json:"profile"`
			}{int64(e.Amount), e.Kind.String(), e.Profile.String()})
			fmt.Fprintf(stdout, "%s\n", b)
			return
		}
		fmt.Fprintln(stdout, e.Amount.String())
	}

	if *explain && *file == "" {
		return usage("--explain needs --file RECORDING.bin (record one with --port … --record)")
	}
	if *file != "" {
		if *forward != "" || *record != "" {
			return usage("--forward and --record need --port, not --file")
		}
		data, err := os.ReadFile(*file)
		if err != nil {
			fmt.Fprintf(stderr, "scanbox amount: cannot read the capture: %v\n", err)
			return exitUsage
		}
		if *explain {
			rep, err := display.Explain(bytes.NewReader(data), prof, *width)
			if err != nil {
				return usage("%v", err)
			}
			fmt.Fprint(stdout, rep.String())
			return exitOK
		}
		events, err := display.Totals(prof, *width, data)
		if err != nil {
			return usage("%v", err)
		}
		if len(events) == 0 {
			// One line saying why, from the explain mode, so that support
			// knows the next step without reading the frames.
			why := "run again with --explain to see the frames"
			if rep, err := display.Explain(bytes.NewReader(data), prof, *width); err == nil {
				why = strings.TrimSuffix(rep.Why, ".")
				if len(rep.Try) > 0 {
					names := make([]string, len(rep.Try))
					for i, p := range rep.Try {
						names[i] = p.String()
					}
					why += "; try --profile " + strings.Join(names, " or ")
				}
				why += "; --explain shows the frames"
			}
			fmt.Fprintf(stderr, "scanbox amount: no total found in %s: %s\n", *file, why)
			return exitFailed
		}
		if *once {
			events = events[:1]
		}
		for _, e := range events {
			printTotal(e)
		}
		return exitOK
	}

	cfg := serialport.Config{Name: *port, Baud: *baud, DataBits: *dataBits}
	if cfg.Parity, err = serialport.ParseParity(*parity); err != nil {
		return usage("%v", err)
	}
	if cfg.StopBits, err = serialport.ParseStopBits(*stop); err != nil {
		return usage("%v", err)
	}
	if err := cfg.Validate(); err != nil {
		return usage("%v", err)
	}
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var rec *os.File
	if *record != "" {
		if rec, err = os.Create(*record); err != nil {
			fmt.Fprintf(stderr, "scanbox amount: cannot create the recording: %v\n", err)
			return exitUsage
		}
		defer rec.Close()
	}
	got := false
	s := &display.Sniffer{
		Config: display.Config{Port: cfg, Forward: *forward, Profile: prof, Width: *width},
		OnTotal: func(e display.Event) {
			if got && *once {
				return
			}
			got = true
			printTotal(e)
			if *once {
				cancel()
			}
		},
		// State changes are diagnostics for support staff: stderr, one line each.
		OnStatus: func(st serialport.Status) {
			if st.State != serialport.StateClosed {
				fmt.Fprintf(stderr, "scanbox amount: %s\n", st)
			}
		},
		OnData: func(p []byte) {
			if rec != nil {
				rec.Write(p)
			}
		},
		OnProfile: func(p display.Profile) {
			fmt.Fprintf(stderr, "scanbox amount: detected the %s display protocol\n", p)
		},
		OnHint: func(try []display.Profile, why string) {
			names := make([]string, len(try))
			for i, p := range try {
				names[i] = p.String()
			}
			fmt.Fprintf(stderr, "scanbox amount: %s; choose the display's profile (--profile %s)\n", why, strings.Join(names, " or "))
		},
	}
	if err := s.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return usage("%v", err)
	}
	return exitOK
}
