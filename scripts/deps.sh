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
  xvfb xauth dbus dbus-x11 imagemagick
  # serial tests through pty pairs
  socat
  # OCR helper and its baseline
  libtesseract-dev libleptonica-dev tesseract-ocr tesseract-ocr-eng
  # voice clips and fonts
  espeak-ng sox fonts-noto-cjk fonts-wqy-microhei fonts-dejavu-core fonts-liberation
  # MSI tables test, zip export
  wixl msitools zip unzip
)
windows=(
  gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 cmake wine wine64 osslsigncode openssl
)

want=("${core[@]}")
case "${1:-core}" in
  core) ;;
  windows) want=("${windows[@]}") ;;
  all) want=("${core[@]}" "${windows[@]}") ;;
  *) echo "usage: $0 [core|windows|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "missing Debian packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 2
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
