#!/bin/sh
# screenshots-wine-aftersale.sh takes docs/screenshots/wine-{refund,today,
# shift,reconcile,settings-receipts}-*.png: the after-sale windows of
# scripts/screenshots-aftersale.sh (issue 9), in Chinese then English, from
# the Windows build (`scanbox.exe demo`, embedded bank simulator) under
# wine64 on Xvfb, driven with xdotool.
#
# As scripts/screenshots-wine.sh: a throw-away prefix with the ProcessPrng
# stub of installer/wine/, no window manager, windows found by their
# _NET_WM_NAME and clicks relative to each window's corner (Wine places the
# windows itself). The screen is 1024 pixels tall so that the pay window's
# after-sale row (under the demo codes) is on it. The simulator's admin
# calls (curl) make the reversal and the bank-only payments; the order to
# reverse is copied from Recent orders (复制订单号) and read with xclip.
#
# Needs Debian's xvfb, wine (wine64), gcc-mingw-w64-x86-64, xdotool,
# imagemagick, curl and xclip, and a built dist/scanbox.exe
# (go run ./installer/cmd/release -out dist -steps exe):
#   scripts/screenshots-wine-aftersale.sh [dist/scanbox.exe]
set -eu
cd "$(dirname "$0")/.."
exe=$(realpath "${1:-dist/scanbox.exe}")
[ -f "$exe" ] || { echo "no $exe (go run ./installer/cmd/release -out dist -steps exe)" >&2; exit 2; }
wine64=$(command -v wine64 || echo /usr/lib/wine/wine64)
for t in "$wine64" Xvfb xdotool import x86_64-w64-mingw32-gcc curl xclip; do
	command -v "$t" >/dev/null 2>&1 || { echo "missing $t" >&2; exit 2; }
done
out=docs/screenshots
mkdir -p "$out"
disp=${SCREENSHOT_DISPLAY:-:59}
if [ -e "/tmp/.X11-unix/X${disp#:}" ]; then
	echo "display $disp is in use; set SCREENSHOT_DISPLAY" >&2
	exit 2
fi
work=$(mktemp -d /tmp/scanbox-wine-aftersale.XXXXXX)
export DISPLAY="$disp" WINEPREFIX="$work/prefix"
scrw=1280 scrh=1024
Xvfb "$disp" -screen 0 ${scrw}x${scrh}x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
app=
cleanup() {
	rc=$?
	set +e
	[ -n "$app" ] && kill "$app" 2>/dev/null
	wineserver -k 2>/dev/null; wineserver -w 2>/dev/null
	sleep 0.5
	kill "$xvfb" 2>/dev/null
	if [ "$rc" = 0 ]; then
		rm -rf "$work"
	else
		echo "kept $work (demo.log, failed.png)" >&2
	fi
}
trap cleanup EXIT

. installer/wine/prefix.sh
wine_prefix "$work" || exit 1

# China time, as on a shop's PC (Wine takes the zone from TZ).
started=$(TZ=Asia/Shanghai date +%H%M)
TZ=Asia/Shanghai FYNE_THEME=light LANG=zh_CN.UTF-8 "$wine64" "$exe" demo >"$work/demo.log" 2>&1 &
app=$!
for _ in $(seq 90); do grep -q '^Activated' "$work/demo.log" && break; sleep 1; done
grep -q '^Activated' "$work/demo.log" || { cat "$work/demo.log" >&2; exit 1; }
sleep 3
logval() { sed -n "s/^$1//p" "$work/demo.log" | tr -d '\r' | head -1; }
base=$(logval 'Bank simulator listening at ')
sim=${base%/device/v1}
pin=$(logval 'Manager PIN for refunds in this demo: ')
today=$(TZ=Asia/Shanghai date +%F)
admin() { curl -fsS -X POST "$sim/_sim/$1" >/dev/null; }

