// Package ranking counts decrypted rankings (the results of a rank
// question, SPEC.md §16.4): Borda scores, the pairwise-preference matrix and
// the Schulze winners. It works on plaintexts only; which rankings are
// counted is decided before (the decryption of the mixed list).
//
// A ranking of n options is given per option: pos[i] is option i's position,
// 1 for the first choice, or 0 if the voter left it unranked.
package ranking

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every reason a ranking is not valid.
var ErrInvalid = errors.New("invalid ranking")

// Validate checks that pos is a ranking of len(pos) options with at most
// maxRanked of them ranked and at least minRanked: the positions that are
// not 0 are exactly 1..m, each once, with minRanked ≤ m ≤ maxRanked.
func Validate(pos []int, minRanked, maxRanked int) error {
	n := len(pos)
	seen := make([]bool, n+1)
	m := 0
	for i, p := range pos {
		if p == 0 {
			continue
		}
		if p < 0 || p > n {
			return fmt.Errorf("%w: option %d has position %d, want 0..%d", ErrInvalid, i, p, n)
		}
		if seen[p] {
			return fmt.Errorf("%w: position %d given twice", ErrInvalid, p)
		}
		seen[p] = true
		m++
	}
	for p := 1; p <= m; p++ {
		if !seen[p] {
			return fmt.Errorf("%w: position %d is missing while %d options are ranked", ErrInvalid, p, m)
		}
	}
	if m < minRanked || m > maxRanked {
		return fmt.Errorf("%w: %d options ranked, want %d..%d", ErrInvalid, m, minRanked, maxRanked)
	}
	return nil
}

// Result is the count of one rank question.
type Result struct {
	Options int // n
	Valid   int // rankings counted
	Invalid int // rankings refused by Validate, counted apart
	// Borda[i] = Σ over valid rankings of (n − pos[i]) if option i is
	// ranked, 0 if not.
	Borda []int
	// Pairwise[a][b] is the number of valid rankings that put a strictly
	// above b: a ranked, and b unranked or ranked below a.
	Pairwise [][]int
	// Strongest[a][b] is the strength of the strongest path from a to b
	// (Schulze, winning votes); 0 on the diagonal.
	Strongest [][]int
	// Winners are the Schulze winners in option order: every a with
	// Strongest[a][b] ≥ Strongest[b][a] for all b. More than one is a tie.
	Winners []int
}

// Count counts the rankings of n options (each as Validate wants).
func Count(n, minRanked, maxRanked int, rankings [][]int) (*Result, error) {
	if n < 1 {
		return nil, fmt.Errorf("ranking: %d options", n)
	}
	r := &Result{Options: n, Borda: make([]int, n), Pairwise: square(n)}
	for _, pos := range rankings {
		if len(pos) != n {
			return nil, fmt.Errorf("ranking: a ranking of %d options, want %d", len(pos), n)
		}
		if Validate(pos, minRanked, maxRanked) != nil {
			r.Invalid++
			continue
		}
		r.Valid++
		for a, pa := range pos {
			if pa == 0 {
				continue
			}
			r.Borda[a] += n - pa
			for b, pb := range pos {
				if b != a && (pb == 0 || pa < pb) {
					r.Pairwise[a][b]++
				}
			}
		}
	}
	r.Strongest = strongest(r.Pairwise)
	for a := range n {
		win := true
		for b := range n {
			if b != a && r.Strongest[a][b] < r.Strongest[b][a] {
				win = false
				break
			}
		}
		if win {
			r.Winners = append(r.Winners, a)
		}
	}
	return r, nil
}

func square(n int) [][]int {
	m := make([][]int, n)
	for i := range m {
		m[i] = make([]int, n)
	}
	return m
}

// strongest returns the widest-path strengths of the Schulze method: a
// direct link a→b of strength d[a][b] where d[a][b] > d[b][a], then
// p[b][c] = max(p[b][c], min(p[b][a], p[a][c])) over every a (Floyd–Warshall).
func strongest(d [][]int) [][]int {
	n := len(d)
	p := square(n)
	for a := range n {
		for b := range n {
			if a != b && d[a][b] > d[b][a] {
				p[a][b] = d[a][b]
			}
		}
	}
	for a := range n {
		for b := range n {
			if b == a {
				continue
			}
			for c := range n {
				if c == a || c == b {
					continue
				}
				p[b][c] = max(p[b][c], min(p[b][a], p[a][c]))
			}
		}
	}
	return p
}
