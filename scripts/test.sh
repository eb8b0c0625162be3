#!/usr/bin/env bash
# The whole test suite: what README.md calls "run the tests" and what CI runs.
# Installs the Debian packages it needs (as root) or says which are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null; then
  echo "Go is missing: install Go 1.26 or newer (https://go.dev/dl) and put it on PATH" >&2
  exit 2
fi
scripts/deps.sh core

export OMP_THREAD_LIMIT=1 # OpenMP makes each Tesseract read ~8x slower on 2 cores

# The fleet server's tests run on SQLite always and on PostgreSQL when
# SCANBOX_FLEET_PG names a database: as root, start Debian's cluster for them.
if [[ -z ${SCANBOX_FLEET_PG:-} && $(id -u) -eq 0 ]]; then
  eval "$(scripts/pg.sh)"
fi
if [[ -n ${SCANBOX_FLEET_PG:-} ]]; then
  echo "== PostgreSQL for the fleet tests: …@${SCANBOX_FLEET_PG#*@}"
fi

echo "== go vet (linux)"
go vet ./...

echo "== go vet (windows, packages without cgo)"
# app/ (fyne's GLFW driver) and cmd/scanbox-ocr (Tesseract) need cgo; the
# release build covers them with mingw.
pkgs=$(GOOS=windows CGO_ENABLED=0 go list -e -f '{{if not .Error}}{{if not .CgoFiles}}{{.ImportPath}}{{end}}{{end}}' ./... | grep -v -e '/app$' -e '/cmd/scanbox-ocr$' || true)
GOOS=windows CGO_ENABLED=0 go vet $pkgs

echo "== staticcheck"
# 2026.2.2 (v0.8.2) is the first release that knows Go 1.26; the checks it
# runs are configured in staticcheck.conf. make lint runs it alone.
sc_version=${STATICCHECK_VERSION:-v0.8.2}
sc="$(go env GOPATH)/bin/staticcheck"
if ! [[ -x "$sc" ]] || ! "$sc" -version | grep -q "(${sc_version#v})"; then
  go install "honnef.co/go/tools/cmd/staticcheck@$sc_version"
fi
"$sc" ./...

echo "== go test -race"
go test -race -timeout 20m ./...

echo "== cashier acceptance under Xvfb (issue 11)"
scripts/accept.sh
