package ui

import (
	"image/color"
	"sort"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payflow"
)

// recentCount is how many orders the window lists: the devices in the field
// keep about the last 100 so the merchant can confirm any of them.
const recentCount = 100

// OrdersWindow lists the recent orders with re-query, close and copy, and
// the shift's day total per wallet. Unresolved orders are marked and counted
// at the top until they are resolved.
type OrdersWindow struct {
	env *Env
	win fyne.Window

	table      *widget.Table
	unresolved *widget.Label
	total      *widget.Label
	message    *widget.Label
	requeryBtn *widget.Button
	closeBtn   *widget.Button
	copyBtn    *widget.Button
	refundBtn  *widget.Button
	search     *widget.Entry

	// OnRefund opens the refund window for a paid order (set by the app;
	// the Refund button is off while it is nil).
	OnRefund func(order.Order)

	orders   []order.Order // the rows shown (filtered by search)
	selected int           // row index into orders, -1 none
	selCol   int           // the column of the cell the table holds selected
	unsub    func()
}

var orderColumns = []string{"orders.time", "orders.amount", "orders.wallet", "orders.state", "orders.code", "orders.no"}

var orderColumnWidths = []float32{150, 90, 90, 80, 170, 230}

// NewOrdersWindow builds the window; it follows order changes while open.
func NewOrdersWindow(env *Env) *OrdersWindow {
	w := &OrdersWindow{env: env, selected: -1, selCol: -1}
	w.win = env.App.NewWindow(T("orders.title"))
	w.unresolved = widget.NewLabel("")
	w.unresolved.Importance = widget.WarningImportance
	w.total = widget.NewLabel("")
	w.total.Wrapping = fyne.TextWrapWord
	w.message = widget.NewLabel("")
	w.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(w.orders), len(orderColumns) },
		newOrderCell,
		w.updateCell)
	w.table.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel("") }
	w.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		if id.Row < 0 && id.Col >= 0 {
			l.SetText(T(orderColumns[id.Col]))
			l.TextStyle.Bold = true
		} else if id.Col < 0 && id.Row >= 0 {
			l.SetText("")
		}
	}
	w.table.ShowHeaderColumn = false
	for i, width := range orderColumnWidths {
		w.table.SetColumnWidth(i, width)
	}
	// The table selects one cell; the whole row of that cell is drawn
	// selected (each cell's background), because the cashier picks an
	// order, not a value (issue 11 item 11).
	w.table.OnSelected = func(id widget.TableCellID) {
		w.selected, w.selCol = id.Row, id.Col
		w.table.Refresh()
		w.updateButtons()
	}
	w.table.OnUnselected = func(widget.TableCellID) { w.selected = -1; w.table.Refresh(); w.updateButtons() }
	w.requeryBtn = widget.NewButtonWithIcon(T("orders.requery"), theme.ViewRefreshIcon(), w.requery)
	w.closeBtn = widget.NewButtonWithIcon(T("orders.close"), theme.CancelIcon(), w.closeOrder)
	w.copyBtn = widget.NewButtonWithIcon(T("orders.copy"), theme.ContentCopyIcon(), w.copyNo)
	w.refundBtn = widget.NewButtonWithIcon(T("refund.button"), theme.MailReplyIcon(), w.refund)
	refresh := widget.NewButtonWithIcon(T("orders.refresh"), theme.ViewRefreshIcon(), w.Reload)
	w.search = widget.NewEntry()
	w.search.SetPlaceHolder(T("orders.search"))
	w.search.OnChanged = func(string) { w.Reload() }
	// The search field at its own height: squeezed into a shorter cell, an
	// entry draws a scroll bar over its right edge.
	top := container.NewVBox(w.unresolved, container.NewBorder(nil, nil, nil, container.NewStack(fixedWidth(260), w.search), w.total))
	bottom := container.NewBorder(nil, nil, nil,
		container.NewHBox(w.refundBtn, w.requeryBtn, w.closeBtn, w.copyBtn, refresh), w.message)
	w.win.SetContent(container.NewBorder(top, bottom, nil, nil, w.table))
	w.win.Resize(fyne.NewSize(860, 520))
	w.win.SetOnClosed(func() {
		if w.unsub != nil {
			w.unsub()
		}
	})
	w.unsub = env.Ctrl.OnOrder(func(order.Order) { fyne.Do(w.Reload) })
	w.Reload()
	return w
}

// Window is the fyne window.
func (w *OrdersWindow) Window() fyne.Window { return w.win }

// Show shows the window.
func (w *OrdersWindow) Show() { w.win.Show() }

