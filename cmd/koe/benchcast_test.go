package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestBenchCastWitnesses runs `koe bench cast --witnesses 3` small: the
// omniwitness is built from tools/omniwitness, three instances cosign the
// witnessed election's board, and the report compares both elections
// (the figures themselves are not asserted: the machine is shared).
func TestBenchCastWitnesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server, three omniwitnesses and two elections")
	}
	var out, errs bytes.Buffer
	if err := runBenchCast([]string{"--voters", "12", "--concurrency", "4", "--witnesses", "3", "--manifest", "referendum"}, &out, &errs); err != nil {
		t.Fatalf("%v\n%s\n%s", err, out.String(), errs.String())
	}
	report := out.String()
	for _, re := range []string{
		`With 3 omniwitnesses on loopback, quorum 2:`,
		`Witnessing: [0-9]+ casts/s without witnesses, [0-9]+ with 3 `,
		`koe_witness_cosign_seconds\): [1-9][0-9]* submissions, mean [0-9.]+ ms`,
		`the last receipt to a cosigned checkpoint that covers it: [0-9.]+ ms`,
	} {
		if !regexp.MustCompile(re).MatchString(report) {
			t.Errorf("the report lacks %q:\n%s", re, report)
		}
	}
	if strings.Count(report, "12 casts in ") != 2 {
		t.Errorf("want two timed phases:\n%s", report)
	}
	for _, bad := range [][]string{{"--witnesses", "-1"}, {"--witnesses", "17"}, {"--voters", "0"}} {
		if err := runBenchCast(bad, &out, &errs); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
