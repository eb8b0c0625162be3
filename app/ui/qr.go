package ui

import (
	"image"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
)

// QRWindow is the fallback when the payer cannot show a code: the bank makes
// a dynamic QR for the amount, the payer scans it, and the order is followed
// like any other (Cancel closes it). The store's static QR from activation
// is on the second tab, with the per-payer daily limit that binds static
// codes.
type QRWindow struct {
	env *Env
	win fyne.Window

	amount    *widget.Entry
	makeBtn   *keyButton
	cancelBtn *keyButton
	img       *canvas.Image
	status    *canvasText
	detail    *widget.Label
	countdown *widget.Label

	current  order.Order
	stopTick func()
	unsub    func()
	// paid is the amount of the last order paid here while the amount
	// field was not changed since: making another QR for it asks first.
	paid      money.Fen
	paidAt    time.Time
	againDlg  *question
	amountErr bool // the status shows a refusal of the amount
	bigAmount *canvasText
}

// NewQRWindow builds the window.
func NewQRWindow(env *Env) *QRWindow {
	w := &QRWindow{env: env}
	w.win = env.App.NewWindow(T("qr.title"))
	w.amount = widget.NewEntry()
	w.amount.SetPlaceHolder(T("pay.amount_hint"))
	if r, ok := env.Ctrl.Amount(); ok {
		w.amount.SetText(r.Amount.String())
	}
	w.amount.OnSubmitted = func(string) { w.make() }
	w.amount.OnChanged = func(string) { w.paid = 0; w.showBig(); w.clearAmountError() }
	w.makeBtn = newKeyButton(T("qr.make"), theme.ConfirmIcon(), w.make)
	w.makeBtn.Importance = widget.HighImportance
	w.cancelBtn = newKeyButton(T("cancel"), theme.CancelIcon(), w.cancel)
	w.cancelBtn.Importance = widget.DangerImportance
	w.cancelBtn.Disable()
	w.img = canvas.NewImageFromImage(image.NewGray(image.Rect(0, 0, 1, 1)))
	w.img.FillMode = canvas.ImageFillContain
	w.img.ScaleMode = canvas.ImageScalePixels
	w.img.SetMinSize(fyne.NewSize(300, 300))
	w.img.Hide()
	w.status = newCanvasText(26, colorNeutral)
	// The amount, large, for the customer who scans.
	w.bigAmount = newCanvasText(40, colorAmount)
	w.showBig()
	w.detail = widget.NewLabel("")
	w.detail.Alignment = fyne.TextAlignCenter
	w.countdown = widget.NewLabel("")
	w.countdown.Alignment = fyne.TextAlignCenter

	dynamic := container.NewVBox(
		widget.NewForm(widget.NewFormItem(T("pay.amount"), w.amount)),
		container.NewGridWithColumns(2, w.makeBtn, w.cancelBtn),
		w.bigAmount.obj, w.img, w.status.obj, w.countdown, w.detail,
	)
	tabs := container.NewAppTabs(
		container.NewTabItem(T("qr.dynamic"), dynamic),
		container.NewTabItem(T("qr.static"), staticQR(env.Ctrl.Status())),
	)
	w.win.SetContent(tabs)
	w.win.Resize(fyne.NewSize(420, 560))
	// Esc answers an open question No wherever the focus is.
	w.win.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape && w.againDlg != nil {
			w.againDlg.Hide()
		}
	})
	w.unsub = env.Ctrl.OnOrder(func(o order.Order) { fyne.Do(func() { w.orderChanged(o) }) })
	w.win.SetOnClosed(func() {
		if w.againDlg != nil {
			w.againDlg.Hide()
		}
		w.unsub()
		w.stopTimer()
		// A rebuild (language switch) must not lose the QR being paid.
		if w.busy() {
			o := w.current
			env.handoff.qr = &o
		}
	})
	if h := env.handoff.qr; h != nil {
		env.handoff.qr = nil
		w.adopt(*h)
	}
	return w
}

// adopt shows the order the window this one replaces was following.
func (w *QRWindow) adopt(o order.Order) {
	for _, r := range w.env.Ctrl.Recent(50) {
		if r.OutTradeNo == o.OutTradeNo && !r.UpdatedAt.Before(o.UpdatedAt) {
			if r.CodeURL == "" {
				r.CodeURL = o.CodeURL
			}
			o = r
		}
	}
	w.amount.SetText(o.AmountFen.String())
	w.current = o
	if o.CodeURL != "" && !o.State.Terminal() {
		w.img.Image = qrImage(o.CodeURL).Image
		w.img.Show()
	}
	w.render()
}

func (w *QRWindow) showBig() {
	if f, err := money.Parse(money.Normalize(w.amount.Text)); err == nil {
		w.bigAmount.set("¥ "+f.Grouped(), colorAmount)
	} else {
		w.bigAmount.set("", colorAmount)
	}
}

// staticQR shows the store's static code and its limit.
func staticQR(st Status) fyne.CanvasObject {
	limit := widget.NewLabel(T("qr.static_limit"))
	limit.Importance = widget.WarningImportance
	limit.Alignment = fyne.TextAlignCenter
	if st.StaticQR == "" {
		return container.NewVBox(widget.NewLabel(T("qr.no_static")), limit)
	}
	img := qrImage(st.StaticQR)
	img.SetMinSize(fyne.NewSize(300, 300))
	name := widget.NewLabel(st.MerchantName + " · " + st.StoreName)
	name.Alignment = fyne.TextAlignCenter
	return container.NewVBox(name, img, limit)
}

