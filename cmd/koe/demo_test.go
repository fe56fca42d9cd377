package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestParseAbsentDefault checks the default that `koe demo -h` describes:
// every second trustee from 2 on, then the highest others, until t remain.
func TestParseAbsentDefault(t *testing.T) {
	for _, tc := range []struct {
		n, t int
		want []int
	}{
		{5, 3, []int{2, 4}},
		{3, 2, []int{2}},
		{5, 2, []int{2, 4, 5}},
		{4, 4, nil},
	} {
		got, err := parseAbsent("", nil, tc.n, tc.t)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parseAbsent(n=%d, t=%d) = %v, %v; want %v", tc.n, tc.t, got, err, tc.want)
		}
	}
	if got, err := parseAbsent("none", nil, 5, 3); err != nil || got != nil {
		t.Errorf(`parseAbsent("none") = %v, %v`, got, err)
	}
	if _, err := parseAbsent("2,x", nil, 5, 3); err == nil {
		t.Error(`parseAbsent("2,x") accepted`)
	}
}

// TestDemoHelpMatchesDefault keeps the help text true to parseAbsent.
func TestDemoHelpMatchesDefault(t *testing.T) {
	var out strings.Builder
	run([]string{"demo", "-h"}, &out, &out)
	help := out.String()
	if strings.Contains(help, "last n") || !strings.Contains(help, "decrypt with 1, 3 and 5") {
		t.Errorf("koe demo -h does not describe the default absent trustees:\n%s", help)
	}
}

// TestDemoCitySurvey: koe demo --manifest city-survey mixes the text and
// rank questions, prints their results in Japanese and English, writes
// mixed/ and verifies.
func TestDemoCitySurvey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	var stdout, stderr strings.Builder
	if code := run([]string{"demo", "--voters", "12", "--manifest", "city-survey", "--out", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"Mix of \"priorities\": 12 answers",
		"  3. 市が優先して取り組むべき事業を、優先する順に3つまで選んでください\n     Rank up to three city projects, most important first\n",
		"Schulze 勝者 / winner: ",
		"  4. その他、ご意見をご自由にお書きください\n     Any other comments\n",
		"件の意見 / ",
		"「",
		"Verification PASSED",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^     █*░* +\d+  避難所の備蓄品拡充 / More supplies for evacuation shelters$`).MatchString(out) {
		t.Errorf("no Borda bar for the first option:\n%s", out)
	}
	for _, q := range []string{"priorities", "opinion"} {
		if _, err := os.Stat(filepath.Join(dir, "mixed", q+".json")); err != nil {
			t.Error(err)
		}
	}
}
