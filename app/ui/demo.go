package ui

import (
	"math/rand/v2"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/scanbox/scanbox/order"
)

// DemoSample is one payer behaviour of the embedded bank simulator, chosen
// by the code's last digit.
type DemoSample struct {
	Wallet order.Channel
	Prefix string
	Length int
	Last   byte   // the simulator's behaviour digit
	Key    string // catalog key of the behaviour
}

// DemoSamples are the behaviours the demo offers, one wallet each so that
// the wallet recognition shows too.
var DemoSamples = []DemoSample{
	{order.ChannelWeChat, "13", 18, '0', "demo.pays"},
	{order.ChannelAlipay, "28", 18, '4', "demo.password"},
	{order.ChannelUnionPay, "62", 19, '6', "demo.never"},
	{order.ChannelWeChat, "10", 18, '7', "demo.late"},
	{order.ChannelAlipay, "25", 18, '8', "demo.balance"},
	{order.ChannelWeChat, "14", 18, '9', "demo.expired"},
}

// Code makes a fresh code of this sample: the simulator refuses a code that
// already paid, so every press needs a new one.
func (s DemoSample) Code(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString(s.Prefix)
	for b.Len() < s.Length-1 {
		b.WriteByte(byte('0' + r.IntN(10)))
	}
	b.WriteByte(s.Last)
	return b.String()
}

// NewDemoPanel lists sample codes with a Scan button each; scan delivers a
// code as the scan box would. The code is shown so it can be typed too.
func NewDemoPanel(r *rand.Rand, scan func(code string)) fyne.CanvasObject {
	title := widget.NewLabel(T("demo.title"))
	title.TextStyle.Bold = true
	rows := []fyne.CanvasObject{title, widget.NewLabel(T("demo.hint"))}
	for _, s := range DemoSamples {
		code := widget.NewLabel(s.Code(r))
		code.TextStyle.Monospace = true
		code.Selectable = true
		desc := widget.NewLabel(walletName(s.Wallet) + " · " + T(s.Key))
		btn := widget.NewButton(T("demo.scan"), nil)
		btn.OnTapped = func() {
			c := code.Text
			code.SetText(s.Code(r))
			scan(c)
		}
		rows = append(rows, container.NewBorder(nil, nil, btn, nil, container.NewHBox(code, desc)))
	}
	return container.NewVBox(rows...)
}