// Reload reads the recent orders again (the journal keeps them in memory).
func (w *OrdersWindow) Reload() {
	var keep string
	if w.selected >= 0 && w.selected < len(w.orders) {
		keep = w.orders[w.selected].OutTradeNo
	}
	all := w.env.Ctrl.Recent(recentCount)
	w.orders = filterOrders(all, w.search.Text)
	was := w.selected
	w.selected = -1
	for i, o := range w.orders {
		if o.OutTradeNo == keep {
			w.selected = i
		}
	}
	// The table's own marker follows the order to its new row (a new
	// order pushes it down), or goes when the order is filtered out.
	if w.selected != was {
		sel := w.selected
		if sel < 0 {
			w.table.UnselectAll()
		} else {
			w.table.Select(widget.TableCellID{Row: sel, Col: max(w.selCol, 0)})
		}
		w.selected = sel
	}
	n := 0
	for _, o := range all {
		if !o.State.Terminal() {
			n++
		}
	}
	if n > 0 {
		w.unresolved.SetText("！" + Tf("orders.unresolved", n))
		w.unresolved.Show()
	} else {
		w.unresolved.SetText("")
		w.unresolved.Hide()
	}
	w.total.SetText(DayTotal(all, w.env.Now()))
	w.table.Refresh()
	w.updateButtons()
}

// newOrderCell is one cell: a background that marks the selected row,
// under the label.
func newOrderCell() fyne.CanvasObject {
	bg := canvas.NewRectangle(color.Transparent)
	return container.NewStack(bg, widget.NewLabel("0000-00-00 00:00:00"))
}

func (w *OrdersWindow) updateCell(id widget.TableCellID, obj fyne.CanvasObject) {
	cell := obj.(*fyne.Container)
	bg, l := cell.Objects[0].(*canvas.Rectangle), cell.Objects[1].(*widget.Label)
	var fill color.Color = color.Transparent
	// The cell the table holds selected has the table's own marker (the
	// same colour): drawn twice it would stand out of the row.
	if id.Row == w.selected && id.Row >= 0 && id.Col != w.selCol {
		fill = theme.Color(theme.ColorNameSelection)
	}
	if bg.FillColor != fill {
		bg.FillColor = fill
		bg.Refresh()
	}
	if id.Row >= len(w.orders) {
		l.SetText("")
		return
	}
	o := w.orders[id.Row]
	l.TextStyle.Bold = !o.State.Terminal()
	l.Importance = widget.MediumImportance
	switch {
	case !o.State.Terminal():
		l.Importance = widget.WarningImportance
	case o.State == order.StatePaid:
		l.Importance = widget.SuccessImportance
	case o.State == order.StateFailed || o.State == order.StateRevoked:
		l.Importance = widget.DangerImportance
	}
	l.SetText(cellText(o, id.Col))
}

// cellText is one cell of the orders table.
func cellText(o order.Order, col int) string {
	switch col {
	case 0:
		return o.CreatedAt.Local().Format("01-02 15:04:05")
	case 1:
		return o.AmountFen.Grouped()
	case 2:
		ch := o.Channel
		if ch == order.ChannelNone {
			ch = o.Guess
		}
		if o.Kind == order.KindPrecreate && ch == order.ChannelNone {
			return T("qr.dynamic")
		}
		return walletName(ch)
	case 3:
		if !o.State.Terminal() {
			return "！" + orderStateName(o)
		}
		return orderStateName(o)
	case 4:
		if o.CodeMasked == "" && o.Kind == order.KindPrecreate {
			return T("orders.customer_scanned")
		}
		return o.CodeMasked
	case 5:
		return o.OutTradeNo
	}
	return ""
}

func (w *OrdersWindow) updateButtons() {
	if w.selected < 0 || w.selected >= len(w.orders) {
		w.requeryBtn.Disable()
		w.closeBtn.Disable()
		w.copyBtn.Disable()
		w.refundBtn.Disable()
		return
	}
	if w.OnRefund != nil && w.orders[w.selected].State == order.StatePaid {
		w.refundBtn.Enable()
	} else {
		w.refundBtn.Disable()
	}
	w.requeryBtn.Enable()
	w.copyBtn.Enable()
	if w.orders[w.selected].State.Terminal() {
		w.closeBtn.Disable()
	} else {
		w.closeBtn.Enable()
	}
}

func (w *OrdersWindow) selectedOrder() (order.Order, bool) {
	if w.selected < 0 || w.selected >= len(w.orders) {
		w.message.SetText(T("orders.select"))
		return order.Order{}, false
	}
	return w.orders[w.selected], true
}

// Select selects the row of order no (for tests and for "show order").
func (w *OrdersWindow) Select(no string) bool {
	for i, o := range w.orders {
		if o.OutTradeNo == no {
			w.table.Select(widget.TableCellID{Row: i, Col: 0})
			w.selected = i
			w.table.Refresh()
			w.updateButtons()
			return true
		}
	}
	return false
}

