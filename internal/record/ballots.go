package record

import (
	"errors"
	"fmt"
	"io"

	"github.com/koe-vote/koe/internal/ballot"
)

// DecodeBallots decodes the ballots of the record's ballots.bin, in order
// (SPEC.md §10.1): round 0 of a mix is built from them (§16.6). It checks
// no proof: the caller verified them.
func DecodeBallots(dir string, e *ballot.Election) ([]*ballot.Ballot, error) {
	r, err := OpenBallots(dir, e.Style.Size())
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []*ballot.Ballot
	for {
		raw, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		b, err := ballot.Decode(e, raw)
		if err != nil {
			return nil, fmt.Errorf("%s: ballot %d: %w", Ballots, len(out)+1, err)
		}
		out = append(out, b)
	}
}
