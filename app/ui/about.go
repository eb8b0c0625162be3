package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/scanbox/scanbox/version"
)

// NewAboutWindow shows the version, what the program does, the font's
// licence and where the data lives (support staff ask for it).
func NewAboutWindow(env *Env) fyne.Window {
	w := env.App.NewWindow(T("about.title"))
	title := newCanvasText(28, colorPaid)
	title.set(T("app.name")+" "+version.Product, colorPaid)
	text := widget.NewLabel(T("about.text"))
	text.Wrapping = fyne.TextWrapWord
	st := env.Ctrl.Status()
	merchant := widget.NewLabel(T("settings.not_activated"))
	ids := widget.NewLabel("")
	if st.Activated {
		merchant.SetText(st.MerchantName + " · " + st.StoreName)
		// Support staff ask for the two numbers first.
		s := env.Ctrl.Settings()
		ids.SetText(Tf("about.ids", s.MchID, s.TerminalID))
	}
	w.SetContent(container.NewVBox(title.obj,
		widget.NewLabel(Tf("about.version", version.Version)),
		text, merchant, ids,
		widget.NewLabel(Tf("about.data", env.Ctrl.DataDir())),
		widget.NewLabel(T("about.font")),
		widget.NewButton(T("ok"), w.Close)))
	w.Resize(fyne.NewSize(460, 300))
	return w
}
