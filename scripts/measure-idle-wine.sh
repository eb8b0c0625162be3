#!/bin/sh
# measure-idle-wine.sh is scripts/measure-idle.sh for the Windows build:
# `scanbox.exe demo` (embedded simulator) under wine64 on Xvfb, in a
# throw-away prefix, in two scenarios, each a fresh demo:
#   closed    every window closed (Esc hides the pay window; the tray stays)
#   all-open  the pay, customer-scans (QR) and Settings windows open
#   late-open all-open, the windows opened 8 s after the pay window shows
# CPU is the scanbox.exe process's own CPU time (utime + stime from
# /proc/PID/stat: under Wine the Windows process is a Linux process) over
# the window, so other load on the machine is not counted; wineserver and
# Wine's own services are not counted either. RSS is its VmRSS at the end.
# As in scripts/screenshots-wine.sh, Wine 8 lacks ProcessPrng, which Go >=
# 1.24 needs: the stub from installer/wine/ goes into this prefix only.
#
#   go run ./installer/cmd/release -out dist -steps exe
#   scripts/measure-idle-wine.sh [dist/scanbox.exe] [seconds] [scenario...]
#
# Needs Debian's xvfb, wine (wine64), gcc-mingw-w64-x86-64 and xdotool.
set -eu
cd "$(dirname "$0")/.."
exe=$(realpath "${1:-dist/scanbox.exe}")
secs=${2:-30}
shift 2 2>/dev/null || shift $#
scenarios=${*:-closed all-open}
[ -f "$exe" ] || { echo "no $exe (go run ./installer/cmd/release -out dist -steps exe)" >&2; exit 2; }
wine64=$(command -v wine64 || echo /usr/lib/wine/wine64)
for t in "$wine64" Xvfb xdotool x86_64-w64-mingw32-gcc; do
	command -v "$t" >/dev/null 2>&1 || { echo "missing $t" >&2; exit 2; }
done
disp=${MEASURE_DISPLAY:-:59}
if [ -e "/tmp/.X11-unix/X${disp#:}" ]; then
	echo "display $disp is in use; set MEASURE_DISPLAY" >&2
	exit 2
fi
work=$(mktemp -d /tmp/scanbox-wine-measure.XXXXXX)
export DISPLAY="$disp" WINEPREFIX="$work/prefix"
Xvfb "$disp" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
app=
stop_demo() {
	[ -n "$app" ] && kill "$app" 2>/dev/null
	wineserver -k 2>/dev/null || true
	wineserver -w 2>/dev/null || true
	app=
}
cleanup() { stop_demo; kill "$xvfb" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
. installer/wine/prefix.sh
wine_prefix "$work" || exit 1
tck=$(getconf CLK_TCK)

# win TITLE: the id of the visible window with that exact title (Wine sets
# WM_NAME to "??" for a Chinese title; xdotool getwindowname reads the
# right one).
win() {
	for _ in $(seq 40); do
		id=$(for w in $(xdotool search --onlyvisible --name .); do
			[ "$(xdotool getwindowname "$w" 2>/dev/null)" = "$1" ] && echo "$w"
		done | tail -1)
		[ -n "$id" ] && { echo "$id"; return; }
		sleep 0.5
	done
	echo "no window $1" >&2
	exit 1
}
# click TITLE X Y: click at an offset from that window's corner.
click() {
	w=$(win "$1")
	xdotool windowraise "$w"
	sleep 0.4
	eval "$(xdotool getwindowgeometry --shell "$w")"
	xdotool mousemove $((X + $2)) $((Y + $3)) click 1
	sleep 0.6
}

for sc in $scenarios; do
	rm -rf "$WINEPREFIX/drive_c/users/root/AppData/Roaming/ScanBox" 2>/dev/null || true
	LANG=zh_CN.UTF-8 "$wine64" "$exe" demo >"$work/demo.log" 2>&1 &
	app=$!
	for _ in $(seq 120); do grep -q '^Activated' "$work/demo.log" && break; sleep 0.5; done
	grep -q '^Activated' "$work/demo.log" || { cat "$work/demo.log" >&2; exit 1; }
	win 收款 >/dev/null
	sleep 2
	case $sc in
	closed) click 收款 270 130; xdotool key Escape ;;
	all-open | late-open)
		[ "$sc" = late-open ] && sleep 8
		click 收款 55 411  # 顾客扫码
		win 顾客扫码 >/dev/null
		click 收款 296 411 # 设置
		win 设置 >/dev/null
		;;
	esac
	pid=$(pgrep -n -x "$(basename "$exe" | cut -c1-15)" || true)
	[ -n "$pid" ] || { echo "no scanbox.exe process; its output:" >&2; cat "$work/demo.log" >&2; exit 1; }
	sleep 5 # let start-up work (font cache, first frames, the memory return) settle
	c0=$(awk '{print $14 + $15}' "/proc/$pid/stat"); s0=$(date +%s%3N)
	sleep "$secs"
	c1=$(awk '{print $14 + $15}' "/proc/$pid/stat"); s1=$(date +%s%3N)
	rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
	nwin=$(xdotool search --onlyvisible --name '.' 2>/dev/null | wc -l)
	awk -v c="$((c1 - c0))" -v t="$tck" -v e="$((s1 - s0))" -v r="$rss" -v l="$sc" -v w="$nwin" \
		'BEGIN { printf "wine %-8s CPU %.2f%% of one core (%d ticks over %.0f s), RSS %.1f MiB, %d visible X windows\n", l, 100 * c / t / (e / 1000), c, e / 1000, r / 1024, w }'
	stop_demo
done
