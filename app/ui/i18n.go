package ui

import (
	"fmt"
	"sync/atomic"

	"github.com/scanbox/scanbox/order"
)

// Language is a UI language. Chinese is the default: the cashiers are in China.
type Language int

const (
	Chinese Language = iota
	English
)

var languageNames = [...]string{"zh-CN", "en"}

func (l Language) String() string {
	if l < 0 || int(l) >= len(languageNames) {
		return languageNames[0]
	}
	return languageNames[l]
}

// ParseLanguage accepts what String writes; "" and anything unknown are
// Chinese, because a cashier must never face an empty label.
func ParseLanguage(s string) Language {
	for i, n := range languageNames {
		if n == s {
			return Language(i)
		}
	}
	if s == "en-US" || s == "en_US" || s == "english" {
		return English
	}
	return Chinese
}

var current atomic.Int32

// SetLanguage switches the language of strings looked up from now on; open
// windows are rebuilt by the caller.
func SetLanguage(l Language) { current.Store(int32(l)) }

// CurrentLanguage is the language in use.
func CurrentLanguage() Language { return Language(current.Load()) }

// T returns the string for key in the current language. An unknown key
// shows itself, so a missing entry is visible rather than blank (and the
// catalog test fails).
func T(key string) string {
	e, ok := catalog[key]
	if !ok {
		return key
	}
	return e[CurrentLanguage()]
}

// Tf is T with fmt verbs.
func Tf(key string, args ...any) string { return fmt.Sprintf(T(key), args...) }

