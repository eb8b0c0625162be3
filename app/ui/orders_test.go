package ui

import (
	"fmt"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
)

func TestOrdersWindowShowsPaidAndResolves(t *testing.T) {
	env, f, _ := newTestEnv(t)
	// A paid order made through the pay window appears in Recent orders.
	p := NewPayWindow(env)
	p.Show()
	test.Type(p.amountEntry, "1234.5")
	p.charge(wechatCode)
	paidNo := f.orders[0].OutTradeNo
	f.update(paidNo, func(o *order.Order) { o.State = order.StatePaid; o.Channel = order.ChannelWeChat })
	// And one left unknown.
	p.current = order.Order{}
	test.Type(p.amountEntry, "") // keep 1234.5
	o, _ := f.Pay(990, "284567890123456784")
	unknownNo := o.OutTradeNo
	f.update(unknownNo, func(o *order.Order) { o.State = order.StateUnknown })

	w := NewOrdersWindow(env)
	w.Show()
	if len(w.orders) != 2 || w.orders[1].OutTradeNo != paidNo {
		t.Fatalf("orders %+v", w.orders)
	}
	row := []string{cellText(w.orders[1], 1), cellText(w.orders[1], 2), cellText(w.orders[1], 3), cellText(w.orders[1], 4)}
	want := []string{"1,234.50", "微信支付", "成功", "1345**********6786"}
	for i := range row {
		if row[i] != want[i] {
			t.Errorf("paid row col %d = %q, want %q", i+1, row[i], want[i])
		}
	}
	if !w.unresolved.Visible() || w.unresolved.Text != "！1 笔订单未确定，请重新查询" {
		t.Errorf("unresolved banner %q visible=%v", w.unresolved.Text, w.unresolved.Visible())
	}
	if got := cellText(w.orders[0], 3); got != "！未知" {
		t.Errorf("unresolved state cell %q", got)
	}
	if w.total.Text != "今日：1 笔，合计 1,234.50 元   微信支付 1 笔 1,234.50 元" {
		t.Errorf("day total %q", w.total.Text)
	}

	// Copy the order number.
	w.Select(paidNo)
	if !w.closeBtn.Disabled() {
		t.Error("Close is enabled for a paid order")
	}
	test.Tap(w.copyBtn)
	if got := env.App.Clipboard().Content(); got != paidNo {
		t.Errorf("clipboard %q", got)
	}
	// Close the unresolved one; the banner goes away.
	w.Select(unknownNo)
	test.Tap(w.closeBtn)
	if len(f.closedNos) != 1 || f.closedNos[0] != unknownNo {
		t.Errorf("closed %v", f.closedNos)
	}
	if w.unresolved.Visible() {
		t.Error("the unresolved banner stays after close")
	}
	test.Tap(w.requeryBtn)
	if len(f.requeried) != 1 {
		t.Errorf("requeried %v", f.requeried)
	}
}

func TestDayTotal(t *testing.T) {
	SetLanguage(English)
	defer SetLanguage(Chinese)
	now := time.Date(2026, 11, 26, 18, 0, 0, 0, time.Local)
	at := func(h int) time.Time { return time.Date(2026, 11, 26, h, 0, 0, 0, time.Local) }
	orders := []order.Order{
		{State: order.StatePaid, Channel: order.ChannelWeChat, AmountFen: 1000, CreatedAt: at(9)},
		{State: order.StatePaid, Channel: order.ChannelWeChat, AmountFen: 250, CreatedAt: at(10)},
		{State: order.StatePaid, Guess: order.ChannelAlipay, AmountFen: 100000, CreatedAt: at(11)},
		{State: order.StateFailed, Channel: order.ChannelAlipay, AmountFen: 999, CreatedAt: at(12)},
		{State: order.StatePaid, Channel: order.ChannelUnionPay, AmountFen: 5, CreatedAt: at(9).AddDate(0, 0, -1)},
	}
	want := "Today: 3 paid, 1,012.50 yuan   WeChat Pay 2 × 12.50 yuan   Alipay 1 × 1,000.00 yuan"
	if got := DayTotal(orders, now); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// Issue 11 items 10 and 11: one vocabulary in the table; a re-query with
// the bank down says why; the result line carries wallet and time;
// customer-scans orders fill the code column.
func TestOrdersVocabularyAndResultLine(t *testing.T) {
	env, f, clk := newTestEnv(t)
	at := clk.now
	f.orders = []order.Order{
		{OutTradeNo: "SB1", AmountFen: 100, State: order.StateClosed, Cancelled: true, CreatedAt: at, UpdatedAt: at},
		{OutTradeNo: "SB2", AmountFen: 200, State: order.StateClosed, CreatedAt: at, UpdatedAt: at},
		{OutTradeNo: "QR3", AmountFen: 300, Kind: order.KindPrecreate, State: order.StateRevoked, CreatedAt: at, UpdatedAt: at},
		{OutTradeNo: "SB4", AmountFen: 400, State: order.StateUnknown, Guess: order.ChannelWeChat, CreatedAt: at, UpdatedAt: at},
	}
	w := NewOrdersWindow(env)
	w.Show()
	got := map[string]string{}
	for _, o := range w.orders {
		got[o.OutTradeNo] = cellText(o, 3)
	}
	if got["SB1"] != "已取消" || got["SB2"] != "超时关闭" || got["QR3"] != "已撤销" {
		t.Errorf("states %v", got)
	}
	for _, o := range w.orders {
		if o.OutTradeNo == "QR3" && cellText(o, 4) != "顾客扫码" {
			t.Errorf("customer-scans code column %q", cellText(o, 4))
		}
	}
	if findButton(w.win.Content(), "关闭订单") == nil {
		t.Error("the close button is not 关闭订单")
	}
	f.requeryErr = fmt.Errorf("payflow: requery SB4: %w", payclient.ErrCommunication)
	w.Select("SB4")
	w.requery()
	if w.message.Text != "无法连接银行，请检查网络；未确认的订单会在后台继续确认。" {
		t.Errorf("bank down: %q", w.message.Text)
	}
	f.requeryErr = nil
	w.Select("SB4")
	w.requery()
	if w.message.Text != "SB4 · 成功 · 微信支付 · 10:00:00" {
		t.Errorf("result line %q", w.message.Text)
	}
}

// Issue 11 item 11: search by order number (or amount).
func TestOrdersSearch(t *testing.T) {
	env, f, clk := newTestEnv(t)
	f.orders = []order.Order{
		{OutTradeNo: "SB2612010001AAAA", AmountFen: 1250, State: order.StatePaid, CreatedAt: clk.now},
		{OutTradeNo: "SB2612010002BBBB", AmountFen: 990, State: order.StateUnknown, CreatedAt: clk.now},
	}
	w := NewOrdersWindow(env)
	test.Type(w.search, "bbbb")
	if len(w.orders) != 1 || w.orders[0].OutTradeNo != "SB2612010002BBBB" {
		t.Fatalf("search by number: %+v", w.orders)
	}
	w.search.SetText("１２．５")
	if len(w.orders) != 1 || w.orders[0].AmountFen != 1250 {
		t.Fatalf("search by amount: %+v", w.orders)
	}
	// The banner and the day total are about all orders, not the filter.
	if w.unresolved.Text != "！1 笔订单未确定，请重新查询" || w.total.Text[:len("今日：1 笔")] != "今日：1 笔" {
		t.Errorf("banner %q total %q", w.unresolved.Text, w.total.Text)
	}
	w.search.SetText("")
	if len(w.orders) != 2 {
		t.Errorf("clearing the search: %d rows", len(w.orders))
	}
}
