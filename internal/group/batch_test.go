package group

import (
	"bytes"
	"fmt"
	"testing"
)

// schnorr is a proof of knowledge of x = log_G X: commitment R = r·G,
// challenge c, response z = r + c·x, checked as z·G − R − c·X = 0.
type schnorr struct {
	X, R *Element
	c, z *Scalar
}

func newSchnorr(t testing.TB, X *Element, x *Scalar) schnorr {
	r, c := randScalar(t), randScalar(t)
	z := NewScalar().Add(r, NewScalar().Multiply(c, x))
	return schnorr{X: X, R: BaseMul(r), c: c, z: z}
}

func (p schnorr) terms() (*Scalar, []Term) {
	return p.z, []Term{
		{S: ScalarFromInt64(-1), P: p.R},
		{S: NewScalar().Negate(p.c), P: p.X},
	}
}

// proofs returns n valid proofs; keys are shared (the same *Element) between
// proofs i and i+keys, so the batch merges their terms.
func proofs(t testing.TB, n, keys int) []schnorr {
	xs := make([]*Scalar, keys)
	Xs := make([]*Element, keys)
	for i := range keys {
		xs[i] = randScalar(t)
		Xs[i] = BaseMul(xs[i])
	}
	out := make([]schnorr, n)
	for i := range out {
		out[i] = newSchnorr(t, Xs[i%keys], xs[i%keys])
	}
	return out
}

func batchOf(ps []schnorr) *Batch {
	b := NewBatch()
	for _, p := range ps {
		g, terms := p.terms()
		b.Add(g, terms...)
	}
	return b
}

func TestBatchValid(t *testing.T) {
	// 200 equations with 100 distinct keys give 300 points: Pippenger.
	for _, n := range []int{1, 2, 10, 200} {
		for _, keys := range []int{1, n} {
			t.Run(fmt.Sprintf("n=%d/keys=%d", n, keys), func(t *testing.T) {
				ps := proofs(t, n, keys)
				for i, p := range ps {
					if g, terms := p.terms(); !CheckEquation(g, terms...) {
						t.Fatalf("proof %d does not check on its own", i)
					}
				}
				b := batchOf(ps)
				if b.Len() != n {
					t.Errorf("Len = %d, want %d", b.Len(), n)
				}
				if !b.Verify() {
					t.Error("valid batch rejected")
				}
				if !b.Verify() {
					t.Error("valid batch rejected on a second Verify")
				}
			})
		}
	}
}

func TestBatchOneInvalid(t *testing.T) {
	const n = 12
	ps := proofs(t, n, 4)
	tamper := map[string]func(p *schnorr){
		"z+1": func(p *schnorr) { p.z = NewScalar().Add(p.z, ScalarFromUint64(1)) },
		"c+1": func(p *schnorr) { p.c = NewScalar().Add(p.c, ScalarFromUint64(1)) },
		"R+G": func(p *schnorr) { p.R = NewElement().Add(p.R, Generator()) },
		"X=G": func(p *schnorr) { p.X = Generator() },
	}
	for name, f := range tamper {
		for i := range n {
			bad := append([]schnorr(nil), ps...)
			f(&bad[i])
			if g, terms := bad[i].terms(); CheckEquation(g, terms...) {
				t.Fatalf("%s: tampered proof %d checks on its own", name, i)
			}
			if batchOf(bad).Verify() {
				t.Errorf("%s: batch with proof %d tampered verifies", name, i)
			}
		}
	}

	// Many equations, so that the batch runs Pippenger, and the last wrong.
	ps = proofs(t, 200, 200)
	ps[199].z = NewScalar().Add(ps[199].z, ScalarFromUint64(1))
	if batchOf(ps).Verify() {
		t.Error("large batch with one tampered proof verifies")
	}
}

func TestBatchMergedTerms(t *testing.T) {
	P, Q := randPoint(t), randPoint(t)
	one, minusOne := ScalarFromUint64(1), ScalarFromInt64(-1)

	// The same pointer several times in one equation: 3·P − 3·P = 0.
	b := NewBatch()
	b.Add(nil, Term{one, P}, Term{one, P}, Term{one, P}, Term{ScalarFromInt64(-3), P})
	if !b.Verify() {
		t.Error("P + P + P − 3·P = 0 rejected")
	}

	// 3·G − G' − G' − G' = 0 where G' is a copy of G, merged with itself.
	b = NewBatch()
	Gc := Generator()
	b.Add(ScalarFromUint64(3), Term{minusOne, Gc}, Term{minusOne, Gc}, Term{minusOne, Gc})
	if !b.Verify() {
		t.Error("3·G − 3·G = 0 rejected")
	}

	// Two false equations whose sum is true: P − Q = 0 and Q − P = 0. With
	// independent weights their merged sum (w₁ − w₂)(P − Q) is not zero.
	b = NewBatch()
	b.Add(nil, Term{one, P}, Term{minusOne, Q})
	b.Add(nil, Term{one, Q}, Term{minusOne, P})
	if b.Verify() {
		t.Error("P = Q, Q = P verified: the weights are not independent")
	}

	// The same with distinct pointers to equal elements (no merging).
	b = NewBatch()
	b.Add(nil, Term{one, P}, Term{minusOne, Q})
	b.Add(nil, Term{one, NewElement().Set(Q)}, Term{minusOne, NewElement().Set(P)})
	if b.Verify() {
		t.Error("P = Q, Q = P (copies) verified")
	}

	// A false equation in the G coefficient alone.
	b = NewBatch()
	b.Add(ScalarFromUint64(1), Term{minusOne, P}, Term{one, P})
	if b.Verify() {
		t.Error("G + P − P = 0 verified")
	}
}