// catalog holds every string the UI shows: {Chinese, English}. It is the one
// place to translate; keep the keys grouped by view.
var catalog = map[string][2]string{
	// tray and windows
	"app.name":           {"扫码收款", "ScanBox"},
	"menu.pay":           {"收款", "Collect payment"},
	"menu.qr":            {"顾客扫码（动态码）", "Customer scans (dynamic QR)"},
	"menu.orders":        {"最近订单", "Recent orders"},
	"menu.logs":          {"日志", "Logs"},
	"menu.settings":      {"设置", "Settings"},
	"menu.about":         {"关于", "About"},
	"menu.quit":          {"退出", "Quit"},
	"tray.ready":         {"就绪", "Ready"},
	"tray.waiting":       {"等待付款", "Waiting for payer"},
	"tray.attention":     {"需要处理", "Needs attention"},
	"tray.offline":       {"未连接", "Offline"},
	"tray.not_activated": {"未激活", "Not activated"},

	// pay window
	"pay.title":               {"收款", "Collect payment"},
	"pay.amount":              {"金额", "Amount"},
	"pay.amount_hint":         {"输入金额，如 12.50", "Type the amount, e.g. 12.50"},
	"pay.code":                {"付款码", "Payment code"},
	"pay.code_hint":           {"扫描或输入顾客付款码", "Scan or type the code"},
	"pay.no_amount":           {"请先输入金额", "Enter the amount first"},
	"pay.source":              {"来源：%s · %s", "From %s · %s"},
	"pay.source.manual":       {"手工输入", "manual entry"},
	"pay.source.serial":       {"串口", "customer display"},
	"pay.source.ocr":          {"屏幕识别", "screen OCR"},
	"pay.age.now":             {"刚刚", "just now"},
	"pay.age.seconds":         {"%d 秒前", "%d s ago"},
	"pay.age.minutes":         {"%d 分钟前", "%d min ago"},
	"pay.charge":              {"收款 (Enter)", "Charge (Enter)"},
	"pay.cancel":              {"取消 (Esc)", "Cancel (Esc)"},
	"pay.close":               {"关闭", "Close"},
	"pay.sending":             {"正在提交…", "Sending…"},
	"pay.bank_unreachable":    {"无法连接银行，正在重试…", "The bank cannot be reached; retrying…"},
	"pay.waiting":             {"请顾客输入密码", "Payer is entering the password"},
	"pay.countdown":           {"剩余 %d 秒", "%d s left"},
	"pay.closing":             {"正在关闭订单…", "Closing the order…"},
	"pay.cancelling":          {"正在取消…", "Cancelling…"},
	"pay.unknown":             {"结果未知", "Outcome unknown"},
	"pay.unknown_hint":        {"系统正在后台确认；可以收下一笔", "ScanBox keeps checking it; the next sale can be taken"},
	"pay.paid":                {"收款成功", "Paid"},
	"pay.failed":              {"支付失败", "Payment failed"},
	"pay.closed":              {"已关闭（顾客未确认）", "Closed (payer did not confirm)"},
	"pay.closed_not_received": {"已关闭（银行未收到）", "Closed (the bank never received it)"},
	"pay.cancelled":           {"已取消", "Cancelled"},
	"pay.revoked":             {"已撤销，款项退回顾客", "Reversed; money returned"},
	"pay.order_no":            {"订单号 %s", "Order %s"},
	"pay.again.title":         {"再次收款？", "Charge again?"},
	"pay.again.body":          {"%s 元已经收款成功（%s）。确定再收一次？", "%s yuan was already paid (%s). Charge it again?"},
	"pay.again.yes":           {"再收一次", "Charge again"},
	"pay.again.no":            {"不收 (Esc)", "Don't charge (Esc)"},
	"pay.stale.title":         {"金额不是刚读取的", "The amount is not new"},
	"pay.stale.body":          {"金额 %s 元是%s读取的，可能是上一位顾客的。确定收这个金额？", "%s yuan was read %s and may be the previous customer's. Charge this amount?"},
	"pay.stale.yes":           {"确定收款", "Charge it"},
	"pay.large.title":         {"请核对金额", "Check the amount"},
	"pay.large.body":          {"金额较大，请与顾客核对后再收款。", "This is a large amount; check it with the customer before charging."},
	"pay.large.yes":           {"金额无误，收款", "Amount is right, charge"},
	"pay.over_limit":          {"超过单笔上限", "Over the per-payment limit"},
	"pay.over_limit.detail":   {"单笔最多 %s 元（可在“设置 → 支付”中修改）。", "One payment may take at most %s yuan (Settings → Payment)."},
	"pay.code_unresolved":     {"此付款码的订单未确认", "This code's order is unresolved"},
	"pay.scan_refused":        {"正在处理当前订单，刚才的扫码没有使用。请等本笔结束后再扫。", "A payment is in progress; that scan was not used. Scan again when this one has ended."},
	"pay.settled":             {"订单 %s 已确认：%s", "Order %s settled: %s"},
	"pay.reading_screen":      {"正在读取屏幕金额…", "Reading the amount on the screen…"},
	"pay.read_failed":         {"未读到金额，未收款", "No amount read; nothing charged"},
	"pay.autoclose":           {"%d 秒后关闭", "Closing in %d s"},
	"pay.wallet.unknown":      {"无法识别的付款码", "Not a payment code"},
	"pay.source.charged":      {"此金额已收款 · %s", "This amount was charged · %s"},
	"pay.scan_next":           {"可扫描下一笔", "Ready for the next scan"},

	// wallets
	"wallet.WECHAT":   {"微信支付", "WeChat Pay"},
	"wallet.ALIPAY":   {"支付宝", "Alipay"},
	"wallet.UNIONPAY": {"云闪付", "UnionPay"},
	"wallet.ECNY":     {"数字人民币", "e-CNY"},
	"wallet.OTHER":    {"其他", "Other"},
	"wallet.":         {"—", "—"},

	// order states
	"state.pending":             {"处理中", "pending"},
	"state.waiting":             {"等待密码", "waiting"},
	"state.closing":             {"关闭中", "closing"},
	"state.unknown":             {"未知", "unknown"},
	"state.paid":                {"成功", "paid"},
	"state.failed":              {"失败", "failed"},
	"state.closed":              {"超时关闭", "closed (timed out)"},
	"state.closed_not_received": {"关闭（银行未收到）", "closed (bank never received it)"},
	"state.cancelled":           {"已取消", "cancelled"},
	"state.revoked":             {"已撤销", "reversed"},

	// customer scans
	"qr.title":         {"顾客扫码", "Customer scans"},
	"qr.dynamic":       {"动态码", "Dynamic QR"},
	"qr.static":        {"门店静态码", "Store static QR"},
	"qr.make":          {"生成二维码", "Make QR code"},
	"qr.show_to_payer": {"请顾客扫描此二维码", "Ask the payer to scan this code"},
	"qr.static_limit":  {"静态码每位顾客每日限额 500 元", "Static codes: 500 yuan per payer per day"},
	"qr.no_static":     {"激活后显示门店静态码", "Activate to show the store's static QR"},

	// recent orders
	"orders.title":            {"最近订单", "Recent orders"},
	"orders.time":             {"时间", "Time"},
	"orders.amount":           {"金额", "Amount"},
	"orders.wallet":           {"钱包", "Wallet"},
	"orders.state":            {"状态", "State"},
	"orders.code":             {"付款码", "Code"},
	"orders.no":               {"订单号", "Order no."},
	"orders.requery":          {"重新查询", "Re-query"},
	"orders.close":            {"关闭订单", "Close order"},
	"orders.customer_scanned": {"顾客扫码", "customer scanned"},
	"orders.copy":             {"复制订单号", "Copy order no."},
	"orders.refresh":          {"刷新", "Refresh"},
	"orders.copied":           {"已复制 %s", "Copied %s"},
	"orders.unresolved":       {"%d 笔订单未确定，请重新查询", "%d unresolved order(s): re-query them"},
	"orders.today":            {"今日：%d 笔，合计 %s 元", "Today: %d paid, %s yuan"},
	"orders.today_wallet":     {"%s %d 笔 %s 元", "%s %d × %s yuan"},
	"orders.search":           {"搜索订单号或金额", "Search order no. or amount"},
	"orders.select":           {"请先选择一笔订单", "Select an order first"},

	// logs
	"logs.title":     {"日志", "Logs"},
	"logs.filter":    {"筛选文字", "Filter text"},
	"logs.level":     {"级别", "Level"},
	"logs.copy":      {"复制", "Copy"},
	"logs.copy_line": {"复制此行", "Copy line"},
	"logs.export":    {"导出…", "Export…"},
	"logs.exported":  {"已导出到 %s", "Exported to %s"},
	"logs.follow":    {"跟随最新", "Follow"},

	// settings
	"settings.title":           {"设置", "Settings"},
	"settings.bank":            {"银行激活", "Bank"},
	"settings.url":             {"银行地址", "Bank URL"},
	"settings.mch":             {"商户号", "Merchant no."},
	"settings.terminal":        {"终端号", "Terminal no."},
	"settings.code":            {"激活码", "Activation code"},
	"settings.activate":        {"激活", "Activate"},
	"settings.activated":       {"已激活：%s · %s", "Activated: %s · %s"},
	"settings.not_activated":   {"尚未激活", "Not activated yet"},
	"settings.source":          {"金额来源", "Amount"},
	"settings.src.manual":      {"手工输入", "Manual"},
	"settings.src.serial":      {"串口（顾客显示屏）", "Serial (customer display)"},
	"settings.src.ocr":         {"屏幕识别 (OCR)", "Screen OCR"},
	"settings.port":            {"串口", "Port"},
	"settings.baud":            {"波特率", "Baud"},
	"settings.parity":          {"校验", "Parity"},
	"settings.parity.none":     {"无", "none"},
	"settings.parity.odd":      {"奇校验", "odd"},
	"settings.parity.even":     {"偶校验", "even"},
	"settings.parity.mark":     {"标记", "mark"},
	"settings.parity.space":    {"空格", "space"},
	"settings.profile.auto":    {"自动识别", "auto"},
	"settings.profile.text":    {"文本", "text"},
	"settings.profile":         {"协议", "Protocol"},
	"settings.forward":         {"转发到显示屏", "Forward to display"},
	"settings.refresh_ports":   {"刷新串口", "Refresh ports"},
	"settings.serial_live":     {"实时数据", "Live data"},
	"settings.region":          {"识别区域", "Screen region"},
	"settings.pick_region":     {"框选区域…", "Select region…"},
	"settings.ocr_preview":     {"识别结果", "Read"},
	"settings.ocr_test":        {"试读", "Test read"},
	"settings.overlay_hint":    {"拖动鼠标框住收银软件的应收金额，松开完成；Esc 取消", "Drag a rectangle over the POS total and release; Esc cancels"},
	"settings.scanner":         {"扫码枪", "Scanner"},
	"settings.scanner.wedge":   {"键盘模式", "Keyboard wedge"},
	"settings.scanner.serial":  {"串口模式", "Serial port"},
	"settings.wedge_gap":       {"按键间隔上限 (毫秒)", "Max key gap (ms)"},
	"settings.payment":         {"支付", "Payment"},
	"settings.poll":            {"查询间隔 (秒)", "Poll interval (s)"},
	"settings.deadline":        {"等待时限 (秒)", "Deadline (s)"},
	"settings.autoclose":       {"成功后自动关闭 (秒，0 不关闭)", "Close after success (s, 0 = never)"},
	"settings.hotkey":          {"快捷键", "Hotkey"},
	"settings.voice":           {"语音播报", "Voice"},
	"settings.voice_on":        {"开启语音", "Speak results"},
	"settings.volume":          {"音量", "Volume"},
	"settings.voice_test":      {"试听", "Test"},
	"settings.voice_ok":        {"已播放试听语音", "The test sentence was played"},
	"settings.language":        {"语言", "Language"},
	"settings.save":            {"保存", "Save"},
	"settings.saved":           {"设置已保存", "Settings saved"},
	"settings.bad_number":      {"%s：请输入数字", "%s: enter a number"},
	"settings.bad_amount":      {"%s：请输入金额，如 2000", "%s: enter an amount such as 2000"},
	"settings.out_of_range":    {"%s：须在 %s 到 %s 之间", "%s: must be from %s to %s"},
	"settings.deadline_short":  {"%s不能短于%s", "%s must not be shorter than %s"},
	"settings.max_payment":     {"单笔上限 (元)", "Per-payment maximum (yuan)"},
	"settings.confirm_above":   {"超过此金额需确认 (元，0 不确认)", "Confirm amounts from (yuan, 0 = never)"},
	"settings.max_age":         {"金额有效期 (秒)", "Amount valid for (s)"},
	"settings.change_terminal": {"更换终端…", "Change terminal…"},
	"settings.bank_hint":       {"银行地址、商户号和终端号只能通过激活更改；有未完成订单时不能更换终端。“保存”不会改动它们。", "The bank URL, merchant and terminal change only by activation, which is refused while orders are open. Save never changes them."},

	// about
	"about.title":   {"关于", "About"},
	"about.version": {"版本 %s", "Version %s"},
	"about.text":    {"扫码盒收银插件：读取金额、扫描顾客付款码、通过银行接口收款并语音播报。", "Cashier plug-in: reads the amount, scans the payer's code, charges it through the bank and speaks the result."},
	"about.font":    {"界面字体：Noto Sans CJK SC（GB2312 子集，SIL OFL 1.1）", "UI font: Noto Sans CJK SC (GB2312 subset, SIL OFL 1.1)"},
	"about.ids":     {"商户号 %s · 终端号 %s", "Merchant no. %s · Terminal no. %s"},
	"about.data":    {"数据目录：%s", "Data folder: %s"},

	// demo
	"demo.title":    {"演示：示例付款码（末位决定结果）", "Demo: sample codes (the last digit decides)"},
	"demo.hint":     {"点“扫码”把示例码当作扫码枪输入，或手工输入", "Press Scan to deliver a sample as the scan box would, or type it"},
	"demo.scan":     {"扫码", "Scan"},
	"demo.pays":     {"直接成功", "pays at once"},
	"demo.password": {"输入密码后成功", "password, then pays"},
	"demo.never":    {"一直不确认（可取消）", "never confirms (Cancel)"},
	"demo.late":     {"撤销时才确认（撤销退款）", "confirms at close (revoked)"},
	"demo.balance":  {"余额不足", "insufficient balance"},
	"demo.expired":  {"付款码过期", "code expired"},

	// generic
	"ok":     {"确定", "OK"},
	"cancel": {"取消", "Cancel"},
	"error":  {"错误", "Error"},
}

// walletName is the wallet's name for people.
func walletName(c order.Channel) string { return T("wallet." + c.String()) }

// stateName is an order state for people.
func stateName(s order.State) string { return T("state." + s.String()) }
