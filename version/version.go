// Package version holds the one version number of ScanBox. The build, the
// installer and the About box all read it from here; nothing else may
// hard-code a version.
package version

// Version is the product version, MAJOR.MINOR.PATCH (MSI ProductVersion rules:
// each part below 256, 256, 65536). Builds may override it with
// -ldflags "-X github.com/scanbox/scanbox/version.Version=…".
var Version = "0.1.0"

// Product is the product name shown to people.
const Product = "ScanBox"
