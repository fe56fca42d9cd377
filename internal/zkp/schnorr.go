// Package zkp implements koe's non-interactive zero-knowledge proofs
// (SPEC.md §4): Schnorr proofs of knowledge of a discrete logarithm,
// Chaum–Pedersen proofs of equal discrete logarithms (DLEQ), and disjunctive
// Chaum–Pedersen range proofs for exponential ElGamal ciphertexts.
//
// Every proof is made non-interactive with the Fiat–Shamir transform over a
// group.Transcript whose domain names the proof and the spec version, and
// which starts with a caller-supplied context (what the proof is about: the
// election, the ballot, the position in it). Proofs carry their commitments,
// so that a verifier can check many at once with a group.Batch.
package zkp

import (
	"errors"
	"fmt"
	"io"

	"github.com/koe-vote/koe/internal/group"
)

// ErrInvalidProof is wrapped by every proof verification failure.
var ErrInvalidProof = errors.New("invalid proof")

var one = group.ScalarFromUint64(1)
var minusOne = group.NewScalar().Negate(one)

// SchnorrSize is the length of an encoded Schnorr proof.
const SchnorrSize = group.ElementSize + group.ScalarSize

// Schnorr proves knowledge of x such that X = x·G (SPEC.md §4.1).
type Schnorr struct {
	R *group.Element // commitment k·G
	S *group.Scalar  // response k + c·x
}

func schnorrChallenge(context []byte, X, R *group.Element) *group.Scalar {
	return group.NewTranscript("koe/v2/proof/schnorr").
		Bytes("context", context).Element("X", X).Element("R", R).Challenge()
}

// ProveSchnorr proves knowledge of x = log_G(X).
func ProveSchnorr(rand io.Reader, context []byte, x *group.Scalar, X *group.Element) (*Schnorr, error) {
	k, err := group.RandomScalar(rand)
	if err != nil {
		return nil, err
	}
	R := group.BaseMul(k)
	c := schnorrChallenge(context, X, R)
	s := group.NewScalar().Multiply(c, x)
	s.Add(s, k)
	return &Schnorr{R: R, S: s}, nil
}

// Verify checks the proof on its own: s·G = R + c·X.
func (p *Schnorr) Verify(context []byte, X *group.Element) error {
	c := schnorrChallenge(context, X, p.R)
	got := group.VarTimeDoubleBaseMul(group.NewScalar().Negate(c), X, p.S)
	if !group.Equal(got, p.R) {
		return fmt.Errorf("schnorr: %w", ErrInvalidProof)
	}
	return nil
}

// AddTo adds the proof's equation s·G − c·X − R = 0 to a batch.
func (p *Schnorr) AddTo(b *group.Batch, context []byte, X *group.Element) {
	c := schnorrChallenge(context, X, p.R)
	b.Add(p.S, group.Term{S: group.NewScalar().Negate(c), P: X}, group.Term{S: minusOne, P: p.R})
}

// Bytes returns R ‖ s.
func (p *Schnorr) Bytes() []byte {
	out := make([]byte, 0, SchnorrSize)
	out = p.R.Encode(out)
	return p.S.Encode(out)
}

// DecodeSchnorr decodes R ‖ s strictly.
func DecodeSchnorr(b []byte) (*Schnorr, error) {
	if len(b) != SchnorrSize {
		return nil, fmt.Errorf("schnorr proof: length %d, want %d", len(b), SchnorrSize)
	}
	R, err := group.DecodeElement(b[:32])
	if err != nil {
		return nil, fmt.Errorf("schnorr proof: R: %w", err)
	}
	s, err := group.DecodeScalar(b[32:])
	if err != nil {
		return nil, fmt.Errorf("schnorr proof: s: %w", err)
	}
	return &Schnorr{R: R, S: s}, nil
}
