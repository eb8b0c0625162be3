#!/bin/sh
# measure-idle.sh measures the tray app as a shop PC runs it all day: the
# time from exec to a ready tray, then CPU and memory while idle, first with
# the pay window open (its one-second clock for the amount's age runs), then
# with it hidden (nothing but the tray). It runs `scanbox demo` (embedded
# simulator, idle too) under Xvfb and reads /proc; nothing is sampled from
# inside the program.
#
#   go build -o /tmp/scanbox ./app && scripts/measure-idle.sh [/tmp/scanbox] [seconds]
#
# Needs Debian's xvfb, dbus and xdotool.
set -eu
bin=${1:-/tmp/scanbox}
secs=${2:-60}
disp=${MEASURE_DISPLAY:-:58}
if [ -e "/tmp/.X11-unix/X${disp#:}" ]; then
	echo "display $disp is in use; set MEASURE_DISPLAY" >&2
	exit 2
fi
Xvfb "$disp" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
export DISPLAY="$disp"
out=$(mktemp)
session=
cleanup() {
	for p in $(pgrep -P "$session" 2>/dev/null) $session $xvfb; do kill "$p" 2>/dev/null || true; sleep 0.5; done
	rm -f "$out"
}
trap cleanup EXIT
sleep 1
ms() { date +%s%3N; }
t0=$(ms)
dbus-run-session -- "$bin" demo >"$out" 2>&1 &
session=$!
# Wait for the data directory line, then for "tray ready" in the log.
dir=
i=0
while [ $i -lt 200 ]; do
	dir=$(sed -n 's/^Data directory (thrown away afterwards): //p' "$out")
	[ -n "$dir" ] && [ -f "$dir/logs/scanbox.log" ] && grep -q '"tray ready"' "$dir/logs/scanbox.log" && break
	sleep 0.05
	i=$((i + 1))
done
t1=$(ms)
pid=$(pgrep -P "$session" -x "$(basename "$bin" | cut -c1-15)")
inner=$(grep '"tray ready"' "$dir/logs/scanbox.log" | sed -n 's/.*"startup_ms":\([0-9]*\).*/\1/p')
echo "startup: ${inner} ms from process start to ready tray (in-process), $((t1 - t0)) ms from exec (includes the simulator, activation and dbus-run-session)"

tck=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
thr() { awk '/^Threads/ {print $2}' "/proc/$pid/status"; }
ctx() { awk '/^voluntary_ctxt_switches/ {v=$2} /^nonvoluntary_ctxt_switches/ {n=$2} END {print v + n}' "/proc/$pid/status"; }
measure() { # label
	sleep 5 # let start-up work (font cache, first frames) settle
	c0=$(cpu); x0=$(ctx); s0=$(ms)
	sleep "$secs"
	c1=$(cpu); x1=$(ctx); s1=$(ms)
	el=$((s1 - s0))
	awk -v c="$((c1 - c0))" -v t="$tck" -v e="$el" -v r="$(rss)" -v th="$(thr)" -v x="$((x1 - x0))" -v l="$1" \
		'BEGIN { printf "%s: CPU %.2f%% of one core over %.0f s (%d ticks), RSS %.1f MiB, %d threads, %.1f context switches/s\n", l, 100 * c / t / (e / 1000), e / 1000, c, r / 1024, th, x / (e / 1000) }'
}
measure "idle, pay window open"
# Esc hides the pay window; the tray stays.
xdotool mousemove 270 130 click 1; sleep 0.3; xdotool key Escape
measure "idle, tray only"
