#!/usr/bin/env bash
# build-ocr-windows.sh — cross-build the OCR helper scanbox-ocr.exe for
# Windows (amd64) from Linux, statically linked against Tesseract 5.3 and
# Leptonica 1.82 from scripts/build-tesseract-mingw.sh (built once, cached).
#
# Usage: scripts/build-ocr-windows.sh [OUT.exe]     (default dist/scanbox-ocr.exe)
#   env SCANBOX_TESS_CACHE   passed on to build-tesseract-mingw.sh
#
# The .exe needs no DLL beyond Windows' own (checked below with objdump).
# It needs eng.traineddata at run time: the installer puts Debian's copy
# (tesseract-ocr-eng, Apache-2.0) in a "tessdata" folder next to it, where
# the helper looks first; see docs/ocr.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/dist/scanbox-ocr.exe}
case $out in /*) ;; *) out=$PWD/$out ;; esac
mkdir -p "$(dirname "$out")"

prefix=$("$root/scripts/build-tesseract-mingw.sh")
HOST=x86_64-w64-mingw32

cd "$root"
# Static link order matters: gosseract's own directive lists leptonica before
# tesseract, so both are named again, in dependency order, after it.
CGO_ENABLED=1 GOOS=windows GOARCH=amd64 \
	CC=${HOST}-gcc-posix CXX=${HOST}-g++-posix \
	CGO_CPPFLAGS="-I$prefix/include" \
	CGO_CXXFLAGS="-O2" \
	CGO_LDFLAGS="-L$prefix/lib -ltesseract -lleptonica -lws2_32 -static -static-libgcc -static-libstdc++" \
	nice go build -trimpath -ldflags "-s -w" -o "$out" ./cmd/scanbox-ocr

# Refuse a build that would need a DLL the shop PC does not have.
dlls=$(${HOST}-objdump -p "$out" | awk '/DLL Name:/ {print tolower($3)}' | sort -u)
for d in $dlls; do
	case $d in
	kernel32.dll | user32.dll | advapi32.dll | ws2_32.dll | msvcrt.dll | winmm.dll | ntdll.dll | \
		bcrypt.dll | crypt32.dll | gdi32.dll | shell32.dll | ole32.dll | api-ms-win-*) ;;
	*)
		echo "build-ocr-windows: $out needs $d, which Windows does not ship; refusing" >&2
		exit 1
		;;
	esac
done
echo "build-ocr-windows: $out ($(du -h "$out" | cut -f1); DLLs: $(echo $dlls))" >&2
echo "$out"
