// Package installer builds the Windows release of ScanBox from the one place
// that both Linux (make release, CI) and Windows (build.ps1) run: it
// cross-builds the programs with fixed flags (so the Go build cache is
// reused), renders the WiX source from scanbox.wxs.tmpl, builds the MSI,
// signs what it built when a certificate is configured, and reports sizes.
//
// It must never hold a secret: signing material comes from the environment at
// run time and is never written into the repository or the build outputs.
package installer
