#!/bin/sh
# screenshots-wine.sh takes the docs/screenshots/wine-*.png set: the same
# windows scripts/screenshots.sh captures on Linux, from the Windows build
# (`scanbox.exe demo`, embedded bank simulator) under wine64 on Xvfb, driven
# with xdotool, each window captured with ImageMagick's import.
#
# The prefix is thrown away afterwards. As in installer/smoke/wine-smoke.sh,
# Go >= 1.24 programs need ProcessPrng, which Wine 8's bcryptprimitives.dll
# lacks: the stub from installer/wine/ goes into this prefix's system32 only.
#
# Wine's windows are X11 windows but, with no window manager, Wine places
# them itself (a few pixels off the corner) and sets WM_NAME to "??" for a
# Chinese title (only _NET_WM_NAME is right), so windows are found by
# `xdotool getwindowname` and clicks are relative to the window's position.
# Click offsets differ from the Linux script where the layout does (the
# settings tabs).
#
# Needs Debian's xvfb, wine (wine64), gcc-mingw-w64-x86-64, xdotool and
# imagemagick, and a built dist/scanbox.exe
# (go run ./installer/cmd/release -out dist -steps exe):
#   scripts/screenshots-wine.sh [dist/scanbox.exe]
set -eu
cd "$(dirname "$0")/.."
exe=$(realpath "${1:-dist/scanbox.exe}")
[ -f "$exe" ] || { echo "no $exe (go run ./installer/cmd/release -out dist -steps exe)" >&2; exit 2; }
wine64=$(command -v wine64 || echo /usr/lib/wine/wine64)
for t in "$wine64" Xvfb xdotool import x86_64-w64-mingw32-gcc; do
	command -v "$t" >/dev/null 2>&1 || { echo "missing $t" >&2; exit 2; }
done
out=docs/screenshots
mkdir -p "$out"
disp=${SCREENSHOT_DISPLAY:-:58}
if [ -e "/tmp/.X11-unix/X${disp#:}" ]; then
	echo "display $disp is in use; set SCREENSHOT_DISPLAY" >&2
	exit 2
fi
work=$(mktemp -d /tmp/scanbox-wine-shots.XXXXXX)
export DISPLAY="$disp" WINEPREFIX="$work/prefix"
Xvfb "$disp" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
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

FYNE_THEME=light LANG=zh_CN.UTF-8 "$wine64" "$exe" demo >"$work/demo.log" 2>&1 &
app=$!
for _ in $(seq 90); do grep -q '^Activated' "$work/demo.log" && break; sleep 1; done
grep -q '^Activated' "$work/demo.log" || { cat "$work/demo.log" >&2; exit 1; }
sleep 3

# win TITLE: the id of the visible window with that exact title.
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
# gone TITLE: wait until no visible window has that title. After a language
# change the closed windows linger on the X server for a few seconds under
# Wine, and a click that reaches one crashes fyne (nil overlay renderer in
# a Select's pop-up).
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
# shot NAME TITLE: raise the window and save it as wine-NAME.png (clipped to
# the screen).
shot() {
	at "$2"
	sleep 0.4
	w=$((ow < 1280 - ox ? ow : 1280 - ox))
	h=$((oh < 800 - oy ? oh : 800 - oy))
	import -window root -crop "${w}x${h}+${ox}+${oy}" +repage -strip "PNG24:$out/wine-$1.png"
	echo "$out/wine-$1.png ${w}x${h}"
}
click() { xdotool mousemove $((ox + $1)) $((oy + $2)) click 1; sleep "${3:-0.4}"; }

# Pay window at rest, with the demo's sample codes.
shot pay-idle 收款
# 1234.50 typed, the "password then pays" sample scanned: waiting.
click 270 130
xdotool type --delay 120 "1234.5"; xdotool key Return; sleep 0.3
click 25 577 2.2
shot pay-waiting 收款
sleep 4
shot pay-paid 收款
# The same amount again within 60 s of a success asks first; Esc is No.
click 25 537 1
shot pay-again 收款
xdotool key Escape; sleep 0.5
# 30.00 on a payer who never confirms; the cashier cancels.
click 270 130; xdotool key ctrl+a; xdotool type --delay 120 "30"; xdotool key Return; sleep 0.3
click 25 617 2.5
click 365 211 4
shot pay-cancelled 收款

click 185 411 1
shot orders 最近订单
at 收款; click 248 411 1
# Select a long line: shown whole, wrapped, under the list.
at 日志; click 400 145 0.6
shot logs 日志
at 收款; click 296 411 1.5
shot settings-bank 设置
click 115 18 0.8
shot settings-source 设置
click 185 18 0.8
shot settings-scanner 设置
click 240 18 0.8
shot settings-payment 设置
click 322 18 0.8
shot settings-voice 设置

at 收款; click 70 411 1
shot qr-idle 顾客扫码
click 250 58; xdotool key ctrl+a; xdotool type --delay 120 "66"; xdotool key Return; sleep 2
shot qr-dynamic 顾客扫码
click 150 18 0.8
shot qr-static 顾客扫码
at 收款; click 344 411 1
shot about 关于

# English: a language change closes every window and reopens the pay window
# and the settings window in the new language. Then back to Chinese.
at 收款; click 296 411 1.5
click 322 18 0.8
click 350 144 1; click 130 219 0.8
click 600 498 3
gone 设置; gone 收款
shot pay-english "Collect payment"
# The English tabs are narrower than the Chinese ones (Bank, Amount, Scanner,
# Payment, Voice / Language, Receipts): Voice / Language is at 280-407.
at Settings; click 343 18 0.8
click 350 144 1; click 130 179 0.8
click 600 498 3
gone Settings; gone "Collect payment"

# The OCR region overlay: drag a rectangle over part of the screen. Picking
# widens the settings window (its Save button ends off-screen under wine),
# so this comes last.
at 设置; click 115 18 0.8
click 528 461 2.5
xdotool mousemove 100 60 mousedown 1 mousemove 200 120 mousemove 420 150; sleep 0.5
import -window root -strip "PNG24:$out/wine-ocr-overlay.png"; echo "$out/wine-ocr-overlay.png"
xdotool mouseup 1; sleep 3
shot settings-ocr-picked 设置

# Shrink: the PNGs are committed.
for f in "$out"/wine-*.png; do convert "$f" -colors 256 "PNG8:$f"; done
du -ch "$out"/wine-*.png | tail -1
