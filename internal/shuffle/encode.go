package shuffle

import (
	"encoding/binary"
	"fmt"

	"github.com/koe-vote/koe/internal/elgamal"
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

// decodeElements decodes n consecutive canonical elements from b (exactly
// 32·n bytes) on all cores.
func decodeElements(what string, b []byte) ([]*group.Element, error) {
	n := len(b) / group.ElementSize
	out := make([]*group.Element, n)
	errs := make([]error, n)
	parallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			e, err := group.DecodeElement(b[i*group.ElementSize : (i+1)*group.ElementSize])
			if err != nil {
				errs[i] = fmt.Errorf("%s[%d]: %w", what, i, err)
				return
			}
			out[i] = e
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func decodeScalars(what string, b []byte) ([]*group.Scalar, error) {
	out := make([]*group.Scalar, len(b)/group.ScalarSize)
	for i := range out {
		s, err := group.DecodeScalar(b[i*group.ScalarSize : (i+1)*group.ScalarSize])
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", what, i, err)
		}
		out[i] = s
	}
	return out, nil
}

// proofBytes holds the sections of an encoded proof that the challenges
// hash, as they were received, so that the verifier need not encode them again.
type proofBytes struct {
	c, cHat, tHat []byte
}

// DecodeProof decodes a proof strictly: 1 ≤ N ≤ MaxCount, 1 ≤ w ≤ MaxWidth,
// exactly ProofSize(N, w) bytes, canonical elements and reduced scalars.
func DecodeProof(b []byte) (*Proof, error) {
	p, _, err := decodeProof(b)
	return p, err
}

func decodeProof(b []byte) (*Proof, *proofBytes, error) {
	if len(b) < 8 {
		return nil, nil, fmt.Errorf("shuffle proof: length %d, shorter than its header", len(b))
	}
	n, w := binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
	if n < 1 || n > MaxCount || w < 1 || w > MaxWidth {
		return nil, nil, fmt.Errorf("shuffle proof: %d vectors of width %d, want 1..%d of 1..%d", n, w, MaxCount, MaxWidth)
	}
	if want := ProofSize(int(n), int(w)); len(b) != want {
		return nil, nil, fmt.Errorf("shuffle proof: length %d, want %d for %d vectors of width %d", len(b), want, n, w)
	}
	const E = group.ElementSize
	N, W := int(n), int(w)
	// Sections in order: c, ĉ, t₁t₂t₃, t₄ (A, B interleaved), t̂, then the scalars.
	off := 8
	take := func(size int) []byte { s := b[off : off+size]; off += size; return s }
	raw := &proofBytes{c: take(N * E), cHat: take(N * E)}
	off += (3 + 2*W) * E // t₁, t₂, t₃, t₄
	raw.tHat = take(N * E)
	elems := b[8:off]
	scal := b[off:]
	es, err := decodeElements("element", elems)
	if err != nil {
		return nil, nil, fmt.Errorf("shuffle proof: %w", err)
	}
	ss, err := decodeScalars("scalar", scal)
	if err != nil {
		return nil, nil, fmt.Errorf("shuffle proof: %w", err)
	}
	p := &Proof{}
	next := func(k int) []*group.Element { v := es[:k:k]; es = es[k:]; return v }
	p.C, p.CHat = next(N), next(N)
	t := next(3)
	p.T1, p.T2, p.T3 = t[0], t[1], t[2]
	p.T4A, p.T4B = make([]*group.Element, W), make([]*group.Element, W)
	t4e := next(2 * W)
	for k := range W {
		p.T4A[k], p.T4B[k] = t4e[2*k], t4e[2*k+1]
	}
	p.THat = next(N)
	p.S1, p.S2, p.S3 = ss[0], ss[1], ss[2]
	p.S4 = ss[3 : 3+W : 3+W]
	p.SHat = ss[3+W : 3+W+N : 3+W+N]
	p.SPrim = ss[3+W+N:]
	return p, raw, nil
}

// A List is N vectors of w ciphertexts together with its encoding: the
// 64-byte encodings A ‖ B of its ciphertexts, vector by vector, component by
// component (SPEC.md §16.3), N·w·64 bytes. It lets a verifier hash a list
// it decoded without encoding it again. A List must not be modified.
type List struct {
	vectors []Vector
	raw     []byte
}

// NewList checks the shape of vs (1 ≤ N ≤ MaxCount vectors of one width
// 1 ≤ w ≤ MaxWidth) and encodes it.
func NewList(vs []Vector) (*List, error) {
	if _, _, err := shape(vs); err != nil {
		return nil, err
	}
	return &List{vectors: vs, raw: encodeAll(components(vs))}, nil
}

// DecodeList decodes n vectors of width w from raw strictly: exactly
// n·w·64 bytes of canonical elements, 1 ≤ n ≤ MaxCount, 1 ≤ w ≤ MaxWidth.
func DecodeList(raw []byte, n, w int) (*List, error) {
	if n < 1 || n > MaxCount || w < 1 || w > MaxWidth {
		return nil, fmt.Errorf("shuffle: %d vectors of width %d, want 1..%d of 1..%d", n, w, MaxCount, MaxWidth)
	}
	if len(raw) != n*w*2*group.ElementSize {
		return nil, fmt.Errorf("shuffle: list of %d bytes, want %d for %d vectors of width %d", len(raw), n*w*2*group.ElementSize, n, w)
	}
	es, err := decodeElements("list element", raw)
	if err != nil {
		return nil, fmt.Errorf("shuffle: %w", err)
	}
	vs := make([]Vector, n)
	for i := range vs {
		vs[i] = make(Vector, w)
		for k := range w {
			vs[i][k] = elgamal.Ciphertext{A: es[2*(i*w+k)], B: es[2*(i*w+k)+1]}
		}
	}
	return &List{vectors: vs, raw: append([]byte(nil), raw...)}, nil
}

// Vectors returns the list's vectors (not to be modified).
func (l *List) Vectors() []Vector { return l.vectors }

// Bytes returns the list's encoding (not to be modified).
func (l *List) Bytes() []byte { return l.raw }

// Len returns N, the number of vectors.
func (l *List) Len() int { return len(l.vectors) }

// Width returns w, the ciphertexts per vector.
func (l *List) Width() int { return len(l.vectors[0]) }