func (w *OrdersWindow) requery() {
	o, ok := w.selectedOrder()
	if !ok {
		return
	}
	w.runSlow(func() (order.Order, error) { return w.env.Ctrl.Requery(o.OutTradeNo) })
}

func (w *OrdersWindow) closeOrder() {
	o, ok := w.selectedOrder()
	if !ok || o.State.Terminal() {
		return
	}
	w.runSlow(func() (order.Order, error) { return w.env.Ctrl.CloseOrder(o.OutTradeNo) })
}

// runSlow calls the bank off the UI thread and shows the result.
func (w *OrdersWindow) runSlow(call func() (order.Order, error)) {
	w.requeryBtn.Disable()
	w.closeBtn.Disable()
	w.message.SetText("…")
	w.env.Go(func() {
		o, err := call()
		fyne.Do(func() {
			w.Reload()
			if err != nil {
				w.message.SetText(errorMessage(err))
				return
			}
			// The table's row is the newest state (the resolver may have
			// settled it meanwhile): the result line says the same.
			for _, r := range w.orders {
				if r.OutTradeNo == o.OutTradeNo && !r.UpdatedAt.Before(o.UpdatedAt) {
					o = r
				}
			}
			w.message.SetText(resultLine(o))
		})
	})
}

func (w *OrdersWindow) refund() {
	o, ok := w.selectedOrder()
	if !ok || w.OnRefund == nil || o.State != order.StatePaid {
		return
	}
	w.OnRefund(o)
}

func (w *OrdersWindow) copyNo() {
	o, ok := w.selectedOrder()
	if !ok {
		return
	}
	w.env.App.Clipboard().SetContent(o.OutTradeNo)
	w.message.SetText(Tf("orders.copied", o.OutTradeNo))
}

// DayTotal is the shift summary: paid orders created on now's calendar day,
// count and sum, overall and per wallet.
func DayTotal(orders []order.Order, now time.Time) string {
	y, m, d := now.Date()
	type sum struct {
		n     int
		total money.Fen
	}
	per := map[order.Channel]*sum{}
	var all sum
	for _, o := range orders {
		if o.State != order.StatePaid {
			continue
		}
		oy, om, od := o.CreatedAt.In(now.Location()).Date()
		if oy != y || om != m || od != d {
			continue
		}
		ch := o.Channel
		if ch == order.ChannelNone {
			ch = o.Guess
		}
		if per[ch] == nil {
			per[ch] = &sum{}
		}
		per[ch].n++
		per[ch].total += o.AmountFen
		all.n++
		all.total += o.AmountFen
	}
	parts := []string{Tf("orders.today", all.n, all.total.Grouped())}
	chans := make([]order.Channel, 0, len(per))
	for ch := range per {
		chans = append(chans, ch)
	}
	sort.Slice(chans, func(i, j int) bool { return chans[i] < chans[j] })
	for _, ch := range chans {
		parts = append(parts, Tf("orders.today_wallet", walletName(ch), per[ch].n, per[ch].total.Grouped()))
	}
	return strings.Join(parts, "   ")
}

// orderStateName is the state word of the one vocabulary: a closed order
// says whether the cashier cancelled it or the payer never confirmed.
func orderStateName(o order.Order) string {
	if o.State == order.StateClosed {
		if o.Cancelled {
			return T("state.cancelled")
		}
		if o.ErrCode == payflow.CodeNotReceived {
			return T("state.closed_not_received")
		}
		return T("state.closed")
	}
	return stateName(o.State)
}

// resultLine is what Re-query and Close say: the order, its state, wallet
// and time, and why (the catalog's sentence) when it is not paid.
func resultLine(o order.Order) string {
	line := o.OutTradeNo + " · " + orderStateName(o) + " · " + cellText(o, 2) + " · " + o.UpdatedAt.Local().Format("15:04:05")
	if m := orderMessage(o); m != "" {
		line += "\n" + m
	}
	return line
}

// filterOrders keeps the orders whose number contains q (any case), or
// whose amount is q; "" keeps all. The cashier reads a number off a
// customer's phone or a receipt and finds the order.
func filterOrders(all []order.Order, q string) []order.Order {
	q = strings.ToUpper(strings.TrimSpace(money.Normalize(q)))
	if q == "" {
		return all
	}
	amount, amountErr := money.Parse(q)
	var out []order.Order
	for _, o := range all {
		if strings.Contains(strings.ToUpper(o.OutTradeNo), q) || amountErr == nil && o.AmountFen == amount {
			out = append(out, o)
		}
	}
	return out
}
