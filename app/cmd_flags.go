package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/scanbox/scanbox/config"
)

// The command line's help and usage mistakes (issue 11 item 13), shared by
// every subcommand so that none can differ: `--help`/`-h` prints the
// command's usage and flags on stdout and exits 0; a wrong flag or argument
// is one line on stderr ending in "see `scanbox CMD --help`", exit 2; never
// the flag package's multi-line dump. The standard library's parser is kept
// (no subcommand library): the commands already are a table (commands,
// dirCommands) with their own verbs, and what was missing is only these two
// outputs, which a library would not word as the contract wants.

// flagSet is a subcommand's flags.
type flagSet struct {
	*flag.FlagSet
	cmd            string // as typed: "pay", "shift open", "amount --source ocr"
	synopsis       string // what follows the name in the usage line; default "[flags]"
	stdout, stderr io.Writer
}

// newFlags makes a subcommand's flag set with the global --data-dir flag.
func newFlags(name string, stdout, stderr io.Writer) (*flagSet, *string) {
	fs := flag.NewFlagSet("scanbox "+name, flag.ContinueOnError)
	// The flag package would print its own error and a dump of every flag;
	// parse says both in our words instead.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	dir := fs.String("data-dir", "", "the `DIR` where ScanBox keeps its configuration, key, journal and logs (default: "+config.DefaultDataDir()+")")
	return &flagSet{FlagSet: fs, cmd: name, stdout: stdout, stderr: stderr}, dir
}

// parse parses args. ok is false when the command must end now with code:
// 0 after printing the help, 2 after a mistake's one line.
func (f *flagSet) parse(args []string) (code int, ok bool) {
	err := f.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		f.printHelp(f.stdout)
		return exitOK, false
	case err != nil:
		return f.usage("%s", f.explain(err)), false
	case f.NArg() > 0:
		return f.usage("unexpected argument %q", f.Arg(0)), false
	}
	return exitOK, true
}

// usage prints a usage mistake as one line and returns exit 2.
func (f *flagSet) usage(format string, a ...any) int {
	fmt.Fprintf(f.stderr, "scanbox %s: %s; %s\n", f.cmd, oneLine(fmt.Sprintf(format, a...)), seeHelp(f.cmd))
	return exitUsage
}

// seeHelp ends a usage error's one line.
func seeHelp(cmd string) string { return fmt.Sprintf("see `scanbox %s --help`", cmd) }

// usagef is a usage mistake as an error, for report.
func usagef(cmd, format string, args ...any) error {
	return failf(exitUsage, "%s; %s", fmt.Sprintf(format, args...), seeHelp(cmd))
}

// explain rewords the flag package's parse errors.
func (f *flagSet) explain(err error) string {
	s := err.Error()
	if name, ok := strings.CutPrefix(s, "flag provided but not defined: "); ok {
		return fmt.Sprintf("there is no flag %s", dashes(strings.TrimLeft(name, "-")))
	}
	if name, ok := strings.CutPrefix(s, "flag needs an argument: "); ok {
		return fmt.Sprintf("%s needs a value", dashes(strings.TrimLeft(name, "-")))
	}
	// invalid value "x" for flag -name: reason / invalid boolean value "x" for -name: reason
	if i := strings.Index(s, " for "); strings.HasPrefix(s, "invalid ") && i > 0 {
		rest := s[i+len(" for "):]
		rest = strings.TrimPrefix(rest, "flag ")
		name, _, _ := strings.Cut(rest, ":")
		name = strings.TrimLeft(name, "-")
		val := ""
		if q := strings.Index(s, `"`); q >= 0 && q < i {
			val = s[q:i]
		}
		if fl := f.Lookup(name); fl != nil {
			if k := kindOf(fl); k != "" {
				return fmt.Sprintf("%s %s is not %s", dashes(name), val, k)
			}
			// A flag of its own type says itself what is wrong.
			if _, why, ok := strings.Cut(rest, ": "); ok {
				return fmt.Sprintf("%s %s: %s", dashes(name), val, why)
			}
		}
	}
	if v, ok := strings.CutPrefix(s, "bad flag syntax: "); ok {
		return fmt.Sprintf("%q is not a flag", v)
	}
	return s
}

