package shuffle

import (
	"bytes"
	"crypto/rand"
	"crypto/sha3"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/group"
)

func stream(seed string) io.Reader {
	h := sha3.NewSHAKE256()
	h.Write([]byte(seed))
	return h
}

var testCtx = bytes.Repeat([]byte{0x42}, 32)

type fixture struct {
	x   *group.Scalar
	K   *group.Element
	ms  [][]*group.Element // plaintexts of the input
	in  []Vector
	out []Vector
	p   *Proof
}

func newFixture(t testing.TB, n, w int) *fixture { return newFixtureSeed(t, "", n, w) }

func newFixtureSeed(t testing.TB, seed string, n, w int) *fixture {
	t.Helper()
	r := stream(fmt.Sprintf("shuffle-test/%s/%d/%d", seed, n, w))
	x, _ := group.RandomScalar(r)
	f := &fixture{x: x, K: group.BaseMul(x)}
	for i := range n {
		ms := make([]*group.Element, w)
		for k := range ms {
			ms[k] = group.SmallBaseMul(uint64(1000*i + k + 1))
		}
		v, err := Encrypt(r, f.K, ms)
		if err != nil {
			t.Fatal(err)
		}
		f.ms = append(f.ms, ms)
		f.in = append(f.in, v)
	}
	var err error
	f.out, f.p, err = Shuffle(r, testCtx, f.K, f.in)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func decrypt(x *group.Scalar, c elgamal.Ciphertext) *group.Element {
	return group.NewElement().Subtract(c.B, group.Mul(x, c.A))
}

func key(v []*group.Element) string {
	var b []byte
	for _, e := range v {
		b = e.Encode(b)
	}
	return string(b)
}

func TestShuffleVerifies(t *testing.T) {
	for _, n := range []int{1, 2, 10, 100} {
		for _, w := range []int{1, 4} {
			t.Run(fmt.Sprintf("N=%d/w=%d", n, w), func(t *testing.T) {
				f := newFixture(t, n, w)
				if err := Verify(testCtx, f.K, f.in, f.out, f.p); err != nil {
					t.Fatalf("honest shuffle rejected: %v", err)
				}
				// The output decrypts to the input's plaintext vectors as a multiset.
				want := map[string]int{}
				for _, ms := range f.ms {
					want[key(ms)]++
				}
				moved := 0
				for i, v := range f.out {
					got := make([]*group.Element, w)
					for k, c := range v {
						got[k] = decrypt(f.x, c)
						if c.Equal(f.in[i][k]) {
							t.Fatalf("output %d, component %d was not re-encrypted", i, k)
						}
					}
					if want[key(got)] == 0 {
						t.Fatalf("output %d decrypts to no input vector", i)
					}
					want[key(got)]--
					if key(got) != key(f.ms[i]) {
						moved++
					}
				}
				if n >= 10 && moved == 0 {
					t.Fatalf("no vector moved among %d", n)
				}
				// The unweighted per-equation checks agree.
				eqs := testEquations(t, f.K, f.in, f.out, f.p)
				for _, e := range eqs {
					if !check(e) {
						t.Fatalf("equation %s fails on an honest proof", e.name)
					}
				}
			})
		}
	}
}

func TestShuffleRejectsEmptyAndRagged(t *testing.T) {
	K := group.BaseMul(group.ScalarFromUint64(7))
	if _, _, err := Shuffle(rand.Reader, testCtx, K, nil); err == nil {
		t.Fatal("shuffle of an empty list accepted")
	}
	f := newFixture(t, 3, 2)
	ragged := append([]Vector{f.in[0][:1]}, f.in[1:]...)
	if _, _, err := Shuffle(rand.Reader, testCtx, K, ragged); err == nil {
		t.Fatal("shuffle of vectors of different widths accepted")
	}
	if _, _, err := Shuffle(rand.Reader, testCtx, K, []Vector{{}}); err == nil {
		t.Fatal("shuffle of width 0 accepted")
	}
}

func clone(list []Vector) []Vector {
	out := make([]Vector, len(list))
	for i, v := range list {
		out[i] = append(Vector(nil), v...)
	}
	return out
}

func cloneProof(p *Proof) *Proof {
	q, err := DecodeProof(p.Bytes())
	if err != nil {
		panic(err)
	}
	return q
}

func TestVerifyRejectsTampering(t *testing.T) {
	for _, w := range []int{1, 4} {
		f := newFixture(t, 10, w)
		other := newFixtureSeed(t, "other", 10, w)
		plusG := func(e *group.Element) *group.Element { return group.NewElement().Add(e, group.Generator()) }
		one := group.ScalarFromUint64(1)
		plusOne := func(s *group.Scalar) *group.Scalar { return group.NewScalar().Add(s, one) }
		for _, c := range []struct {
			name     string
			ctx      []byte
			K        *group.Element
			in, out  func() []Vector
			proof    func() *Proof
			anyError bool // a shape error rather than ErrInvalidProof
		}{
			{name: "output replaced by a fresh encryption", out: func() []Vector {
				o := clone(f.out)
				v, _ := Encrypt(rand.Reader, f.K, f.ms[3])
				o[3] = v
				return o
			}},
			{name: "output component replaced", out: func() []Vector {
				o := clone(f.out)
				o[0][w-1] = elgamal.Ciphertext{A: plusG(o[0][w-1].A), B: o[0][w-1].B}
				return o
			}},
			{name: "output duplicated", out: func() []Vector {
				o := clone(f.out)
				o[5] = o[2]
				return o
			}},
			{name: "two outputs swapped after the proof", out: func() []Vector {
				o := clone(f.out)
				o[1], o[7] = o[7], o[1]
				return o
			}},
			{name: "output dropped", anyError: true, out: func() []Vector { return clone(f.out)[1:] }},
			{name: "output added", anyError: true, out: func() []Vector { return append(clone(f.out), f.out[0]) }},
			{name: "input replaced", in: func() []Vector {
				i := clone(f.in)
				i[4] = other.in[4]
				return i
			}},
			{name: "inputs swapped", in: func() []Vector {
				i := clone(f.in)
				i[0], i[9] = i[9], i[0]
				return i
			}},
			{name: "outputs of another shuffle", out: func() []Vector { return other.out }},
			{name: "other context", ctx: bytes.Repeat([]byte{0x43}, 32)},
			{name: "other key", K: plusG(f.K)},
			{name: "identity key", anyError: true, K: group.Identity()},
			{name: "proof of another shuffle", proof: func() *Proof { return other.p }},
			{name: "commitment c changed", proof: func() *Proof { q := cloneProof(f.p); q.C[2] = plusG(q.C[2]); return q }},
			{name: "commitments c swapped", proof: func() *Proof { q := cloneProof(f.p); q.C[2], q.C[3] = q.C[3], q.C[2]; return q }},
			{name: "chain changed", proof: func() *Proof { q := cloneProof(f.p); q.CHat[9] = plusG(q.CHat[9]); return q }},
			{name: "t1 changed", proof: func() *Proof { q := cloneProof(f.p); q.T1 = plusG(q.T1); return q }},
			{name: "t2 changed", proof: func() *Proof { q := cloneProof(f.p); q.T2 = plusG(q.T2); return q }},
			{name: "t3 changed", proof: func() *Proof { q := cloneProof(f.p); q.T3 = plusG(q.T3); return q }},
			{name: "t4A changed", proof: func() *Proof { q := cloneProof(f.p); q.T4A[w-1] = plusG(q.T4A[w-1]); return q }},
			{name: "t4B changed", proof: func() *Proof { q := cloneProof(f.p); q.T4B[0] = plusG(q.T4B[0]); return q }},
			{name: "tHat changed", proof: func() *Proof { q := cloneProof(f.p); q.THat[4] = plusG(q.THat[4]); return q }},
			{name: "s1 changed", proof: func() *Proof { q := cloneProof(f.p); q.S1 = plusOne(q.S1); return q }},
			{name: "s2 changed", proof: func() *Proof { q := cloneProof(f.p); q.S2 = plusOne(q.S2); return q }},
			{name: "s3 changed", proof: func() *Proof { q := cloneProof(f.p); q.S3 = plusOne(q.S3); return q }},
			{name: "s4 changed", proof: func() *Proof { q := cloneProof(f.p); q.S4[w-1] = plusOne(q.S4[w-1]); return q }},
			{name: "sHat changed", proof: func() *Proof { q := cloneProof(f.p); q.SHat[0] = plusOne(q.SHat[0]); return q }},
			{name: "sPrime changed", proof: func() *Proof { q := cloneProof(f.p); q.SPrim[9] = plusOne(q.SPrim[9]); return q }},
			{name: "proof truncated", anyError: true, proof: func() *Proof { q := cloneProof(f.p); q.SPrim = q.SPrim[1:]; return q }},
			{name: "proof missing", anyError: true, proof: func() *Proof { return nil }},
		} {
			t.Run(fmt.Sprintf("w=%d/%s", w, c.name), func(t *testing.T) {
				ctx, K, in, out, p := testCtx, f.K, f.in, f.out, f.p
				if c.ctx != nil {
					ctx = c.ctx
				}
				if c.K != nil {
					K = c.K
				}
				if c.in != nil {
					in = c.in()
				}
				if c.out != nil {
					out = c.out()
				}
				if c.proof != nil {
					p = c.proof()
				}
				err := Verify(ctx, K, in, out, p)
				if err == nil {
					t.Fatal("tampered shuffle accepted")
				}
				if !c.anyError && !errors.Is(err, ErrInvalidProof) {
					t.Fatalf("error %v does not wrap ErrInvalidProof", err)
				}
			})
		}
		// The untampered fixture still verifies, so each case fails for its own reason.
		if err := Verify(testCtx, f.K, f.in, f.out, f.p); err != nil {
			t.Fatal(err)
		}
	}
}

// TestVerifyRejectsNonPermutation runs the prover with maps that are not
// permutations: output i re-encrypts input ψ(i), so one input appears twice
// and another is dropped, and the commitments are formed honestly for that
// map. The verifier must reject (the chain's product check fails).
func TestVerifyRejectsNonPermutation(t *testing.T) {
	for _, w := range []int{1, 4} {
		f := newFixture(t, 10, w)
		for _, psi := range [][]int{
			{0, 0, 2, 3, 4, 5, 6, 7, 8, 9},
			{9, 8, 7, 6, 5, 4, 3, 2, 1, 1},
			{3, 3, 3, 3, 3, 3, 3, 3, 3, 3},
		} {
			out, p, err := proveVectors(stream("non-permutation"), f.K, f.in, psi)
			if err != nil {
				t.Fatal(err)
			}
			err = Verify(testCtx, f.K, f.in, out, p)
			if !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("w=%d ψ=%v: %v, want ErrInvalidProof", w, psi, err)
			}
		}
		// And with a permutation the same prover passes.
		out, p, err := proveVectors(stream("permutation"), f.K, f.in, []int{1, 0, 2, 3, 4, 5, 6, 7, 9, 8})
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify(testCtx, f.K, f.in, out, p); err != nil {
			t.Fatalf("w=%d: permutation rejected: %v", w, err)
		}
	}
}

