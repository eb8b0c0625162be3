package main

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scanbox/scanbox/store"
)

// The PIN lines travel as NUL-marked leading arguments: read by the caller,
// taken off by the command, never confused with the command's own flags.
func TestStdinLinesForPIN(t *testing.T) {
	args, err := withStdin("refund", []string{"--order", "SB1", "--pin-stdin", "--amount", "1.00"}, strings.NewReader("246810\r\nrest\n"))
	if err != nil {
		t.Fatal(err)
	}
	lines, rest := takeStdin(args)
	if !reflect.DeepEqual(lines, []string{"246810"}) || !reflect.DeepEqual(rest, []string{"--order", "SB1", "--pin-stdin", "--amount", "1.00"}) {
		t.Fatalf("lines %q, rest %q", lines, rest)
	}
	args, err = withStdin("pin", []string{"set"}, strings.NewReader("246810\n246810"))
	if err != nil {
		t.Fatal(err)
	}
	if lines, _ := takeStdin(args); !reflect.DeepEqual(lines, []string{"246810", "246810"}) {
		t.Fatalf("pin set lines %q", lines)
	}
	if _, err := withStdin("pin", []string{"check"}, strings.NewReader("")); err == nil {
		t.Error("an empty standard input gave a PIN")
	}
	if _, err := withStdin("pin", []string{"check"}, strings.NewReader(strings.Repeat("1", 1000))); err == nil {
		t.Error("a 1000-character line was taken")
	}
	// No --pin-stdin: standard input is not touched.
	args, _ = withStdin("refund", []string{"--order", "SB1"}, strings.NewReader("246810\n"))
	if lines, _ := takeStdin(args); len(lines) != 0 {
		t.Errorf("read stdin without --pin-stdin: %q", lines)
	}
	for _, c := range []struct {
		args []string
		want bool
	}{{[]string{"--pin-stdin"}, true}, {[]string{"-pin-stdin=true"}, true}, {[]string{"--pin-stdin=false"}, false},
		{[]string{"--", "--pin-stdin"}, false}, {[]string{"--pin-stdinx"}, false}, {[]string{"pin-stdin"}, false}} {
		if got := boolFlagSet(c.args, "pin-stdin"); got != c.want {
			t.Errorf("boolFlagSet(%q) = %v", c.args, got)
		}
	}
}

func TestPeriodBounds(t *testing.T) {
	str := func(s string) *string { return &s }
	p := period{date: str("2026-12-01"), since: str(""), until: str("")}
	since, until, set, err := p.bounds("orders")
	wantFrom := time.Date(2026, 12, 1, 0, 0, 0, 0, store.China)
	if err != nil || !set || !since.Equal(wantFrom) || !until.Equal(wantFrom.AddDate(0, 0, 1)) {
		t.Fatalf("--date: %v %v %v %v", since, until, set, err)
	}
	p = period{date: str(""), since: str("2026-12-01T08:00:00+08:00"), until: str("")}
	if since, until, set, err = p.bounds("orders"); err != nil || !set || !until.IsZero() || since.Hour() != 8 {
		t.Fatalf("--since: %v %v %v %v", since, until, set, err)
	}
	for _, bad := range []period{
		{date: str("2026-12-01"), since: str("2026-12-01T08:00:00+08:00"), until: str("")},
		{date: str("12/01/2026"), since: str(""), until: str("")},
		{date: str(""), since: str("2026-12-02T00:00:00Z"), until: str("2026-12-01T00:00:00Z")},
		{date: str(""), since: str("today"), until: str("")},
	} {
		if _, _, _, err := bad.bounds("orders"); err == nil || !strings.Contains(err.Error(), "see `scanbox orders --help`") {
			t.Errorf("%q %q %q: %v", *bad.date, *bad.since, *bad.until, err)
		}
	}
	p = period{date: str(""), since: str(""), until: str("")}
	if _, _, set, err := p.bounds("orders"); set || err != nil {
		t.Errorf("no flags: set %v, %v", set, err)
	}
}
