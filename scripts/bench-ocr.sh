#!/usr/bin/env bash
# bench-ocr.sh — ms per read (p50, p95) of the kept-alive OCR helper and, as
# the baseline, of the stock `tesseract` command, over the whole corpus in
# one run (capture/ocr BenchmarkOCR). Figures go in docs/ocr.md.
#
# Usage: scripts/bench-ocr.sh
#   env SCANBOX_OCR_TEST_HELPER  helper argv instead of a fresh build
#                                (e.g. "/usr/lib/wine/wine64 dist/scanbox-ocr.exe")
#   env SCANBOX_OCR_TEST_TESSDATA --tessdata for that helper
set -euo pipefail
cd "$(dirname "$0")/.."
n=$(wc -l <capture/ocr/testdata/corpus/manifest.tsv)
export OMP_THREAD_LIMIT=1
go test -run '^$' -bench '^BenchmarkOCR$' -benchtime "${n}x" -count 1 ./capture/ocr