func qrImage(payload string) *canvas.Image {
	q, err := qrcode.New(payload, qrcode.Medium)
	var img image.Image = image.NewGray(image.Rect(0, 0, 1, 1))
	if err == nil {
		q.DisableBorder = false
		img = q.Image(320)
	}
	c := canvas.NewImageFromImage(img)
	c.FillMode = canvas.ImageFillContain
	c.ScaleMode = canvas.ImageScalePixels
	return c
}

// Window is the fyne window.
func (w *QRWindow) Window() fyne.Window { return w.win }

// Show shows the window.
func (w *QRWindow) Show() { w.win.Show(); w.win.Canvas().Focus(w.amount) }

func (w *QRWindow) busy() bool { return w.current.OutTradeNo != "" && !w.current.State.Terminal() }

func (w *QRWindow) make() {
	if w.busy() {
		return
	}
	if w.againDlg != nil {
		return
	}
	amount, err := money.Parse(money.Normalize(w.amount.Text))
	if err != nil {
		w.status.set(T("pay.no_amount"), colorFailed)
		w.detail.SetText(errorMessage(err))
		w.amountErr = true
		return
	}
	if limit := w.maxPayment(); amount > limit {
		w.status.set(T("pay.over_limit"), colorFailed)
		w.detail.SetText(Tf("pay.over_limit.detail", limit.Grouped()))
		w.amountErr = true
		return
	}
	if w.paid == amount {
		// The same guard as the pay window: No is the default (Enter and
		// Esc), and the age in the question moves.
		paidAt := w.paidAt
		w.againDlg = askQuestion(w.env, w.win, T("pay.again.title"), func() string {
			return Tf("pay.again.body", amount.Grouped(), ageText(w.env.Now().Sub(paidAt)))
		}, nil, T("pay.again.yes"), T("pay.again.no"), func(yes bool) {
			w.againDlg = nil
			w.win.Canvas().Focus(w.amount)
			if yes {
				w.paid = 0
				w.precreate(amount)
			}
		})
		return
	}
	w.precreate(amount)
}

// clearAmountError takes an amount's refusal off the screen as soon as the
// amount is valid (issue 11 item 9: no old error under a good amount).
func (w *QRWindow) clearAmountError() {
	if !w.amountErr {
		return
	}
	a, err := money.Parse(money.Normalize(w.amount.Text))
	if err != nil || a > w.maxPayment() {
		return
	}
	w.amountErr = false
	w.status.set("", colorNeutral)
	w.detail.SetText("")
}

func (w *QRWindow) maxPayment() money.Fen {
	if m := w.env.Ctrl.Settings().MaxPayment; m > 0 {
		return m
	}
	return DefaultMaxPayment
}

func (w *QRWindow) precreate(amount money.Fen) {
	w.amountErr = false
	w.makeBtn.Disable()
	w.status.set(T("pay.sending"), colorWaiting)
	w.env.Go(func() {
		o, err := w.env.Ctrl.Precreate(amount)
		fyne.Do(func() {
			if err != nil {
				w.makeBtn.Enable()
				w.status.set(T("pay.failed"), colorFailed)
				w.detail.SetText(errorMessage(err))
				return
			}
			w.current = o
			if o.CodeURL != "" {
				w.img.Image = qrImage(o.CodeURL).Image
				w.img.Show()
				w.img.Refresh()
			}
			w.render()
		})
	})
}

func (w *QRWindow) orderChanged(o order.Order) {
	if w.current.OutTradeNo == "" || o.OutTradeNo != w.current.OutTradeNo {
		return
	}
	if w.current.State.Terminal() && !o.State.Terminal() {
		return
	}
	if o.CodeURL == "" {
		o.CodeURL = w.current.CodeURL
	}
	w.current = o
	w.render()
}

func (w *QRWindow) render() {
	o := w.current
	w.detail.SetText(Tf("pay.order_no", o.OutTradeNo))
	if m := orderMessage(o); m != "" && o.State.Terminal() {
		w.detail.SetText(Tf("pay.order_no", o.OutTradeNo) + "\n" + m)
	}
	switch o.State {
	case order.StatePending, order.StateWaiting:
		w.status.set(T("qr.show_to_payer"), colorWaiting)
		w.cancelBtn.Enable()
		w.makeBtn.Disable()
		if w.stopTick == nil {
			w.stopTick = w.env.Every(time.Second, w.tick)
		}
		w.tick()
		return
	case order.StatePaid:
		w.status.set(T("pay.paid")+"  ¥"+o.AmountFen.Grouped(), colorPaid)
		w.paid, w.paidAt = o.AmountFen, w.env.Now()
	default:
		w.status.set(outcomeName(o), stateColor(o.State.String()))
	}
	w.cancelBtn.Disable()
	w.countdown.SetText("")
	if o.State.Terminal() {
		w.img.Hide()
		w.makeBtn.Enable()
		w.stopTimer()
	}
}

func (w *QRWindow) tick() {
	if !w.busy() || w.current.Deadline.IsZero() {
		w.countdown.SetText("")
		return
	}
	left := max(w.current.Deadline.Sub(w.env.Now()), 0)
	w.countdown.SetText(Tf("pay.countdown", int((left+time.Second-1)/time.Second)))
}

func (w *QRWindow) stopTimer() {
	if w.stopTick != nil {
		w.stopTick()
		w.stopTick = nil
	}
}

func (w *QRWindow) cancel() {
	if w.busy() && w.env.Ctrl.Cancel(w.current.OutTradeNo) {
		w.cancelBtn.Disable()
		w.status.set(T("pay.cancelling"), colorAttention)
	}
}
