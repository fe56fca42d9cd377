package ballot

import (
	"bytes"
	"encoding/base32"
	"errors"
	"fmt"

	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/zkp"
)

// Magic starts every encoded ballot.
const Magic = "koe1"

// HeaderSize is the size of the ballot header: magic, election context, binding.
const HeaderSize = len(Magic) + 32 + 32

// ErrBallot is wrapped by every error about a ballot's encoding or proofs.
var ErrBallot = errors.New("invalid ballot")

// Selection is one encrypted selection with its range proof.
type Selection struct {
	Ciphertext elgamal.Ciphertext
	Proof      *zkp.Range
	enc        []byte // A ‖ B as decoded, if decoded
}

// EncryptedQuestion is the encrypted answer to one question. For a text or
// rank question (a mixed question), Selections are its components, each
// with a nil range proof, and Knowledge holds one Schnorr proof of
// knowledge of the nonce per component (SPEC.md §8.2–8.3).
type EncryptedQuestion struct {
	Selections []Selection
	Total      *zkp.Range // nil when the style has no total proof
	// Knowledge proves, for each component k of a mixed question, knowledge
	// of r_k with A_k = r_k·G, bound to the ballot's binding; nil for a
	// tallied question.
	Knowledge []*zkp.Schnorr
}

// Mixed reports whether the question is a text or rank question.
func (q *EncryptedQuestion) Mixed() bool { return q.Knowledge != nil }

// MixVector returns the component ciphertexts of mixed question q (a
// manifest index, see Manifest.Mixed): the vector that is shuffled. It
// returns nil for a tallied question.
func (b *Ballot) MixVector(q int) []elgamal.Ciphertext {
	eq := &b.Questions[q]
	if !eq.Mixed() {
		return nil
	}
	out := make([]elgamal.Ciphertext, len(eq.Selections))
	for k, s := range eq.Selections {
		out[k] = s.Ciphertext
	}
	return out
}

// Ballot is an encrypted ballot (SPEC.md §8.2).
type Ballot struct {
	Context   [32]byte // the election context
	Binding   [32]byte // binds the proofs to one ballot (SPEC.md §8.3)
	Questions []EncryptedQuestion
	raw       []byte
}

// CiphertextAs returns the encoded A component of every ciphertext of the
// ballot, question by question, selection by selection: the values by
// which the ballot box and the verifier recognise a ciphertext reused in
// another ballot (SPEC.md §15.4).
func (b *Ballot) CiphertextAs() [][32]byte {
	var out [][32]byte
	for _, q := range b.Questions {
		for _, s := range q.Selections {
			var a [32]byte
			s.Ciphertext.A.Encode(a[:0])
			out = append(out, a)
		}
	}
	return out
}

// Bytes returns the canonical encoding of the ballot.
func (b *Ballot) Bytes() []byte { return b.raw }

// TrackingCode returns the ballot's tracking code (SPEC.md §8.5):
// SHA-256 transcript "koe/v2/tracking" with ballot = the encoded ballot.
func (b *Ballot) TrackingCode() [32]byte { return TrackingCode(b.raw) }

// TrackingCode hashes an encoded ballot.
func TrackingCode(raw []byte) [32]byte {
	return group.NewDigest("koe/v2/tracking").Bytes("ballot", raw).Digest32()
}

func (b *Ballot) encode() []byte {
	out := make([]byte, 0, HeaderSize)
	out = append(out, Magic...)
	out = append(out, b.Context[:]...)
	out = append(out, b.Binding[:]...)
	for _, q := range b.Questions {
		if q.Mixed() {
			for k, s := range q.Selections {
				out = s.Ciphertext.AppendBytes(out)
				out = append(out, q.Knowledge[k].Bytes()...)
			}
			continue
		}
		for _, s := range q.Selections {
			out = s.Ciphertext.AppendBytes(out)
			out = s.Proof.AppendBytes(out)
		}
		if q.Total != nil {
			out = q.Total.AppendBytes(out)
		}
	}
	return out
}

// selectionContext is the proof context of selection s of question q
// (SPEC.md §8.3).
func selectionContext(ctx, binding *[32]byte, q, s int) []byte {
	d := group.NewDigest("koe/v2/ballot/selection").Bytes("election", ctx[:]).Bytes("binding", binding[:]).
		Uint64("question", uint64(q)).Uint64("selection", uint64(s)).Digest32()
	return d[:]
}

// componentContext is the context of the proof of knowledge of component
// k of mixed question q, whose ciphertext is ab = A ‖ B (SPEC.md §8.3).
func componentContext(ctx, binding *[32]byte, q, k int, ab []byte) []byte {
	d := group.NewDigest("koe/v2/ballot/component").Bytes("election", ctx[:]).Bytes("binding", binding[:]).
		Uint64("question", uint64(q)).Uint64("component", uint64(k)).Bytes("ciphertext", ab).Digest32()
	return d[:]
}

