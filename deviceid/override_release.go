//go:build !scanbox_testhooks

package deviceid

// testHookIdentity is empty in every normal build: the machine identity
// cannot be overridden (see the package comment).
func testHookIdentity() string { return "" }
