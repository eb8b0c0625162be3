#!/usr/bin/env bash
# The static checks alone (make lint; scripts/test.sh runs them too):
# gofmt, go vet for Linux and for Windows (packages without cgo), staticcheck.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== gofmt"
bad=$(gofmt -l $(git ls-files '*.go'))
if [[ -n "$bad" ]]; then
  echo "not gofmt-clean:" >&2
  echo "$bad" >&2
  exit 1
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
# runs are configured in staticcheck.conf.
version=${STATICCHECK_VERSION:-v0.8.2}
bin="$(go env GOPATH)/bin/staticcheck"
if ! [[ -x "$bin" ]] || ! "$bin" -version | grep -q "(${version#v})"; then
  go install "honnef.co/go/tools/cmd/staticcheck@$version"
fi
"$bin" ./...
