package ballot

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/textenc"
)

// ErrInvalidAnswer is wrapped by DecodeMixed's errors: a decrypted vector
// that is not a valid answer to its question. Because text and rank
// components carry no validity proof, such a vector is counted as
// "invalid" and reported with the reason (SPEC.md §8.7).
var ErrInvalidAnswer = errors.New("invalid answer")

// ranking checks a rank question's positions (one per option, 0 = not
// ranked) and returns the ranked option ids in rank order: the non-zero
// positions must be exactly 1..c for some c with min ≤ c ≤ k.
func (q *Question) ranking(pos []uint64) ([]string, error) {
	if len(pos) != len(q.Options) {
		return nil, fmt.Errorf("%d positions, want one per option (%d)", len(pos), len(q.Options))
	}
	k := q.RankMax()
	byPos := make([]string, k)
	c := 0
	for i, p := range pos {
		switch {
		case p == 0:
			continue
		case p > uint64(k):
			return nil, fmt.Errorf("option %q has position %d, above %d", q.Options[i].ID, p, k)
		case byPos[p-1] != "":
			return nil, fmt.Errorf("options %q and %q share position %d", byPos[p-1], q.Options[i].ID, p)
		}
		byPos[p-1] = q.Options[i].ID
		c++
	}
	for p := range c {
		if byPos[p] == "" {
			return nil, fmt.Errorf("%d options ranked but no option has position %d", c, p+1)
		}
	}
	if c < q.Min {
		return nil, fmt.Errorf("%d options ranked, at least %d required", c, q.Min)
	}
	return byPos[:c], nil
}

// componentElements returns the plaintext elements M_k of mixed question
// qi's components for its plaintext values: Embed of each payload block
// (text), m·G of each position (rank). The values must be a valid answer.
func (e *Election) componentElements(qi int, values []uint64) ([]*group.Element, error) {
	q := &e.Manifest.Questions[qi]
	if q.Kind == KindText {
		w := e.Style.Questions[qi].Selections
		if len(values) != w*textenc.BlockSize {
			return nil, fmt.Errorf("%d payload bytes, want %d", len(values), w*textenc.BlockSize)
		}
		payload := make([]byte, len(values))
		for i, v := range values {
			if v > 255 {
				return nil, fmt.Errorf("payload byte %d is %d, above 255", i+1, v)
			}
			payload[i] = byte(v)
		}
		text, err := textenc.DecodePayload(payload, q.MaxLength)
		if err != nil {
			return nil, err
		}
		if text == "" && !q.Optional {
			return nil, errors.New("empty answer to a required text question")
		}
		return textenc.EmbedPayload(payload)
	}
	if _, err := q.ranking(values); err != nil {
		return nil, err
	}
	out := make([]*group.Element, len(values))
	for i, v := range values {
		out[i] = group.SmallBaseMul(v)
	}
	return out, nil
}

func decodeNonce(h string) (*group.Scalar, error) {
	raw, err := hex.DecodeString(h)
	if err != nil || hex.EncodeToString(raw) != h {
		return nil, errors.New("nonce is not lowercase hex")
	}
	r, err := group.DecodeScalar(raw)
	if err != nil {
		return nil, fmt.Errorf("nonce: %v", err)
	}
	return r, nil
}

// DecodeMixed turns the decrypted components of mixed question qi (a
// manifest index) back into an answer (SPEC.md §8.7): a string for a text
// question (textenc.DecodeText of the elements), the ranked option ids in
// rank order ([]string) for a rank question (element k must be p_k·G with
// p_k ∈ 0..k; the positions must form a ranking). An error wrapping
// ErrInvalidAnswer says why the vector is not a valid answer; it is an
// "invalid" answer, to be counted and reported as such.
func (m *Manifest) DecodeMixed(qi int, elems []*group.Element) (any, error) {
	if qi < 0 || qi >= len(m.Questions) || !Mixed(m.Questions[qi].Kind) {
		return nil, fmt.Errorf("ballot: question %d is not a text or rank question", qi+1)
	}
	q := &m.Questions[qi]
	if q.Kind == KindText {
		text, err := textenc.DecodeText(elems, q.MaxLength)
		if err != nil {
			return nil, fmt.Errorf("%w: question %q: %v", ErrInvalidAnswer, q.ID, err)
		}
		if text == "" && !q.Optional {
			return nil, fmt.Errorf("%w: question %q: empty answer to a required text question", ErrInvalidAnswer, q.ID)
		}
		return text, nil
	}
	if len(elems) != len(q.Options) {
		return nil, fmt.Errorf("%w: question %q: %d components, want %d", ErrInvalidAnswer, q.ID, len(elems), len(q.Options))
	}
	k := q.RankMax()
	powers := make([]*group.Element, k+1)
	for p := range powers {
		powers[p] = group.SmallBaseMul(uint64(p))
	}
	pos := make([]uint64, len(elems))
	for i, el := range elems {
		found := false
		for p, P := range powers {
			if group.Equal(el, P) {
				pos[i], found = uint64(p), true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("%w: question %q: option %q decrypts to no position 0..%d", ErrInvalidAnswer, q.ID, q.Options[i].ID, k)
		}
	}
	ranking, err := q.ranking(pos)
	if err != nil {
		return nil, fmt.Errorf("%w: question %q: %v", ErrInvalidAnswer, q.ID, err)
	}
	return ranking, nil
}
