package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/scanbox/scanbox/capture/ocr"
)

// helpersOf lists the processes running the helper binary bin (Linux:
// /proc/PID/exe), i.e. the shared helpers a test's calls started.
func helpersOf(t *testing.T, bin string) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == bin {
			pids = append(pids, pid)
		}
	}
	return pids
}

func killHelpersOf(t *testing.T, bin string) {
	for _, pid := range helpersOf(t, bin) {
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill()
		}
	}
}

// One-shot calls share one helper: the first `scanbox amount` starts it and
// says so ("helper":"shared-new"), the next ones read through it
// ("shared"), a batch too; one helper process for all of them, still there
// after the calls (until its idle minute). With SCANBOX_OCR_SHARE=0 a call
// reads with a private helper and starts none.
func TestAmountOCRShared(t *testing.T) {
	bin := buildOCRHelper(t)
	t.Setenv("SCANBOX_OCR", bin)
	t.Setenv("SCANBOX_TESSDATA", "")
	t.Setenv("SCANBOX_OCR_SHARE", "")
	if len(helpersOf(t, bin)) != 0 {
		t.Fatal("a helper of a fresh build is running already")
	}
	helperOf := func(out string) []string {
		t.Helper()
		var kinds []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var got struct {
				AmountFen int64  `json:"amount_fen"`
				Helper    string `json:"helper"`
			}
			if err := json.Unmarshal([]byte(l), &got); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			kinds = append(kinds, got.Helper)
		}
		return kinds
	}
	img := corpusImage("r001.png")
	for i, want := range []string{ocr.HelperSharedNew, ocr.HelperShared, ocr.HelperShared} {
		code, out, errs := runAmountOCR(t, "--image", img, "--json")
		if code != exitOK || !strings.Contains(out, `"amount_fen":5859`) {
			t.Fatalf("call %d: exit %d, %q, %q", i, code, out, errs)
		}
		if k := helperOf(out); len(k) != 1 || k[0] != want {
			t.Fatalf("call %d read with %v; want %s", i, k, want)
		}
	}
	code, out, errs := runAmountOCR(t, "--image", img, "--image", corpusImage("r002.png"), "--json")
	if k := helperOf(out); code != exitOK || len(k) != 2 || k[0] != ocr.HelperShared || k[1] != ocr.HelperShared {
		t.Fatalf("batch: exit %d, %q, %q", code, out, errs)
	}
	if pids := helpersOf(t, bin); len(pids) != 1 {
		t.Fatalf("helper processes after five reads in four calls: %v; want the one shared helper", pids)
	}

	t.Setenv("SCANBOX_OCR_SHARE", "0")
	code, out, errs = runAmountOCR(t, "--image", img, "--json")
	if k := helperOf(out); code != exitOK || len(k) != 1 || k[0] != ocr.HelperPrivate {
		t.Fatalf("SCANBOX_OCR_SHARE=0: exit %d, %q, %q", code, out, errs)
	}
	// Plain output is as it was: the amount alone.
	t.Setenv("SCANBOX_OCR_SHARE", "")
	if code, out, _ = runAmountOCR(t, "--image", img); code != exitOK || out != "58.59\n" {
		t.Fatalf("plain: exit %d, %q", code, out)
	}
}
