#!/usr/bin/env bash
# test-ocr-wine.sh — show that the Windows scanbox-ocr.exe (static Tesseract,
# scripts/build-ocr-windows.sh) reads the OCR corpus correctly under Wine:
# runs capture/ocr's corpus and helper tests with the .exe as the helper,
# and the benchmark with it (ms per read under Wine).
#
# Usage: scripts/test-ocr-wine.sh [scanbox-ocr.exe]   (default: build one now)
#
# Needs wine64 (Debian: apt-get install -y wine wine64) and mingw-w64 for the
# test-only ProcessPrng stub: Go ≥1.24 programs need bcryptprimitives.dll,
# which Wine 8 lacks. The stub's source is the release engineer's
# installer/wine/; it goes into this script's throw-away WINEPREFIX only and
# is never shipped.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
wine64=$(command -v wine64 || echo /usr/lib/wine/wine64)
[[ -x $wine64 ]] || { echo "test-ocr-wine: wine64 is missing (apt-get install -y wine wine64)" >&2; exit 2; }
command -v x86_64-w64-mingw32-gcc >/dev/null || { echo "test-ocr-wine: x86_64-w64-mingw32-gcc is missing (apt-get install -y gcc-mingw-w64-x86-64)" >&2; exit 2; }
tessdata=/usr/share/tesseract-ocr/5/tessdata
[[ -f $tessdata/eng.traineddata ]] || { echo "test-ocr-wine: $tessdata/eng.traineddata is missing (apt-get install -y tesseract-ocr-eng)" >&2; exit 2; }
[[ -f $tessdata/chi_sim.traineddata ]] || { echo "test-ocr-wine: $tessdata/chi_sim.traineddata is missing (apt-get install -y tesseract-ocr-chi-sim)" >&2; exit 2; }

work=$(mktemp -d /tmp/scanbox-ocr-wine.XXXXXX)
trap 'WINEPREFIX=$work/prefix "$(dirname "$wine64")/wineserver" -k 2>/dev/null || true; rm -rf "$work"' EXIT

exe=${1:-}
if [[ -z $exe ]]; then
	exe=$("$root/scripts/build-ocr-windows.sh" "$work/scanbox-ocr.exe")
fi
exe=$(cd "$(dirname "$exe")" && pwd)/$(basename "$exe")

wine_root=$root
. "$root/installer/wine/prefix.sh"
wine_prefix "$work" || exit 1

export SCANBOX_OCR_TEST_HELPER="$wine64 $exe"
export SCANBOX_OCR_TEST_TESSDATA="Z:${tessdata//\//\\}"
export OMP_THREAD_LIMIT=1
cd "$root"
echo "test-ocr-wine: helper $SCANBOX_OCR_TEST_HELPER, tessdata $SCANBOX_OCR_TEST_TESSDATA" >&2
echo "== corpus tests, Windows helper under Wine; load $(cut -d' ' -f1-3 /proc/loadavg)"
go test -count 1 -v -run 'TestCorpus|TestScreenCorpus|TestRealHelper' ./capture/ocr 2>&1 | grep -E '^(=== RUN|--- |ok|FAIL|PASS)|corpus |helper |WRONG|: refused: '
for set in corpus screens; do
	dir=$root/capture/ocr/testdata/$set
	n=$(wc -l <"$dir/manifest.tsv")
	echo "== benchmark, $set ($n images), Windows helper under Wine; load $(cut -d' ' -f1-3 /proc/loadavg)"
	SCANBOX_OCR_CORPUS=$dir go test -run '^$' -bench '^BenchmarkOCR$/helper' -benchtime "${n}x" -count 1 ./capture/ocr | grep -E 'Benchmark|ok'
done
