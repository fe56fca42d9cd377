package tally

import (
	"errors"
	"fmt"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/ranking"
	"github.com/koe-vote/koe/internal/shuffle"
)

// MixInput returns round 0 of the mix of mixed question qi (SPEC.md §16.5):
// the question's component vectors of the counted ballots, in the order given
// (the board order of the counted ballots).
func MixInput(ballots []*ballot.Ballot, qi int) (*shuffle.List, error) {
	vs := make([]shuffle.Vector, len(ballots))
	for i, b := range ballots {
		if qi < 0 || qi >= len(b.Questions) {
			return nil, fmt.Errorf("ballot %d has no question %d", i+1, qi+1)
		}
		if vs[i] = b.MixVector(qi); vs[i] == nil {
			return nil, fmt.Errorf("question %d is not a text or rank question", qi+1)
		}
	}
	return shuffle.NewList(vs)
}

// MixedResult is the result of a text or rank question (SPEC.md §16.4–16.5).
type MixedResult struct {
	Question string `json:"question"`
	Kind     string `json:"kind"`
	// Comments are a text question's non-empty answers in the mixed order.
	Comments []string `json:"comments,omitempty"`
	// Empty counts the empty answers to an optional text question.
	Empty int `json:"empty,omitempty"`
	// Invalid counts the decrypted vectors that are not a valid answer.
	Invalid int `json:"invalid"`
	// A rank question's count: Borda scores and the pairwise matrix in
	// option order, and the Schulze winners' ids.
	Valid    int      `json:"valid,omitempty"`
	Borda    []int    `json:"borda,omitempty"`
	Pairwise [][]int  `json:"pairwise,omitempty"`
	Winners  []string `json:"winners,omitempty"`
}

// MixedResultOf decodes the decrypted vectors of mixed question qi (in the
// final mix's order) and counts them.
func MixedResultOf(m *ballot.Manifest, qi int, decrypted [][]*group.Element) (*MixedResult, error) {
	if qi < 0 || qi >= len(m.Questions) || !ballot.Mixed(m.Questions[qi].Kind) {
		return nil, fmt.Errorf("question %d is not a text or rank question", qi+1)
	}
	q := &m.Questions[qi]
	r := &MixedResult{Question: q.ID, Kind: q.Kind}
	var positions [][]int
	for _, elems := range decrypted {
		a, err := m.DecodeMixed(qi, elems)
		if errors.Is(err, ballot.ErrInvalidAnswer) {
			r.Invalid++
			continue
		}
		if err != nil {
			return nil, err
		}
		switch v := a.(type) {
		case string:
			if v == "" {
				r.Empty++
			} else {
				r.Comments = append(r.Comments, v)
			}
		case []string:
			pos := make([]int, len(q.Options))
			for p, id := range v {
				for i, o := range q.Options {
					if o.ID == id {
						pos[i] = p + 1
					}
				}
			}
			positions = append(positions, pos)
		default:
			return nil, fmt.Errorf("question %q: unexpected answer type %T", q.ID, a)
		}
	}
	if q.Kind == ballot.KindRank {
		c, err := ranking.Count(len(q.Options), q.Min, q.RankMax(), positions)
		if err != nil {
			return nil, err
		}
		if c.Invalid != 0 {
			return nil, fmt.Errorf("question %q: %d decoded rankings fail the count's check", q.ID, c.Invalid)
		}
		r.Valid, r.Borda, r.Pairwise = c.Valid, c.Borda, c.Pairwise
		for _, w := range c.Winners {
			r.Winners = append(r.Winners, q.Options[w].ID)
		}
	}
	return r, nil
}
