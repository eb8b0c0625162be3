#!/usr/bin/env bash
# wine-test.sh — runs the storage packages' tests (journal, config, logging,
# scan) as Windows binaries under Wine 8: LockFileEx locking (also from a
# second process), DPAPI machine-scope secrets, rename-over-closed-file
# compaction and log rotation, and the kill test with TerminateProcess.
#
#   journal/wine-test.sh [go test flags, e.g. -test.short]
#
# Needs: wine (wine64), x86_64-w64-mingw32-gcc. Installs nothing; exits 2
# saying what is missing. Wine 8 lacks ProcessPrng, which Go >= 1.24 needs:
# the stub from installer/wine/ goes into a throw-away prefix only.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
WINE64=$(command -v wine64 || echo /usr/lib/wine/wine64)
missing=()
[[ -x $WINE64 ]] || missing+=("wine64 (apt-get install -y wine wine64)")
command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=("x86_64-w64-mingw32-gcc (apt-get install -y gcc-mingw-w64-x86-64)")
if ((${#missing[@]})); then
	printf 'wine-test: cannot run, missing: %s\n' "${missing[@]}" >&2
	exit 2
fi
work=$(mktemp -d /tmp/scanbox-storage-wine.XXXXXX)
trap 'WINEPREFIX=$work/prefix wineserver -k 2>/dev/null; rm -rf "$work"' EXIT
pkgs=(scan config logging journal)
for p in "${pkgs[@]}"; do
	(cd "$root" && GOOS=windows GOARCH=amd64 go test -c -o "$work/$p.test.exe" "./$p") || exit 1
done
wine_root=$root
. "$root/installer/wine/prefix.sh"
wine_prefix "$work" || exit 1
rc=0
for p in "${pkgs[@]}"; do
	echo "== $p (windows/amd64 under wine)"
	timeout 900 "$WINE64" "$work/$p.test.exe" -test.count=1 "$@" || rc=1
done
exit $rc
