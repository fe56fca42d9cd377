package group

import (
	"unsafe"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
)

// A FixedBase holds precomputed multiples of one element P, so that s·P
// costs 64 mixed additions (no doublings) instead of a full variable-base
// multiplication: the mix re-encrypts every component with r·K for the
// joint key K. Mul runs in constant time (the digit lookups scan whole
// tables with constant-time selection), so it may take secret scalars.
//
// The table holds, for j = 0..63 and d = 1..8, d·16^j·P in affine
// "Niels" form (y+x, y−x, 2d·x·y) of its Edwards representative; s·P is
// Σ_j e_j·16^j·P for the signed radix-16 digits e_j ∈ [−8, 8) of s.
type FixedBase struct {
	table [64][8]niels
}

type niels struct{ ypx, ymx, t2d field.Element }

// edwards2d is 2·d for the Edwards curve −x² + y² = 1 + d·x²·y²,
// d = −121665/121666.
var edwards2d = func() *field.Element {
	one := new(field.Element).One()
	num := new(field.Element).Mult32(one, 121665)
	den := new(field.Element).Mult32(one, 121666)
	d := new(field.Element).Multiply(num, new(field.Element).Invert(den))
	d.Negate(d)
	return d.Add(d, d)
}()

// point returns e's Edwards representative. Element is, in the pinned
// github.com/gtank/ristretto255, a struct whose only field is an
// edwards25519.Point; TestFixedBaseLayout checks that this holds.
func point(e *Element) *edwards25519.Point { return (*edwards25519.Point)(unsafe.Pointer(e)) }

// NewFixedBase precomputes the table of P (public: the table's
// computation is variable-time in nothing but P).
func NewFixedBase(P *Element) *FixedBase {
	fb := &FixedBase{}
	base := edwards25519.NewIdentityPoint().Set(point(P))
	acc := new(edwards25519.Point)
	for j := range 64 {
		acc.Set(base)
		for d := range 8 {
			if d > 0 {
				acc.Add(acc, base)
			}
			X, Y, Z, _ := acc.ExtendedCoordinates()
			zInv := new(field.Element).Invert(Z)
			x := new(field.Element).Multiply(X, zInv)
			y := new(field.Element).Multiply(Y, zInv)
			n := &fb.table[j][d]
			n.ypx.Add(y, x)
			n.ymx.Subtract(y, x)
			n.t2d.Multiply(x, y)
			n.t2d.Multiply(&n.t2d, edwards2d)
		}
		for range 4 { // base = 16·base
			base.Add(base, base)
		}
	}
	return fb
}

// Mul returns s·P in constant time.
func (fb *FixedBase) Mul(s *Scalar) *Element {
	var b [ScalarSize]byte
	s.Encode(b[:0])
	// Signed radix-16 digits: s < 2^253, so the last digit is at most 8 after the carries.
	var e [64]int8
	for i := range 32 {
		e[2*i] = int8(b[i] & 15)
		e[2*i+1] = int8(b[i] >> 4)
	}
	var carry int8
	for i := range 63 {
		e[i] += carry
		carry = (e[i] + 8) >> 4
		e[i] -= carry << 4
	}
	e[63] += carry

	// Extended coordinates of the identity.
	var X, Y, Z, T field.Element
	Y.One()
	Z.One()
	var sel niels
	var pp, mm, tt, zz, x3, y3, z3, t3, negT field.Element
	for j := range 64 {
		d := int32(e[j])
		neg := int(uint32(d) >> 31)
		abs := (d ^ -int32(neg)) + int32(neg)
		// The identity in Niels form is (1, 1, 0).
		sel.ypx.One()
		sel.ymx.One()
		sel.t2d.Zero()
		for k := range 8 {
			eq := ctEq(abs, int32(k+1))
			n := &fb.table[j][k]
			sel.ypx.Select(&n.ypx, &sel.ypx, eq)
			sel.ymx.Select(&n.ymx, &sel.ymx, eq)
			sel.t2d.Select(&n.t2d, &sel.t2d, eq)
		}
		sel.ypx.Swap(&sel.ymx, neg)
		negT.Negate(&sel.t2d)
		sel.t2d.Select(&negT, &sel.t2d, neg)

		// Mixed addition (X, Y, Z, T) + sel, through completed coordinates.
		pp.Add(&Y, &X)
		pp.Multiply(&pp, &sel.ypx)
		mm.Subtract(&Y, &X)
		mm.Multiply(&mm, &sel.ymx)
		tt.Multiply(&T, &sel.t2d)
		zz.Add(&Z, &Z)
		x3.Subtract(&pp, &mm)
		y3.Add(&pp, &mm)
		z3.Add(&zz, &tt)
		t3.Subtract(&zz, &tt)
		X.Multiply(&x3, &t3)
		Y.Multiply(&y3, &z3)
		Z.Multiply(&z3, &t3)
		T.Multiply(&x3, &y3)
	}
	out := NewElement()
	if _, err := point(out).SetExtendedCoordinates(&X, &Y, &Z, &T); err != nil {
		panic("group: FixedBase.Mul: internal error: " + err.Error())
	}
	return out
}

// ctEq returns 1 if a == b and 0 otherwise, in constant time.
func ctEq(a, b int32) int {
	x := uint32(a ^ b)
	return int(1 ^ ((x | -x) >> 31))
}
