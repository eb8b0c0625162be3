#!/bin/sh
# measure-idle.sh measures the tray app as a shop PC runs it all day, in two
# scenarios, each in a fresh `scanbox demo` (embedded simulator) under Xvfb:
#   closed   every window closed (Esc hides the pay window; the tray stays)
#   all-open the pay, customer-scans (QR) and Settings windows open
# and, for comparison, "pay" (the pay window alone, as the demo starts) and
# "late-open" (all-open, the windows opened 8 s after the tray is ready, as
# a cashier opens them during the day, after start-up's own memory return).
# CPU is the process's own CPU time (utime + stime from /proc/PID/stat) over
# the window, not wall-clock load: the machine may be busy with other work,
# which this figure does not include. RSS is VmRSS at the end of the window.
# Nothing is sampled from inside the program.
#
#   go build -o /tmp/scanbox ./app && scripts/measure-idle.sh [/tmp/scanbox] [seconds] [scenario...]
#
# Needs Debian's xvfb, dbus and xdotool.
set -eu
bin=${1:-/tmp/scanbox}
secs=${2:-60}
shift 2 2>/dev/null || shift $#
scenarios=${*:-closed pay all-open}
disp=${MEASURE_DISPLAY:-:58}
if [ -e "/tmp/.X11-unix/X${disp#:}" ]; then
	echo "display $disp is in use; set MEASURE_DISPLAY" >&2
	exit 2
fi
Xvfb "$disp" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
export DISPLAY="$disp"
work=$(mktemp -d /tmp/scanbox-measure.XXXXXX)
session=
stop_demo() {
	if [ -n "$session" ]; then
		for p in $(pgrep -P "$session" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
		wait "$session" 2>/dev/null || true
		session=
	fi
}
cleanup() { stop_demo; kill "$xvfb" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X${disp#:}" ] && break; sleep 0.1; done
ms() { date +%s%3N; }
tck=$(getconf CLK_TCK)
win() { timeout 15 xdotool search --sync --onlyvisible --name "^$1\$" 2>/dev/null | tail -1; }

for sc in $scenarios; do
	rm -rf "$work/d"
	t0=$(ms)
	LANG=zh_CN.UTF-8 dbus-run-session -- "$bin" demo --data-dir "$work/d" >"$work/out" 2>&1 &
	session=$!
	for _ in $(seq 300); do
		[ -f "$work/d/logs/scanbox.log" ] && grep -q '"tray ready"' "$work/d/logs/scanbox.log" && break
		sleep 0.05
	done
	t1=$(ms)
	pid=$(pgrep -P "$session" -x "$(basename "$bin" | cut -c1-15)")
	inner=$(grep '"tray ready"' "$work/d/logs/scanbox.log" | sed -n 's/.*"startup_ms":\([0-9]*\).*/\1/p')
	win 收款 >/dev/null
	case $sc in
	closed) xdotool mousemove 270 130 click 1; sleep 0.3; xdotool key Escape ;;
	pay) ;;
	all-open | late-open)
		[ "$sc" = late-open ] && sleep 8
		xdotool mousemove 55 411 click 1 # 顾客扫码
		win 顾客扫码 >/dev/null
		# The QR window opens over the pay window (no window manager):
		# raise the pay window again to reach its 设置.
		xdotool windowraise "$(win 收款)"; sleep 0.5
		xdotool mousemove 296 411 click 1 # 设置
		win 设置 >/dev/null
		;;
	esac
	sleep 5 # let start-up work (font cache, first frames) settle
	c0=$(awk '{print $14 + $15}' "/proc/$pid/stat"); s0=$(ms)
	sleep "$secs"
	c1=$(awk '{print $14 + $15}' "/proc/$pid/stat"); s1=$(ms)
	rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
	thr=$(awk '/^Threads/ {print $2}' "/proc/$pid/status")
	nwin=$(xdotool search --onlyvisible --name '.' 2>/dev/null | wc -l)
	awk -v c="$((c1 - c0))" -v t="$tck" -v e="$((s1 - s0))" -v r="$rss" -v th="$thr" -v l="$sc" -v w="$nwin" -v st="$inner" -v ex="$((t1 - t0))" \
		'BEGIN { printf "%-8s CPU %.2f%% of one core (%d ticks of process CPU time over %.0f s), RSS %.1f MiB, %d threads, %d visible windows; ready tray %s ms in-process, %d ms from exec\n", l, 100 * c / t / (e / 1000), c, e / 1000, r / 1024, th, w, st, ex }'
	stop_demo
done
