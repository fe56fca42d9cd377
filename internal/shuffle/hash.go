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

func writeList(t *group.Transcript, labelA, labelB string, list []Vector) {
	buf := encodeAll(components(list))
	for i := 0; i < len(buf); i += 2 * group.ElementSize {
		t.Bytes(labelA, buf[i:i+group.ElementSize])
		t.Bytes(labelB, buf[i+group.ElementSize:i+2*group.ElementSize])
	}
}

func writeElements(t *group.Transcript, label string, es []*group.Element) {
	buf := encodeAll(es)
	for i := 0; i < len(buf); i += group.ElementSize {
		t.Bytes(label, buf[i:i+group.ElementSize])
	}
}

// statement returns ρ = H256("koe/v2/shuffle/statement"; …), the digest of
// everything the challenges bind (SPEC.md §16.3).
func statement(ctx []byte, K *group.Element, in, out []Vector, C []*group.Element) []byte {
	t := group.NewDigest("koe/v2/shuffle/statement").
		Bytes("context", ctx).Element("key", K).
		Uint64("count", uint64(len(in))).Uint64("width", uint64(len(in[0])))
	writeList(t, "inputA", "inputB", in)
	writeList(t, "outputA", "outputB", out)
	writeElements(t, "commitment", C)
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
func challenge(rho []byte, p *Proof) *group.Scalar {
	t := group.NewTranscript("koe/v2/shuffle/challenge").Bytes("statement", rho)
	writeElements(t, "chain", p.CHat)
	t.Element("t1", p.T1).Element("t2", p.T2).Element("t3", p.T3)
	for k := range p.T4A {
		t.Element("t4A", p.T4A[k]).Element("t4B", p.T4B[k])
	}
	writeElements(t, "tHat", p.THat)
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
	rho = statement(ctx, K, in, out, p.C)
	return rho, permChallenges(rho, len(in)), challenge(rho, p), nil
}
