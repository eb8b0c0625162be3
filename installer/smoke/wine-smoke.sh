#!/usr/bin/env bash
# wine-smoke.sh — end-to-end smoke test of the Windows release under Wine 8.
#
#   installer/smoke/wine-smoke.sh [DIST]        (default DIST=dist, from `make release`)
#
# In a throw-away WINEPREFIX under Xvfb it: installs the MSI silently with
# provisioning properties and checks files, Start-menu shortcut, logon entry
# and that the activation code was consumed (not left in clear); runs
# scanbox.exe activate / pay (payer behaviours chosen by the code's last
# digit, plus one forced fault on a second simulator) / orders --json against
# the Linux-native `scanbox banksim` on 127.0.0.1 and checks the JSON and the
# bank's ledger; reads OCR corpus images through scanbox-ocr.exe; starts the
# tray app and takes a screenshot; performs one real update from the fleet
# (see the section "a real update from the fleet": a major upgrade to a
# test-key build with FLEET_URL/FLEET_CODE/MAX_PAYMENT, enrolment, a signed
# release from a Linux-native scanbox-fleet, the SYSTEM task's command
# line); uninstalls and checks that the program and the task are gone and
# %ProgramData%\ScanBox is kept.
#
# It installs nothing: when a tool is missing it says which and which Debian
# package brings it, and exits 2. Environment:
#   SCANBOX_LINUX    Linux scanbox binary for `banksim` (default: go build ./app)
#   SMOKE_KEEP=1     keep the work directory (prefix, logs, screenshot)
#   SMOKE_DISPLAY=:N the Xvfb display to start (default: the first free of :90-:130)
#   SMOKE_SHOTS=DIR  copy the screenshots there (wine-tray.png, wine-pay-window.png)
#
# Wine differences it knows about (none of them is ScanBox's doing):
#   - Go ≥1.24 programs need ProcessPrng from bcryptprimitives.dll, which
#     Wine 8 lacks: a stub built from installer/wine/ goes into this
#     prefix's system32 only. It is never shipped.
#   - Wine's msi puts ProgramMenuFolder in the user's Start menu even for
#     ALLUSERS=1 packages (Windows uses the all-users one); both are accepted.
#   - Wine's msi ignores MsiHiddenProperties, so no verbose MSI log is taken
#     while the activation code is on the command line.
#   - go.bug.st/serial reads hang under Wine 8: serial is not tested here.
#   - Wine does not run scheduled tasks: the update task's command line is
#     read back from the registered task and run by this script.
#   - Wine's WinVerifyTrust finds and checks an MSI's Authenticode signature
#     (an unsigned MSI is refused) but does not insist on a trusted root, so
#     the throw-away CA need not be imported into the prefix.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dist=$(cd "${1:-$root/dist}" 2>/dev/null && pwd) || { echo "wine-smoke: no release directory ${1:-$root/dist} (run make release)" >&2; exit 2; }

# ---- requirements: say precisely what is missing, install nothing ----------
missing=()
need() { # need TOOL PACKAGE
	command -v "$1" >/dev/null 2>&1 || missing+=("$1 (apt-get install -y $2)")
}
WINE64=$(command -v wine64 || echo /usr/lib/wine/wine64)
[[ -x $WINE64 ]] || missing+=("wine64 (apt-get install -y wine wine64)")
need wineserver wine
need Xvfb xvfb
need import imagemagick
need identify imagemagick
need x86_64-w64-mingw32-gcc gcc-mingw-w64-x86-64
need jq jq
need curl curl
need osslsigncode osslsigncode
need openssl openssl
need go "Go from go.mod"
for f in scanbox.exe scanbox-ocr.exe; do
	[[ -f $dist/$f ]] || missing+=("$dist/$f (make release)")
