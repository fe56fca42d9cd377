package ballot

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/koe-vote/koe/internal/strictjson"

	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/textenc"
	"github.com/koe-vote/koe/internal/zkp"
)

// Plaintext holds the value of every selection, question by question, in
// manifest order: 0 or 1 for an option, and for a rating 0 or 1 for each
// value of its scale from min to max, 1 for the value given; for a
// rank question each option's position 1..k (0: not ranked); for a text
// question the 30·w bytes of its payload (SPEC.md §16.2), one value
// 0..255 per byte.
type Plaintext [][]uint64

// Answers maps a question id to its answer, as a voter gives it: an option id
// (single choice), a list of option ids (multiple choice), a number
// (rating), a string (text) or a list of option ids, first ranked first
// (rank). A question is skipped only by leaving it out: a nil answer
// (JSON null) is refused (SPEC.md §8.1).
type Answers map[string]any

// Plaintext turns answers into selection values, checking every rule of the
// manifest.
func (m *Manifest) Plaintext(a Answers) (Plaintext, error) {
	for id := range a {
		if !slices.ContainsFunc(m.Questions, func(q Question) bool { return q.ID == id }) {
			return nil, fmt.Errorf("answer to unknown question %q", id)
		}
	}
	pt := make(Plaintext, len(m.Questions))
	for qi := range m.Questions {
		q := &m.Questions[qi]
		v, given := a[q.ID]
		if given && v == nil {
			return nil, fmt.Errorf("question %q: null is not allowed: leave a question out to skip it", q.ID)
		}
		optionIndex := func(x any) (int, error) {
			s, ok := x.(string)
			if !ok {
				return 0, fmt.Errorf("question %q: %v is not an option id", q.ID, x)
			}
			for i, o := range q.Options {
				if o.ID == s {
					return i, nil
				}
			}
			return 0, fmt.Errorf("question %q has no option %q", q.ID, s)
		}
		switch q.Kind {
		case KindSingle:
			pt[qi] = make([]uint64, len(q.Options))
			if !given {
				if !q.Optional {
					return nil, fmt.Errorf("question %q needs an answer", q.ID)
				}
				continue
			}
			i, err := optionIndex(v)
			if err != nil {
				return nil, err
			}
			pt[qi][i] = 1
		case KindMultiple:
			pt[qi] = make([]uint64, len(q.Options))
			var list []any
			if given {
				var ok bool
				if list, ok = v.([]any); !ok {
					if s, isString := v.(string); isString {
						list = []any{s}
					} else {
						return nil, fmt.Errorf("question %q: answer with a list of option ids", q.ID)
					}
				}
			}
			for _, x := range list {
				i, err := optionIndex(x)
				if err != nil {
					return nil, err
				}
				if pt[qi][i] == 1 {
					return nil, fmt.Errorf("question %q: option %q chosen twice", q.ID, q.Options[i].ID)
				}
				pt[qi][i] = 1
			}
			if len(list) < q.Min || len(list) > q.Max {
				return nil, fmt.Errorf("question %q: %d options chosen, allowed %d to %d", q.ID, len(list), q.Min, q.Max)
			}
		case KindRating:
			if !given {
				return nil, fmt.Errorf("question %q needs an answer from %d to %d", q.ID, q.Min, q.Max)
			}
			var r float64
			switch x := v.(type) {
			case float64:
				r = x
			case int:
				r = float64(x)
			case json.Number:
				n, err := strconv.ParseInt(x.String(), 10, 64)
				if err != nil {
					return nil, fmt.Errorf("question %q: %s: %w", q.ID, x, errNotInteger)
				}
				if n < int64(q.Min) || n > int64(q.Max) {
					return nil, fmt.Errorf("question %q: %v is not a whole number from %d to %d", q.ID, v, q.Min, q.Max)
				}
				r = float64(n)
			default:
				return nil, fmt.Errorf("question %q: answer with a number from %d to %d", q.ID, q.Min, q.Max)
			}
			if r != float64(int(r)) || int(r) < q.Min || int(r) > q.Max {
				return nil, fmt.Errorf("question %q: %v is not a whole number from %d to %d", q.ID, v, q.Min, q.Max)
			}
			pt[qi] = make([]uint64, q.Max-q.Min+1)
			pt[qi][int(r)-q.Min] = 1
		case KindText:
			text := ""
			if given {
				var ok bool
				if text, ok = v.(string); !ok {
					return nil, fmt.Errorf("question %q: answer with a string", q.ID)
				}
			}
			if text == "" && !q.Optional {
				return nil, fmt.Errorf("question %q needs an answer (at most %d characters)", q.ID, q.MaxLength)
			}
			payload, err := textenc.Payload(text, q.MaxLength)
			if err != nil {
				return nil, fmt.Errorf("question %q: %v", q.ID, err)
			}
			pt[qi] = make([]uint64, len(payload))
			for i, c := range payload {
				pt[qi][i] = uint64(c)
			}
		case KindRank:
			pt[qi] = make([]uint64, len(q.Options))
			var list []any
			if given {
				var ok bool
				if list, ok = v.([]any); !ok {
					return nil, fmt.Errorf("question %q: answer with a list of option ids, first ranked first", q.ID)
				}
			}
			for pos, x := range list {
				i, err := optionIndex(x)
				if err != nil {
					return nil, err
				}
				if pt[qi][i] != 0 {
					return nil, fmt.Errorf("question %q: option %q ranked twice", q.ID, q.Options[i].ID)
				}
				pt[qi][i] = uint64(pos + 1)
			}
			if len(list) < q.Min || len(list) > q.RankMax() {
				return nil, fmt.Errorf("question %q: %d options ranked, allowed %d to %d", q.ID, len(list), q.Min, q.RankMax())
			}
		}
	}
	return pt, nil
}