win() {
	for _ in $(seq 20); do
		id=$(for w in $(xdotool search --onlyvisible --name .); do
			[ "$(xdotool getwindowname "$w" 2>/dev/null)" = "$1" ] && echo "$w"
		done | tail -1)
		[ -n "$id" ] && { echo "$id"; return; }
		sleep 0.5
	done
	echo "no window $1; visible:" >&2
	for w in $(xdotool search --onlyvisible --name .); do echo "  $(xdotool getwindowname "$w")" >&2; done
	import -window root "$work/failed.png"
	exit 1
}
gone() {
	for _ in $(seq 40); do
		found=
		for w in $(xdotool search --onlyvisible --name .); do
			[ "$(xdotool getwindowname "$w" 2>/dev/null)" = "$1" ] && found=1
		done
		[ -z "$found" ] && return 0
		sleep 0.5
	done
	echo "window $1 still open" >&2
	exit 1
}
# at TITLE: raise that window; click offsets are from its corner from now on.
at() {
	cur=$(win "$1")
	xdotool windowraise "$cur"
	sleep 0.4
	eval "$(xdotool getwindowgeometry --shell "$cur")"
	ox=$X oy=$Y ow=$WIDTH oh=$HEIGHT
}
shot() {
	at "$2"
	sleep 0.5
	w=$((ow < scrw - ox ? ow : scrw - ox))
	h=$((oh < scrh - oy ? oh : scrh - oy))
	import -window root -crop "${w}x${h}+${ox}+${oy}" +repage -strip "PNG24:$out/wine-$1.png"
	echo "$out/wine-$1.png ${w}x${h}"
}
click() { xdotool mousemove $((ox + $1)) $((oy + $2)) click 1; sleep "${3:-0.4}"; }
typecjk() {
	# Through the clipboard when xclip is there: xdotool drops CJK
	# characters typed one by one now and then.
	if command -v xclip >/dev/null 2>&1; then
		printf %s "$1" | xclip -selection clipboard
		sleep 0.3; xdotool key ctrl+v; sleep 0.5
		return
	fi
	for ch in $(echo "$1" | sed 's/./& /g'); do xdotool type --delay 100 "$ch"; sleep 1; done
}
# pay AMOUNT Y: the amount in the pay window, then the sample's Scan button
# at height Y (537 pays at once, 577 after the password).
pay() {
	at "$paytitle"
	click 270 130; xdotool key ctrl+a; xdotool type --delay 120 "$1"; xdotool key Return; sleep 0.3
	click 25 "$2" "${3:-2.5}"
}

round() {
	at "$paytitle"; click "$shiftx" 778 2
	at "$shift"; click 300 63
	if [ "$sfx" = zh ]; then typecjk "$cashier"; else xdotool type --delay 120 "$cashier"; fi
	click "$openx" 63 1.5
	shot "shift-open-$sfx" "$shift"
	pay 30 537
	pay 88.8 577 7
	pay 45.5 537
	at "$paytitle"; click "$ordersx" 411 2
	# The 88.80 order (second row) is reversed at the bank later: its
	# number through 复制订单号 and the clipboard (the CLI cannot reach the
	# running instance under Wine).
	if [ "$sfx" = zh ]; then
		at "$orderst"; click 200 140 0.6; click 729 498 1
		rev=$(xclip -selection clipboard -o 2>/dev/null || true)
	fi
	at "$orderst"; click 200 180 0.6
	click "$refundx" 498 2
	at "$refund"; click 345 103; xdotool key ctrl+a; xdotool type --delay 120 "12.5"
	click 345 144
	if [ "$sfx" = zh ]; then typecjk "顾客退货"; else xdotool type --delay 120 "goods returned"; fi
	click 345 184; xdotool type --delay 120 "111111"
	# The PIN's slow hash takes seconds under Wine on a loaded machine.
	click 40 223 6
	shot "refund-wrong-pin-$sfx" "$refund"
	click 345 184; xdotool type --delay 120 "$pin"
	shot "refund-form-$sfx" "$refund"
	click 40 223 12
	shot "refund-done-$sfx" "$refund"
	at "$paytitle"; click "$todayx" 778 2
	shot "today-$sfx" "$todayt"
	at "$paytitle"; click "$shiftx" 778 2
	at "$shift"; click 27 65 2
	shot "shift-closed-$sfx" "$shift"
	if [ "$sfx" = zh ]; then
		case "$rev" in SB*) admin "revoke?terminal_id=T0001&out_trade_no=$rev" ;; *) echo "no order number copied ($rev)" >&2 ;; esac
		admin "bankpay?terminal_id=T0001&out_trade_no=SB$(echo "$today" | tr -d -)LOST0001&total_fee=2680&pay_channel=WECHAT"
	fi
	at "$paytitle"; click "$reconx" 778 2
	[ -z "$morning" ] || shot "reconcile-morning-$sfx" "$recon"
	# End and backspaces: under Wine, ctrl+a in this field was once lost
	# and the date typed into the old one.
	at "$recon"; click 300 22; xdotool key End; xdotool key --repeat 12 --delay 60 BackSpace
	xdotool type --delay 120 "$today"
	click "$runx" 22 4
	shot "reconcile-$sfx" "$recon"
}

