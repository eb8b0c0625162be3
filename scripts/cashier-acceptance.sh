#!/bin/sh
# cashier-acceptance.sh drives the real program like a cashier: `scanbox
# demo` (embedded bank simulator) under Xvfb, keyboard and mouse through
# xdotool, through the flows of issue 11 — manual amount, a code that pays,
# one that asks for the password, one that never confirms and is cancelled,
# the same amount scanned again (charge-again, No), a scan typed into the
# amount field, a second scan during a wait, the per-payment ceiling, a large
# amount, a language switch in the middle of a payment — asserting after each
# step on the orders the program recorded, and keeping a screenshot of each
# in $OUT (default /tmp/scanbox-acceptance).
#
# The assertions use `scanbox orders --json` on the demo's data directory,
# which the running demo owns: the command is carried out by it through the
# local API (the journal is never opened twice).
#
# Needs Debian's xvfb, dbus, xdotool and imagemagick, and a built binary:
#   go build -o /tmp/scanbox ./app && scripts/cashier-acceptance.sh [/tmp/scanbox]
set -eu
cd "$(dirname "$0")/.."
bin=${1:-/tmp/scanbox}
out=${OUT:-/tmp/scanbox-acceptance}
mkdir -p "$out"
disp=${ACCEPTANCE_DISPLAY:-:58}
if [ -e "/tmp/.X11-unix/X${disp#:}" ]; then
	echo "display $disp is in use; set ACCEPTANCE_DISPLAY" >&2
	exit 2
fi
Xvfb "$disp" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
export DISPLAY="$disp"
log=$(mktemp)
session=
cleanup() {
	for p in $(pgrep -P "$session" 2>/dev/null) $session $xvfb; do kill "$p" 2>/dev/null || true; sleep 0.5; done
	rm -f "$log"
}
trap cleanup EXIT
sleep 1
FYNE_THEME=light LANG=zh_CN.UTF-8 dbus-run-session -- "$bin" demo >"$log" 2>&1 &
session=$!
# Wait for the demo to be ready (slower on a loaded machine), then a moment
# for the window to map.
for _ in $(seq 40); do grep -q '^Activated' "$log" && break; sleep 0.5; done
sleep 2
data=$(sed -n 's/^Data directory (thrown away afterwards): //p' "$log" | head -1)
[ -n "$data" ] || { echo "FAIL: no demo data directory" >&2; cat "$log" >&2; exit 1; }

fails=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
# orders: the recorded orders as JSON, through the running instance.
orders() { "$bin" orders --json --data-dir "$data" 2>&1 || true; }
created() { orders | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo -1; }
# expect STEP AMOUNT_FEN STATE: an order of that amount reached that state.
expect() {
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12; do
		if orders | python3 -c 'import json,sys; a,s=int(sys.argv[1]),sys.argv[2]; sys.exit(0 if any(o["amount_fen"]==a and o["state"]==s for o in json.load(sys.stdin)) else 1)' "$2" "$3" 2>/dev/null; then
			pass "$1: $2 fen $3"
			return
		fi
		sleep 0.5
	done
	fail "$1: no order of $2 fen reached $3"
}
# expect_created STEP N: exactly N orders were created so far.
expect_created() {
	n=$(created)
	if [ "$n" -eq "$2" ]; then pass "$1: $n orders"; else fail "$1: $n orders, want $2"; fi
}
win() {
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		id=$(xdotool search --onlyvisible --name "^$1\$" | tail -1)
		[ -n "$id" ] && { echo "$id"; return; }
		sleep 0.5
	done
	echo "no window $1" >&2
	return 1
}
shot() {
	id=$(win "$2") || { fail "$1: no window $2"; return; }
	xdotool windowraise "$id"
	sleep 0.5
	geo=$(xdotool getwindowgeometry --shell "$id")
	w=$(echo "$geo" | sed -n 's/^WIDTH=//p')
	h=$(echo "$geo" | sed -n 's/^HEIGHT=//p')
	import -window root -crop "${w}x${h}+0+0" +repage -strip "PNG24:$out/$1.png"
}
click() { xdotool mousemove "$1" "$2" click 1; sleep "${3:-0.4}"; }
# code PREFIX LAST [LENGTH]: a fresh demo code, 18 digits unless told (the
# simulator acts on the last digit: 0 pays, 4 password then pays, 6 never
# confirms; UnionPay codes are 19 digits).
code() {
	printf '%s' "$1"
	i=0
	while [ $i -lt $((${3:-18} - 3)) ]; do printf '%d' $(($(od -An -N1 -tu1 /dev/urandom) % 10)); i=$((i + 1)); done
	printf '%s' "$2"
}
amount() { click 270 130; xdotool key ctrl+a; xdotool type --delay 60 "$1"; xdotool key Return; sleep 0.3; }
scan() { xdotool type --delay 8 "$1"; xdotool key Return; }

pay=$(win 收款)
xdotool windowraise "$pay"

# 1. Manual amount, a code that pays at once.
amount 12.5
scan "$(code 13 0)"
expect "1 manual amount" 1250 paid
shot 01-paid 收款

# 2. The same amount scanned again: the charge-again question, Esc is No.
scan "$(code 13 0)"
sleep 1
shot 02-again 收款
xdotool key Escape
sleep 0.5
expect_created "2 charge-again, No" 1

# 3. Password, then pays.
amount 20
scan "$(code 28 4)"
sleep 1.5
shot 03-password 收款
expect "3 password" 2000 paid

# 4. Never confirms; the cashier cancels (Esc).
amount 30
scan "$(code 62 6 19)"
sleep 2
xdotool key Escape
sleep 3
expect "4 cancelled" 3000 closed
shot 04-cancelled 收款

# 5. The scanner types into the amount field: the amount stays, the code pays.
click 270 130; xdotool key ctrl+a; xdotool type --delay 250 "45"; sleep 0.5
scan "$(code 13 0)"
expect "5 scan into the amount field" 4500 paid
shot 05-scan-into-amount 收款

# 6. A second scan while the payer types the password: refused with a note.
amount 50
scan "$(code 28 4)"
sleep 1
scan "$(code 13 0)"
sleep 0.5
shot 06-double-scan 收款
expect "6 double scan" 5000 paid
expect_created "6 double scan" 5

# 7. Over the per-payment maximum (10,000.00): refused, nothing sent.
amount 20000
scan "$(code 13 0)"
sleep 1
shot 07-ceiling 收款
expect_created "7 ceiling" 5

# 8. A large amount: asked first with the amount large; Esc is No.
amount 3000
scan "$(code 13 0)"
sleep 1
shot 08-large 收款
xdotool key Escape
sleep 0.5
expect_created "8 large, No" 5

# 9. Language switch in the middle of a payment: the rebuilt window keeps
# the order (countdown, Cancel) and takes no second one.
amount 31
scan "$(code 62 6 19)"
sleep 1.5
click 296 411 1.5
click 320 24 0.8
settings=$(win 设置) || true
# Language select: the third row of the voice tab; English is the second
# entry of its list.
click 300 145 0.8
click 125 219 0.5
click 600 497 2.5
shot 09-rebuilt "Collect payment"
scan "$(code 13 0)"
sleep 0.5
expect_created "9 rebuilt window, one order" 6
id=$(win "Collect payment") && xdotool windowraise "$id" && sleep 0.3
xdotool key Escape
sleep 3
expect "9 cancelled after the rebuild" 3100 closed

echo "screenshots in $out"
if [ "$fails" -gt 0 ]; then
	echo "$fails step(s) failed" >&2
	orders >&2
	tail -20 "$log" >&2
	exit 1
fi
echo "all steps passed"
