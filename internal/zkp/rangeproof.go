package zkp

import (
	"fmt"
	"io"

	"github.com/koe-vote/koe/internal/group"
)

// MaxRangeBranches bounds hi − lo + 1 for a range proof.
const MaxRangeBranches = 256

// BranchSize is the length of one encoded branch U ‖ V ‖ c ‖ s.
const BranchSize = 2*group.ElementSize + 2*group.ScalarSize

// RangeSize returns the encoded length of a range proof for [lo, hi].
func RangeSize(lo, hi uint64) int { return int(hi-lo+1) * BranchSize }

// A Branch is one disjunct of a range proof: a Chaum–Pedersen proof that
// (A, B − j·G) encrypts zero, i.e. log_G(A) = log_K(B − j·G).
type Branch struct {
	U, V *group.Element // commitments
	C, S *group.Scalar  // challenge share and response
	uv   []byte         // the encoding of U ‖ V, when decoded from bytes
}

// Range is a disjunctive Chaum–Pedersen proof (SPEC.md §4.3) that the
// exponential ElGamal ciphertext (A, B) = (r·G, m·G + r·K) encrypts some m
// with lo ≤ m ≤ hi. Branches[i] is the disjunct for j = lo + i.
type Range struct {
	Branches []Branch
}

// RangeStatement is what a range proof is about.
type RangeStatement struct {
	Context []byte         // binds the proof to its election, ballot and position
	K       *group.Element // the election public key
	A, B    *group.Element // the ciphertext
	Lo, Hi  uint64         // the allowed plaintext range, inclusive

	// Optional encodings of K and of A ‖ B, which spare the verifier
	// re-encoding elements it has just decoded. If set, they must be the
	// canonical encodings of K, A and B.
	KEnc, ABEnc []byte
}

func (st *RangeStatement) check() error {
	if st.Hi < st.Lo || st.Hi-st.Lo >= MaxRangeBranches {
		return fmt.Errorf("range proof: bad range [%d, %d]", st.Lo, st.Hi)
	}
	return nil
}

func (st *RangeStatement) challenge(branches []Branch) *group.Scalar {
	t := group.NewTranscript("koe/v2/proof/range").Bytes("context", st.Context)
	if st.KEnc != nil {
		t.Bytes("K", st.KEnc)
	} else {
		t.Element("K", st.K)
	}
	if st.ABEnc != nil {
		t.Bytes("A", st.ABEnc[:group.ElementSize]).Bytes("B", st.ABEnc[group.ElementSize:])
	} else {
		t.Element("A", st.A).Element("B", st.B)
	}
	t.Uint64("lo", st.Lo).Uint64("hi", st.Hi)
	for i := range branches {
		if br := &branches[i]; br.uv != nil {
			t.Bytes("U", br.uv[:group.ElementSize]).Bytes("V", br.uv[group.ElementSize:])
		} else {
			t.Element("U", br.U).Element("V", br.V)
		}
	}
	return t.Challenge()
}

// ProveRange proves that the statement's ciphertext, made with nonce r,
// encrypts m. m must lie in [Lo, Hi]; r is secret and handled in constant
// time; the simulated branches use only values that the proof reveals.
func ProveRange(rand io.Reader, st *RangeStatement, m uint64, r *group.Scalar) (*Range, error) {
	if err := st.check(); err != nil {
		return nil, err
	}
	if m < st.Lo || m > st.Hi {
		return nil, fmt.Errorf("range proof: value %d outside [%d, %d]", m, st.Lo, st.Hi)
	}
	n := int(st.Hi - st.Lo + 1)
	branches := make([]Branch, n)
	real := int(m - st.Lo)
	var w *group.Scalar
	sumC := group.NewScalar()
	Bj := group.NewElement().Subtract(st.B, group.SmallBaseMul(st.Lo)) // B − j·G for j = lo
	negG := group.NewElement().Negate(group.Generator())
	for i := 0; i < n; i++ {
		if i == real {
			var err error
			if w, err = group.RandomScalar(rand); err != nil {
				return nil, err
			}
			branches[i].U = group.BaseMul(w)
			branches[i].V = group.Mul(w, st.K)
		} else {
			c, err := group.RandomScalar(rand)
			if err != nil {
				return nil, err
			}
			s, err := group.RandomScalar(rand)
			if err != nil {
				return nil, err
			}
			negC := group.NewScalar().Negate(c)
			branches[i].C, branches[i].S = c, s
			branches[i].U = group.VarTimeDoubleBaseMul(negC, st.A, s)
			branches[i].V = group.VarTimeMSM([]*group.Scalar{s, negC}, []*group.Element{st.K, Bj})
			sumC.Add(sumC, c)
		}
		Bj = group.NewElement().Add(Bj, negG)
	}
	c := st.challenge(branches)
	cReal := group.NewScalar().Subtract(c, sumC)
	sReal := group.NewScalar().Multiply(cReal, r)
	sReal.Add(sReal, w)
	branches[real].C, branches[real].S = cReal, sReal
	return &Range{Branches: branches}, nil
}

