package core

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/receipt"
	"github.com/scanbox/scanbox/refund"
	"github.com/scanbox/scanbox/store"
)

// Receipts are optional (docs/receipts.md): with no printer configured the
// Print* methods print nothing and say so (printed false, nil error); a
// printer that fails gives one sentence for the cashier. They are called
// only after the money record is durable, and nothing waits on them but the
// caller (receipt.Print returns within its 10 s deadline).

// PrintError is a slip that did not print: Sentence is what the cashier reads.
type PrintError struct {
	Sentence string
	Err      error
}

func (e *PrintError) Error() string { return e.Sentence }
func (e *PrintError) Unwrap() error { return e.Err }

// slipSetup is the printer and layout of the configuration, or nil when
// receipts are off.
func slipSetup(cfg config.Config) (receipt.Printer, receipt.Options, receipt.Shop, error) {
	lang, err := receipt.ParseLang(cfg.Language)
	if err != nil {
		lang = receipt.Chinese
	}
	opts := receipt.Options{Lang: lang}
	shop := receipt.Shop{Store: cfg.StoreName, Terminal: cfg.TerminalSN}
	if shop.Terminal == "" {
		shop.Terminal = cfg.TerminalID
	}
	if cfg.Receipt.Printer == "" {
		return nil, opts, shop, nil
	}
	t, err := receipt.ParseTarget(cfg.Receipt.Printer)
	if err != nil {
		return nil, opts, shop, err
	}
	if cfg.Receipt.Paper != "" {
		if opts.Paper, err = receipt.ParsePaper(cfg.Receipt.Paper); err != nil {
			return nil, opts, shop, err
		}
	}
	return receipt.New(t), opts, shop, nil
}

func (c *Core) printSlip(ctx context.Context, what string, build func(receipt.Options, receipt.Shop) receipt.Slip) (bool, error) {
	cfg := c.Config()
	p, opts, shop, err := slipSetup(cfg)
	if err != nil {
		c.log.Warn("receipt not printed: the printer setting is not usable", "slip", what, "err", err)
		msg := "The receipt printer setting is not usable, so nothing was printed; payments are not affected."
		if opts.Lang == receipt.Chinese {
			msg = "小票打印机设置无效，未打印；收款不受影响。"
		}
		return false, &PrintError{Sentence: msg, Err: err}
	}
	if p == nil {
		return false, nil
	}
	if err := receipt.Print(ctx, p, build(opts, shop)); err != nil {
		c.log.Warn("receipt not printed", "slip", what, "err", err)
		var re *receipt.Error
		if errors.As(err, &re) {
			return false, &PrintError{Sentence: re.Sentence(opts.Lang), Err: err}
		}
		return false, &PrintError{Sentence: err.Error(), Err: err}
	}
	c.log.Info("receipt printed", "slip", what, "printer", p.Name())
	return true, nil
}

// RefundSlip lays out the refund slip of x with the configuration's paper
// and language (what PrintRefund prints; the preview).
func (c *Core) RefundSlip(x refund.Refund) receipt.Slip {
	_, opts, shop, _ := slipSetup(c.Config())
	return c.refundSlip(x, opts, shop)
}

func (c *Core) refundSlip(x refund.Refund, opts receipt.Options, shop receipt.Shop) receipt.Slip {
	o, _ := c.journal.Get(x.OutTradeNo)
	ch := o.Channel
	if ch == order.ChannelNone {
		ch = o.Guess
	}
	return receipt.RefundSlip(receipt.Refund{Shop: shop, Time: x.CreatedAt, OutTradeNo: x.OutTradeNo,
		OutRefundNo: x.OutRefundNo, Channel: ch, OrderAmount: o.AmountFen, Refund: x.RefundFen,
		Reason: x.Reason, RefundID: x.RefundID, State: slipState(x.State, opts.Lang)}, opts)
}

// PrintRefund prints the refund slip of x.
func (c *Core) PrintRefund(ctx context.Context, x refund.Refund) (bool, error) {
	return c.printSlip(ctx, "refund", func(opts receipt.Options, shop receipt.Shop) receipt.Slip {
		return c.refundSlip(x, opts, shop)
	})
}

