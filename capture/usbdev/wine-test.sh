#!/usr/bin/env bash
# wine-test.sh — runs the Windows tests of capture/usbdev (the real SetupAPI
# enumeration: Ports and Keyboard classes, the USB enumerator, PortName from
# the device key) under Wine 8. Wine has no USB devices: what this shows is
# that the enumeration runs and returns without error, not that a scan box
# is found.
#
#   flock /tmp/winbuild.lock capture/usbdev/wine-test.sh
#
# Needs: wine (wine64), x86_64-w64-mingw32-gcc. Installs nothing; exits 2
# saying what is missing. Wine 8 lacks ProcessPrng, which Go ≥1.24 needs:
# the stub from installer/wine/ goes into a throw-away prefix only.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
WINE64=$(command -v wine64 || echo /usr/lib/wine/wine64)
missing=()
[[ -x $WINE64 ]] || missing+=("wine64 (apt-get install -y wine wine64)")
command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=("x86_64-w64-mingw32-gcc (apt-get install -y gcc-mingw-w64-x86-64)")
if ((${#missing[@]})); then
	printf 'wine-test: cannot run, missing: %s\n' "${missing[@]}" >&2
	exit 2
fi
work=$(mktemp -d /tmp/scanbox-usbdev-wine.XXXXXX)
trap 'WINEPREFIX=$work/prefix wineserver -k 2>/dev/null; rm -rf "$work"' EXIT
(cd "$root" && GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go test -c -o "$work/usbdev_test.exe" ./capture/usbdev) || exit 1
wine_root=$root
. "$root/installer/wine/prefix.sh"
wine_prefix "$work" || exit 1
SCANBOX_USBDEV_FAKE_NODES=1 timeout 300 "$WINE64" "$work/usbdev_test.exe" -test.v -test.count=1
