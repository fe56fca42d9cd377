// Package group is koe's view of the ristretto255 prime-order group (RFC 9496)
// and of the hashing that feeds it, as specified in SPEC.md §2 and §3.
//
// Elements and scalars are the types of github.com/gtank/ristretto255; this
// package adds strict decoders, random and small-integer scalars, the
// length-framed transcript hash that every proof uses, multi-scalar
// multiplication and batch verification.
//
// Operations on secret scalars (key shares, encryption nonces) use the
// library's constant-time functions. Anything named VarTime, and the batch
// verifier, must only be used on public data.
package group

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gtank/ristretto255"
)

// Element is a ristretto255 group element.
type Element = ristretto255.Element

// Scalar is an integer modulo the group order ℓ = 2^252 + 27742317777372353535851937790883648493.
type Scalar = ristretto255.Scalar

// Sizes of canonical encodings (SPEC.md §2.1).
const (
	ElementSize = 32
	ScalarSize  = 32
)

var (
	// ErrEncoding is returned for a byte string that is not a canonical encoding.
	ErrEncoding = errors.New("not a canonical encoding")
	// ErrIdentity is returned where the identity element is not allowed.
	ErrIdentity = errors.New("identity element not allowed")
)

var (
	generator = ristretto255.NewGeneratorElement()
	identity  = ristretto255.NewIdentityElement()
)

// Generator returns a new copy of the standard generator G.
func Generator() *Element { return ristretto255.NewGeneratorElement() }

// Identity returns a new identity element.
func Identity() *Element { return ristretto255.NewIdentityElement() }

// NewElement returns a new element set to the identity.
func NewElement() *Element { return ristretto255.NewIdentityElement() }

// NewScalar returns a new zero scalar.
func NewScalar() *Scalar { return ristretto255.NewScalar() }

// IsIdentity reports whether e is the identity element.
func IsIdentity(e *Element) bool { return e.Equal(identity) == 1 }

// Equal reports whether a and b are the same element.
func Equal(a, b *Element) bool { return a.Equal(b) == 1 }

// DecodeElement decodes a 32-byte canonical ristretto255 encoding (RFC 9496 §4.3.1).
// Any other length, or a non-canonical encoding, is rejected.
func DecodeElement(b []byte) (*Element, error) {
	if len(b) != ElementSize {
		return nil, fmt.Errorf("group element: %w: length %d, want %d", ErrEncoding, len(b), ElementSize)
	}
	e, err := ristretto255.NewIdentityElement().SetCanonicalBytes(b)
	if err != nil {
		return nil, fmt.Errorf("group element: %w", ErrEncoding)
	}
	return e, nil
}

// DecodePublicKey decodes an element that must not be the identity, such as
// a public key or a commitment to a secret.
func DecodePublicKey(b []byte) (*Element, error) {
	e, err := DecodeElement(b)
	if err != nil {
		return nil, err
	}
	if IsIdentity(e) {
		return nil, fmt.Errorf("group element: %w", ErrIdentity)
	}
	return e, nil
}

// DecodeScalar decodes a 32-byte little-endian scalar that must be fully
// reduced modulo ℓ.
func DecodeScalar(b []byte) (*Scalar, error) {
	if len(b) != ScalarSize {
		return nil, fmt.Errorf("scalar: %w: length %d, want %d", ErrEncoding, len(b), ScalarSize)
	}
	s, err := ristretto255.NewScalar().SetCanonicalBytes(b)
	if err != nil {
		return nil, fmt.Errorf("scalar: %w", ErrEncoding)
	}
	return s, nil
}

// RandomScalar reads 64 bytes from rand and reduces them modulo ℓ, which gives
// a scalar whose distribution is statistically indistinguishable from uniform.
func RandomScalar(rand io.Reader) (*Scalar, error) {
	var buf [64]byte
	if _, err := io.ReadFull(rand, buf[:]); err != nil {
		return nil, fmt.Errorf("reading randomness: %w", err)
	}
	s, err := ristretto255.NewScalar().SetUniformBytes(buf[:])
	if err != nil {
		panic(err) // unreachable: the input has the right length
	}
	return s, nil
}

// ScalarFromUint64 returns v as a scalar.
func ScalarFromUint64(v uint64) *Scalar {
	var buf [ScalarSize]byte
	binary.LittleEndian.PutUint64(buf[:], v)
	s, err := ristretto255.NewScalar().SetCanonicalBytes(buf[:])
	if err != nil {
		panic(err) // unreachable: v < 2^64 < ℓ
	}
	return s
}

// ScalarFromInt64 returns v (which may be negative) as a scalar modulo ℓ.
func ScalarFromInt64(v int64) *Scalar {
	if v >= 0 {
		return ScalarFromUint64(uint64(v))
	}
	return NewScalar().Negate(ScalarFromUint64(uint64(-v)))
}

// Mul returns s·P, in constant time.
func Mul(s *Scalar, p *Element) *Element { return NewElement().ScalarMult(s, p) }

// BaseMul returns s·G, in constant time.
func BaseMul(s *Scalar) *Element { return NewElement().ScalarBaseMult(s) }

// SmallBaseMul returns m·G for a small public integer m.
func SmallBaseMul(m uint64) *Element { return NewElement().ScalarBaseMult(ScalarFromUint64(m)) }

// VarTimeMul returns s·P in variable time: only for public s and P.
func VarTimeMul(s *Scalar, p *Element) *Element {
	return NewElement().VarTimeMultiScalarMult([]*Scalar{s}, []*Element{p})
}

// VarTimeDoubleBaseMul returns a·A + b·G in variable time: only for public data.
func VarTimeDoubleBaseMul(a *Scalar, A *Element, b *Scalar) *Element {
	return NewElement().VarTimeDoubleScalarBaseMult(a, A, b)
}
