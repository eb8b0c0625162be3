#!/bin/sh
# accept.sh is what CI runs for issue 11's "Must show" items that need the
# real program: it builds scanbox, then runs
#   scripts/accept-cashier.sh  the cashier flows under Xvfb + xdotool, asserting
#                              on `scanbox orders --json` after each step
#   scripts/accept-sigterm.sh  20 SIGTERMs of the demo, each exit 0, no panic
# Screenshots go to $OUT (default: a temp directory, printed). Exit status 0
# only if both pass.
#
#   scripts/accept.sh
#
# Needs Debian's xvfb, dbus, xdotool, imagemagick and python3.
set -u
cd "$(dirname "$0")/.."
bin=$(mktemp /tmp/scanbox-accept-bin.XXXXXX)
trap 'rm -f "$bin"' EXIT
go build -o "$bin" ./app || exit 1
rc=0
sh scripts/accept-cashier.sh "$bin" || rc=1
sh scripts/accept-sigterm.sh "$bin" "${SIGTERM_RUNS:-20}" || rc=1
exit $rc
