package core

import (
	"os"
	"time"

	"github.com/scanbox/scanbox/capture"
	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/version"
)

// Status is `scanbox status --json` (cli-contract 1.1): snake_case keys.
type Status struct {
	Activated  bool   `json:"activated"`
	DataDir    string `json:"data_dir"`
	Version    string `json:"version"`
	Merchant   string `json:"merchant"`
	MchID      string `json:"mch_id"`
	Store      string `json:"store"`
	Terminal   string `json:"terminal"`
	TerminalSN string `json:"terminal_sn,omitempty"`
	Owner      *Owner `json:"owner"` // nil: nobody runs; the command opened the directory itself
	// Unresolved counts orders left open (unknown, or from before a crash);
	// InFlight those being driven right now.
	Unresolved int `json:"unresolved_orders"`
	// UnresolvedRefunds counts refunds not yet definite (processing,
	// unknown, or from before a crash).
	UnresolvedRefunds int `json:"unresolved_refunds"`
	// Shift is the open shift (nil: none open).
	Shift *ShiftStatus `json:"shift"`
	// Reconciliation is the owner's last background reconciliation of
	// yesterday (absent until one ran).
	Reconciliation *Reconciliation `json:"last_reconciliation,omitempty"`
	// HistoryError says why refunds and the shift could not be read.
	HistoryError  string  `json:"history_error,omitempty"`
	InFlight      int     `json:"payments_in_flight"`
	Activating    bool    `json:"activating,omitempty"`
	PaymentsError string  `json:"payments_error,omitempty"`
	Amount        Source  `json:"amount_source"`
	Scanner       Scanner `json:"scanner"`
	// ClockOffsetMS is the bank's clock minus this PC's, as the bank client
	// last measured it (absent before activation).
	ClockOffsetMS *int64 `json:"clock_offset_ms,omitempty"`
}

// Source is the amount source's state.
type Source struct {
	Kind         string `json:"kind"`  // manual, serial, ocr
	State        string `json:"state"` // ok, error, off (not started by this front-end)
	Error        string `json:"error,omitempty"`
	AmountFen    *int64 `json:"amount_fen,omitempty"` // the current amount, if any
	AmountFrom   string `json:"amount_from,omitempty"`
	AmountAgeSec *int64 `json:"amount_age_s,omitempty"`
}

// Scanner is the scanner input's state.
type Scanner struct {
	Mode  string `json:"mode"`
	State string `json:"state"` // ok, error, off, focused_window (wedge without the hook)
	Error string `json:"error,omitempty"`
}

// Status reports the data directory's state as its owner sees it.
func (c *Core) Status() Status {
	now := time.Now()
	c.mu.Lock()
	cfg, r, src, act, rerr, client := c.cfg, c.runner, c.src, c.activating, c.runnerErr, c.client
	c.mu.Unlock()
	st := Status{Activated: cfg.Activated() && r != nil, DataDir: c.dir, Version: version.Version,
		Merchant: cfg.MerchantName, MchID: cfg.MchID, Store: cfg.StoreName, Terminal: cfg.TerminalID,
		Activating: act}
	if rerr != nil {
		st.PaymentsError = OneLine(rerr.Error())
	}
	if c.opts.Kind != KindCLI {
		st.Owner = &Owner{PID: os.Getpid(), Kind: c.opts.Kind}
	}
	active := map[string]bool{}
	if r != nil {
		for _, no := range r.Active() {
			active[no] = true
		}
	}
	for _, o := range c.journal.Unresolved() {
		if active[o.OutTradeNo] {
			st.InFlight++
		} else {
			st.Unresolved++
		}
	}
	st.TerminalSN = cfg.TerminalSN
	c.historyStatus(&st)
	st.Reconciliation = c.LastReconciliation()
	if client != nil {
		// 0 until measured, and for differences under about 2 s.
		ms := client.ClockOffset().Milliseconds()
		st.ClockOffsetMS = &ms
	}
	st.Amount.Kind = cfg.Amount.Source
	if st.Amount.Kind == "" {
		st.Amount.Kind = capture.SourceManual.String()
	}
	st.Amount.State = stateOf(src.running, src.amountErr)
	st.Amount.Error = src.amountErr
	if rd, ok := c.amount.Get(); ok {
		fen, age := int64(rd.Amount), int64(rd.Age(now)/time.Second)
		st.Amount.AmountFen, st.Amount.AmountAgeSec, st.Amount.AmountFrom = &fen, &age, rd.Source.String()
	}
	st.Scanner.Mode = cfg.Scanner.Mode.String()
	st.Scanner.State = stateOf(src.running, src.scannerErr)
	st.Scanner.Error = src.scannerErr
	if src.running && cfg.Scanner.Mode == config.ScannerWedge && !src.wedge {
		// No hook (not wanted, or not available): scans type into the
		// focused window, as with no ScanBox at all.
		st.Scanner.State = "focused_window"
	}
	return st
}

func stateOf(running bool, errMsg string) string {
	switch {
	case !running:
		return "off"
	case errMsg != "":
		return "error"
	}
	return "ok"
}

// historyStatus fills the open shift and the unresolved refunds.
func (c *Core) historyStatus(st *Status) {
	s, err := c.Store()
	if err != nil {
		return // an old journal: no refunds, no shifts
	}
	rs, err := s.UnresolvedRefunds()
	if err != nil {
		st.HistoryError = OneLine(err.Error())
		return
	}
	st.UnresolvedRefunds = len(rs)
	sh, open, err := s.CurrentShift()
	if err != nil {
		st.HistoryError = OneLine(err.Error())
		return
	}
	if open {
		st.Shift = &ShiftStatus{ID: sh.ID, Cashier: sh.Cashier, OpenedAt: sh.OpenedAt.Format(time.RFC3339)}
	}
}
