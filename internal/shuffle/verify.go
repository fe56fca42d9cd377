package shuffle

import (
	"crypto/rand"
	"fmt"
	"io"
	"sync"

	"github.com/koe-vote/koe/internal/group"
)

// An equation g·G + Σ sᵢ·Pᵢ = 0 of the verification (SPEC.md §16.3).
type equation struct {
	name    string
	g       *group.Scalar
	scalars []*group.Scalar
	points  []*group.Element
}

func (e *equation) add(s *group.Scalar, p *group.Element) {
	e.scalars = append(e.scalars, s)
	e.points = append(e.points, p)
}

// Verify checks that out is a re-encryption and permutation of in under K,
// for the context ctx (SPEC.md §16.3). It checks the proof's
// shape, then all its equations at once with random weights from
// crypto/rand; if the batch fails it checks each equation on its own to name
// the first that fails.
func Verify(ctx []byte, K *group.Element, in, out []Vector, p *Proof) error {
	return verify(rand.Reader, ctx, K, in, out, p)
}

// VerifyList is Verify on decoded lists and an encoded proof: it hashes the
// encodings as received instead of encoding every element again, and
// decodes the proof strictly (DecodeProof) on all cores.
func VerifyList(ctx []byte, K *group.Element, in, out *List, proof []byte) error {
	p, raw, err := decodeProof(proof)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	if err := checkShape(K, in.vectors, out.vectors, p); err != nil {
		return err
	}
	eqs := equations(ctx, K, in, out, p, raw)
	return checkAll(rand.Reader, eqs)
}

func verify(weights io.Reader, ctx []byte, K *group.Element, in, out []Vector, p *Proof) error {
	if err := checkShape(K, in, out, p); err != nil {
		return err
	}
	inL := &List{vectors: in, raw: encodeAll(components(in))}
	outL := &List{vectors: out, raw: encodeAll(components(out))}
	raw := &proofBytes{c: encodeAll(p.C), cHat: encodeAll(p.CHat), tHat: encodeAll(p.THat)}
	return checkAll(weights, equations(ctx, K, inL, outL, p, raw))
}

// checkAll checks the equations as one batch and, if it fails, one by one
// to name the first that fails.
func checkAll(weights io.Reader, eqs []*equation) error {
	if checkBatch(weights, eqs) {
		return nil
	}
	for _, e := range eqs {
		if !check(e) {
			return fmt.Errorf("%w: equation %s fails", ErrInvalidProof, e.name)
		}
	}
	return fmt.Errorf("%w: the batch fails although every equation holds", ErrInvalidProof)
}

// checkShape checks the statement's and the proof's sizes against each other.
func checkShape(K *group.Element, in, out []Vector, p *Proof) error {
	if K == nil || group.IsIdentity(K) {
		return fmt.Errorf("shuffle: the key must not be the identity")
	}
	n, w, err := shape(in)
	if err != nil {
		return fmt.Errorf("input: %w", err)
	}
	n2, w2, err := shape(out)
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if n2 != n || w2 != w {
		return fmt.Errorf("%w: output is %d×%d, input %d×%d", ErrInvalidProof, n2, w2, n, w)
	}
	if p == nil {
		return fmt.Errorf("%w: no proof", ErrInvalidProof)
	}
	if len(p.C) != n || len(p.CHat) != n || len(p.THat) != n || len(p.SHat) != n || len(p.SPrim) != n ||
		len(p.T4A) != w || len(p.T4B) != w || len(p.S4) != w {
		return fmt.Errorf("%w: proof sizes do not match %d vectors of width %d", ErrInvalidProof, n, w)
	}
	for _, es := range [][]*group.Element{p.C, p.CHat, p.THat, p.T4A, p.T4B, {p.T1, p.T2, p.T3}} {
		for _, e := range es {
			if e == nil {
				return fmt.Errorf("%w: missing element", ErrInvalidProof)
			}
		}
	}
	for _, ss := range [][]*group.Scalar{p.SHat, p.SPrim, p.S4, {p.S1, p.S2, p.S3}} {
		for _, s := range ss {
			if s == nil {
				return fmt.Errorf("%w: missing scalar", ErrInvalidProof)
			}
		}
	}
	return nil
}

func neg(s *group.Scalar) *group.Scalar    { return group.NewScalar().Negate(s) }
func mul(a, b *group.Scalar) *group.Scalar { return group.NewScalar().Multiply(a, b) }

var minusOne = neg(group.ScalarFromUint64(1))

