package group

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"sync"
	"testing"
)

// orderL is the group order ℓ.
var orderL, _ = new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)

// scalarFromBig returns v mod ℓ as a scalar.
func scalarFromBig(t testing.TB, v *big.Int) *Scalar {
	t.Helper()
	s, err := DecodeScalar(leBytes(new(big.Int).Mod(v, orderL)))
	if err != nil {
		t.Fatalf("scalarFromBig(%v): %v", v, err)
	}
	return s
}

func bigFromScalar(s *Scalar) *big.Int { return leInt(s.Encode(nil)) }

func randScalar(t testing.TB) *Scalar {
	t.Helper()
	s, err := RandomScalar(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func randPoint(t testing.TB) *Element {
	t.Helper()
	return BaseMul(randScalar(t))
}

// naiveMSM is Σ sᵢ·Pᵢ with one constant-time multiplication per term, an
// implementation independent of both Straus and Pippenger.
func naiveMSM(scalars []*Scalar, points []*Element) *Element {
	acc := NewElement()
	for i := range scalars {
		acc.Add(acc, Mul(scalars[i], points[i]))
	}
	return acc
}

// edgeScalars are scalars that stress the signed recoding: 0, 1, ℓ-1,
// 2^252-1 (every window all ones), 2^252, values whose windows all equal
// 2^(c-1) for c = 4, 8, and so on.
func edgeScalars(t testing.TB) []*Scalar {
	t.Helper()
	var out []*Scalar
	add := func(v *big.Int) { out = append(out, scalarFromBig(t, v)) }
	one := big.NewInt(1)
	for _, k := range []int64{0, 1, 2, 3, 127, 128, 255, 256} {
		add(big.NewInt(k))
		add(new(big.Int).Sub(orderL, big.NewInt(k+1))) // ℓ-1-k
	}
	p252 := new(big.Int).Lsh(one, 252)
	add(p252)
	add(new(big.Int).Sub(p252, one))
	add(new(big.Int).Add(p252, big.NewInt(1<<40)))
	add(new(big.Int).Sub(new(big.Int).Lsh(one, 253), one)) // reduced mod ℓ
	for _, pattern := range []byte{0x80, 0x88, 0xff, 0x7f, 0x01, 0xaa, 0x55} {
		var be [32]byte
		for i := range be {
			be[i] = pattern
		}
		be[0] &= 0x0f // keep it below 2^252 < ℓ
		add(new(big.Int).SetBytes(be[:]))
	}
	for c := uint(2); c <= 16; c++ {
		// Σ_j 2^(c-1)·2^(cj): every digit is -2^(c-1) with a carry in.
		v := new(big.Int)
		for pos := c - 1; pos < 252; pos += c {
			v.SetBit(v, int(pos), 1)
		}
		add(v)
		// Σ_j (2^c-1)·2^(cj) below 2^252: every window all ones.
		add(new(big.Int).Sub(new(big.Int).Lsh(one, 252-252%c), one))
	}
	return out
}

func TestVarTimeMSMSizes(t *testing.T) {
	sizes := []int{0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65,
		100, 127, 128, 129, pippengerMinPoints - 1, pippengerMinPoints,
		pippengerMinPoints + 1, 255, 256, 257, 383, 384, 500}
	if !testing.Short() {
		sizes = append(sizes, 767, 768, 1024, 1535, 1536, 2000)
	}
	edges := edgeScalars(t)
	for _, n := range sizes {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			scalars := make([]*Scalar, n)
			points := make([]*Element, n)
			for i := range n {
				if i%5 == 0 {
					scalars[i] = edges[(i/5)%len(edges)]
				} else {
					scalars[i] = randScalar(t)
				}
				points[i] = randPoint(t)
			}
			want := varTimeStraus(scalars, points)
			if n == 0 {
				want = NewElement()
			}
			if got := VarTimeMSM(scalars, points); !Equal(got, want) {
				t.Errorf("VarTimeMSM differs from Straus")
			}
			if n > 0 {
				c := pippengerWindow(n)
				if got := varTimePippenger(scalars, points, c); !Equal(got, want) {
					t.Errorf("Pippenger with c=%d differs from Straus", c)
				}
			}
			if n <= 64 {
				if got := naiveMSM(scalars, points); !Equal(got, want) {
					t.Errorf("Straus differs from naive Σ sᵢ·Pᵢ")
				}
			}
		})
	}
}

// TestPippengerWindows runs every window width on the edge scalars.
func TestPippengerWindows(t *testing.T) {
	scalars := edgeScalars(t)
	points := make([]*Element, len(scalars))
	for i := range points {
		points[i] = randPoint(t)
	}
	want := naiveMSM(scalars, points)
	for c := uint(2); c <= 16; c++ {
		if testing.Short() && c > 12 {
			break
		}
		if got := varTimePippenger(scalars, points, c); !Equal(got, want) {
			t.Errorf("c=%d: wrong result", c)
		}
		// Each edge scalar on its own, so one wrong digit cannot hide.
		for i := range scalars {
			want := Mul(scalars[i], points[i])
			if got := varTimePippenger(scalars[i:i+1], points[i:i+1], c); !Equal(got, want) {
				t.Errorf("c=%d: scalar %x: wrong result", c, scalars[i].Encode(nil))
			}
		}
	}
}

