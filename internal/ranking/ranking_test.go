package ranking

import (
	"errors"
	"reflect"
	"testing"
)

// order turns a preference order like "ACBED" into positions per option A..E.
func order(s string, n int) []int {
	pos := make([]int, n)
	for i, c := range s {
		pos[c-'A'] = i + 1
	}
	return pos
}

func repeat(s string, k, n int) [][]int {
	var out [][]int
	for range k {
		out = append(out, order(s, n))
	}
	return out
}

// TestSchulzeTextbook is the 45-voter, five-candidate example of Schulze's
// paper (and the Wikipedia article): E wins, with these pairwise counts and
// strongest paths.
func TestSchulzeTextbook(t *testing.T) {
	var rs [][]int
	for _, g := range []struct {
		k int
		s string
	}{{5, "ACBED"}, {5, "ADECB"}, {8, "BEDAC"}, {3, "CABED"}, {7, "CAEBD"}, {2, "CBADE"}, {7, "DCEBA"}, {8, "EBADC"}} {
		rs = append(rs, repeat(g.s, g.k, 5)...)
	}
	r, err := Count(5, 5, 5, rs)
	if err != nil {
		t.Fatal(err)
	}
	wantD := [][]int{
		{0, 20, 26, 30, 22},
		{25, 0, 16, 33, 18},
		{19, 29, 0, 17, 24},
		{15, 12, 28, 0, 14},
		{23, 27, 21, 31, 0},
	}
	wantP := [][]int{
		{0, 28, 28, 30, 24},
		{25, 0, 28, 33, 24},
		{25, 29, 0, 29, 24},
		{25, 28, 28, 0, 24},
		{25, 28, 28, 31, 0},
	}
	if !reflect.DeepEqual(r.Pairwise, wantD) {
		t.Fatalf("pairwise %v, want %v", r.Pairwise, wantD)
	}
	if !reflect.DeepEqual(r.Strongest, wantP) {
		t.Fatalf("strongest paths %v, want %v", r.Strongest, wantP)
	}
	if !reflect.DeepEqual(r.Winners, []int{4}) {
		t.Fatalf("winners %v, want [E]", r.Winners)
	}
	if r.Valid != 45 || r.Invalid != 0 {
		t.Fatalf("valid %d invalid %d", r.Valid, r.Invalid)
	}
	// Borda: Σ (5 − position).
	want := make([]int, 5)
	for _, pos := range rs {
		for i, p := range pos {
			want[i] += 5 - p
		}
	}
	if !reflect.DeepEqual(r.Borda, want) {
		t.Fatalf("Borda %v, want %v", r.Borda, want)
	}
}

// TestSchulzeTie: two voters each way is a tie of both; a Condorcet cycle
// of equal strength is a tie of all three.
func TestSchulzeTie(t *testing.T) {
	rs := append(repeat("AB", 2, 2), repeat("BA", 2, 2)...)
	r, err := Count(2, 2, 2, rs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Winners, []int{0, 1}) {
		t.Fatalf("winners %v, want a tie", r.Winners)
	}
	cycle := append(append(repeat("ABC", 1, 3), repeat("BCA", 1, 3)...), repeat("CAB", 1, 3)...)
	r, err = Count(3, 3, 3, cycle)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Winners, []int{0, 1, 2}) {
		t.Fatalf("cycle winners %v, want all three", r.Winners)
	}
}

// TestPartialRankings: rank up to 2 of 4; unranked options are below every
// ranked one and tie with each other.
func TestPartialRankings(t *testing.T) {
	rs := [][]int{{1, 2, 0, 0}, {0, 1, 0, 0}, {2, 0, 1, 0}}
	r, err := Count(4, 1, 2, rs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Borda, []int{3 + 2, 2 + 3, 3, 0}) {
		t.Fatalf("Borda %v", r.Borda)
	}
	if r.Pairwise[0][1] != 2 || r.Pairwise[1][0] != 1 || r.Pairwise[2][3] != 1 || r.Pairwise[3][2] != 0 {
		t.Fatalf("pairwise %v", r.Pairwise)
	}
}

// TestInvalidCountedApart: an invalid ranking counts in Invalid only.
func TestInvalidCountedApart(t *testing.T) {
	rs := [][]int{
		{1, 2, 3},
		{1, 1, 2}, // position twice
		{2, 3, 0}, // gap: no first choice
		{4, 1, 2}, // out of range
		{0, 0, 0}, // fewer than the minimum
		{-1, 1, 2},
	}
	r, err := Count(3, 1, 3, rs)
	if err != nil {
		t.Fatal(err)
	}
	if r.Valid != 1 || r.Invalid != 5 {
		t.Fatalf("valid %d invalid %d", r.Valid, r.Invalid)
	}
	if !reflect.DeepEqual(r.Borda, []int{2, 1, 0}) {
		t.Fatalf("Borda %v counts an invalid ranking", r.Borda)
	}
	if err := Validate([]int{1, 2, 3}, 1, 2); !errors.Is(err, ErrInvalid) {
		t.Fatalf("three ranked with a maximum of two: %v", err)
	}
	if _, err := Count(3, 1, 3, [][]int{{1, 2}}); err == nil {
		t.Fatal("a ranking of the wrong length was counted")
	}
}
