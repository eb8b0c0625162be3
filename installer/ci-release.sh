#!/usr/bin/env bash
# installer/ci-release.sh — CI's Windows-release stage, for .ci/run to call
# after the unit tests:
#   1. make release, signed with a throw-away CA made at run time
#      (installer/sign/test-cert.sh), every signature verified
#      (osslsigncode verify -CAfile); nothing secret is committed or kept;
#   2. the msiinfo table test (go test ./installer/);
#   3. the wine smoke test against that release (installer/smoke/wine-smoke.sh),
#      including one real update from a Linux-native scanbox-fleet: it builds
#      its own pair of TEST builds (a relink each, with a throw-away release
#      key, in its temporary work directory; the release in dist/ is checked
#      not to carry that key).
# It prints how long each step took. It installs nothing: scripts/deps.sh
# windows (plus jq, curl) must have run. Set SMOKE_SHOTS=DIR to keep the
# screenshots, SMOKE_DISPLAY=:N to choose the Xvfb display. On a machine
# shared with other Windows builds run it as
#   flock /tmp/winbuild.lock installer/ci-release.sh
set -euo pipefail
cd "$(dirname "$0")/.."
t() { date +%s; }
declare -A took
step() { # step NAME CMD...
	local name=$1 s
	shift
	s=$(t)
	echo "== release stage: $name"
	"$@"
	took[$name]=$(($(t) - s))
}
step "signed release (exe, ocr, msi; signatures verified)" make release-test-signed
step "installer tests (msiinfo tables, signing)" go test ./installer/...
step "wine smoke test" make smoke
echo "== release stage timings (s):"
for k in "${!took[@]}"; do printf '  %5d  %s\n' "${took[$k]}" "$k"; done