done
msi=$(ls "$dist"/ScanBox-*-x64.msi 2>/dev/null | sort -V | tail -1)
[[ -n $msi ]] || missing+=("$dist/ScanBox-<version>-x64.msi (make release)")
if ((${#missing[@]})); then
	echo "wine-smoke: cannot run, missing:" >&2
	printf '  - %s\n' "${missing[@]}" >&2
	exit 2
fi

# ---- harness ----------------------------------------------------------------
work=$(mktemp -d /tmp/scanbox-wine-smoke.XXXXXX)
pids=()
cleanup() {
	local rc=$?
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	WINEPREFIX=$work/prefix wineserver -k 2>/dev/null
	if [[ ${SMOKE_KEEP:-} == 1 || $rc != 0 ]]; then
		echo "wine-smoke: work directory kept: $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  ok   $*"; }
bad() { fail=$((fail + 1)); echo "  FAIL $*"; }
# jqe [ARGS] FILTER <<<JSON: true only when JSON is there and FILTER holds
# (jq 1.6 -e exits 0 on empty input, which would pass a check vacuously).
jqe() {
	local in
	in=$(cat)
	[[ -n ${in//[[:space:]]/} ]] || return 1
	jq -e "$@" <<<"$in" >/dev/null 2>&1
}
check() { # check DESCRIPTION CMD...
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
section() { echo "== $* ($(date +%T))"; }

export WINEPREFIX=$work/prefix WINEARCH=win64 WINEDEBUG=-all
# No Mono/Gecko prompts, no desktop entries in the user's real $HOME.
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d;bcryptprimitives=n"
wine() { timeout "${WINE_TIMEOUT:-120}" "$WINE64" "$@"; }
winpath() { echo "Z:${1//\//\\}"; }

# ---- Xvfb, prefix, stub DLL ---------------------------------------------------
section "prefix"
disp=${SMOKE_DISPLAY:-}
for n in $(seq 90 130); do
	[[ -n $disp ]] && break
	[[ -e /tmp/.X11-unix/X$n || -e /tmp/.X$n-lock ]] || { disp=:$n; break; }
done
Xvfb "$disp" -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
pids+=($!)
export DISPLAY=$disp
for _ in $(seq 50); do [[ -e /tmp/.X11-unix/X${disp#:} ]] && break; sleep 0.1; done

x86_64-w64-mingw32-gcc -O2 -shared -s -o "$work/bcryptprimitives.dll" \
	"$root/installer/wine/bcryptprimitives.c" "$root/installer/wine/bcryptprimitives.def" -lbcrypt ||
	{ echo "wine-smoke: cannot build the ProcessPrng stub" >&2; exit 1; }
wine wineboot -i >"$work/wineboot.log" 2>&1
WINEPREFIX=$WINEPREFIX wineserver -w
sys32=$WINEPREFIX/drive_c/windows/system32
cp "$work/bcryptprimitives.dll" "$sys32/bcryptprimitives.dll"
check "prefix created, stub bcryptprimitives.dll in its system32 only" test -f "$sys32/bcryptprimitives.dll"

# ---- simulators (Linux-native scanbox banksim on loopback) --------------------
section "simulators"
linux=${SCANBOX_LINUX:-}
if [[ -z $linux ]]; then
	linux=$work/scanbox-linux
	(cd "$root" && go build -o "$linux" ./app) || { echo "wine-smoke: cannot build the Linux scanbox for banksim" >&2; exit 1; }
fi
CODE="SMOKE-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
MCH=100000001 TERM_ID=T0001
start_sim() { # start_sim NAME EXTRA_FLAGS... ; sets ${NAME}_base and ${NAME}_root
	local name=$1
	shift
	local out=$work/sim-$name.out
	"$linux" banksim --addr 127.0.0.1:0 --mch "$MCH" --terminal "$TERM_ID" --activation-code "$CODE" \
		--password-delay 1s "$@" >"$out" 2>"$work/sim-$name.err" &
	pids+=($!)
	for _ in $(seq 100); do grep -q '^base URL ' "$out" 2>/dev/null && break; sleep 0.1; done
	local listen base
	listen=$(sed -n 's/^listening on //p' "$out" | head -1)
	base=$(sed -n 's/^base URL //p' "$out" | head -1)
	[[ $listen == http://127.0.0.1:* && -n $base ]] || { echo "wine-smoke: banksim $name did not start: $(cat "$out" "$work/sim-$name.err")" >&2; exit 1; }
	printf -v "${name}_base" %s "$base"
	printf -v "${name}_root" %s "$listen"
}
start_sim good
start_sim faulty --fault-rate 1 --faults forged_success
ok "banksim good at $good_base, faulty (every answer forged) at $faulty_base"

# ---- install ------------------------------------------------------------------
section "install $(basename "$msi")"
pf="$WINEPREFIX/drive_c/Program Files/ScanBox"
data="$WINEPREFIX/drive_c/ProgramData/ScanBox"
wine msiexec /i "$(winpath "$msi")" /qn BANK_URL="$good_base" MCH_ID="$MCH" TERMINAL_ID="$TERM_ID" ACTIVATION_CODE="$CODE" >"$work/msiexec-i.log" 2>&1
rc=$?
check "msiexec /i /qn with provisioning properties exits 0 (got $rc)" test "$rc" = 0
for f in scanbox.exe scanbox-ocr.exe tessdata/eng.traineddata tessdata/chi_sim.traineddata; do
	check "installed $f" test -s "$pf/$f"
done
want_clips=$(find "$root/assets/voice" -type f ! -name '.*' | wc -l)
got_clips=$(find "$pf/voice" -type f 2>/dev/null | wc -l)
check "installed $got_clips voice clips (assets/voice has $want_clips)" test "$got_clips" = "$want_clips" -a "$want_clips" -gt 0
check "installed scanbox.exe is the release's" cmp -s "$dist/scanbox.exe" "$pf/scanbox.exe"

lnk=""
for d in "$WINEPREFIX/drive_c/ProgramData/Microsoft/Windows/Start Menu/Programs" \
	"$WINEPREFIX"/drive_c/users/*/AppData/Roaming/Microsoft/Windows/Start\ Menu/Programs; do
	[[ -f $d/ScanBox.lnk ]] && { lnk=$d/ScanBox.lnk; break; }
done
check "Start-menu shortcut ScanBox.lnk (${lnk#"$WINEPREFIX/"})" test -n "$lnk"
[[ -n $lnk ]] && check "shortcut points at scanbox.exe" grep -aqi 'scanbox.exe' "$lnk"

reg() { wine reg query "$@" 2>/dev/null | tr -d '\r'; }
run=$(reg 'HKLM\Software\Microsoft\Windows\CurrentVersion\Run' /v ScanBox)
check "logon entry HKLM\\...\\Run\\ScanBox = \"C:\\Program Files\\ScanBox\\scanbox.exe\"" \
	grep -qF '"C:\Program Files\ScanBox\scanbox.exe"' <<<"$run"
prov=$(reg 'HKLM\Software\ScanBox\Provisioning' /s)
check "provisioning registry key consumed by firstrun (gone after install)" test -z "$(grep -F "$CODE" <<<"$prov")"
check "data directory %ProgramData%\\ScanBox created by firstrun" test -d "$data"
absent() { # absent TEXT FILE_OR_DIR...: all exist, none contains TEXT
	local f
	for f in "${@:2}"; do [[ -e $f ]] || return 1; done
	! grep -rqF "$1" "${@:2}"
}
check "activation code not in clear anywhere in the data directory" absent "$CODE" "$data"
WINEPREFIX=$WINEPREFIX wineserver -w
check "activation code not in clear in the registry hives" absent "$CODE" "$WINEPREFIX/system.reg" "$WINEPREFIX/user.reg"
check "bank URL, merchant and terminal kept in the data directory" sh -c 'grep -rqF "$1" "$3" && grep -rqF "$2" "$3"' _ "$TERM_ID" "$good_base" "$data"

# ---- headless commands under wine -----------------------------------------------
section "activate / pay / orders under wine"
exe="$pf/scanbox.exe"
sbx() { wine "$exe" "$@" 2>>"$work/scanbox.err"; }

msiver=$(basename "$msi" | sed 's/^ScanBox-\(.*\)-x64\.msi$/\1/')
out=$(sbx version)
check "scanbox.exe version prints the stamped version $msiver (got: $out)" test "$out" = "ScanBox $msiver"

# First start: what the tray app does when it finds the installer's pending
# provisioning (scanbox firstrun --activate runs the same function).
out=$(sbx firstrun --activate)
rc=$?
check "first start activates the pending provisioning: exit 0 (got $rc)" test "$rc" = 0
check "first start prints merchant_name and store_name ($out)" \
	jqe '(.merchant_name|length>0) and (.store_name|length>0)' <<<"$out"
check "first start leaves an activated configuration, no pending provisioning" \
	jqe --arg u "$good_base" '.bank_url == $u and (.pending_activation // {} | length == 0)' <<<"$(cat "$data/config.json" 2>/dev/null)"
check "the used activation code is gone" test ! -e "$data/activation.pending"
check "the signing key is stored" test -s "$data/signing.key"

pace=(--poll-interval 200ms --poll-timeout 4s --http-timeout 3s)
# code -> expected state, exit code and channel; the simulator picks the payer
# by the code's last digit: 0-3 pays at once, 4-5 types a password first,
# 6 never confirms (closed), 7 confirms only as we close (revoked),
# 8 has too little money, 9 shows an expired code.
codes=(134567890123456780 284567890123456781 134567890123456784 134567890123456786 134567890123456787 134567890123456788 134567890123456789)
declare -A want_state=([134567890123456780]=paid [284567890123456781]=paid [134567890123456784]=paid
	[134567890123456786]=closed [134567890123456787]=revoked [134567890123456788]=failed [134567890123456789]=failed)
declare -A want_rc=([134567890123456780]=0 [284567890123456781]=0 [134567890123456784]=0
	[134567890123456786]=1 [134567890123456787]=1 [134567890123456788]=1 [134567890123456789]=1)
declare -A want_channel=([134567890123456780]=WECHAT [284567890123456781]=ALIPAY [134567890123456784]=WECHAT)
declare -A trade
for c in "${codes[@]}"; do
	out=$(sbx pay --amount 12.34 --code "$c" --json "${pace[@]}")
	rc=$?
	st=$(jq -r .state <<<"$out" 2>/dev/null)
	trade[$c]=$(jq -r .out_trade_no <<<"$out" 2>/dev/null)
	check "pay code ...${c: -4}: state ${want_state[$c]}, exit ${want_rc[$c]} (got $st, $rc)" \
		test "$st" = "${want_state[$c]}" -a "$rc" = "${want_rc[$c]}"
	check "pay code ...${c: -4}: amount_fen 1234 and an out_trade_no in the JSON" \
		jqe '.amount_fen == 1234 and (.out_trade_no | length >= 6)' <<<"$out"
	if [[ -n ${want_channel[$c]:-} ]]; then
		check "pay code ...${c: -4}: channel ${want_channel[$c]} and a transaction_id" \
			jqe --arg ch "${want_channel[$c]}" '.channel == $ch and (.transaction_id | length > 0)' <<<"$out"
	fi
done
ledger=$(curl -fsS "$good_root/_sim/ledger")
check "bank charged each paying code exactly once, the refused ones never" \
	jqe '.paid_count_by_code as $p | ($p["134567890123456780"] == 1) and ($p["284567890123456781"] == 1) and ($p["134567890123456784"] == 1) and (($p["134567890123456788"] // 0) == 0) and (($p["134567890123456786"] // 0) == 0)' <<<"$ledger"

orders=$(sbx orders --json)
rc=$?
check "orders --json exits 0 (got $rc) with the ${#codes[@]} orders" jqe "type == \"array\" and length == ${#codes[@]}" <<<"$orders"
for c in "${codes[@]}"; do
	check "orders: ${trade[$c]} is ${want_state[$c]}" \
		jqe --arg no "${trade[$c]}" --arg st "${want_state[$c]}" 'map(select(.out_trade_no == $no))[0].state == $st' <<<"$orders"
done
check "orders are newest first" jqe --arg first "${trade[${codes[-1]}]}" '.[0].out_trade_no == $first' <<<"$orders"
check "orders carry amount_fen, channel, created_at (RFC 3339), code_masked" \
	jqe 'all(.[]; (.amount_fen == 1234) and has("channel") and (.created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}")) and (.code_masked | length > 0))' <<<"$orders"
no_full_code() { ! grep -qE '(13|28)45678901234567[0-9]{2}' <<<"$1"; }
check "no full payment code in orders --json" no_full_code "$orders"

# One forced fault: every answer of the second simulator is a forged SUCCESS
# signed with the wrong key. A forged answer is never a result: the order must
# end unknown (exit 3), never paid, and the bank must have charged nothing.
fdir=$(winpath "$work/faulty-data")
out=$(sbx activate --data-dir "$fdir" --url "$faulty_base" --mch "$MCH" --terminal "$TERM_ID" --code "$CODE")
rc=$?
check "activate (explicit flags, second terminal data directory) exits 0 (got $rc)" test "$rc" = 0
check "activate prints merchant_name and store_name ($out)" \
	jqe '(.merchant_name|length>0) and (.store_name|length>0)' <<<"$out"
out=$(sbx pay --data-dir "$fdir" --amount 5.00 --code 134567890123456780 --json "${pace[@]}")
rc=$?
check "forged bank answers: pay ends unknown with exit 3, never paid (got $(jq -r .state <<<"$out" 2>/dev/null), $rc)" \
	test "$(jq -r .state <<<"$out" 2>/dev/null)" = unknown -a "$rc" = 3
check "forged bank answers: the simulator charged nothing" \
	jqe '(.paid_count_by_code // {}) | length == 0' <<<"$(curl -fsS "$faulty_root/_sim/ledger")"
check "forged bank answers: orders --json lists the order as unknown" \
	jqe 'length == 1 and .[0].state == "unknown"' <<<"$(sbx orders --data-dir "$fdir" --json)"

# ---- OCR helper -------------------------------------------------------------------
section "OCR through scanbox-ocr.exe"
corpus=$root/capture/ocr/testdata/corpus
if [[ -f $corpus/manifest.tsv ]]; then
	# manifest.tsv: file, expected fen or "refuse", what was drawn. Four
	# readable images are enough to show the helper, its static Tesseract and
	# the shipped eng.traineddata work under Windows; the corpus test covers
	# accuracy on Linux.
	n=0
	while IFS=$'\t' read -r img fen _; do
		[[ $fen =~ ^[0-9]+$ ]] || continue
		n=$((n + 1))
		((n > 4)) && break
		out=$(OMP_THREAD_LIMIT=1 sbx amount --source ocr --image "$(winpath "$corpus/$img")" --json)
		check "OCR $img -> $fen fen through scanbox-ocr.exe (got $(jq -r .amount_fen <<<"$out" 2>/dev/null))" \
			jqe --argjson f "$fen" '.amount_fen == $f' <<<"$out"
	done <"$corpus/manifest.tsv"
else
	bad "no OCR corpus manifest at ${corpus#"$root/"}/manifest.tsv: OCR under wine not tested"
fi

# ---- GUI ----------------------------------------------------------------------------
section "tray app screenshot"
shot=$work/tray.png
# A Wine virtual desktop named "shell" has a taskbar, so the tray icon has
# a notification area to live in under Xvfb (no window manager here).
WINE_TIMEOUT=300 wine explorer /desktop=shell,1280x800 "$exe" >"$work/gui.log" 2>&1 &
gui=$!
pids+=($gui)
sleep "${SMOKE_GUI_WAIT:-25}"
# The tray's own process: its command line is the exe path alone (Wine shows
# it as given), unlike explorer's and the wine loader's, which carry it as an
# argument.
tray_alive() { ps -eo args | grep -E '(ScanBox[/\\]scanbox\.exe)$' | grep -vqE 'explorer|wine64|timeout'; }
check "tray app still running after ${SMOKE_GUI_WAIT:-25}s (no crash at start)" tray_alive
import -window root "$shot"
check "screenshot taken" test -s "$shot"
sd=$(identify -format '%[fx:standard_deviation]' "$shot" 2>/dev/null || echo 0)
check "screenshot is not a blank screen (std dev $sd)" awk -v s="$sd" 'BEGIN{exit !(s > 0.02)}'
kill "$gui" 2>/dev/null
WINEPREFIX=$WINEPREFIX wineserver -k
sleep 1

# The pay window, as `scanbox demo` opens it (its own loopback simulator and
# a throw-away data directory): the fyne UI with its CJK font, under Windows.
paywin=$work/pay-window.png
WINE_TIMEOUT=300 wine explorer /desktop=shell,1280x800 "$exe" demo >"$work/demo.log" 2>&1 &
gui=$!
pids+=($gui)
for _ in $(seq 60); do grep -q '^Activated' "$work/demo.log" 2>/dev/null && break; sleep 1; done
sleep "${SMOKE_GUI_WAIT:-10}"
check "scanbox demo started its simulator and activated under wine" grep -q '^Activated' "$work/demo.log"
import -window root "$paywin"
sd=$(identify -format '%[fx:standard_deviation]' "$paywin" 2>/dev/null || echo 0)
check "pay window screenshot is not a blank screen (std dev $sd)" awk -v s="$sd" 'BEGIN{exit !(s > 0.05)}'
if [[ -n ${SMOKE_SHOTS:-} ]]; then
	mkdir -p "$SMOKE_SHOTS" && cp "$shot" "$SMOKE_SHOTS/wine-tray.png" && cp "$paywin" "$SMOKE_SHOTS/wine-pay-window.png"
fi
kill "$gui" 2>/dev/null
WINEPREFIX=$WINEPREFIX wineserver -k
sleep 1

# ---- a real update from the fleet ----------------------------------------------------
# Old MSI installed -> a Linux-native `scanbox-fleet serve` on loopback offers
# a newer MSI signed with a throw-away release key -> the installed plug-in
# downloads, verifies, stages and hands it over -> the SYSTEM task's command
# installs it -> new version installed, data kept, version reported.
#
# The pair of MSIs is built here, in this run's work directory, with the
# throw-away key linked in (release tool -release-key): a TEST build, never
# the release. The release in $dist is built without this key (checked
# below), and the test builds are deleted with the work directory.
section "update from the fleet: build the test-key pair"
ver=$(basename "$msi" | sed 's/^ScanBox-\(.*\)-x64\.msi$/\1/')
IFS=. read -r ma mi pa <<<"$ver"
oldv=$ma.$mi.$((pa + 1)) newv=$ma.$mi.$((pa + 2))
fleetbin=$work/scanbox-fleet
(cd "$root" && go build -o "$fleetbin" ./cmd/scanbox-fleet) || { echo "wine-smoke: cannot build scanbox-fleet" >&2; exit 1; }
"$fleetbin" keygen --out "$work/release-key" >"$work/keygen.out" 2>&1
testpub=$(cat "$work/release-key/release.pub" 2>/dev/null)
check "throw-away release key made (scanbox-fleet keygen)" test -n "$testpub"
# Authenticode for the test builds: the caller's signer (CI's throw-away CA)
# or one made here. The agent refuses an unsigned MSI (WinVerifyTrust).
if [[ -z ${SCANBOX_SIGN_PKCS12:-}${SCANBOX_SIGN_CERT:-} ]]; then
	eval "$(bash "$root/installer/sign/test-cert.sh" "$work/certs")"
fi
build_test_release() { # build_test_release VERSION: $work/rel-VERSION/{scanbox.exe,MSI}
	local v=$1 out=$work/rel-$1
	mkdir -p "$out" && cp "$dist/scanbox-ocr.exe" "$out/" &&
		(cd "$root" && go run ./installer/cmd/release -out "$out" -steps exe,msi -version "$v" \
			-release-key "$work/release-key/release.pub") >"$work/release-$v.log" 2>&1
}
t0=$(date +%s)
build_test_release "$oldv"
rc_old=$?
build_test_release "$newv"
rc_new=$?
oldmsi=$work/rel-$oldv/ScanBox-$oldv-x64.msi newmsi=$work/rel-$newv/ScanBox-$newv-x64.msi
check "test builds $oldv and $newv (relink + MSI each, $(($(date +%s) - t0)) s)" test "$rc_old" = 0 -a "$rc_new" = 0 -a -s "$oldmsi" -a -s "$newmsi"
check "the test builds carry the throw-away release key" grep -qaF "$testpub" "$work/rel-$oldv/scanbox.exe"
check "the release in $dist does not carry it" sh -c '! grep -qaF "$1" "$2"' _ "$testpub" "$dist/scanbox.exe"

section "update from the fleet: scanbox-fleet serve on loopback"
fdata=$work/fleet-data
"$fleetbin" serve --addr 127.0.0.1:0 --data-dir "$fdata" >"$work/fleet.out" 2>"$work/fleet.err" &
pids+=($!)
for _ in $(seq 100); do grep -q '^listening on ' "$work/fleet.out" 2>/dev/null && break; sleep 0.1; done
fleet_url=$(sed -n 's/^listening on //p' "$work/fleet.out" | head -1)
check "scanbox-fleet serve listening ($fleet_url)" test -n "$fleet_url"
fl() { "$fleetbin" "$@" --data-dir "$fdata"; }
head -c 18 /dev/urandom | base64 | fl user add --name smoke --role admin >/dev/null 2>>"$work/fleet.err"
token=$(fl token --user smoke 2>>"$work/fleet.err")
enrol=$(fl enrollment-code 2>>"$work/fleet.err" | head -1)
check "staff token and an enrollment code" test -n "$token" -a -n "$enrol"
"$fleetbin" release sign --key "$work/release-key/release.key" --msi "$newmsi" --version "$newv" --out "$work/manifest-$newv.json" >"$work/sign.out" 2>&1
rc=$?
fl release publish --manifest "$work/manifest-$newv.json" --msi "$newmsi" --cohort 100 \
	--release-pub "$work/release-key/release.pub" >"$work/publish.out" 2>&1
check "release $newv signed with the throw-away key and published to 100 % (sign $rc, publish $?)" test "$rc" = 0 -a -s "$work/manifest-$newv.json"
terminal() { # terminal JQ_FILTER: our terminal in GET /api/v1/terminals passes it
	curl -fsS -H "Authorization: Bearer $token" "$fleet_url/api/v1/terminals" |
		jqe --arg t "$TERM_ID" "map(select(.terminal_id == \$t)) | length == 1 and (.[0] | $1)"
}

section "update from the fleet: install $oldv with FLEET_URL, FLEET_CODE, MAX_PAYMENT"
journal_before=$(find "$data" -type f | sort | xargs md5sum 2>/dev/null | grep -i journal)
wine msiexec /i "$(winpath "$oldmsi")" /qn FLEET_URL="$fleet_url" FLEET_CODE="$enrol" MAX_PAYMENT=5000 >"$work/msiexec-old.log" 2>&1
rc=$?
check "msiexec /i of $oldv over $ver (major upgrade) exits 0 (got $rc)" test "$rc" = 0
products=$(wine uninstaller --list 2>/dev/null | tr -d '\r' | grep -c 'ScanBox')
check "exactly one ScanBox in Add/Remove Programs after the upgrade (got $products)" test "$products" = 1
out=$(sbx version)
check "installed scanbox.exe is $oldv (got: $out)" test "$out" = "ScanBox $oldv"
check "journal untouched by the upgrade" test "$journal_before" = "$(find "$data" -type f | sort | xargs md5sum 2>/dev/null | grep -i journal)"
check "orders still readable after the upgrade" jqe "length == ${#codes[@]}" <<<"$(sbx orders --json)"
check "MAX_PAYMENT=5000 written into the configuration (max_payment_fen 500000)" \
	jqe '.max_payment_fen == 500000 and .confirm_above_fen <= 500000' <<<"$(cat "$data/config.json" 2>/dev/null)"
check "the fleet enrollment code not in clear in the data directory" absent "$enrol" "$data"
WINEPREFIX=$WINEPREFIX wineserver -w
check "the fleet enrollment code not in clear in the registry hives" absent "$enrol" "$WINEPREFIX/system.reg" "$WINEPREFIX/user.reg"
taskfile=$WINEPREFIX/drive_c/windows/system32/tasks/ScanBox/Update
check "the MSI registered the scheduled task \\ScanBox\\Update (RegisterUpdateTask, schtasks /Create /XML)" \
	grep -qF "ScanBox: installs a bank-signed update" "$taskfile"
# Wine's Task Scheduler keeps only part of a definition (it drops the
# triggers, the principal and the action's command line), so the definition
# is read from the program that registered it: `update --print-task` prints
# exactly what --register-task gave schtasks.
taskdef=$(sbx update --print-task | tr -d '\r')
check "the task runs as SYSTEM (S-1-5-18), at start-up and every 5 minutes" \
	bash -c 'grep -qF "<UserId>S-1-5-18</UserId>" <<<"$1" && grep -qF "<BootTrigger>" <<<"$1" && grep -qF "<Interval>PT5M</Interval>" <<<"$1"' _ "$taskdef"
task_cmd=$(sed -n 's:.*<Command>&#34;\(.*\)&#34;</Command>.*:\1:p' <<<"$taskdef" | head -1)
task_args=$(sed -n 's:.*<Arguments>\(.*\)</Arguments>.*:\1:p' <<<"$taskdef" | head -1)
check "the task's command is the installed scanbox.exe update --install-staged --if-requested (got $task_cmd $task_args)" \
	test "$task_cmd" = 'C:\Program Files\ScanBox\scanbox.exe' -a "$task_args" = "update --install-staged --if-requested"

out=$(wine "$exe" firstrun --activate 2>&1 | tr -d '\r')
check "the first start joins the fleet with the installer's FLEET_URL/FLEET_CODE ($(tail -1 <<<"$out"))" grep -qF "joined the fleet at $fleet_url" <<<"$out"
out=$(sbx update --check --json)
rc=$?
check "update --check: $newv offered, verified and staged (exit $rc: $out)" \
	jqe --arg o "$oldv" --arg n "$newv" '.current == $o and .offered == $n and .verified and .staged and .error == ""' <<<"$out"
check "the fleet lists the terminal with version $oldv" terminal ".app_version == \"$oldv\""
out=$(sbx update --install 2>&1)
rc=$?
check "update --install hands the staged release to the task (exit $rc)" test "$rc" = 0 -a -f "$data/updates/install-request.json"

section "update from the fleet: the task's command line, run as the task would"
# Wine does not run scheduled tasks: the task's own command line, read back
# from the registered task above, is run here, exactly as Task Scheduler
# would start it (as SYSTEM; under wine every program has the rights).
task_exe="$WINEPREFIX/drive_c/${task_cmd#C:\\}"
task_exe=${task_exe//\\//}
read -ra targs <<<"$task_args"
out=$(wine "$task_exe" "${targs[@]}" 2>"$work/task.err" | tr -d '\r')
rc=$?
check "the task's command verifies $newv and starts its installer copy: exit 0 (got $rc: $out $(head -c 300 "$work/task.err"))" \
	test "$rc" = 0 -a "$out" = "installing $newv (verified; msiexec runs from a copy of scanbox.exe)"
# The task's own process has exited (msiexec must replace it); the copy
# runs msiexec. wineserver -w returns when every program in the prefix has.
timeout 600 env WINEPREFIX="$WINEPREFIX" wineserver -w
copy=$(ls "$WINEPREFIX"/drive_c/windows/temp/ScanBoxUpdate-*/scanbox-update.exe 2>/dev/null | head -1)
check "msiexec ran from a private copy of the old scanbox.exe in %SystemRoot%\\Temp (${copy#"$WINEPREFIX/"})" \
	cmp -s "$copy" "$work/rel-$oldv/scanbox.exe"
out=$(sbx version)
check "installed scanbox.exe is now $newv (got: $out)" test "$out" = "ScanBox $newv"
check "installed scanbox.exe is the published release's" cmp -s "$work/rel-$newv/scanbox.exe" "$pf/scanbox.exe"
products=$(wine uninstaller --list 2>/dev/null | tr -d '\r' | grep -c 'ScanBox')
check "exactly one ScanBox in Add/Remove Programs after the update (got $products)" test "$products" = 1
check "the install request was consumed" test ! -e "$data/updates/install-request.json"
check "the result is recorded: last-install.json ok, version $newv" \
	jqe --arg n "$newv" '.ok == true and .version == $n' <<<"$(cat "$data/updates/last-install.json" 2>/dev/null)"
check "journal untouched by the update" test "$journal_before" = "$(find "$data" -type f | sort | xargs md5sum 2>/dev/null | grep -i journal)"
check "orders still readable after the update" jqe "length == ${#codes[@]}" <<<"$(sbx orders --json)"
check "activation kept across the update" jqe --arg u "$good_base" '.bank_url == $u and .max_payment_fen == 500000' <<<"$(cat "$data/config.json" 2>/dev/null)"
check "the task is still registered after the update" test -s "$taskfile"
out=$(sbx update --check --json)
check "after the update, update --check reports current $newv, nothing offered ($out)" \
	jqe --arg n "$newv" '.current == $n and .offered == "" and .error == ""' <<<"$out"
check "the fleet lists the terminal with version $newv (reported by the new version)" terminal ".app_version == \"$newv\""
# A payment still goes through on the updated program.
out=$(sbx pay --amount 1.00 --code 134567890123456790 --json "${pace[@]}")
check "a payment after the update is paid ($(jq -r .state <<<"$out" 2>/dev/null))" jqe '.state == "paid"' <<<"$out"
# The ceiling from MAX_PAYMENT holds: 6,000.00 is refused before the bank.
sbx pay --amount 6000.00 --code 134567890123456770 --json "${pace[@]}" >"$work/pay-6000.out"
rc=$?
err=$(tail -1 "$work/scanbox.err" | tr -d '\r')
check "MAX_PAYMENT=5000: a 6,000.00 payment is refused, naming the maximum (exit $rc: $err)" \
	bash -c 'test "$1" != 0 && grep -qF "per-payment maximum (5000.00 yuan)" <<<"$2"' _ "$rc" "$err"
check "MAX_PAYMENT=5000: nothing charged for the refused 6,000.00" \
	jqe '((.paid_count_by_code // {})["134567890123456770"] // 0) == 0' <<<"$(curl -fsS "$good_root/_sim/ledger")"

# ---- uninstall ------------------------------------------------------------------------
section "uninstall"
wine msiexec /x "$(winpath "$newmsi")" /qn >"$work/msiexec-x.log" 2>&1
rc=$?
check "msiexec /x /qn exits 0 (got $rc)" test "$rc" = 0
check "program directory removed" test ! -e "$pf/scanbox.exe"
check "logon entry removed" test -z "$(reg 'HKLM\Software\Microsoft\Windows\CurrentVersion\Run' /v ScanBox | grep -i scanbox)"
[[ -n $lnk ]] && check "Start-menu shortcut removed" test ! -e "$lnk"
check "update task removed (UnregisterUpdateTask)" test ! -e "$taskfile"
check "data directory kept (journal and logs outlive the product)" test -d "$data" -a -n "$(ls -A "$data" 2>/dev/null)"

echo "wine smoke: $pass passed, $fail failed"
((fail == 0))