func dashes(name string) string { return "--" + name }

// kindOf says what a flag's value must be, from its type.
func kindOf(fl *flag.Flag) string {
	if b, ok := fl.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return "true or false"
	}
	typ, _ := flag.UnquoteUsage(fl)
	switch typ {
	case "int", "uint":
		return "a whole number"
	case "float":
		return "a number"
	case "duration":
		return "a duration like 200ms or 3s"
	}
	return ""
}

// printHelp is the command's usage: its line, what it does, its flags.
func (f *flagSet) printHelp(w io.Writer) {
	syn := f.synopsis
	if syn == "" {
		syn = "[flags]"
	}
	fmt.Fprintf(w, "usage: scanbox %s %s\n", f.cmd, syn)
	top, _, _ := strings.Cut(f.cmd, " ")
	if c, ok := commands[top]; ok && c.summary != "" {
		fmt.Fprintf(w, "\n%s\n", c.summary)
	}
	fmt.Fprintln(w, "\nflags:")
	printFlags(w, f.FlagSet)
}

// printFlags lists a flag set's flags, sorted, with their value's name and
// default.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	var rows [][2]string
	fs.VisitAll(func(fl *flag.Flag) {
		typ, use := flag.UnquoteUsage(fl)
		head := "--" + fl.Name
		if b, ok := fl.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
			switch typ {
			case "string":
				typ = "TEXT"
			case "duration":
				typ = "D" // a Go duration, as the contract writes it
			}
			head += " " + strings.ToUpper(typ)
		}
		if d := fl.DefValue; d != "" && d != "0" && d != "false" && d != "0s" && fl.Name != "data-dir" {
			use += fmt.Sprintf(" (default %s)", d)
		}
		rows = append(rows, [2]string{head, use})
	})
	sort.Slice(rows, func(i, j int) bool { return rows[i][0] < rows[j][0] })
	for _, r := range rows {
		fmt.Fprintf(w, "  %s\n      %s\n", r[0], r[1])
	}
}

// isHelp reports whether a is a help flag.
func isHelp(a string) bool { return a == "-h" || a == "--help" || a == "-help" }

// wantsHelp reports whether args ask for help before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if isHelp(a) {
			return true
		}
	}
	return false
}

// verbHelp is the help of a command made of verbs (shift, pin, posapi,
// fleet): one usage line per verb, each with its own --help.
func verbHelp(w io.Writer, name string, lines ...string) int {
	fmt.Fprintf(w, "usage:\n")
	for _, l := range lines {
		fmt.Fprintf(w, "  scanbox %s %s\n", name, l)
	}
	if c, ok := commands[name]; ok && c.summary != "" {
		fmt.Fprintf(w, "\n%s\n", c.summary)
	}
	fmt.Fprintf(w, "\nEach takes --data-dir DIR; scanbox %s VERB --help lists its flags.\n", name)
	return exitOK
}

// verbMistake is the one line for a missing or unknown verb.
func verbMistake(stderr io.Writer, name, got string, verbs []string) int {
	say := strings.Join(verbs[:len(verbs)-1], ", ") + " or " + verbs[len(verbs)-1]
	if got == "" || strings.HasPrefix(got, "-") {
		fmt.Fprintf(stderr, "scanbox %s: say %s; %s\n", name, say, seeHelp(name))
	} else {
		fmt.Fprintf(stderr, "scanbox %s: unknown %q: say %s; %s\n", name, got, say, seeHelp(name))
	}
	return exitUsage
}

// first is args[0], or "" when there is none.
func first(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}