func TestBatchEmpty(t *testing.T) {
	b := NewBatch()
	if b.Len() != 0 || !b.Verify() {
		t.Error("empty batch does not verify")
	}
	b.Add(nil)
	if b.Len() != 1 || !b.Verify() {
		t.Error("batch of one empty equation does not verify")
	}
	b.Add(NewScalar())
	if !b.Verify() {
		t.Error("0·G = 0 rejected")
	}
	b.Add(ScalarFromUint64(1))
	if b.Verify() {
		t.Error("G = 0 verified")
	}
}

func TestBatchAddAfterVerify(t *testing.T) {
	ps := proofs(t, 6, 2)
	b := NewBatch()
	for i, p := range ps {
		g, terms := p.terms()
		b.Add(g, terms...)
		if !b.Verify() {
			t.Fatalf("valid prefix of %d proofs rejected", i+1)
		}
	}
	b.Add(ScalarFromUint64(1))
	if b.Verify() {
		t.Error("batch verifies after adding G = 0")
	}
}

func TestBatchDeterministicRand(t *testing.T) {
	// The weights come from r: a fixed r gives the same weights, and
	// randomness is read in blocks, so many equations need several reads.
	ps := proofs(t, 300, 3)
	seed := bytes.Repeat([]byte{0x5c, 0x17, 0xe3}, 16*256*2/3+1)
	b := NewBatchWithRand(bytes.NewReader(seed))
	for _, p := range ps {
		g, terms := p.terms()
		b.Add(g, terms...)
	}
	if !b.Verify() {
		t.Error("valid batch rejected")
	}

	defer func() {
		if recover() == nil {
			t.Error("Add did not panic when the randomness ran out")
		}
	}()
	short := NewBatchWithRand(bytes.NewReader(make([]byte, 100)))
	short.Add(nil)
}

func TestCheckEquation(t *testing.T) {
	x := randScalar(t)
	X := BaseMul(x)
	minusOne := ScalarFromInt64(-1)
	tests := []struct {
		name  string
		g     *Scalar
		terms []Term
		want  bool
	}{
		{"nothing", nil, nil, true},
		{"0·G", NewScalar(), nil, true},
		{"G", ScalarFromUint64(1), nil, false},
		{"x·G − X", x, []Term{{minusOne, X}}, true},
		{"x·G + X", x, []Term{{ScalarFromUint64(1), X}}, false},
		{"X − x·G via terms", nil, []Term{{ScalarFromUint64(1), X}, {NewScalar().Negate(x), Generator()}}, true},
		{"0·X", nil, []Term{{NewScalar(), X}}, true},
		{"X", nil, []Term{{ScalarFromUint64(1), X}}, false},
		{"identity", ScalarFromUint64(0), []Term{{randScalar(t), Identity()}}, true},
	}
	for _, tc := range tests {
		if got := CheckEquation(tc.g, tc.terms...); got != tc.want {
			t.Errorf("%s: CheckEquation = %v, want %v", tc.name, got, tc.want)
		}
		b := NewBatch()
		b.Add(tc.g, tc.terms...)
		if got := b.Verify(); got != tc.want {
			t.Errorf("%s: Batch.Verify = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func ExampleCheckEquation() {
	// 2·G + 3·G − 5·G = 0
	five := SmallBaseMul(5)
	ok := CheckEquation(ScalarFromUint64(2),
		Term{S: ScalarFromUint64(3), P: Generator()},
		Term{S: ScalarFromInt64(-1), P: five})
	fmt.Println(ok)
	// Output: true
}

func BenchmarkBatchVerify(b *testing.B) {
	for _, n := range []int{16, 256} {
		b.Run(fmt.Sprintf("proofs=%d", n), func(b *testing.B) {
			ps := proofs(b, n, n)
			for b.Loop() {
				if !batchOf(ps).Verify() {
					b.Fatal("rejected")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/proof")
		})
	}
}
