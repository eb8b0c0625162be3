package ocrproto

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	frames := []Frame{
		{Verb: VerbReady, Arg: 0, Body: []byte("5.3.0")},
		{Verb: VerbRead, Arg: 7, Body: []byte("BM\x00\x01\n\nbinary")},
		{Verb: VerbOK, Arg: 0, Body: []byte("¥1,234.50\n")},
		{Verb: VerbErr, Arg: 0, Body: nil},
	}
	var buf bytes.Buffer
	for _, f := range frames {
		if err := Write(&buf, f); err != nil {
			t.Fatal(err)
		}
	}
	r := bufio.NewReader(&buf)
	for i, want := range frames {
		got, err := Read(r)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if got.Verb != want.Verb || got.Arg != want.Arg || !bytes.Equal(got.Body, want.Body) {
			t.Fatalf("frame %d: got %+v want %+v", i, got, want)
		}
	}
	if _, err := Read(r); err != io.EOF {
		t.Fatalf("after last frame: got %v, want io.EOF", err)
	}
}

func TestMalformed(t *testing.T) {
	cases := []struct {
		name, in string
		want     error
	}{
		{"two fields", "OK 3\nabc", ErrFrame},
		{"negative length", "OK 0 -1\n", ErrFrame},
		{"huge length", "OK 0 999999999999\n", ErrFrame},
		{"not a number", "READ x 3\nabc", ErrFrame},
		{"long header", strings.Repeat("A", 100) + "\n", ErrFrame},
		{"short body", "OK 0 10\nabc", io.ErrUnexpectedEOF},
		{"torn header", "OK 0", io.ErrUnexpectedEOF},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(bufio.NewReader(strings.NewReader(c.in)))
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestWriteRefusesBadVerb(t *testing.T) {
	for _, v := range []string{"", "A B", "X\n"} {
		if err := Write(io.Discard, Frame{Verb: v}); !errors.Is(err, ErrFrame) {
			t.Errorf("verb %q: got %v, want ErrFrame", v, err)
		}
	}
}
