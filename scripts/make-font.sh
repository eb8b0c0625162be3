#!/bin/sh
# make-font.sh builds assets/fonts/NotoSansSC-GB2312.otf: Noto Sans CJK SC
# Regular (SIL OFL 1.1) cut down to ASCII, Latin-1 and the 7,445 characters
# of GB2312, so that the UI can show any simplified-Chinese merchant or store
# name in ~1.5 MB instead of the 19 MB collection.
#
# Needs Debian's fonts-noto-cjk and fonttools (pyftsubset). The output is a
# committed asset; run this only to change the character set.
set -eu
cd "$(dirname "$0")/.."
src=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
out=assets/fonts/NotoSansSC-GB2312.otf
list=$(mktemp)
trap 'rm -f "$list"' EXIT
# Every two-byte GB2312 code (rows 0xA1-0xF7, cells 0xA1-0xFE) that decodes.
/usr/bin/python3 - "$list" <<'PY'
import sys
chars = []
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            chars.append(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
open(sys.argv[1], "w").write(",".join("U+%04X" % ord(c) for c in sorted(set(chars))))
PY
# Font number 2 of the collection is "Noto Sans CJK SC".
pyftsubset "$src" --font-number=2 \
	--unicodes-file="$list" \
	--unicodes=U+0020-007E,U+00A0-00FF,U+2010-2027,U+2030-203A,U+20AC,U+FFE5,U+FF01-FF5E \
	--layout-features='' --no-hinting --name-IDs='*' \
	--output-file="$out"
ls -l "$out"
