#!/usr/bin/env bash
# Installs the Debian packages ScanBox's build and tests need, or says
# precisely which are missing when it cannot install them (not root).
# Usage: scripts/deps.sh [core|windows|all]   (default: core)
set -euo pipefail

core=(
  gcc pkg-config git
  # fyne (GLFW/OpenGL) for the tray app
  libgl1-mesa-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev
  # GUI tests and screenshots under a virtual display
  xvfb xauth dbus dbus-x11 imagemagick xdotool xclip fonttools
  # serial tests through pty pairs
  socat
  # OCR helper and its baseline
  libtesseract-dev libleptonica-dev tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim
  # voice clips and fonts
  espeak-ng sox fonts-noto-cjk fonts-wqy-microhei fonts-dejavu-core fonts-liberation
  # MSI tables test, zip export
  wixl msitools zip unzip
  # the POS API e2e test drives the API from a Python-stdlib client
  python3
  # OCR corpus: LED-style 7-segment digits
  fonts-dseg
  # the fleet server's PostgreSQL tests and its console's browser tests
  postgresql chromium
)
windows=(
  gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 cmake dpkg-dev wine wine64 osslsigncode openssl jq curl
)

want=("${core[@]}")
case "${1:-core}" in
  core) ;;
  windows) want=("${windows[@]}") ;;
  all) want=("${core[@]}" "${windows[@]}") ;;
  *) echo "usage: $0 [core|windows|all]" >&2; exit 2 ;;
esac

# The static Windows Tesseract is built from Debian's own source packages,
# which apt fetches only with a deb-src line for this release.
need_src=0
if [[ " ${want[*]} " == *" cmake "* ]] && ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  need_src=1
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0 && need_src == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  ((need_src)) && echo "missing: a deb-src line for Debian $(. /etc/os-release; echo "$VERSION_CODENAME") in /etc/apt/sources.list.d/" >&2
  if ((${#missing[@]})); then
    echo "missing Debian packages: ${missing[*]}" >&2
    echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  fi
  exit 2
fi
if ((need_src)); then
  # Mirror the configured binary sources as source sources.
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >/etc/apt/sources.list.d/scanbox-deb-src.sources
  else
    grep -h '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' >/etc/apt/sources.list.d/scanbox-deb-src.list
  fi
  echo "added deb-src sources mirroring the configured Debian sources"
fi
if ((${#missing[@]} == 0)); then
  apt-get update -qq
  exit 0
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