// ParseAnswers decodes answers given as a JSON object (SPEC.md §8.1)
// strictly (§2.3): no null anywhere (a question is skipped only by leaving
// it out), no duplicate question id, valid UTF-8, nothing after the
// object, and numbers only as integers without fraction or exponent.
// Whether each answer fits its question is Manifest.Plaintext's check.
func ParseAnswers(data []byte) (Answers, error) {
	var raw map[string]json.RawMessage
	if err := strictjson.Decode(data, &raw); err != nil {
		return nil, fmt.Errorf("answers: %w", err)
	}
	a := Answers{}
	for id, r := range raw {
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("answers: question %q: %v", id, err)
		}
		if err := integersOnly(v); err != nil {
			return nil, fmt.Errorf("answers: question %q: %w", id, err)
		}
		a[id] = v
	}
	return a, nil
}

// errNotInteger is a JSON number with a fraction or exponent where koe
// takes only integers (SPEC §2.3).
var errNotInteger = errors.New("a number with a fraction or exponent is not allowed (integers only)")

// integersOnly checks that every number in v, decoded with UseNumber, is
// written as an integer.
func integersOnly(v any) error {
	switch x := v.(type) {
	case json.Number:
		if _, err := strconv.ParseInt(x.String(), 10, 64); err != nil {
			return fmt.Errorf("%s: %w", x, errNotInteger)
		}
	case []any:
		for _, y := range x {
			if err := integersOnly(y); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, y := range x {
			if err := integersOnly(y); err != nil {
				return err
			}
		}
	}
	return nil
}

// Answers turns selection values back into answers (for showing a voter
// what a spoiled ballot contained).
func (m *Manifest) Answers(pt Plaintext) Answers {
	a := Answers{}
	for qi := range m.Questions {
		q := &m.Questions[qi]
		switch q.Kind {
		case KindSingle:
			for i, v := range pt[qi] {
				if v == 1 {
					a[q.ID] = q.Options[i].ID
				}
			}
		case KindMultiple:
			list := []any{}
			for i, v := range pt[qi] {
				if v == 1 {
					list = append(list, q.Options[i].ID)
				}
			}
			a[q.ID] = list
		case KindRating:
			// A checked plaintext has exactly one 1; an unchecked one
			// without is left out rather than shown wrongly.
			if i := slices.Index(pt[qi], 1); i >= 0 {
				a[q.ID] = float64(q.Min + i)
			}
		case KindText:
			payload := make([]byte, len(pt[qi]))
			for i, v := range pt[qi] {
				payload[i] = byte(v)
			}
			// A checked plaintext always decodes; an unchecked one that
			// does not is left out rather than shown wrongly.
			// An empty answer is an absent one (SPEC §8.1).
			if text, err := textenc.DecodePayload(payload, q.MaxLength); err == nil && text != "" {
				a[q.ID] = text
			}
		case KindRank:
			if ranking, err := q.ranking(pt[qi]); err == nil {
				list := make([]any, len(ranking))
				for i, id := range ranking {
					list[i] = id
				}
				a[q.ID] = list
			}
		}
	}
	return a
}

// Nonces are the encryption nonces of a ballot's selections. They are the
// voter's secret until the voter spoils the ballot.
type Nonces [][]*group.Scalar

func (e *Election) checkPlaintext(pt Plaintext) error {
	if len(pt) != len(e.Style.Questions) {
		return fmt.Errorf("plaintext has %d questions, the manifest %d", len(pt), len(e.Style.Questions))
	}
	for qi, qs := range e.Style.Questions {
		q := &e.Manifest.Questions[qi]
		if qs.Mixed {
			if _, err := e.componentElements(qi, pt[qi]); err != nil {
				return fmt.Errorf("question %d (%s): %v", qi+1, q.ID, err)
			}
			continue
		}
		if len(pt[qi]) != qs.Selections {
			return fmt.Errorf("question %d: %d values, want %d", qi+1, len(pt[qi]), qs.Selections)
		}
		var total uint64
		for si, v := range pt[qi] {
			if v > qs.Max {
				return fmt.Errorf("question %d selection %d: value %d above %d", qi+1, si+1, v, qs.Max)
			}
			total += v
		}
		if q.Kind == KindRating && total != 1 {
			return fmt.Errorf("question %d (%s): a rating has exactly one value chosen, this has %d", qi+1, q.ID, total)
		}
		if qs.HasTotal && (total < qs.TotalLo || total > qs.TotalHi) {
			return fmt.Errorf("question %d: total %d outside %d..%d", qi+1, total, qs.TotalLo, qs.TotalHi)
		}
	}
	return nil
}

// Encrypt encrypts a plaintext into a ballot bound to binding, with a range
// proof for every selection and a proof of every question's total. It
// returns the nonces, which open the ballot if the voter spoils it.
func Encrypt(rand io.Reader, e *Election, binding [32]byte, pt Plaintext) (*Ballot, Nonces, error) {
	if err := e.checkPlaintext(pt); err != nil {
		return nil, nil, err
	}
	b := &Ballot{Context: e.Context, Binding: binding, Questions: make([]EncryptedQuestion, len(pt))}
	nonces := make(Nonces, len(pt))
	for qi, qs := range e.Style.Questions {
		q := &b.Questions[qi]
		q.Selections = make([]Selection, qs.Selections)
		nonces[qi] = make([]*group.Scalar, qs.Selections)
		if qs.Mixed {
			ms, err := e.componentElements(qi, pt[qi])
			if err != nil {
				return nil, nil, err
			}
			q.Knowledge = make([]*zkp.Schnorr, qs.Selections)
			for k, M := range ms {
				r, err := group.RandomScalar(rand)
				if err != nil {
					return nil, nil, err
				}
				ct := elgamal.Ciphertext{A: group.BaseMul(r), B: group.NewElement().Add(M, group.Mul(r, e.Key))}
				ctx := componentContext(&b.Context, &b.Binding, qi, k, ct.Bytes())
				proof, err := zkp.ProveSchnorr(rand, ctx, r, ct.A)
				if err != nil {
					return nil, nil, err
				}
				q.Selections[k] = Selection{Ciphertext: ct}
				q.Knowledge[k] = proof
				nonces[qi][k] = r
			}
			continue
		}
		rSum := group.NewScalar()
		var total uint64
		for si, v := range pt[qi] {
			ct, r, err := elgamal.EncryptRandom(rand, e.Key, v)
			if err != nil {
				return nil, nil, err
			}
			st := &zkp.RangeStatement{
				Context: selectionContext(&b.Context, &b.Binding, qi, si),
				K:       e.Key, A: ct.A, B: ct.B, Lo: 0, Hi: qs.Max,
			}
			proof, err := zkp.ProveRange(rand, st, v, r)
			if err != nil {
				return nil, nil, err
			}
			q.Selections[si] = Selection{Ciphertext: ct, Proof: proof}
			nonces[qi][si] = r
			rSum.Add(rSum, r)
			total += v
		}
		if qs.HasTotal {
			sum := q.Sum()
			st := &zkp.RangeStatement{
				Context: totalContext(&b.Context, &b.Binding, qi),
				K:       e.Key, A: sum.A, B: sum.B, Lo: qs.TotalLo, Hi: qs.TotalHi,
			}
			proof, err := zkp.ProveRange(rand, st, total, rSum)
			if err != nil {
				return nil, nil, err
			}
			q.Total = proof
		}
	}
	b.raw = b.encode()
	return b, nonces, nil
}

// Spoiled is a ballot opened by a Benaloh challenge (SPEC.md §8.6): the
// ballot, the values it claims to encrypt and the nonces that prove it.
// A spoiled ballot is published and never counted.
type Spoiled struct {
	Ballot []byte     `json:"ballot"` // the encoded ballot (base64 in JSON)
	Values Plaintext  `json:"values"`
	Nonces [][]string `json:"nonces"` // hex scalars
}

// Spoil opens a ballot with its nonces.
func Spoil(b *Ballot, pt Plaintext, nonces Nonces) *Spoiled {
	s := &Spoiled{Ballot: b.Bytes(), Values: pt, Nonces: make([][]string, len(nonces))}
	for qi := range nonces {
		for _, r := range nonces[qi] {
			s.Nonces[qi] = append(s.Nonces[qi], hex.EncodeToString(r.Bytes()))
		}
	}
	return s
}

// ParseSpoiled decodes a spoiled ballot's JSON strictly.
func ParseSpoiled(data []byte) (*Spoiled, error) {
	var s Spoiled
	if err := strictjson.Decode(data, &s); err != nil {
		return nil, fmt.Errorf("spoiled ballot: %w", err)
	}
	return &s, nil
}

// Check decodes and verifies the spoiled ballot and checks that every
// selection opens to the stated value with the stated nonce. It returns the
// decoded ballot.
func (s *Spoiled) Check(e *Election) (*Ballot, error) {
	b, err := Decode(e, s.Ballot)
	if err != nil {
		return nil, err
	}
	if err := b.Verify(e); err != nil {
		return nil, err
	}
	if err := e.checkPlaintext(s.Values); err != nil {
		return nil, fmt.Errorf("spoiled ballot: %v", err)
	}
	if len(s.Nonces) != len(s.Values) {
		return nil, fmt.Errorf("spoiled ballot: nonces for %d questions, want %d", len(s.Nonces), len(s.Values))
	}
	for qi := range s.Values {
		if e.Style.Questions[qi].Mixed {
			ms, err := e.componentElements(qi, s.Values[qi])
			if err != nil {
				return nil, fmt.Errorf("spoiled ballot: question %d: %v", qi+1, err)
			}
			if len(s.Nonces[qi]) != len(ms) {
				return nil, fmt.Errorf("spoiled ballot: question %d: %d nonces, want %d", qi+1, len(s.Nonces[qi]), len(ms))
			}
			for k, M := range ms {
				r, err := decodeNonce(s.Nonces[qi][k])
				if err != nil {
					return nil, fmt.Errorf("spoiled ballot: question %d component %d: %v", qi+1, k+1, err)
				}
				ct := b.Questions[qi].Selections[k].Ciphertext
				if !group.Equal(ct.A, group.BaseMul(r)) || !group.Equal(ct.B, group.NewElement().Add(M, group.Mul(r, e.Key))) {
					return nil, fmt.Errorf("spoiled ballot: question %d component %d does not encrypt the stated answer with the revealed nonce", qi+1, k+1)
				}
			}
			continue
		}
		if len(s.Nonces[qi]) != len(s.Values[qi]) {
			return nil, fmt.Errorf("spoiled ballot: question %d: %d nonces, want %d", qi+1, len(s.Nonces[qi]), len(s.Values[qi]))
		}
		for si, v := range s.Values[qi] {
			raw, err := hex.DecodeString(s.Nonces[qi][si])
			if err != nil || hex.EncodeToString(raw) != s.Nonces[qi][si] {
				return nil, fmt.Errorf("spoiled ballot: question %d selection %d: nonce is not lowercase hex", qi+1, si+1)
			}
			r, err := group.DecodeScalar(raw)
			if err != nil {
				return nil, fmt.Errorf("spoiled ballot: question %d selection %d: nonce: %v", qi+1, si+1, err)
			}
			if !b.Questions[qi].Selections[si].Ciphertext.Opens(e.Key, v, r) {
				return nil, fmt.Errorf("spoiled ballot: question %d selection %d does not encrypt %d with the revealed nonce", qi+1, si+1, v)
			}
		}
	}
	return b, nil
}
