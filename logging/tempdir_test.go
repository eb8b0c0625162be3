package logging

import (
	"testing"

	"github.com/scanbox/scanbox/internal/testdir"
)

func testDir(t testing.TB) string { return testdir.New(t) }