// totalContext is the proof context of question q's total.
func totalContext(ctx, binding *[32]byte, q int) []byte {
	d := group.NewDigest("koe/v2/ballot/total").Bytes("election", ctx[:]).Bytes("binding", binding[:]).
		Uint64("question", uint64(q)).Digest32()
	return d[:]
}

// Sum returns the homomorphic sum of a question's selections.
func (q *EncryptedQuestion) Sum() elgamal.Ciphertext {
	sum := elgamal.Zero()
	for _, s := range q.Selections {
		sum.Accumulate(s.Ciphertext)
	}
	return sum
}

// Decode decodes a ballot of the election's style strictly: exact length,
// the magic, canonical group elements and scalars. It checks that the
// ballot is for this election but does not verify its proofs.
func Decode(e *Election, raw []byte) (*Ballot, error) {
	st := e.Style
	if len(raw) != st.Size() {
		return nil, fmt.Errorf("%w: %d bytes, every ballot of this election has %d", ErrBallot, len(raw), st.Size())
	}
	if string(raw[:len(Magic)]) != Magic {
		return nil, fmt.Errorf("%w: does not start with %q", ErrBallot, Magic)
	}
	// The decoded ballot keeps slices of its encoding (to hash them without
	// re-encoding), so it must own that encoding.
	raw = bytes.Clone(raw)
	b := &Ballot{raw: raw}
	p := raw[len(Magic):]
	copy(b.Context[:], p[:32])
	copy(b.Binding[:], p[32:64])
	p = p[64:]
	if b.Context != e.Context {
		return nil, fmt.Errorf("%w: made for another election (context %x)", ErrBallot, b.Context[:8])
	}
	b.Questions = make([]EncryptedQuestion, len(st.Questions))
	for qi, qs := range st.Questions {
		q := &b.Questions[qi]
		q.Selections = make([]Selection, qs.Selections)
		if qs.Mixed {
			q.Knowledge = make([]*zkp.Schnorr, qs.Selections)
			for k := range q.Selections {
				ctBytes := p[:elgamal.CiphertextSize]
				ct, err := decodeCiphertext(ctBytes)
				if err != nil {
					return nil, fmt.Errorf("%w: question %d component %d: %v", ErrBallot, qi+1, k+1, err)
				}
				p = p[elgamal.CiphertextSize:]
				proof, err := zkp.DecodeSchnorr(p[:zkp.SchnorrSize])
				if err != nil {
					return nil, fmt.Errorf("%w: question %d component %d: %v", ErrBallot, qi+1, k+1, err)
				}
				p = p[zkp.SchnorrSize:]
				q.Selections[k] = Selection{Ciphertext: ct, enc: ctBytes}
				q.Knowledge[k] = proof
			}
			continue
		}
		n := int(qs.Max + 1)
		for si := range q.Selections {
			ctBytes := p[:elgamal.CiphertextSize]
			ct, err := decodeCiphertext(ctBytes)
			if err != nil {
				return nil, fmt.Errorf("%w: question %d selection %d: %v", ErrBallot, qi+1, si+1, err)
			}
			p = p[elgamal.CiphertextSize:]
			proof, err := zkp.DecodeRange(p[:n*zkp.BranchSize], n)
			if err != nil {
				return nil, fmt.Errorf("%w: question %d selection %d: %v", ErrBallot, qi+1, si+1, err)
			}
			p = p[n*zkp.BranchSize:]
			q.Selections[si] = Selection{Ciphertext: ct, Proof: proof, enc: ctBytes}
		}
		if qs.HasTotal {
			n := int(qs.TotalHi - qs.TotalLo + 1)
			proof, err := zkp.DecodeRange(p[:n*zkp.BranchSize], n)
			if err != nil {
				return nil, fmt.Errorf("%w: question %d total: %v", ErrBallot, qi+1, err)
			}
			p = p[n*zkp.BranchSize:]
			q.Total = proof
		}
	}
	if len(p) != 0 {
		panic("ballot: style size does not match the decoder")
	}
	return b, nil
}

// decodeCiphertext decodes A ‖ B and refuses an identity A (a nonce of 0
// would show the plaintext).
func decodeCiphertext(ab []byte) (elgamal.Ciphertext, error) {
	ct, err := elgamal.Decode(ab)
	if err == nil && group.IsIdentity(ct.A) {
		err = errors.New("ciphertext: A is the identity (nonce 0 reveals the vote)")
	}
	return ct, err
}

