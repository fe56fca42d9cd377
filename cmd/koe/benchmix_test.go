package main

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestBenchMix runs the mix benchmark on a small list: the mix it proves
// must verify (the command fails otherwise) and it reports both figures.
func TestBenchMix(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"bench", "mix", "--ballots", "6", "--chars", "20"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"6 ballots × one 20-character comment = 3 elements", "mix + prove", "decode + verify"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if code := run([]string{"bench", "mix", "--ballots", "1"}, &out, &errOut); code == 0 {
		t.Error("--ballots 1 accepted")
	}
}

func TestBenchText(t *testing.T) {
	for _, i := range []int{0, 1, 99, 10000} {
		s := benchText(i, 200)
		if utf8.RuneCountInString(s) != 200 || len(s) != 600 {
			t.Fatalf("comment %d: %d characters, %d bytes", i, utf8.RuneCountInString(s), len(s))
		}
	}
	if benchText(0, 200) == benchText(1, 200) {
		t.Fatal("neighbouring comments are equal")
	}
}
