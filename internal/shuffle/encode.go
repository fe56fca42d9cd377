package shuffle

import (
	"encoding/binary"
	"fmt"

	"github.com/koe-vote/koe/internal/group"
)

// ProofSize returns the length of an encoded proof for n vectors of width w:
// 8 + 32·(5n + 3w + 6) (SPEC.md §16.3).
func ProofSize(n, w int) int { return 8 + group.ElementSize*(5*n+3*w+6) }

// Bytes returns the proof's binary encoding (SPEC.md §16.3):
// u32be(N) ‖ u32be(w) ‖ c_1..c_N ‖ ĉ_1..ĉ_N ‖ t₁ ‖ t₂ ‖ t₃ ‖ (t₄A_k ‖ t₄B_k)_k ‖
// t̂_1..t̂_N ‖ s₁ ‖ s₂ ‖ s₃ ‖ s₄_1..s₄_w ‖ ŝ_1..ŝ_N ‖ s'_1..s'_N.
func (p *Proof) Bytes() []byte {
	n, w := len(p.C), len(p.S4)
	out := make([]byte, 8, ProofSize(n, w))
	binary.BigEndian.PutUint32(out, uint32(n))
	binary.BigEndian.PutUint32(out[4:], uint32(w))
	out = append(out, encodeAll(p.C)...)
	out = append(out, encodeAll(p.CHat)...)
	out = p.T1.Encode(out)
	out = p.T2.Encode(out)
	out = p.T3.Encode(out)
	for k := range w {
		out = p.T4A[k].Encode(out)
		out = p.T4B[k].Encode(out)
	}
	out = append(out, encodeAll(p.THat)...)
	for _, s := range [][]*group.Scalar{{p.S1, p.S2, p.S3}, p.S4, p.SHat, p.SPrim} {
		for _, x := range s {
			out = x.Encode(out)
		}
	}
	return out
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) element(what string) *group.Element {
	if r.err != nil {
		return nil
	}
	e, err := group.DecodeElement(r.b[:group.ElementSize])
	if err != nil {
		r.err = fmt.Errorf("shuffle proof: %s: %w", what, err)
		return nil
	}
	r.b = r.b[group.ElementSize:]
	return e
}

func (r *reader) scalar(what string) *group.Scalar {
	if r.err != nil {
		return nil
	}
	s, err := group.DecodeScalar(r.b[:group.ScalarSize])
	if err != nil {
		r.err = fmt.Errorf("shuffle proof: %s: %w", what, err)
		return nil
	}
	r.b = r.b[group.ScalarSize:]
	return s
}

func (r *reader) elements(what string, n int) []*group.Element {
	out := make([]*group.Element, n)
	for i := range out {
		out[i] = r.element(fmt.Sprintf("%s[%d]", what, i))
	}
	return out
}

func (r *reader) scalars(what string, n int) []*group.Scalar {
	out := make([]*group.Scalar, n)
	for i := range out {
		out[i] = r.scalar(fmt.Sprintf("%s[%d]", what, i))
	}
	return out
}

// DecodeProof decodes a proof strictly: 1 ≤ N ≤ MaxCount, 1 ≤ w ≤ MaxWidth,
// exactly ProofSize(N, w) bytes, canonical elements and reduced scalars.
func DecodeProof(b []byte) (*Proof, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("shuffle proof: length %d, shorter than its header", len(b))
	}
	n, w := binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
	if n < 1 || n > MaxCount || w < 1 || w > MaxWidth {
		return nil, fmt.Errorf("shuffle proof: %d vectors of width %d, want 1..%d of 1..%d", n, w, MaxCount, MaxWidth)
	}
	if want := ProofSize(int(n), int(w)); len(b) != want {
		return nil, fmt.Errorf("shuffle proof: length %d, want %d for %d vectors of width %d", len(b), want, n, w)
	}
	r := &reader{b: b[8:]}
	p := &Proof{}
	p.C = r.elements("c", int(n))
	p.CHat = r.elements("cHat", int(n))
	p.T1, p.T2, p.T3 = r.element("t1"), r.element("t2"), r.element("t3")
	p.T4A, p.T4B = make([]*group.Element, w), make([]*group.Element, w)
	for k := range p.T4A {
		p.T4A[k] = r.element(fmt.Sprintf("t4A[%d]", k))
		p.T4B[k] = r.element(fmt.Sprintf("t4B[%d]", k))
	}
	p.THat = r.elements("tHat", int(n))
	p.S1, p.S2, p.S3 = r.scalar("s1"), r.scalar("s2"), r.scalar("s3")
	p.S4 = r.scalars("s4", int(w))
	p.SHat = r.scalars("sHat", int(n))
	p.SPrim = r.scalars("sPrime", int(n))
	if r.err != nil {
		return nil, r.err
	}
	return p, nil
}
