package group

import (
	"crypto/rand"
	"io"
)

// A Term is one product s·P in a linear equation over the group.
type Term struct {
	S *Scalar
	P *Element
}

// Batch verifies many equations of the form
//
//	g·G + Σ sᵢ·Pᵢ = 0
//
// at once (SPEC.md §4.5): each equation is multiplied by an independent
// random weight in [2¹²⁷, 2¹²⁸) and the sum is checked with one multi-scalar
// multiplication. If every equation holds the sum is the identity; if any
// fails, the sum is the identity with probability at most 2⁻¹²⁷.
//
// Points that appear in several equations (the same *Element pointer) are
// merged into one term, so an element must not change after it was added.
// A Batch is for public data only, and not safe for concurrent use.
type Batch struct {
	rand    io.Reader
	g       *Scalar
	scalars []*Scalar
	points  []*Element
	index   map[*Element]int
	weights []byte
	n       int
}

// NewBatch returns an empty batch whose weights come from crypto/rand.
func NewBatch() *Batch { return NewBatchWithRand(rand.Reader) }

// NewBatchWithRand returns an empty batch whose weights are read from r.
// r must be a cryptographically secure source unknown to the provers.
func NewBatchWithRand(r io.Reader) *Batch {
	return &Batch{rand: r, g: NewScalar(), index: make(map[*Element]int)}
}

// Len returns the number of equations added.
func (b *Batch) Len() int { return b.n }

func (b *Batch) weight() *Scalar {
	if len(b.weights) < 16 {
		b.weights = make([]byte, 16*256)
		if _, err := io.ReadFull(b.rand, b.weights); err != nil {
			panic("group: batch verification cannot read randomness: " + err.Error())
		}
	}
	var buf [ScalarSize]byte
	copy(buf[:16], b.weights[:16])
	buf[15] |= 0x80 // weights lie in [2^127, 2^128): never zero, even from a broken reader
	b.weights = b.weights[16:]
	s, err := NewScalar().SetCanonicalBytes(buf[:])
	if err != nil {
		panic(err) // unreachable: 128-bit values are canonical
	}
	return s
}

// Add adds the equation g·G + Σ terms = 0. g may be nil for 0.
func (b *Batch) Add(g *Scalar, terms ...Term) {
	w := b.weight()
	b.n++
	if g != nil {
		b.g.Add(b.g, NewScalar().Multiply(w, g))
	}
	for _, t := range terms {
		ws := NewScalar().Multiply(w, t.S)
		if i, ok := b.index[t.P]; ok {
			b.scalars[i].Add(b.scalars[i], ws)
			continue
		}
		b.index[t.P] = len(b.points)
		b.scalars = append(b.scalars, ws)
		b.points = append(b.points, t.P)
	}
}

// Verify reports whether all equations added so far hold (with overwhelming
// probability). An empty batch verifies.
func (b *Batch) Verify() bool {
	scalars := append(append(make([]*Scalar, 0, len(b.scalars)+1), b.scalars...), b.g)
	points := append(append(make([]*Element, 0, len(b.points)+1), b.points...), generator)
	return IsIdentity(VarTimeMSM(scalars, points))
}

// CheckEquation reports whether g·G + Σ terms = 0, without random weights.
// It is for verifying one equation on its own.
func CheckEquation(g *Scalar, terms ...Term) bool {
	scalars := make([]*Scalar, 0, len(terms)+1)
	points := make([]*Element, 0, len(terms)+1)
	for _, t := range terms {
		scalars = append(scalars, t.S)
		points = append(points, t.P)
	}
	if g != nil {
		scalars = append(scalars, g)
		points = append(points, generator)
	}
	return IsIdentity(VarTimeMSM(scalars, points))
}
