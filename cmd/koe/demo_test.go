package main

import (
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
