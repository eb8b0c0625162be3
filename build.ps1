<#
.SYNOPSIS
  Builds the ScanBox Windows release into dist\: scanbox.exe, scanbox-ocr.exe
  and ScanBox-<version>-x64.msi.

.DESCRIPTION
  Deliberately thin: every step lives in installer/cmd/release, the same Go
  program that `make release` runs on Linux and in CI. This script only finds
  the tools and puts them on PATH.

  Needs:
    - Go (the version in go.mod)
    - MSYS2 (https://www.msys2.org) with: pacman -S mingw-w64-x86_64-gcc bash
      (cgo for fyne, and bash for the OCR helper's build script)
    - WiX Toolset v3 (candle.exe, light.exe; the installer sets %WIX%),
      or msitools' wixl on PATH
    - to sign: signtool.exe (Windows SDK) on PATH, and one of
        $env:SCANBOX_SIGN_PKCS12 (+ $env:SCANBOX_SIGN_PASSWORD)   a .pfx file
        $env:SCANBOX_SIGN_THUMBPRINT                               a certificate in the store
      optional $env:SCANBOX_SIGN_TIMESTAMP (RFC 3161 URL).
      Never put these in a file in the repository.

.EXAMPLE
  .\build.ps1
  .\build.ps1 -Steps msi -Out dist
#>
param(
    [string]$Out = "dist",
    [string]$Steps = "exe,ocr,msi",
    [string]$Msys2 = "C:\msys64",
    [string]$Version = "",
    [string]$Tessdata = ""
)
$ErrorActionPreference = "Stop"
Set-Location $PSScriptRoot

# MSYS2 first, so that "bash" is MSYS2's and not WSL's System32\bash.exe.
foreach ($dir in (Join-Path $Msys2 "usr\bin"), (Join-Path $Msys2 "mingw64\bin")) {
    if (Test-Path $dir) { $env:PATH = "$dir;$env:PATH" }
}
if ($env:WIX -and (Test-Path (Join-Path $env:WIX "bin\candle.exe"))) {
    $env:PATH = "$(Join-Path $env:WIX 'bin');$env:PATH"
}

$missing = @()
foreach ($tool in "go", "x86_64-w64-mingw32-gcc", "bash") {
    if (-not (Get-Command $tool -ErrorAction SilentlyContinue)) { $missing += $tool }
}
if (-not (Get-Command candle -ErrorAction SilentlyContinue) -and -not (Get-Command wixl -ErrorAction SilentlyContinue)) {
    $missing += "WiX v3 candle/light (or wixl)"
}
if ($missing.Count -gt 0) {
    Write-Error "build.ps1: missing $($missing -join ', '). See the comment at the top of build.ps1."
    exit 2
}

$goArgs = @("run", "./installer/cmd/release", "-out", $Out, "-steps", $Steps)
if ($Version) { $goArgs += @("-version", $Version) }
if ($Tessdata) { $goArgs += @("-tessdata", $Tessdata) }
& go @goArgs
exit $LASTEXITCODE
