package ui

// The support zip's save dialog. fyne's file dialog labels its places
// "Home" and "Computer" in English whatever the language (they are not
// translated through fyne's lang/ either), and its title and buttons follow
// the PC's system locale, not ScanBox's: a Chinese UI on an English Windows
// showed "Save File", and on a Chinese one "保存 文件" (issue 11 item 14).
// This dialog says everything in the cashier's language from the catalog:
// a folder (the likely ones offered, any path typed) and a file name.

import (
	"io"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"
)

// exportFolders are the folders offered for the support zip, the likeliest
// first: the desktop, documents, downloads, the home folder. A variable so
// that tests do not depend on the machine's folders.
var exportFolders = defaultExportFolders

func defaultExportFolders() []string {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil
	}
	var out []string
	for _, sub := range []string{"Desktop", "Documents", "Downloads"} {
		p := filepath.Join(home, sub)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			out = append(out, p)
		}
	}
	return append(out, home)
}

// exportWriter opens the file the zip goes to (fyne's storage, as its file
// dialog did). A variable for tests.
var exportWriter = defaultExportWriter

func defaultExportWriter(path string) (io.WriteCloser, error) {
	return storage.Writer(storage.NewFileURI(path))
}

// ExportDialog asks where to save the support zip.
type ExportDialog struct {
	dlg    *dialog.ConfirmDialog
	folder *widget.SelectEntry
	name   *widget.Entry
}

// newExportDialog builds the dialog over parent; save is called with the
// opened file and its path.
func newExportDialog(parent fyne.Window, fileName string, save func(io.WriteCloser, string), failed func(error)) *ExportDialog {
	d := &ExportDialog{}
	folders := exportFolders()
	d.folder = widget.NewSelectEntry(folders)
	if len(folders) > 0 {
		d.folder.SetText(folders[0])
	}
	d.name = widget.NewEntry()
	d.name.SetText(fileName)
	form := widget.NewForm(
		widget.NewFormItem(T("export.folder"), d.folder),
		widget.NewFormItem(T("export.name"), d.name),
	)
	hint := widget.NewLabel(T("export.hint"))
	hint.Wrapping = fyne.TextWrapWord
	hint.Importance = widget.LowImportance
	body := container.NewVBox(form, hint)
	d.dlg = dialog.NewCustomConfirm(T("export.title"), T("export.save"), T("cancel"), body, func(ok bool) {
		if !ok {
			return
		}
		path, err := d.path()
		if err != nil {
			failed(err)
			return
		}
		wc, err := exportWriter(path)
		if err != nil {
			failed(&exportError{path: path, err: err})
			return
		}
		save(wc, path)
	}, parent)
	d.dlg.Resize(fyne.NewSize(560, 260))
	return d
}

// path is the chosen folder and name, or why there is none.
func (d *ExportDialog) path() (string, error) {
	folder, name := strings.TrimSpace(d.folder.Text), strings.TrimSpace(d.name.Text)
	if folder == "" || name == "" || strings.ContainsAny(name, `/\`) {
		return "", &exportError{}
	}
	if !strings.HasSuffix(strings.ToLower(name), ".zip") {
		name += ".zip"
	}
	return filepath.Join(folder, name), nil
}

// Show shows the dialog.
func (d *ExportDialog) Show() { d.dlg.Show() }

// exportError is a support zip that could not be written: the sentence
// names the file (or asks for a folder and a name), never a Go error.
type exportError struct {
	path string
	err  error
}

func (e *exportError) Error() string {
	if e.path == "" {
		return T("export.need_path")
	}
	return Tf("export.failed", e.path)
}

func (e *exportError) Unwrap() error { return e.err }