func TestPippengerRecoding(t *testing.T) {
	// Σ dⱼ·2^(cj) must give back the scalar, with every digit in range.
	scalars := append(edgeScalars(t), randScalar(t), randScalar(t))
	for c := uint(2); c <= 16; c++ {
		w := int((255 + c - 1) / c)
		digits := recodeSigned(scalars, c, w)
		half := int64(1) << (c - 1)
		for i, s := range scalars {
			v := new(big.Int)
			for j := w - 1; j >= 0; j-- {
				d := int64(digits[j*len(scalars)+i])
				if d < -half || d >= half {
					t.Fatalf("c=%d: digit %d out of range", c, d)
				}
				v.Lsh(v, c).Add(v, big.NewInt(d))
			}
			if v.Cmp(bigFromScalar(s)) != 0 {
				t.Errorf("c=%d: recoding of %x gives %v", c, s.Encode(nil), v)
			}
		}
	}
}

func TestVarTimeMSMEdgeCases(t *testing.T) {
	n := pippengerMinPoints + 10 // exercise the Pippenger path
	P := randPoint(t)
	negP := NewElement().Negate(P)
	s := randScalar(t)

	tests := []struct {
		name    string
		scalars func(i int) *Scalar
		points  func(i int) *Element
	}{
		{"zero scalars", func(int) *Scalar { return NewScalar() }, func(int) *Element { return randPoint(t) }},
		{"identity points", func(int) *Scalar { return randScalar(t) }, func(int) *Element { return Identity() }},
		{"same pointer", func(int) *Scalar { return randScalar(t) }, func(int) *Element { return P }},
		{"same pointer and scalar", func(int) *Scalar { return s }, func(int) *Element { return P }},
		{"equal copies", func(int) *Scalar { return ScalarFromUint64(1) }, func(int) *Element { return NewElement().Set(P) }},
		{"P and -P cancel", func(int) *Scalar { return s }, func(i int) *Element {
			if i%2 == 0 {
				return P
			}
			return negP
		}},
		{"s and -s cancel", func(i int) *Scalar {
			if i%2 == 0 {
				return s
			}
			return NewScalar().Negate(s)
		}, func(int) *Element { return P }},
		{"ℓ-1", func(int) *Scalar { return ScalarFromInt64(-1) }, func(int) *Element { return randPoint(t) }},
		{"mixed", func(i int) *Scalar {
			switch i % 3 {
			case 0:
				return NewScalar()
			case 1:
				return ScalarFromInt64(-1)
			}
			return randScalar(t)
		}, func(i int) *Element {
			if i%4 == 0 {
				return Identity()
			}
			return P
		}},
	}
	for _, tc := range tests {
		for _, size := range []int{1, 2, n} {
			t.Run(fmt.Sprintf("%s/n=%d", tc.name, size), func(t *testing.T) {
				scalars := make([]*Scalar, size)
				points := make([]*Element, size)
				for i := range size {
					scalars[i], points[i] = tc.scalars(i), tc.points(i)
				}
				want := naiveMSM(scalars, points)
				if got := VarTimeMSM(scalars, points); !Equal(got, want) {
					t.Errorf("VarTimeMSM wrong")
				}
				if got := varTimePippenger(scalars, points, 5); !Equal(got, want) {
					t.Errorf("Pippenger c=5 wrong")
				}
			})
		}
	}
}

func TestVarTimeMSMDoesNotModifyInputs(t *testing.T) {
	n := pippengerMinPoints
	scalars := make([]*Scalar, n)
	points := make([]*Element, n)
	var sEnc, pEnc [][]byte
	for i := range n {
		scalars[i], points[i] = randScalar(t), randPoint(t)
		sEnc = append(sEnc, scalars[i].Encode(nil))
		pEnc = append(pEnc, points[i].Encode(nil))
	}
	VarTimeMSM(scalars, points)
	for i := range n {
		if string(scalars[i].Encode(nil)) != string(sEnc[i]) || string(points[i].Encode(nil)) != string(pEnc[i]) {
			t.Fatalf("input %d modified", i)
		}
	}
}

func TestVarTimeMSMLengthMismatch(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic on length mismatch")
		}
	}()
	VarTimeMSM([]*Scalar{NewScalar()}, nil)
}

var (
	benchOnce    sync.Once
	benchScalars []*Scalar
	benchPoints  []*Element
)

func benchInputs(b *testing.B, n int) ([]*Scalar, []*Element) {
	benchOnce.Do(func() {
		const maxN = 16384
		for range maxN {
			benchScalars = append(benchScalars, randScalar(b))
			benchPoints = append(benchPoints, randPoint(b))
		}
	})
	return benchScalars[:n], benchPoints[:n]
}

func reportPerPoint(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/point")
}

// BenchmarkMSM compares the library's Straus method with the bucket method
// at its chosen window; the crossover sets pippengerMinPoints.
func BenchmarkMSM(b *testing.B) {
	sizes := []int{16, 64, 128, 192, 256, 1024, 4096, 16384}
	for _, method := range []string{"straus", "pippenger"} {
		for _, n := range sizes {
			b.Run(fmt.Sprintf("%s/n=%d", method, n), func(b *testing.B) {
				scalars, points := benchInputs(b, n)
				c := pippengerWindow(n)
				for b.Loop() {
					if method == "straus" {
						varTimeStraus(scalars, points)
					} else {
						varTimePippenger(scalars, points, c)
					}
				}
				reportPerPoint(b, n)
			})
		}
	}
}

// BenchmarkMSMWindow measures the bucket method at neighbouring windows,
// to choose pippengerWindow.
func BenchmarkMSMWindow(b *testing.B) {
	for _, n := range []int{128, 256, 512, 1024, 2048, 4096, 8192, 16384} {
		best := pippengerWindow(n)
		for c := best - 2; c <= best+2; c++ {
			b.Run(fmt.Sprintf("n=%d/c=%d", n, c), func(b *testing.B) {
				scalars, points := benchInputs(b, n)
				for b.Loop() {
					varTimePippenger(scalars, points, c)
				}
				reportPerPoint(b, n)
			})
		}
	}
}
