#!/usr/bin/env bash
# gen-corpus.sh — render the OCR test corpus (capture/ocr/testdata/corpus/).
#
# Usage: capture/ocr/testdata/gen-corpus.sh   (from anywhere; rewrites corpus/)
#
# Needs ImageMagick (convert) and the Debian font packages fonts-dejavu-core,
# fonts-liberation, fonts-noto-cjk, fonts-wqy-microhei. Deterministic: the same
# fonts give the same images, so the committed PNGs can be regenerated.
#
# manifest.tsv has one line per image: file, expected amount in fen or
# "refuse" (the reader must report "cannot read"), and what was drawn.
# With an argument DIR FIRST COUNT it renders only readable images FIRST..
# FIRST+COUNT-1 of the same scheme into DIR: a held-out set, to check that
# the reader was not tuned to the committed images (docs/ocr.md).
set -euo pipefail
cd "$(dirname "$0")"
OUT=${1:-corpus}
FIRST=${2:-0}
COUNT=${3:-150}
rm -rf "$OUT"
mkdir -p "$OUT"
MAN="$OUT/manifest.tsv"
: >"$MAN"

# Fonts for the amount (15 faces, 11 families); CJK faces also draw ￥.
FONTS=(DejaVu-Sans DejaVu-Sans-Bold DejaVu-Sans-Mono DejaVu-Serif DejaVu-Sans-Condensed
	Liberation-Sans Liberation-Sans-Bold Liberation-Serif Liberation-Mono Liberation-Sans-Narrow
	Noto-Sans-CJK-SC Noto-Sans-Mono-CJK-SC Noto-Serif-CJK-SC WenQuanYi-Micro-Hei Noto-Sans-CJK-SC-Bold)
LABELFONTS=(Noto-Sans-CJK-SC WenQuanYi-Micro-Hei Noto-Serif-CJK-SC Noto-Sans-CJK-SC-Bold)
SIZES=(12 14 16 18 20 24 28 32 40 48)
# background:foreground — light, dark, coloured themes.
THEMES=("white:black" "#202020:#e0e0e0" "black:#33ff33" "#1565c0:white"
	"#fff8e1:#b71c1c" "#333333:#ffeb3b" "#2e7d32:white" "#eceff1:#0d47a1"
	"#f5f5f5:#616161" "#4a148c:#f3e5f5")
LABELS=("合计：" "应收 " "总计:" "实收 " "应付金额：" "" "TOTAL " "小计 " "金额:")

