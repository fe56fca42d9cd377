package shuffle

import (
	"io"
	"sync"

	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/group"
)

// ctMSM returns Σ sᵢ·Pᵢ in constant time (secret scalars), on all cores.
func ctMSM(scalars []*group.Scalar, points []*group.Element) *group.Element {
	var mu sync.Mutex
	sum := group.NewElement()
	parallel(len(points), func(lo, hi int) {
		part := group.NewElement().MultiScalarMult(scalars[lo:hi], points[lo:hi])
		mu.Lock()
		sum.Add(sum, part)
		mu.Unlock()
	})
	return sum
}

// prove re-encrypts in[psi[i]] into output i and proves the shuffle
// (SPEC.md §16.3). psi is a permutation for an honest prover;
// tests pass other maps to check that the verifier rejects them.
func prove(rand io.Reader, ctx []byte, K *group.Element, inList *List, psi []int) (*List, *Proof, error) {
	in := inList.vectors
	n, w := len(in), len(in[0])
	H := Generators(ctx, n)

	// Randomness, drawn in a fixed order: r̃ (i, k), r (j), r̂ (i), ω₁..ω₃, ω₄ (k), ω̂ (i), ω' (i).
	rt, err := randomScalars(rand, n*w)
	if err != nil {
		return nil, nil, err
	}
	r, err := randomScalars(rand, n)
	if err != nil {
		return nil, nil, err
	}
	rh, err := randomScalars(rand, n)
	if err != nil {
		return nil, nil, err
	}
	om, err := randomScalars(rand, 3+w+2*n)
	if err != nil {
		return nil, nil, err
	}
	w1, w2, w3, w4 := om[0], om[1], om[2], om[3:3+w]
	wh, wp := om[3+w:3+w+n], om[3+w+n:]

	// Re-encryption: output i, component k = in[ψ(i)][k] + (r̃·G, r̃·K).
	out := make([]Vector, n)
	fbK := group.NewFixedBase(K)
	parallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i] = make(Vector, w)
			for k, c := range in[psi[i]] {
				s := rt[i*w+k]
				out[i][k] = elgamal.Ciphertext{
					A: group.NewElement().Add(c.A, group.BaseMul(s)),
					B: group.NewElement().Add(c.B, fbK.Mul(s)),
				}
			}
		}
	})

	// Permutation commitments: c_j = r_j·G + Σ_{i: ψ(i)=j} H_i.
	p := &Proof{C: make([]*group.Element, n)}
	parallel(n, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			p.C[j] = group.BaseMul(r[j])
		}
	})
	for i := range n {
		p.C[psi[i]].Add(p.C[psi[i]], H[i+1])
	}

	outRaw := encodeAll(components(out))
	rho := statement(ctx, K, n, w, inList.raw, outRaw, encodeAll(p.C))
	u := permChallenges(rho, n)
	up := make([]*group.Scalar, n) // u'_i = u_ψ(i)
	for i := range n {
		up[i] = u[psi[i]]
	}

	// Commitment chain: ĉ_0 = H_0, ĉ_i = r̂_i·G + u'_i·ĉ_{i-1}.
	p.CHat = make([]*group.Element, n)
	prev := H[0]
	for i := range n {
		p.CHat[i] = group.NewElement().Add(group.BaseMul(rh[i]), group.Mul(up[i], prev))
		prev = p.CHat[i]
	}

	p.T1 = group.BaseMul(w1)
	p.T2 = group.BaseMul(w2)
	p.T3 = group.NewElement().Add(group.BaseMul(w3), ctMSM(wp, H[1:]))
	p.T4A, p.T4B = make([]*group.Element, w), make([]*group.Element, w)
	colA, colB := make([]*group.Element, n), make([]*group.Element, n)
	for k := range w {
		for i := range n {
			colA[i], colB[i] = out[i][k].A, out[i][k].B
		}
		neg := group.NewScalar().Negate(w4[k])
		p.T4A[k] = group.NewElement().Add(group.BaseMul(neg), ctMSM(wp, colA))
		p.T4B[k] = group.NewElement().Add(group.Mul(neg, K), ctMSM(wp, colB))
	}
	p.THat = make([]*group.Element, n)
	parallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			prev := H[0]
			if i > 0 {
				prev = p.CHat[i-1]
			}
			p.THat[i] = group.NewElement().Add(group.BaseMul(wh[i]), group.Mul(wp[i], prev))
		}
	})

	c := challenge(rho, p, encodeAll(p.CHat), encodeAll(p.THat))

	// Responses.
	mulAdd := func(nonce, x *group.Scalar) *group.Scalar { // nonce + c·x
		s := group.NewScalar().Multiply(c, x)
		return s.Add(s, nonce)
	}
	sumR, sumRU := group.NewScalar(), group.NewScalar()
	for j := range n {
		sumR.Add(sumR, r[j])
		sumRU.Add(sumRU, group.NewScalar().Multiply(r[j], u[j]))
	}
	// Σ r̂_i·v_i with v_i = ∏_{j>i} u'_j, accumulated from the end.
	sumRV, v := group.NewScalar(), group.ScalarFromUint64(1)
	for i := n - 1; i >= 0; i-- {
		sumRV.Add(sumRV, group.NewScalar().Multiply(rh[i], v))
		v.Multiply(v, up[i])
	}
	p.S1, p.S2, p.S3 = mulAdd(w1, sumR), mulAdd(w2, sumRV), mulAdd(w3, sumRU)
	p.S4 = make([]*group.Scalar, w)
	for k := range w {
		sum := group.NewScalar()
		for i := range n {
			sum.Add(sum, group.NewScalar().Multiply(rt[i*w+k], up[i]))
		}
		p.S4[k] = mulAdd(w4[k], sum)
	}
	p.SHat, p.SPrim = make([]*group.Scalar, n), make([]*group.Scalar, n)
	for i := range n {
		p.SHat[i] = mulAdd(wh[i], rh[i])
		p.SPrim[i] = mulAdd(wp[i], up[i])
	}
	return &List{vectors: out, raw: outRaw}, p, nil
}