# receipts SFX TITLE SETTINGS_X TAB_X TEST_X: Settings' receipts tab, a
# test print on a file printer (a path inside the prefix).
receipts() {
	at "$paytitle"; click "$3" 411 2
	at "$2"; click "$4" 24 1
	click 350 63; xdotool key ctrl+a; xdotool type --delay 60 'file:C:\users\Public\slips.bin'
	click "$5" 183 2
	shot "settings-receipts-$1" "$2"
}

morning=
sfx=zh paytitle=收款 orderst=最近订单 refund=退款 todayt=今日汇总 shift=交接班 recon=对账 cashier=王芳
todayx=40 shiftx=109 reconx=163 refundx=428 openx=594 runx=613 ordersx=185
round

# The morning reconciliation: two payments at the bank yesterday that the
# journal never saw, the daily run set to a minute ago; within a minute the
# pay window's button carries the marker.
yday=$(TZ=Asia/Shanghai date -d yesterday +%Y%m%d)
admin "bankpay?terminal_id=T0001&out_trade_no=SB${yday}LOST0001&total_fee=2680&pay_channel=WECHAT&time=${yday}151203"
admin "bankpay?terminal_id=T0001&out_trade_no=SB${yday}LOST0002&total_fee=1550&pay_channel=ALIPAY&time=${yday}183040"
receipts zh 设置 296 425 162
at_=$(TZ=Asia/Shanghai date -d '-1 min' +%H:%M)
# The core reconciles yesterday once a day, at 09:00 by default: after
# that the run has been made without the payments above (the CLI cannot
# tell under Wine, so the clock decides). Settings takes 01:00 to 23:59.
now_=$(TZ=Asia/Shanghai date +%H%M)
if [ "$started" -ge 0900 ] || [ "$now_" -ge 0859 ]; then
	echo "after 09:00 China time the daily run came first: no morning shots; run before 08:45" >&2
elif [ "${at_%%:*}" -ge 1 ]; then
	at 设置; click 460 245; xdotool key ctrl+a; xdotool type --delay 120 "$at_"
	click 600 498 2
	sleep 70
	morning=1
	shot reconcile-marker-zh "$paytitle"
	at "$paytitle"; click "$reconx" 778 2
	shot reconcile-morning-zh "$recon"
else
	echo "before 01:00 China time: no morning reconciliation shots" >&2
fi

# English: Settings → Voice / Language → English, Save. Every window is
# closed and built again; wait until the old ones are gone (a click on one
# crashes fyne under Wine).
at "$paytitle"; click 296 411 2
at 设置; click 322 18 0.8
click 350 144 1; click 130 219 0.8
click 600 498 3
gone 设置; gone 收款; gone 对账
sfx=en paytitle="Collect payment" orderst="Recent orders" refund=Refund todayt=Today shift="Shift handover" recon=Reconciliation cashier="Li Lei"
todayx=32 shiftx=121 reconx=235 refundx=${EN_REFUNDX:-330} openx=${EN_OPENX:-570} runx=${EN_RUNX:-595} ordersx=272
round
receipts en Settings 414 448 220

for f in "$out"/wine-refund-*.png "$out"/wine-today-*.png "$out"/wine-shift-*.png "$out"/wine-reconcile-*.png "$out"/wine-settings-receipts-*.png; do
	[ -f "$f" ] && convert "$f" -colors 256 "PNG8:$f"
done