// knowledge calls f with every proof of knowledge of a component nonce.
func (b *Ballot) knowledge(e *Election, f func(where string, ctx []byte, A *group.Element, p *zkp.Schnorr) error) error {
	for qi, qs := range e.Style.Questions {
		if !qs.Mixed {
			continue
		}
		q := &b.Questions[qi]
		for k := range q.Selections {
			s := &q.Selections[k]
			ab := s.enc
			if ab == nil {
				ab = s.Ciphertext.Bytes()
			}
			ctx := componentContext(&b.Context, &b.Binding, qi, k, ab)
			if err := f(fmt.Sprintf("question %d (%s) component %d", qi+1, e.Manifest.Questions[qi].ID, k+1), ctx, s.Ciphertext.A, q.Knowledge[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// statements calls f with every range statement of the ballot and its proof.
func (b *Ballot) statements(e *Election, f func(where string, st *zkp.RangeStatement, p *zkp.Range) error) error {
	for qi, qs := range e.Style.Questions {
		if qs.Mixed {
			continue
		}
		q := &b.Questions[qi]
		for si := range q.Selections {
			s := &q.Selections[si]
			st := &zkp.RangeStatement{
				Context: selectionContext(&b.Context, &b.Binding, qi, si),
				K:       e.Key, A: s.Ciphertext.A, B: s.Ciphertext.B, Lo: 0, Hi: qs.Max,
				KEnc: e.keyBytes, ABEnc: s.enc,
			}
			if err := f(fmt.Sprintf("question %d (%s) selection %d", qi+1, e.Manifest.Questions[qi].ID, si+1), st, s.Proof); err != nil {
				return err
			}
		}
		if qs.HasTotal {
			sum := q.Sum()
			st := &zkp.RangeStatement{
				Context: totalContext(&b.Context, &b.Binding, qi),
				K:       e.Key, A: sum.A, B: sum.B, Lo: qs.TotalLo, Hi: qs.TotalHi,
				KEnc: e.keyBytes,
			}
			if err := f(fmt.Sprintf("question %d (%s) total", qi+1, e.Manifest.Questions[qi].ID), st, q.Total); err != nil {
				return err
			}
		}
	}
	return nil
}

// Verify checks every proof of the ballot on its own, equation by equation.
func (b *Ballot) Verify(e *Election) error {
	err := b.statements(e, func(where string, st *zkp.RangeStatement, p *zkp.Range) error {
		if err := p.Verify(st); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrBallot, where, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return b.knowledge(e, func(where string, ctx []byte, A *group.Element, p *zkp.Schnorr) error {
		if err := p.Verify(ctx, A); err != nil {
			return fmt.Errorf("%w: %s: nonce proof: %v", ErrBallot, where, err)
		}
		return nil
	})
}

// AddTo checks every proof's challenge and adds all of the ballot's proof
// equations to a batch. The ballot is valid if AddTo succeeds and the batch
// verifies.
func (b *Ballot) AddTo(batch *group.Batch, e *Election) error {
	err := b.statements(e, func(where string, st *zkp.RangeStatement, p *zkp.Range) error {
		if err := p.AddTo(batch, st); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrBallot, where, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return b.knowledge(e, func(_ string, ctx []byte, A *group.Element, p *zkp.Schnorr) error {
		p.AddTo(batch, ctx, A)
		return nil
	})
}

// DecodeCiphertexts decodes only the tallied ciphertexts of an encoded
// ballot of the election's style, in ballot order, skipping the proofs and
// the components of text and rank questions. It is for adding up ballots
// that have already been verified.
func DecodeCiphertexts(e *Election, raw []byte) ([]elgamal.Ciphertext, error) {
	st := e.Style
	if len(raw) != st.Size() {
		return nil, fmt.Errorf("%w: %d bytes, every ballot of this election has %d", ErrBallot, len(raw), st.Size())
	}
	out := make([]elgamal.Ciphertext, 0, st.Selections())
	p := raw[HeaderSize:]
	for qi, qs := range st.Questions {
		if qs.Mixed {
			p = p[qs.Selections*(elgamal.CiphertextSize+zkp.SchnorrSize):]
			continue
		}
		n := int(qs.Max+1) * zkp.BranchSize
		for si := 0; si < qs.Selections; si++ {
			ct, err := elgamal.Decode(p[:elgamal.CiphertextSize])
			if err != nil {
				return nil, fmt.Errorf("%w: question %d selection %d: %v", ErrBallot, qi+1, si+1, err)
			}
			out = append(out, ct)
			p = p[elgamal.CiphertextSize+n:]
		}
		if qs.HasTotal {
			p = p[int(qs.TotalHi-qs.TotalLo+1)*zkp.BranchSize:]
		}
	}
	return out, nil
}

// FormatTrackingCode writes a tracking code for people (SPEC.md §8.5): the
// 32 bytes as unpadded RFC 4648 base32, in groups of four characters
// separated by '-'.
func FormatTrackingCode(code [32]byte) string {
	s := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(code[:])
	out := make([]byte, 0, len(s)+len(s)/4)
	for i := 0; i < len(s); i++ {
		if i > 0 && i%4 == 0 {
			out = append(out, '-')
		}
		out = append(out, s[i])
	}
	return string(out)
}