func (p *Range) checkShape(st *RangeStatement) error {
	if err := st.check(); err != nil {
		return err
	}
	if len(p.Branches) != int(st.Hi-st.Lo+1) {
		return fmt.Errorf("range proof: %d branches for range [%d, %d]", len(p.Branches), st.Lo, st.Hi)
	}
	return nil
}

func (p *Range) checkChallenge(st *RangeStatement) error {
	sum := group.NewScalar()
	for i := range p.Branches {
		sum.Add(sum, p.Branches[i].C)
	}
	if sum.Equal(st.challenge(p.Branches)) != 1 {
		return fmt.Errorf("range proof: challenges do not sum to the hash: %w", ErrInvalidProof)
	}
	return nil
}

// Verify checks the proof on its own, equation by equation:
// Σ cⱼ = H(…) and, for every j, sⱼ·G = Uⱼ + cⱼ·A and sⱼ·K = Vⱼ + cⱼ·(B − j·G).
func (p *Range) Verify(st *RangeStatement) error {
	if err := p.checkShape(st); err != nil {
		return err
	}
	if err := p.checkChallenge(st); err != nil {
		return err
	}
	Bj := group.NewElement().Subtract(st.B, group.SmallBaseMul(st.Lo))
	negG := group.NewElement().Negate(group.Generator())
	for i := range p.Branches {
		br := &p.Branches[i]
		negC := group.NewScalar().Negate(br.C)
		if !group.Equal(group.VarTimeDoubleBaseMul(negC, st.A, br.S), br.U) {
			return fmt.Errorf("range proof: branch %d, first equation: %w", st.Lo+uint64(i), ErrInvalidProof)
		}
		if !group.Equal(group.VarTimeMSM([]*group.Scalar{br.S, negC}, []*group.Element{st.K, Bj}), br.V) {
			return fmt.Errorf("range proof: branch %d, second equation: %w", st.Lo+uint64(i), ErrInvalidProof)
		}
		Bj = group.NewElement().Add(Bj, negG)
	}
	return nil
}

// AddTo checks the challenge sum now and adds the proof's 2·(hi−lo+1)
// group equations to a batch. The returned error covers only the shape and
// the challenge sum; the equations hold if the batch verifies.
func (p *Range) AddTo(b *group.Batch, st *RangeStatement) error {
	if err := p.checkShape(st); err != nil {
		return err
	}
	if err := p.checkChallenge(st); err != nil {
		return err
	}
	for i := range p.Branches {
		br := &p.Branches[i]
		negC := group.NewScalar().Negate(br.C)
		// sⱼ·G − cⱼ·A − Uⱼ = 0
		b.Add(br.S, group.Term{S: negC, P: st.A}, group.Term{S: minusOne, P: br.U})
		// (cⱼ·j)·G + sⱼ·K − cⱼ·B − Vⱼ = 0
		j := group.ScalarFromUint64(st.Lo + uint64(i))
		b.Add(group.NewScalar().Multiply(br.C, j),
			group.Term{S: br.S, P: st.K}, group.Term{S: negC, P: st.B}, group.Term{S: minusOne, P: br.V})
	}
	return nil
}

// AppendBytes appends the branches, each as U ‖ V ‖ c ‖ s.
func (p *Range) AppendBytes(out []byte) []byte {
	for i := range p.Branches {
		br := &p.Branches[i]
		out = br.U.Encode(out)
		out = br.V.Encode(out)
		out = br.C.Encode(out)
		out = br.S.Encode(out)
	}
	return out
}

// DecodeRange decodes a range proof of exactly n branches. The proof keeps
// slices of b, which must not change afterwards.
func DecodeRange(b []byte, n int) (*Range, error) {
	if n < 1 || n > MaxRangeBranches || len(b) != n*BranchSize {
		return nil, fmt.Errorf("range proof: length %d, want %d branches of %d bytes", len(b), n, BranchSize)
	}
	p := &Range{Branches: make([]Branch, n)}
	for i := range p.Branches {
		chunk := b[i*BranchSize : (i+1)*BranchSize]
		br := &p.Branches[i]
		var err error
		if br.U, err = group.DecodeElement(chunk[0:32]); err != nil {
			return nil, fmt.Errorf("range proof: branch %d: U: %w", i, err)
		}
		if br.V, err = group.DecodeElement(chunk[32:64]); err != nil {
			return nil, fmt.Errorf("range proof: branch %d: V: %w", i, err)
		}
		if br.C, err = group.DecodeScalar(chunk[64:96]); err != nil {
			return nil, fmt.Errorf("range proof: branch %d: c: %w", i, err)
		}
		if br.S, err = group.DecodeScalar(chunk[96:128]); err != nil {
			return nil, fmt.Errorf("range proof: branch %d: s: %w", i, err)
		}
		br.uv = chunk[0:64]
	}
	return p, nil
}