func TestRandomPermutation(t *testing.T) {
	for _, n := range []int{1, 2, 17, 300} {
		psi, err := randomPermutation(rand.Reader, n)
		if err != nil {
			t.Fatal(err)
		}
		seen := make([]bool, n)
		for _, j := range psi {
			if j < 0 || j >= n || seen[j] {
				t.Fatalf("n=%d: %v is not a permutation", n, psi)
			}
			seen[j] = true
		}
	}
	if _, err := randomPermutation(strings.NewReader("short"), 5); err == nil {
		t.Fatal("permutation from a short reader accepted")
	}
}

func TestGeneratorsDistinctAndContextBound(t *testing.T) {
	a := Generators(testCtx, 50)
	b := Generators(bytes.Repeat([]byte{1}, 32), 50)
	seen := map[string]bool{string(group.Generator().Bytes()): true}
	for i := range a {
		if group.IsIdentity(a[i]) || seen[string(a[i].Bytes())] {
			t.Fatalf("generator %d is the identity or repeats", i)
		}
		seen[string(a[i].Bytes())] = true
		if group.Equal(a[i], b[i]) {
			t.Fatalf("generator %d does not depend on the context", i)
		}
	}
}

func TestProofEncoding(t *testing.T) {
	f := newFixture(t, 5, 3)
	b := f.p.Bytes()
	if len(b) != ProofSize(5, 3) {
		t.Fatalf("encoded length %d, want %d", len(b), ProofSize(5, 3))
	}
	q, err := DecodeProof(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(q.Bytes(), b) {
		t.Fatal("decode-encode round trip differs")
	}
	if err := Verify(testCtx, f.K, f.in, f.out, q); err != nil {
		t.Fatalf("decoded proof rejected: %v", err)
	}
	nonCanonical := bytes.Repeat([]byte{0xff}, 32)
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"header only", b[:8]},
		{"truncated", b[:len(b)-1]},
		{"trailing byte", append(append([]byte(nil), b...), 0)},
		{"N zero", append([]byte{0, 0, 0, 0}, b[4:]...)},
		{"w zero", append(append([]byte(nil), b[:4]...), append([]byte{0, 0, 0, 0}, b[8:]...)...)},
		{"N too large", append([]byte{0xff, 0xff, 0xff, 0xff}, b[4:]...)},
		{"w too large", append(append([]byte(nil), b[:4]...), append([]byte{0, 1, 0, 0}, b[8:]...)...)},
		{"N mismatches the length", append([]byte{0, 0, 0, 6}, b[4:]...)},
		{"non-canonical element", append(append(append([]byte(nil), b[:8]...), nonCanonical...), b[40:]...)},
		{"unreduced scalar", append(append([]byte(nil), b[:len(b)-32]...), nonCanonical...)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := DecodeProof(c.b); err == nil {
				t.Fatal("decoded")
			}
		})
	}
}

// testEquations returns the verification equations of an honestly shaped statement.
func testEquations(t *testing.T, K *group.Element, in, out []Vector, p *Proof) []*equation {
	t.Helper()
	if err := checkShape(K, in, out, p); err != nil {
		t.Fatal(err)
	}
	inL, err := NewList(in)
	if err != nil {
		t.Fatal(err)
	}
	outL, err := NewList(out)
	if err != nil {
		t.Fatal(err)
	}
	raw := &proofBytes{c: encodeAll(p.C), cHat: encodeAll(p.CHat), tHat: encodeAll(p.THat)}
	return equations(testCtx, K, inL, outL, p, raw)
}

// proveVectors runs the prover with the map psi on a list of vectors.
func proveVectors(rand io.Reader, K *group.Element, in []Vector, psi []int) ([]Vector, *Proof, error) {
	l, err := NewList(in)
	if err != nil {
		return nil, nil, err
	}
	out, p, err := prove(rand, testCtx, K, l, psi)
	if err != nil {
		return nil, nil, err
	}
	return out.vectors, p, nil
}
