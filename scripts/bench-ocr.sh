#!/usr/bin/env bash
# bench-ocr.sh — ms per read (p50, p95), share read right and wrong amounts
# of the kept-alive OCR helper and, as the baseline, of the stock `tesseract`
# command, over each corpus in one run (capture/ocr BenchmarkOCR); then the
# one-shot comparison: one `scanbox amount --source ocr --image X` process
# per image against one `tesseract X stdout` process per image, alternating,
# in the same run (the shared helper's first call reported alone, a private
# helper per call beside it). Figures go in docs/ocr.md.
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
		# Three one-shot ways per image, alternating, in one run: scanbox
		# with the shared helper (the default: the first call starts it,
		# the others connect), scanbox with SCANBOX_OCR_SHARE=0 (a private
		# helper per call, as before), and the stock tesseract CLI.
		tmp=$(mktemp -d)
		go build -o "$tmp/scanbox" ./app
		go build -o "$tmp/scanbox-ocr" ./cmd/scanbox-ocr
		helper=$tmp/scanbox-ocr
		# The shared helpers of this fresh build (its endpoint is named
		# after the build, so none can be running before the first call).
		servers() { for e in /proc/[0-9]*/exe; do [[ $(readlink "$e" 2>/dev/null) == "$helper" ]] && { d=${e%/exe}; echo "${d#/proc/}"; }; done; true; }
		srvcpu() { local s=0 pid; for pid in $(servers); do s=$((s + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo $((s * 1000 / $(getconf CLK_TCK))); }
		trap 'for pid in $(servers); do kill "$pid" 2>/dev/null; done; rm -rf "$tmp"' EXIT
		running=$(servers | wc -l)
		dir=capture/ocr/testdata/screens
		mapfile -t files < <(cut -f1 "$dir/manifest.tsv" | head -n "${ONESHOT_N:-40}")
		: >"$tmp/shared" && : >"$tmp/private" && : >"$tmp/cli" && : >"$tmp/kinds"
		# Wall time per process, and its CPU time (user + system, a private
		# helper included: scanbox waits for it) from /usr/bin/time when
		# present; the shared helper's CPU is read from /proc at the end.
		tm=()
		[[ -x /usr/bin/time ]] && tm=(/usr/bin/time -a -f '%U %S')
		: >"$tmp/shared.cpu" && : >"$tmp/private.cpu" && : >"$tmp/cli.cpu"
		first_ms= first_cpu= first_srv=
		for f in "${files[@]}"; do
			t0=$(date +%s%N)
			SCANBOX_OCR=$helper ${tm[@]:+"${tm[@]}" -o "$tmp/shared.cpu"} "$tmp/scanbox" amount --source ocr --json --image "$dir/$f" 2>/dev/null >"$tmp/out" || true
			t1=$(date +%s%N)
			SCANBOX_OCR=$helper SCANBOX_OCR_SHARE=0 ${tm[@]:+"${tm[@]}" -o "$tmp/private.cpu"} "$tmp/scanbox" amount --source ocr --image "$dir/$f" >/dev/null 2>&1 || true
			t2=$(date +%s%N)
			${tm[@]:+"${tm[@]}" -o "$tmp/cli.cpu"} tesseract "$dir/$f" stdout --psm 7 -l eng >/dev/null 2>&1
			t3=$(date +%s%N)
			sed -n 's/.*"helper":"\([a-z-]*\)".*/\1/p' "$tmp/out" >>"$tmp/kinds"
			if [[ -z $first_ms ]]; then
				# The first call, alone: it starts the shared helper.
				first_ms=$(((t1 - t0) / 1000))
				first_srv=$(srvcpu)
				[[ -s $tmp/shared.cpu ]] && first_cpu=$(awk '{s += ($1 + $2) * 1000} END {printf "%.0f", s}' "$tmp/shared.cpu")
				: >"$tmp/shared.cpu"
			else
				echo $(((t1 - t0) / 1000)) >>"$tmp/shared"
			fi
			echo $(((t2 - t1) / 1000)) >>"$tmp/private"
			echo $(((t3 - t2) / 1000)) >>"$tmp/cli"
		done
		end_srv=$(srvcpu)
		p() { sort -n "$1" | awk -v q="$2" '{a[NR]=$1} END {i=int(q*(NR-1))+1; printf "%.1f", a[i]/1000}'; }
		cpu() { awk -v extra="${2:-0}" '{s += ($1 + $2) * 1000; n++} END {if (n) printf ", CPU %.0f ms per image", (s + extra) / n}' "$1"; }
		s50=$(p "$tmp/shared" 0.5) s95=$(p "$tmp/shared" 0.95) v50=$(p "$tmp/private" 0.5) v95=$(p "$tmp/private" 0.95) c50=$(p "$tmp/cli" 0.5) c95=$(p "$tmp/cli" 0.95)
		n=${#files[@]}
		echo "== oneshot ($n images, one process each, alternating; shared helpers running at the start: $running)"
		printf 'first call (starts the shared helper): %.1f ms, CPU %s ms in scanbox + %s ms in the helper (its two model loads and first read)
' \
			"$(awk -v a="$first_ms" 'BEGIN {print a / 1000}')" "${first_cpu:-?}" "$first_srv"
		echo "scanbox amount --source ocr --image, calls 2..$n (shared helper): p50 $s50 ms, p95 $s95 ms$(cpu "$tmp/shared.cpu" $((end_srv - first_srv))) (the shared helper's reads included)"
		echo "scanbox amount, SCANBOX_OCR_SHARE=0 (private helper per call): p50 $v50 ms, p95 $v95 ms$(cpu "$tmp/private.cpu")"
		echo "tesseract IMG stdout --psm 7:                                   p50 $c50 ms, p95 $c95 ms$(cpu "$tmp/cli.cpu")"
		echo "helper starts by the shared calls: $(grep -c -x shared-new "$tmp/kinds") shared, $(grep -c -x private "$tmp/kinds") private; $(grep -c -x shared "$tmp/kinds") of $n calls used a running shared helper; shared helpers running at the end: $(servers | wc -l)"
		awk -v a="$s50" -v b="$c50" 'BEGIN {printf "ratio p50 (shared scanbox calls 2..N / tesseract): %.2f\n", a/b}'
		awk -v a="$v50" -v b="$c50" 'BEGIN {printf "ratio p50 (private scanbox / tesseract): %.2f\n", a/b}'
		;;
	*)
		echo "unknown set $s" >&2
		exit 2
		;;
	esac
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
