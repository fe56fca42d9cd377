package shuffle

import (
	"runtime"
	"sync"

	"github.com/koe-vote/koe/internal/group"
)

// parallel runs f on [0, n) split into one contiguous chunk per core.
func parallel(n int, f func(lo, hi int)) {
	p := min(runtime.GOMAXPROCS(0), max(n/64, 1))
	if p <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for c := range p {
		lo, hi := c*n/p, (c+1)*n/p
		wg.Add(1)
		go func() { defer wg.Done(); f(lo, hi) }()
	}
	wg.Wait()
}

// Generators returns H_0, …, H_n for the context ctx (SPEC.md §16
// §2.2): H_i = FromUniformBytes(SHA-512 of the transcript
// "koe/v2/shuffle/generator"; Bytes("context", ctx), Uint64("index", i)).
func Generators(ctx []byte, n int) []*group.Element {
	out := make([]*group.Element, n+1)
	parallel(n+1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			h := group.NewTranscript("koe/v2/shuffle/generator").
				Bytes("context", ctx).Uint64("index", uint64(i)).Sum()
			out[i] = group.NewElement().FromUniformBytes(h)
		}
	})
	return out
}

// encodeAll returns the concatenated canonical encodings of es, computed on
// all cores (an encoding costs an inverse square root).
func encodeAll(es []*group.Element) []byte {
	buf := make([]byte, group.ElementSize*len(es))
	parallel(len(es), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			es[i].Encode(buf[group.ElementSize*i : group.ElementSize*i : group.ElementSize*(i+1)])
		}
	})
	return buf
}

func components(list []Vector) []*group.Element {
	var out []*group.Element
	for _, v := range list {
		for _, c := range v {
			out = append(out, c.A, c.B)
		}
	}
	return out
}

// writeEach writes the consecutive 32-byte encodings in raw, each under
// label (for a list, labelA and labelB alternate).
func writeEach(t *group.Transcript, raw []byte, labels ...string) {
	for i, l := 0, 0; i < len(raw); i, l = i+group.ElementSize, (l+1)%len(labels) {
		t.Bytes(labels[l], raw[i:i+group.ElementSize])
	}
}

// statement returns ρ = H256("koe/v2/shuffle/statement"; …), the digest of
// everything the challenges bind (SPEC.md §16.3), from the encodings of
// the input list, the output list and the commitments c_j.
func statement(ctx []byte, K *group.Element, n, w int, in, out, c []byte) []byte {
	t := group.NewDigest("koe/v2/shuffle/statement").
		Bytes("context", ctx).Element("key", K).
		Uint64("count", uint64(n)).Uint64("width", uint64(w))
	writeEach(t, in, "inputA", "inputB")
	writeEach(t, out, "outputA", "outputB")
	writeEach(t, c, "commitment")
	return t.Sum()
}

// permChallenges returns u_1, …, u_N: u_i = H512("koe/v2/shuffle/u";
// Bytes("statement", ρ), Uint64("index", i)).
func permChallenges(rho []byte, n int) []*group.Scalar {
	u := make([]*group.Scalar, n)
	for i := range u {
		u[i] = group.NewTranscript("koe/v2/shuffle/u").
			Bytes("statement", rho).Uint64("index", uint64(i+1)).Challenge()
	}
	return u
}

// challenge returns c = H512("koe/v2/shuffle/challenge"; Bytes("statement",
// ρ), the chain, then the commitments t).
func challenge(rho []byte, p *Proof, cHat, tHat []byte) *group.Scalar {
	t := group.NewTranscript("koe/v2/shuffle/challenge").Bytes("statement", rho)
	writeEach(t, cHat, "chain")
	t.Element("t1", p.T1).Element("t2", p.T2).Element("t3", p.T3)
	for k := range p.T4A {
		t.Element("t4A", p.T4A[k]).Element("t4B", p.T4B[k])
	}
	writeEach(t, tHat, "tHat")
	return t.Challenge()
}

// Challenges returns the Fiat–Shamir values of a proof for the statement,
// as the verifier derives them (SPEC.md §16.3): the statement
// digest ρ, the challenges u_1..u_N and the challenge c. It is for test
// vectors and for explaining a failure; Verify derives them itself.
func Challenges(ctx []byte, K *group.Element, in, out []Vector, p *Proof) (rho []byte, u []*group.Scalar, c *group.Scalar, err error) {
	if err := checkShape(K, in, out, p); err != nil {
		return nil, nil, nil, err
	}
	n, w := len(in), len(in[0])
	rho = statement(ctx, K, n, w, encodeAll(components(in)), encodeAll(components(out)), encodeAll(p.C))
	return rho, permChallenges(rho, n), challenge(rho, p, encodeAll(p.CHat), encodeAll(p.THat)), nil
}