group() { # 1234567 -> 1,234,567
	local s=$1 r=""
	while ((${#s} > 3)); do
		r=",${s: -3}$r"
		s=${s:0:${#s}-3}
	done
	echo "$s$r"
}

render() { # file bg fg labelfont label font size pad text
	local f=$1 bg=$2 fg=$3 lf=$4 label=$5 font=$6 size=$7 pad=$8 text=$9
	local parts=()
	if [[ -n $label ]]; then
		parts+=(\( -font "$lf" -pointsize "$size" label:"$label" \))
	fi
	parts+=(\( -font "$font" -pointsize "$size" label:"$text" \))
	convert -background "$bg" -fill "$fg" "${parts[@]}" -gravity center +append \
		-bordercolor "$bg" -border "${pad}x$((pad / 2 + 1))" -depth 8 -colors 32 -strip "$OUT/$f"
}

n=0
for ((i = FIRST; i < FIRST + COUNT; i++)); do
	font=${FONTS[i % ${#FONTS[@]}]}
	size=${SIZES[(i * 7) % ${#SIZES[@]}]}
	theme=${THEMES[(i * 3 + i / 15) % ${#THEMES[@]}]}
	bg=${theme%%:*} fg=${theme#*:}
	label=${LABELS[(i * 5) % ${#LABELS[@]}]}
	lf=${LABELFONTS[i % ${#LABELFONTS[@]}]}
	limits=(1000 10000 100000 10000000 100000000)
	limit=${limits[i % 5]}
	fen=$(((i * 2654435761 + 97) % limit + 1))
	yuan=$((fen / 100)) cents=$(printf %02d $((fen % 100)))
	if ((i % 3 == 0)); then num="$(group $yuan).$cents"; else num="$yuan.$cents"; fi
	case $((i % 4)) in
	0) sign="¥" ;;
	1) sign="¥ " ;;
	2) if [[ $font == *CJK* || $font == WenQuanYi* ]]; then sign="￥"; else sign="¥"; fi ;;
	3) sign="" ;;
	esac
	pad=$((2 + (i * 5) % 11))
	file=$(printf "r%03d.png" $i)
	render "$file" "$bg" "$fg" "$lf" "$label" "$font" "$size" "$pad" "$sign$num"
	# 实收 (paid) labels an amount that is not the one to charge: the
	# reader must refuse it (capture/ocr/labels.go).
	want=$fen
	[[ $label == 实收* ]] && want=refuse
	printf '%s\t%s\t%s %spx %s on %s: %s%s%s\n' "$file" "$want" "$font" "$size" "$fg" "$bg" "$label" "$sign" "$num" >>"$MAN"
	[[ $want == refuse ]] || n=$((n + 1))
done

if [[ $OUT != corpus ]]; then
	echo "gen-corpus: $n readable images in $OUT" >&2
	exit 0
fi

# Images that must be refused: no amount, several amounts, garbled or
# unreadable amounts. A reader that returns any amount for these is wrong.
refuse() { # file description; image already written
	printf '%s\trefuse\t%s\n' "$1" "$2" >>"$MAN"
}
convert -size 160x40 xc:white -strip "$OUT/x01.png"
refuse x01.png "blank white"
convert -size 160x40 xc:"#202020" -strip "$OUT/x02.png"
refuse x02.png "blank dark"
render x03.png white black Noto-Sans-CJK-SC "小计 ¥12.00 " DejaVu-Sans 20 6 "合计 ¥15.00"
refuse x03.png "two amounts on one line"
convert -background white -fill black -font DejaVu-Sans -pointsize 24 label:"¥36.80" \
	\( -background none -fill black -font DejaVu-Sans -pointsize 24 label:"¥59.17" \) \
	-geometry +3+2 -composite -bordercolor white -border 6x4 -depth 8 -colors 32 -strip "$OUT/x04.png"
refuse x04.png "two amounts drawn over each other"
render x05.png white black Noto-Sans-CJK-SC "合计：" DejaVu-Sans 20 6 "¥1234"
refuse x05.png "no decimals"
render x06.png white black Noto-Sans-CJK-SC "合计：" Liberation-Sans 20 6 "¥12.5"
refuse x06.png "one decimal"
render x07.png white black Noto-Sans-CJK-SC "" Noto-Sans-CJK-SC 24 6 "合计"
refuse x07.png "label only"
convert -seed 7 -size 160x40 xc:gray +noise Random -colorspace Gray -strip "$OUT/x08.png"
refuse x08.png "random noise"
render x09.png white black Noto-Sans-CJK-SC "应收 " DejaVu-Sans 24 6 "¥86.40"
convert "$OUT/x09.png" -blur 0x4 -strip "$OUT/x09.png"
refuse x09.png "blurred beyond reading"
render x10.png white black Noto-Sans-CJK-SC "合计 " DejaVu-Sans 28 6 "¥52.30"
convert "$OUT/x10.png" -gravity north -crop 100%x45%+0+0 +repage -strip "$OUT/x10.png"
refuse x10.png "top half of the text only"
render x11.png white black Noto-Sans-CJK-SC "" DejaVu-Sans 10 2 "¥71.90"
convert "$OUT/x11.png" -resize 40% -strip "$OUT/x11.png"
refuse x11.png "4 px text"
render x12.png "#1565c0" white Noto-Sans-CJK-SC "总计 " DejaVu-Sans 20 6 "¥1,23.50"
refuse x12.png "misgrouped thousands"
render x13.png white black Noto-Sans-CJK-SC "合计：" DejaVu-Sans 20 6 "¥2,000,000.00"
refuse x13.png "above the 1,000,000.00 limit"
render x14.png white black Noto-Sans-CJK-SC "合计：" DejaVu-Sans 20 6 "¥0.00"
refuse x14.png "zero"
render x15.png "#fff8e1" "#b71c1c" Noto-Sans-CJK-SC "找零 " DejaVu-Sans 20 6 "¥12.30  ¥7.70"
refuse x15.png "two amounts, coloured"
render x16.png white black Noto-Sans-CJK-SC "合计：" DejaVu-Sans 20 6 "¥88.00"
convert "$OUT/x16.png" -trim +repage -gravity west -crop 96%x100%+0+0 +repage \
	-bordercolor white -border 6x4 -strip "$OUT/x16.png"
refuse x16.png "right part cut off (¥88.0)"
echo "gen-corpus: $n readable, $(grep -c refuse "$MAN") to refuse, $(cat "$OUT"/*.png | wc -c) bytes" >&2
