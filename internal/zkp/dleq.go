package zkp

import (
	"fmt"
	"io"

	"github.com/koe-vote/koe/internal/group"
)

// DLEQSize is the length of an encoded DLEQ proof.
const DLEQSize = 2*group.ElementSize + group.ScalarSize

// DLEQ is a Chaum–Pedersen proof that log_G(Y) = log_A(D) (SPEC.md §4.2):
// the trustee whose public share is Y computed the decryption share D = x·A.
type DLEQ struct {
	U, V *group.Element // commitments w·G and w·A
	S    *group.Scalar  // response w + c·x
}

func dleqChallenge(context []byte, Y, A, D, U, V *group.Element) *group.Scalar {
	return group.NewTranscript("koe/v2/proof/dleq").
		Bytes("context", context).Element("Y", Y).Element("A", A).Element("D", D).
		Element("U", U).Element("V", V).Challenge()
}

// ProveDLEQ proves that Y = x·G and D = x·A share the logarithm x.
func ProveDLEQ(rand io.Reader, context []byte, x *group.Scalar, Y, A, D *group.Element) (*DLEQ, error) {
	w, err := group.RandomScalar(rand)
	if err != nil {
		return nil, err
	}
	U := group.BaseMul(w)
	V := group.Mul(w, A)
	c := dleqChallenge(context, Y, A, D, U, V)
	s := group.NewScalar().Multiply(c, x)
	s.Add(s, w)
	return &DLEQ{U: U, V: V, S: s}, nil
}

// Verify checks the proof on its own: s·G = U + c·Y and s·A = V + c·D.
func (p *DLEQ) Verify(context []byte, Y, A, D *group.Element) error {
	c := dleqChallenge(context, Y, A, D, p.U, p.V)
	negC := group.NewScalar().Negate(c)
	if !group.Equal(group.VarTimeDoubleBaseMul(negC, Y, p.S), p.U) {
		return fmt.Errorf("dleq: first equation: %w", ErrInvalidProof)
	}
	if !group.CheckEquation(nil, group.Term{S: p.S, P: A}, group.Term{S: negC, P: D}, group.Term{S: minusOne, P: p.V}) {
		return fmt.Errorf("dleq: second equation: %w", ErrInvalidProof)
	}
	return nil
}

// AddTo adds the proof's two equations to a batch.
func (p *DLEQ) AddTo(b *group.Batch, context []byte, Y, A, D *group.Element) {
	c := dleqChallenge(context, Y, A, D, p.U, p.V)
	negC := group.NewScalar().Negate(c)
	b.Add(p.S, group.Term{S: negC, P: Y}, group.Term{S: minusOne, P: p.U})
	b.Add(nil, group.Term{S: p.S, P: A}, group.Term{S: negC, P: D}, group.Term{S: minusOne, P: p.V})
}

// Bytes returns U ‖ V ‖ s.
func (p *DLEQ) Bytes() []byte {
	out := make([]byte, 0, DLEQSize)
	out = p.U.Encode(out)
	out = p.V.Encode(out)
	return p.S.Encode(out)
}

// DecodeDLEQ decodes U ‖ V ‖ s strictly.
func DecodeDLEQ(b []byte) (*DLEQ, error) {
	if len(b) != DLEQSize {
		return nil, fmt.Errorf("dleq proof: length %d, want %d", len(b), DLEQSize)
	}
	U, err := group.DecodeElement(b[:32])
	if err != nil {
		return nil, fmt.Errorf("dleq proof: U: %w", err)
	}
	V, err := group.DecodeElement(b[32:64])
	if err != nil {
		return nil, fmt.Errorf("dleq proof: V: %w", err)
	}
	s, err := group.DecodeScalar(b[64:])
	if err != nil {
		return nil, fmt.Errorf("dleq proof: s: %w", err)
	}
	return &DLEQ{U: U, V: V, S: s}, nil
}
