#!/bin/sh
# make-voice.sh generates the voice clips in assets/voice/ with espeak-ng's
# Mandarin voice. The clips are fed pinyin with tone numbers, because the
# cmn-latn-pinyin voice reads pinyin correctly while Chinese characters make
# espeak-ng fall back to English letter names.
#
# Output: mono, 11025 Hz, 16-bit PCM WAV with leading and trailing silence
# trimmed, so that a sentence joined from clips sounds continuous and the
# committed assets stay small. A shop may replace them with recordings: put
# WAV files with the same names in a folder and point the voice setting at it.
#
# Needs Debian's espeak-ng and sox. The clip names are the ones voice/clips.go
# uses; voice's tests fail if one is missing.
set -eu
cd "$(dirname "$0")/.."
out=assets/voice
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
while read -r name pinyin; do
	[ -n "$name" ] || continue
	espeak-ng -v cmn-latn-pinyin -s 165 -w "$tmp/$name.wav" "$pinyin"
	sox "$tmp/$name.wav" -r 11025 -c 1 -b 16 -e signed-integer "$out/$name.wav" \
		gain -n -1 silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse pad 0 0.04
done <<'LIST'
digit_0 ling2
digit_1 yi1
digit_2 er4
digit_3 san1
digit_4 si4
digit_5 wu3
digit_6 liu4
digit_7 qi1
digit_8 ba1
digit_9 jiu3
ten shi2
hundred bai3
thousand qian1
wan wan4
yi yi4
point dian3
yuan yuan2
wechat wei1 xin4
alipay zhi1 fu4 bao3
unionpay yun2 shan3 fu4
ecny shu4 zi4 ren2 min2 bi4
received shou1 kuan3
paid_ok shou1 kuan3 cheng2 gong1
enter_password qing3 shu1 ru4 mi4 ma3
pay_failed zhi1 fu4 shi1 bai4
revoked yi3 che4 xiao1
cancelled yi3 qu3 xiao1
refund tui4 kuan3
success cheng2 gong1
LIST
du -ch "$out"/*.wav | tail -1
