package ui

// moreCatalog is the catalog's part for the receipt and reconciliation
// settings, the morning reconciliation's notice and the support zip's save
// dialog, merged into it at start.
var moreCatalog = map[string][2]string{
	// Settings: receipts and the morning reconciliation
	"settings.receipts":         {"小票与对账", "Receipts"},
	"settings.printer":          {"小票打印机", "Receipt printer"},
	"settings.printer_none":     {"留空：不打印小票", "Empty: print no slips"},
	"settings.printer_hint":     {"可从列表选择本机已安装的打印机，或填写：spool:打印机名（Windows 打印机）、serial:COM3@9600（串口打印机）、file:路径（写入文件）。留空则不打印。设置了打印机时，退款小票和交班汇总总会打印。打印机出错时只提示，收款和退款不受影响。", "Pick an installed printer from the list, or type spool:NAME (a Windows printer), serial:COM3@9600 (a serial printer) or file:PATH (a file). Leave it empty to print nothing. With a printer set, refund slips and shift summaries always print. A printer that fails is only reported: payments and refunds are not affected."},
	"settings.paper":            {"纸宽", "Paper"},
	"settings.payment_slips":    {"每笔收款也打印小票", "Print a slip for each payment too"},
	"settings.test_print":       {"打印测试页", "Test print"},
	"settings.printing":         {"正在打印测试小票…", "Printing a test slip…"},
	"settings.print_ok":         {"测试小票已送到打印机 %s；请看是否已打出。", "The test slip went to the printer %s; check that it came out."},
	"settings.print_no_printer": {"请先填写或选择小票打印机。未打印。", "Choose or type a receipt printer first; nothing was printed."},
	"settings.printer_bad":      {"小票打印机：请填写 spool:打印机名、serial:COM3 或 file:路径，或留空。", "Receipt printer: type spool:NAME, serial:COM3 or file:PATH, or leave it empty."},
	"settings.reconcile":        {"每日对账时间", "Daily reconciliation at"},
	"settings.reconcile_on":     {"每天自动核对昨天的账", "Reconcile yesterday every day"},
	"settings.bad_time":         {"%s：请填写时间，如 09:00", "%s: enter a time such as 09:00"},

	// the morning reconciliation's notice
	"menu.reconcile_unseen":   {"对账（%d 处不一致）", "Reconciliation (%d differences)"},
	"reconcile.note_agreed":   {"%s 对账一致", "%s reconciled"},
	"reconcile.note_agreed_b": {"银行与本机记录一致。", "The bank and ScanBox agree."},
	"reconcile.note_differ":   {"%s 对账有 %d 处不一致", "%s: %d difference(s) with the bank"},
	"reconcile.note_differ_b": {"请打开“对账”查看每一处和处理办法。", "Open Reconciliation to see each one and what to do."},
	"reconcile.note_failed":   {"%s 自动对账未完成", "%s not reconciled yet"},
	"reconcile.note_failed_b": {"暂时取不到银行对账单，系统会自动重试；收款不受影响。", "The bank's bill cannot be had yet; ScanBox tries again by itself. Payments are not affected."},
	"reconcile.bg_agreed":     {"%s：银行与本机记录一致（每日自动对账）。", "%s: the bank and ScanBox agree (daily reconciliation)."},
	"reconcile.bg_differ":     {"%s：有 %d 处不一致（每日自动对账）。", "%s: %d difference(s) (daily reconciliation)."},
	"reconcile.bg_failed":     {"%s：自动对账未完成，暂时取不到银行对账单；系统会自动重试，也可以点“对账”再试。", "%s: not reconciled yet, the bank's bill cannot be had; ScanBox tries again by itself, or press Reconcile."},

	// the support zip's save dialog
	"export.title":     {"导出支持文件", "Export support file"},
	"export.folder":    {"保存到文件夹", "Save in folder"},
	"export.name":      {"文件名", "File name"},
	"export.hint":      {"文件包含日志、最近订单和去掉密钥的设置，发给技术支持即可。", "The file holds the logs, recent orders and the settings without secrets; send it to support."},
	"export.save":      {"保存", "Save"},
	"export.need_path": {"请选择文件夹并填写文件名。未导出。", "Choose a folder and a file name; nothing was exported."},
	"export.failed":    {"无法写入 %s，请选择其他文件夹。未导出。", "%s cannot be written; choose another folder. Nothing was exported."},
}

func init() {
	for k, v := range moreCatalog {
		if _, dup := catalog[k]; dup {
			panic("ui: catalog key defined twice: " + k)
		}
		catalog[k] = v
	}
}
