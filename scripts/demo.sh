#!/usr/bin/env bash
# ScanBox's main job on a fresh machine: builds scanbox and runs `scanbox demo`
# — the embedded bank simulator, a throw-away activation, and the tray app
# (or, without a display, sample payments printed step by step).
# Extra arguments go to `scanbox demo` (e.g. --headless).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v go >/dev/null; then
  echo "Go is missing: install Go 1.26 or newer (https://go.dev/dl) and put it on PATH" >&2
  exit 2
fi
scripts/deps.sh core
mkdir -p bin
echo "building bin/scanbox (the first build of the GUI toolkit takes a few minutes)…"
go build -o bin/scanbox ./app
if [[ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" && " $* " != *" --headless "* ]]; then
  echo "no display: running the demo in the terminal (start it from a desktop session for the tray app)"
  exec bin/scanbox demo --headless "$@"
fi
exec bin/scanbox demo "$@"
