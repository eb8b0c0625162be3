package main

import (
	"sort"
	"strings"
	"testing"
)

// Issue 11 item 13: every subcommand (and each verb of one made of verbs),
// taken from the command table so that a new one cannot be forgotten, has
// help on stdout with exit 0 for --help and -h, and a wrong flag is one
// line on stderr ending in "see `scanbox … --help`", exit 2, with nothing
// on stdout: never the flag package's dump.
func TestEveryCommandHasHelpAndOneLineMistakes(t *testing.T) {
	// The default data directory must not be the real one: nothing may be
	// opened, but a mistake is still looked for in a running instance.
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) < 20 {
		t.Fatalf("only %d commands in the table: %v", len(names), names)
	}
	var cases [][]string
	for _, n := range names {
		cases = append(cases, []string{n})
		for _, v := range commands[n].verbs {
			cases = append(cases, []string{n, v})
		}
	}
	// amount's two sources have flags of their own.
	cases = append(cases, []string{"amount", "--source", "ocr"}, []string{"amount", "--source", "serial"})
	for _, c := range cases {
		name := strings.Join(c, " ")
		for _, h := range []string{"--help", "-h"} {
			code, out, stderr := runCmd(t, append(c, h)...)
			if code != exitOK || stderr != "" || !strings.HasPrefix(out, "usage:") || !strings.Contains(out, "scanbox "+name) {
				t.Errorf("scanbox %s %s: exit %d, stdout %q, stderr %q", name, h, code, out, stderr)
			}
			if len(commands[c[0]].verbs) == 0 || len(c) > 1 {
				// A command's own flags are listed, --data-dir in every one.
				if !strings.Contains(out, "--data-dir DIR") {
					t.Errorf("scanbox %s %s lists no flags: %q", name, h, out)
				}
			}
		}
		// A command of verbs (or amount) without one says which to give;
		// any other names the wrong flag.
		unnamed := len(c) == 1 && (len(commands[c[0]].verbs) > 0 || c[0] == "amount")
		code, out, stderr := runCmd(t, append(c, "--no-such-flag")...)
		if code != exitUsage || out != "" || strings.Count(stderr, "\n") != 1 ||
			!strings.HasPrefix(stderr, "scanbox "+c[0]) || !strings.HasSuffix(stderr, " --help`\n") ||
			!strings.Contains(stderr, "see `scanbox "+c[0]) || !unnamed && !strings.Contains(stderr, "--no-such-flag") ||
			unnamed && !strings.Contains(stderr, "say ") {
			t.Errorf("scanbox %s --no-such-flag: exit %d, stdout %q, stderr %q", name, code, out, stderr)
		}
	}
	// The program's own help, and help CMD.
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		code, out, stderr := runCmd(t, args...)
		if code != exitOK || stderr != "" {
			t.Errorf("scanbox %v: exit %d, %q", args, code, stderr)
		}
		for _, n := range names {
			if !strings.Contains(out, "\n  "+n+" ") {
				t.Errorf("scanbox %v does not list %s", args, n)
			}
		}
	}
	if code, out, _ := runCmd(t, "help", "pay"); code != exitOK || !strings.Contains(out, "--amount YUAN") {
		t.Errorf("scanbox help pay: %d %q", code, out)
	}
	for _, args := range [][]string{{"nosuch"}, {"--nosuch"}, {"pay", "--amount"}, {"orders", "--limit", "x"}, {"resolve", "extra"},
		{"pay", "--amount", "1.005", "--code", "134567890123456780"}, {"shift"}, {"amount"}, {"amount", "--source", "tea"}} {
		code, out, stderr := runCmd(t, args...)
		if code != exitUsage || out != "" || strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, " --help`\n") {
			t.Errorf("scanbox %v: exit %d, stdout %q, stderr %q", args, code, out, stderr)
		}
	}
}

// The flag package's errors, said in the command line's words.
func TestFlagMistakesWorded(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"pay", "--bogus"}, "scanbox pay: there is no flag --bogus; see `scanbox pay --help`\n"},
		{[]string{"pay", "--amount"}, "scanbox pay: --amount needs a value; see `scanbox pay --help`\n"},
		{[]string{"orders", "--limit", "x"}, "scanbox orders: --limit \"x\" is not a whole number; see `scanbox orders --help`\n"},
		{[]string{"orders", "--json=maybe"}, "scanbox orders: --json \"maybe\" is not true or false; see `scanbox orders --help`\n"},
		{[]string{"pay", "--poll-timeout", "5x"}, "scanbox pay: --poll-timeout \"5x\" is not a duration like 200ms or 3s; see `scanbox pay --help`\n"},
		{[]string{"resolve", "now"}, "scanbox resolve: unexpected argument \"now\"; see `scanbox resolve --help`\n"},
		{[]string{"shift", "nap"}, "scanbox shift: unknown \"nap\": say open, close or list; see `scanbox shift --help`\n"},
	} {
		code, out, stderr := runCmd(t, c.args...)
		if code != exitUsage || out != "" || stderr != c.want {
			t.Errorf("scanbox %v: exit %d, stdout %q,\nstderr %q\nwant   %q", c.args, code, out, stderr, c.want)
		}
	}
}
