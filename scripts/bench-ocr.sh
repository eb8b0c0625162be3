#!/usr/bin/env bash
# bench-ocr.sh — ms per read (p50, p95), share read right and wrong amounts
# of the kept-alive OCR helper and, as the baseline, of the stock `tesseract`
# command, over each corpus in one run (capture/ocr BenchmarkOCR); then the
# one-shot comparison: one `scanbox amount --source ocr --image X` process
# per image against one `tesseract X stdout` process per image, alternating,
# in the same run. Figures go in docs/ocr.md.
#
# Usage: scripts/bench-ocr.sh [corpus|screens|oneshot]...   (default: all three)
#   env SCANBOX_OCR_TEST_HELPER  helper argv instead of a fresh build
#                                (e.g. "/usr/lib/wine/wine64 dist/scanbox-ocr.exe")
#   env SCANBOX_OCR_TEST_TESSDATA --tessdata for that helper
#   env ONESHOT_N                images in the one-shot comparison (default 40)
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_THREAD_LIMIT=1
sets=("$@")
((${#sets[@]})) || sets=(corpus screens oneshot)
# nproc --all: plain nproc obeys OMP_THREAD_LIMIT and would say 1.
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc --all) cores"
for s in "${sets[@]}"; do
	case $s in
	corpus | screens)
		dir=$PWD/capture/ocr/testdata/$s
		n=$(wc -l <"$dir/manifest.tsv")
		echo "== $s ($n images)"
		SCANBOX_OCR_CORPUS=$dir go test -run '^$' -bench '^BenchmarkOCR$' -benchtime "${n}x" -count 1 ./capture/ocr | grep -E '^Benchmark|^ok|FAIL'
		;;
	oneshot)
		tmp=$(mktemp -d)
		trap 'rm -rf "$tmp"' EXIT
		go build -o "$tmp/scanbox" ./app
		go build -o "$tmp/scanbox-ocr" ./cmd/scanbox-ocr
		dir=capture/ocr/testdata/screens
		mapfile -t files < <(cut -f1 "$dir/manifest.tsv" | head -n "${ONESHOT_N:-40}")
		: >"$tmp/ours" && : >"$tmp/cli"
		# Wall time per process, and its CPU time (user + system, the helper
		# included: scanbox waits for it) from /usr/bin/time when present.
		tm=()
		[[ -x /usr/bin/time ]] && tm=(/usr/bin/time -a -f '%U %S')
		: >"$tmp/ours.cpu" && : >"$tmp/cli.cpu"
		for f in "${files[@]}"; do
			t0=$(date +%s%N)
			SCANBOX_OCR=$tmp/scanbox-ocr ${tm[@]:+"${tm[@]}" -o "$tmp/ours.cpu"} "$tmp/scanbox" amount --source ocr --image "$dir/$f" >/dev/null 2>&1 || true
			t1=$(date +%s%N)
			${tm[@]:+"${tm[@]}" -o "$tmp/cli.cpu"} tesseract "$dir/$f" stdout --psm 7 -l eng >/dev/null 2>&1
			t2=$(date +%s%N)
			echo $(((t1 - t0) / 1000)) >>"$tmp/ours"
			echo $(((t2 - t1) / 1000)) >>"$tmp/cli"
		done
		p() { sort -n "$1" | awk -v q="$2" '{a[NR]=$1} END {i=int(q*(NR-1))+1; printf "%.1f", a[i]/1000}'; }
		cpu() { awk '{s += ($1 + $2) * 1000; n++} END {if (n) printf ", CPU %.0f ms per image", s / n}' "$1"; }
		o50=$(p "$tmp/ours" 0.5) o95=$(p "$tmp/ours" 0.95) c50=$(p "$tmp/cli" 0.5) c95=$(p "$tmp/cli" 0.95)
		echo "== oneshot (${#files[@]} images, one process each, alternating)"
		echo "scanbox amount --source ocr --image: p50 $o50 ms, p95 $o95 ms$(cpu "$tmp/ours.cpu")"
		echo "tesseract IMG stdout --psm 7:        p50 $c50 ms, p95 $c95 ms$(cpu "$tmp/cli.cpu")"
		awk -v a="$o50" -v b="$c50" 'BEGIN {printf "ratio p50 (scanbox / tesseract): %.2f\n", a/b}'
		;;
	*)
		echo "unknown set $s" >&2
		exit 2
		;;
	esac
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
