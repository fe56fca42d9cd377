package tally

import (
	"fmt"

	"github.com/koe-vote/koe/internal/strictjson"

	"github.com/koe-vote/koe/internal/ballot"
)

// Results are an election's published results (SPEC.md §9.4).
type Results struct {
	Election  string           `json:"election"` // the manifest id
	Ballots   int              `json:"ballots"`  // ballots counted
	Questions []QuestionResult `json:"questions"`
}

// QuestionResult is the result of one question.
type QuestionResult struct {
	ID      string         `json:"id"`
	Kind    string         `json:"kind"`
	Options []OptionResult `json:"options,omitempty"` // single, multiple: votes per option
	// Rating (SPEC.md §9.4): the ballots that gave each value of the
	// scale, min to max, and the sum of all ratings given.
	Values []ValueResult `json:"values,omitempty"`
	Total  *uint64       `json:"total,omitempty"`
	// Text and rank questions (SPEC.md §9.4): counts of the decrypted
	// answers, whose full result is the record's mixed/ID.json.
	Answers *int     `json:"answers,omitempty"` // text: non-empty answers
	Empty   *int     `json:"empty,omitempty"`   // text: empty answers
	Valid   *int     `json:"valid,omitempty"`   // rank: valid rankings
	Invalid *int     `json:"invalid,omitempty"` // text, rank: answers that decrypt to no valid answer
	Winners []string `json:"winners,omitempty"` // rank: the Schulze winners' ids, in option order
}

// OptionResult is the number of ballots that chose an option.
type OptionResult struct {
	ID    string `json:"id"`
	Count uint64 `json:"count"`
}

// ValueResult is the number of ballots that gave a rating question one
// value of its scale.
type ValueResult struct {
	Value int    `json:"value"`
	Count uint64 `json:"count"`
}

// Mean returns the average rating of a rating question.
func (r *QuestionResult) Mean(ballots int) float64 {
	if r.Total == nil || ballots == 0 {
		return 0
	}
	return float64(*r.Total) / float64(ballots)
}

// ResultsOf turns per-selection totals into results.
func ResultsOf(m *ballot.Manifest, ballots int, totals []uint64) *Results {
	r := &Results{Election: m.ID, Ballots: ballots}
	k := 0
	for _, q := range m.Questions {
		qr := QuestionResult{ID: q.ID, Kind: q.Kind}
		switch q.Kind {
		case ballot.KindText, ballot.KindRank:
			// Mixed and decrypted ballot by ballot, not tallied: no totals.
		case ballot.KindRating:
			// One selection per value (SPEC.md §8.1): its total is the
			// number of ballots that gave the value.
			var t uint64
			for v := q.Min; v <= q.Max; v++ {
				qr.Values = append(qr.Values, ValueResult{Value: v, Count: totals[k]})
				t += uint64(v) * totals[k]
				k++
			}
			qr.Total = &t
		default:
			for _, o := range q.Options {
				qr.Options = append(qr.Options, OptionResult{ID: o.ID, Count: totals[k]})
				k++
			}
		}
		r.Questions = append(r.Questions, qr)
	}
	return r
}

// AddMixed puts the counts of the mixed questions' results into r: each
// of r's text and rank questions must have exactly one result in mixed.
func (r *Results) AddMixed(mixed []*MixedResult) error {
	by := map[string]*MixedResult{}
	for _, mr := range mixed {
		by[mr.Question] = mr
	}
	used := 0
	for i := range r.Questions {
		q := &r.Questions[i]
		if q.Kind != ballot.KindText && q.Kind != ballot.KindRank {
			continue
		}
		mr := by[q.ID]
		if mr == nil || mr.Kind != q.Kind {
			return fmt.Errorf("results: no %s result for question %q", q.Kind, q.ID)
		}
		used++
		invalid := mr.Invalid
		q.Invalid = &invalid
		if q.Kind == ballot.KindText {
			answers, empty := len(mr.Comments), mr.Empty
			q.Answers, q.Empty = &answers, &empty
		} else {
			valid := mr.Valid
			q.Valid, q.Winners = &valid, mr.Winners
		}
	}
	if used != len(mixed) {
		return fmt.Errorf("results: %d mixed results for %d text and rank questions", len(mixed), used)
	}
	return nil
}

// MaxTotal returns the largest total any selection can reach with n
// ballots: the bound for the discrete-logarithm table. Every tallied
// selection is 0 or 1 since ratings are one-hot, so this is n; the loop
// keeps the bound right should a style ever allow more.
func MaxTotal(st *ballot.Style, n int) uint64 {
	var max uint64 = 1
	for _, q := range st.Questions {
		if !q.Mixed && q.Max > max {
			max = q.Max
		}
	}
	return max * uint64(n)
}

// ParseResults decodes results strictly.
func ParseResults(data []byte) (*Results, error) {
	var r Results
	if err := strictjson.Decode(data, &r); err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	return &r, nil
}
