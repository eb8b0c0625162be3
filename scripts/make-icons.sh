#!/bin/sh
# make-icons.sh draws the tray icons in assets/icons/ with ImageMagick: a
# rounded square whose colour is the state (green ready, blue waiting for the
# payer, orange needs attention, grey offline) with a white yen sign, plus a
# badge for the states that are not "ready", so the state reads without colour.
set -eu
cd "$(dirname "$0")/.."
out=assets/icons
mkdir -p "$out"
draw() { # name colour badge
	# eval: the badge is a list of quoted ImageMagick arguments.
	eval convert -size 64x64 xc:none -fill "'$2'" -draw "'roundrectangle 1,1 62,62 14,14'" \
		-fill white -font DejaVu-Sans-Bold -pointsize 46 -gravity center -annotate +0+1 "'¥'" \
		-gravity northwest "$3" -strip "PNG32:$out/$1.png"
}
draw ready '#1a9c3c' ''
draw waiting '#1f6fd1' "-fill white -draw 'circle 52,52 52,43' -fill '#1f6fd1' -draw 'rectangle 51,46 53,53' -draw 'rectangle 51,51 57,53'"
draw attention '#e07000' "-fill white -draw 'circle 52,52 52,42' -fill '#e07000' -draw 'rectangle 50,45 54,54' -draw 'rectangle 50,57 54,59'"
draw offline '#7a7a7a' "-stroke white -strokewidth 5 -draw 'line 8,56 56,8'"
cp "$out/ready.png" "$out/app.png"
ls -l "$out"