// equations returns the verification equations (SPEC.md §16.3),
// each written as g·G + Σ sᵢ·Pᵢ = 0.
// The shapes must have been checked (checkShape).
func equations(ctx []byte, K *group.Element, inL, outL *List, p *Proof, raw *proofBytes) []*equation {
	in, out := inL.vectors, outL.vectors
	n, w := len(in), len(in[0])
	H := Generators(ctx, n)
	rho := statement(ctx, K, n, w, inL.raw, outL.raw, raw.c)
	u := permChallenges(rho, n)
	c := challenge(rho, p, raw.cHat, raw.tHat)
	negC := neg(c)

	// (1) s₁·G − c·(Σ c_j − Σ H_i) − t₁ = 0
	e1 := &equation{name: "t1", g: p.S1}
	for j := range n {
		e1.add(negC, p.C[j])
		e1.add(c, H[j+1])
	}
	e1.add(minusOne, p.T1)

	// (2) s₂·G − c·ĉ_N + (c·∏u_i)·H_0 − t₂ = 0
	prod := group.ScalarFromUint64(1)
	for _, ui := range u {
		prod.Multiply(prod, ui)
	}
	e2 := &equation{name: "t2", g: p.S2}
	e2.add(negC, p.CHat[n-1])
	e2.add(mul(c, prod), H[0])
	e2.add(minusOne, p.T2)

	// (3) s₃·G + Σ s'_i·H_i − Σ (c·u_j)·c_j − t₃ = 0
	e3 := &equation{name: "t3", g: p.S3}
	negCU := make([]*group.Scalar, n)
	for j := range n {
		negCU[j] = mul(negC, u[j])
		e3.add(p.SPrim[j], H[j+1])
		e3.add(negCU[j], p.C[j])
	}
	e3.add(minusOne, p.T3)

	// (4) for each k: −s₄ₖ·G + Σ s'_i·A'_ik − Σ (c·u_j)·A_jk − t₄Aₖ = 0,
	//                 −s₄ₖ·K + Σ s'_i·B'_ik − Σ (c·u_j)·B_jk − t₄Bₖ = 0
	eqs := []*equation{e1, e2, e3}
	for k := range w {
		a := &equation{name: fmt.Sprintf("t4A[%d]", k), g: neg(p.S4[k])}
		b := &equation{name: fmt.Sprintf("t4B[%d]", k), g: group.NewScalar()}
		b.add(neg(p.S4[k]), K)
		for i := range n {
			a.add(p.SPrim[i], out[i][k].A)
			a.add(negCU[i], in[i][k].A)
			b.add(p.SPrim[i], out[i][k].B)
			b.add(negCU[i], in[i][k].B)
		}
		a.add(minusOne, p.T4A[k])
		b.add(minusOne, p.T4B[k])
		eqs = append(eqs, a, b)
	}

	// (5) for each i: ŝ_i·G + s'_i·ĉ_{i−1} − c·ĉ_i − t̂_i = 0, with ĉ_0 = H_0.
	for i := range n {
		prev := H[0]
		if i > 0 {
			prev = p.CHat[i-1]
		}
		e := &equation{name: fmt.Sprintf("tHat[%d]", i), g: p.SHat[i]}
		e.add(p.SPrim[i], prev)
		e.add(negC, p.CHat[i])
		e.add(minusOne, p.THat[i])
		eqs = append(eqs, e)
	}
	return eqs
}

// check reports whether one equation holds.
func check(e *equation) bool {
	s := append(append([]*group.Scalar(nil), e.scalars...), e.g)
	P := append(append([]*group.Element(nil), e.points...), group.Generator())
	return group.IsIdentity(group.VarTimeMSM(s, P))
}

// checkBatch checks Σ_e z_e·(equation e) = 0 with weights z_e ∈ [2^127,
// 2^128) as SPEC §4.5 draws them, as one multi-scalar multiplication split
// across all cores.
func checkBatch(weights io.Reader, eqs []*equation) bool {
	total := 0
	for _, e := range eqs {
		total += len(e.points)
	}
	scalars := make([]*group.Scalar, 0, total+1)
	points := make([]*group.Element, 0, total+1)
	g := group.NewScalar()
	buf := make([]byte, 16*len(eqs))
	if _, err := io.ReadFull(weights, buf); err != nil {
		panic("shuffle: cannot read batch weights: " + err.Error())
	}
	for i, e := range eqs {
		var zb [group.ScalarSize]byte
		copy(zb[:16], buf[16*i:])
		zb[15] |= 0x80
		z, err := group.DecodeScalar(zb[:])
		if err != nil {
			panic(err) // unreachable: 128-bit values are canonical
		}
		g.Add(g, mul(z, e.g))
		for j := range e.points {
			scalars = append(scalars, mul(z, e.scalars[j]))
			points = append(points, e.points[j])
		}
	}
	scalars = append(scalars, g)
	points = append(points, group.Generator())
	return group.IsIdentity(parallelMSM(scalars, points))
}

// parallelMSM returns Σ sᵢ·Pᵢ in variable time, one chunk per core.
func parallelMSM(scalars []*group.Scalar, points []*group.Element) *group.Element {
	var mu sync.Mutex
	sum := group.NewElement()
	parallel(len(points), func(lo, hi int) {
		part := group.VarTimeMSM(scalars[lo:hi], points[lo:hi])
		mu.Lock()
		sum.Add(sum, part)
		mu.Unlock()
	})
	return sum
}
