# ScanBox release build from Linux (CI runs the same targets). The steps live
# in installer/cmd/release, which build.ps1 runs on Windows too; this file
# only names them.
#
#   make release        scanbox.exe + scanbox-ocr.exe + ScanBox-<version>-x64.msi into dist/
#   make exe | ocr | msi   one step (msi packages what dist/ already holds)
#   make release-test-signed   release signed with a throw-away CA, every signature verified
#   make smoke          the wine smoke test against dist/ (needs wine, xvfb; see installer/smoke)
#   make test-installer go vet + go test of installer/
#   make test           the whole suite, as CI runs it (scripts/test.sh)
#   make lint           gofmt, go vet (linux + windows) and staticcheck, no tests
#   make demo           the whole flow on the embedded bank simulator (tray app, or
#                       in the terminal without a display: make demo DEMO_FLAGS=--headless)
#
# Signing: set SCANBOX_SIGN_PKCS12 (+ SCANBOX_SIGN_PASSWORD) or
# SCANBOX_SIGN_CERT + SCANBOX_SIGN_KEY in the environment; never in a file here.

GO      ?= go
DIST    ?= dist
RELEASE  = $(GO) run ./installer/cmd/release -out $(DIST)

STATICCHECK_VERSION ?= v0.8.2
DEMO_FLAGS ?=

.PHONY: release exe ocr msi release-test-signed smoke test-installer clean test lint demo

release:
	$(RELEASE) -steps exe,ocr,msi

exe:
	$(RELEASE) -steps exe

# Fails with a message naming scripts/build-ocr-windows.sh until the OCR
# engineer's static-Tesseract build is in the tree.
ocr:
	$(RELEASE) -steps ocr

msi:
	$(RELEASE) -steps msi

release-test-signed:
	@set -e; certs=$$(mktemp -d); trap 'rm -rf "$$certs"' EXIT; \
	eval "$$(bash installer/sign/test-cert.sh "$$certs")"; \
	$(RELEASE) -steps exe,ocr,msi -verify-ca "$$SCANBOX_VERIFY_CA"

smoke:
	bash installer/smoke/wine-smoke.sh $(DIST)

test-installer:
	$(GO) vet ./installer/... && $(GO) test ./installer/...

clean:
	rm -rf $(DIST)

test:
	bash scripts/test.sh

lint:
	bash scripts/lint.sh

demo:
	$(GO) run ./app demo $(DEMO_FLAGS)
