#!/bin/sh
# screenshots.sh takes the UI screenshots in docs/screenshots/ from the real
# program: `scanbox demo` (embedded bank simulator) under Xvfb, driven with
# xdotool, each window captured with ImageMagick's import. There is no
# window manager, so every window opens at the top-left corner; each shot is
# cropped to the window on top.
#
# Needs Debian's xvfb, dbus, xdotool and imagemagick, and a built binary:
#   go build -o /tmp/scanbox ./app && scripts/screenshots.sh [/tmp/scanbox]
set -eu
cd "$(dirname "$0")/.."
bin=${1:-/tmp/scanbox}
out=docs/screenshots
mkdir -p "$out"
disp=${SCREENSHOT_DISPLAY:-:57}
if [ -e "/tmp/.X11-unix/X${disp#:}" ]; then
	echo "display $disp is in use; set SCREENSHOT_DISPLAY" >&2
	exit 2
fi
Xvfb "$disp" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
export DISPLAY="$disp"
log=$(mktemp)
app=
# dbus-run-session does not pass a signal on to its child: stop the
# program by its own pid, then the session, then the X server.
cleanup() {
	for p in $(pgrep -P "$session" 2>/dev/null) "$session" "$xvfb"; do kill "$p" 2>/dev/null || true; sleep 0.5; done
	rm -f "$log"
}
trap cleanup EXIT
sleep 1
FYNE_THEME=light LANG=zh_CN.UTF-8 dbus-run-session -- "$bin" demo >"$log" 2>&1 &
session=$!
sleep 5

# win TITLE: the id of the visible window with that exact title.
win() {
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		id=$(xdotool search --onlyvisible --name "^$1\$" | tail -1)
		[ -n "$id" ] && { echo "$id"; return; }
		sleep 0.5
	done
	echo "no window $1" >&2
	exit 1
}
# shot NAME TITLE: raise the window and save it as NAME.png.
shot() {
	id=$(win "$2")
	xdotool windowraise "$id"
	sleep 0.6
	geo=$(xdotool getwindowgeometry --shell "$id")
	w=$(echo "$geo" | sed -n 's/^WIDTH=//p')
	h=$(echo "$geo" | sed -n 's/^HEIGHT=//p')
	import -window root -crop "${w}x${h}+0+0" +repage -strip "PNG24:$out/$1.png"
	echo "$out/$1.png ${w}x${h}"
}
click() { xdotool mousemove "$1" "$2" click 1; sleep "${3:-0.4}"; }
pay=$(win 收款)

# Pay window at rest, with the demo's sample codes.
shot pay-idle 收款
# 1234.50 typed, the "password then pays" sample scanned: waiting.
click 270 130
xdotool type --delay 40 "1234.5"; xdotool key Return; sleep 0.3
click 25 577 2.2
shot pay-waiting 收款
sleep 4
shot pay-paid 收款
# The same amount again within 60 s of a success asks first; Esc is No.
click 25 537 1
shot pay-again 收款
xdotool key Escape; sleep 0.5
# 30.00 on a payer who never confirms; the cashier cancels.
click 270 130; xdotool key ctrl+a; xdotool type --delay 40 "30"; xdotool key Return; sleep 0.3
click 25 617 2.5
click 365 211 4
shot pay-cancelled 收款
# 3,000.00 is above the confirmation threshold: the amount is asked about,
# shown large, before anything is sent.
click 270 130; xdotool key ctrl+a; xdotool type --delay 40 "3000"; xdotool key Return; sleep 0.3
click 25 537 1
shot pay-large 收款
xdotool key Escape; sleep 0.5
# 20,000.00 is over the per-payment maximum: refused, nothing sent.
click 270 130; xdotool key ctrl+a; xdotool type --delay 40 "20000"; xdotool key Return; sleep 0.3
click 25 537 1
shot pay-limit 收款

click 185 411 1
shot orders 最近订单
xdotool windowraise "$pay"; sleep 0.3
click 248 411 1
# Select a long line: it is shown whole, wrapped, under the list (and the
# horizontal bar under the list pans every line).
click 400 145 0.6
shot logs 日志
xdotool windowraise "$pay"; sleep 0.3
click 296 411 1.5
shot settings-bank 设置
click 115 24 0.8
shot settings-source 设置
click 185 24 0.8
shot settings-scanner 设置
click 240 24 0.8
shot settings-payment 设置
click 320 24 0.8
shot settings-voice 设置
# The OCR region overlay: drag a rectangle over part of the screen.
click 115 24 0.8
xdotool mousemove 528 461 click 1; sleep 2.5
xdotool mousemove 100 60 mousedown 1 mousemove 200 120 mousemove 420 150; sleep 0.5
import -window root -strip "PNG24:$out/ocr-overlay.png"; echo "$out/ocr-overlay.png"
xdotool mouseup 1; sleep 1
id=$(win 设置); xdotool windowraise "$id"; sleep 0.5
shot settings-ocr-picked 设置

xdotool windowraise "$pay"; sleep 0.3
click 70 411 1
shot qr-idle 顾客扫码
qr=$(win 顾客扫码)
click 250 58; xdotool key ctrl+a; xdotool type --delay 40 "66"; xdotool key Return; sleep 2
shot qr-dynamic 顾客扫码
click 108 24 0.8
shot qr-static 顾客扫码
xdotool windowraise "$pay"; sleep 0.3
click 344 411 1
shot about 关于
# The after-sale windows (refund, Today, shift, reconciliation), zh and en,
# in a demo of their own on another display.
SCREENSHOT_DISPLAY=${AFTERSALE_DISPLAY:-:58} scripts/screenshots-aftersale.sh "$bin"
# Shrink: the PNGs are committed.
for f in "$out"/*.png; do convert "$f" -colors 256 "PNG8:$f"; done
du -ch "$out"/*.png | tail -1
