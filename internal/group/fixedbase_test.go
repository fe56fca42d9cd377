package group

import (
	"crypto/rand"
	"testing"
	"unsafe"

	"filippo.io/edwards25519"
)

// TestFixedBaseLayout checks the assumption point() rests on: an Element is
// exactly an edwards25519.Point, so operations through either agree.
func TestFixedBaseLayout(t *testing.T) {
	if unsafe.Sizeof(Element{}) != unsafe.Sizeof(edwards25519.Point{}) {
		t.Fatal("ristretto255.Element is not a bare edwards25519.Point")
	}
	s := ScalarFromUint64(77)
	e := BaseMul(s)
	p := new(edwards25519.Point).ScalarBaseMult(edwards25519.NewScalar().Set(scalarToEdwards(t, s)))
	if point(e).Equal(p) != 1 {
		t.Fatal("an Element's Edwards representative differs from the library's")
	}
}

func scalarToEdwards(t *testing.T, s *Scalar) *edwards25519.Scalar {
	t.Helper()
	x, err := edwards25519.NewScalar().SetCanonicalBytes(s.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestFixedBaseMul compares the fixed-base multiplication with ScalarMult
// on random scalars and on the edge cases of the digit recoding.
func TestFixedBaseMul(t *testing.T) {
	for _, P := range []*Element{Generator(), BaseMul(ScalarFromUint64(987654321)), Identity()} {
		fb := NewFixedBase(P)
		minus1 := NewScalar().Negate(ScalarFromUint64(1))
		scalars := []*Scalar{NewScalar(), ScalarFromUint64(1), ScalarFromUint64(8), ScalarFromUint64(15),
			ScalarFromUint64(16), ScalarFromUint64(0x8888888888888888), minus1, NewScalar().Negate(ScalarFromUint64(8))}
		for range 200 {
			s, err := RandomScalar(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			scalars = append(scalars, s)
		}
		for _, s := range scalars {
			if got, want := fb.Mul(s), Mul(s, P); !Equal(got, want) {
				t.Fatalf("FixedBase.Mul(%x) differs from ScalarMult", s.Bytes())
			}
		}
	}
}

func BenchmarkFixedBaseMul(b *testing.B) {
	fb := NewFixedBase(BaseMul(ScalarFromUint64(12345)))
	s, _ := RandomScalar(rand.Reader)
	for range b.N {
		fb.Mul(s)
	}
}

func BenchmarkScalarMult(b *testing.B) {
	P := BaseMul(ScalarFromUint64(12345))
	s, _ := RandomScalar(rand.Reader)
	for range b.N {
		Mul(s, P)
	}
}