// ShiftSlip lays out the shift summary of sh (its kept summary, or sum).
func (c *Core) ShiftSlip(sh store.Shift, sum store.Summary) receipt.Slip {
	_, opts, shop, _ := slipSetup(c.Config())
	return shiftSlip(sh, sum, opts, shop)
}

func shiftSlip(sh store.Shift, sum store.Summary, opts receipt.Options, shop receipt.Shop) receipt.Slip {
	if sh.Summary != nil {
		sum = *sh.Summary
	}
	s := receipt.Shift{Shop: shop, ID: strconv.FormatInt(sh.ID, 10), Cashier: sh.Cashier, Opened: sh.OpenedAt,
		Closed: sh.ClosedAt, Printed: time.Now(), Unresolved: sum.Total.Unresolved}
	for _, t := range sum.Channels {
		ch, err := order.ParseChannel(t.Channel)
		if err != nil {
			ch = order.ChannelOther
		}
		s.Channels = append(s.Channels, receipt.ChannelTotal{Channel: ch, PaidCount: t.PaidCount, Paid: t.PaidFen,
			RefundCount: t.RefundCount, Refunded: t.RefundedFen})
	}
	return receipt.ShiftSlip(s, opts)
}

// PrintShift prints the shift summary of sh (its kept summary, or sum).
func (c *Core) PrintShift(ctx context.Context, sh store.Shift, sum store.Summary) (bool, error) {
	return c.printSlip(ctx, "shift", func(opts receipt.Options, shop receipt.Shop) receipt.Slip {
		return shiftSlip(sh, sum, opts, shop)
	})
}

// slipState is a refund's state as the slip's reader knows it.
func slipState(s refund.State, l receipt.Lang) string {
	if l == receipt.English {
		switch s {
		case refund.StateRefunded:
			return "refunded"
		case refund.StateFailed:
			return "failed"
		case refund.StateChange:
			return "to be settled by the bank"
		}
		return "in progress"
	}
	switch s {
	case refund.StateRefunded:
		return "退款成功"
	case refund.StateFailed:
		return "退款失败"
	case refund.StateChange:
		return "银行人工处理"
	}
	return "处理中"
}

// PaymentSlip lays out the payment slip of o (the code only masked).
func (c *Core) PaymentSlip(o order.Order) receipt.Slip {
	_, opts, shop, _ := slipSetup(c.Config())
	return paymentSlip(o, opts, shop)
}

func paymentSlip(o order.Order, opts receipt.Options, shop receipt.Shop) receipt.Slip {
	return receipt.PaymentSlip(receipt.Payment{Shop: shop, Time: o.UpdatedAt, OutTradeNo: o.OutTradeNo, Channel: o.Channel,
		Amount: o.AmountFen, TransactionID: o.TransactionID, Code: o.CodeMasked}, opts)
}

// printPayments prints a payment slip for each order that becomes paid,
// when the configuration asks for them (receipt.payment_slips and a
// printer). Printing runs beside the payment, never in its way: the order
// is durable and its result shown before the slip is even laid out, and a
// failing printer only logs. Each order is printed once per process.
func (c *Core) printPayments() func() {
	var mu sync.Mutex
	printed := map[string]bool{}
	return c.Subscribe(func(o order.Order) {
		if o.State != order.StatePaid {
			return
		}
		cfg := c.Config()
		if !cfg.Receipt.PaymentSlips || cfg.Receipt.Printer == "" {
			return
		}
		mu.Lock()
		seen := printed[o.OutTradeNo]
		printed[o.OutTradeNo] = true
		mu.Unlock()
		if seen {
			return
		}
		// Added only while open, under mu, so Close's Wait sees every one.
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return
		}
		c.slips.Add(1)
		c.mu.Unlock()
		go func() {
			defer c.slips.Done()
			// On the core's context: Close cancels a print stuck on a
			// printer instead of waiting for its 10 s deadline.
			c.printSlip(c.ctx, "payment", func(opts receipt.Options, shop receipt.Shop) receipt.Slip {
				return paymentSlip(o, opts, shop)
			})
		}()
	})
}

// finishSlips gives payment slips being printed up to d to finish before
// Close cancels them (a `scanbox pay` that owns the directory closes right
// after its payment).
func (c *Core) finishSlips(d time.Duration) {
	done := make(chan struct{})
	go func() { c.slips.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}
