// Package elgamal implements exponential ElGamal encryption over ristretto255
// (SPEC.md §5): a ciphertext of the small integer m under the public key K
// with nonce r is (A, B) = (r·G, m·G + r·K). Ciphertexts add component-wise,
// which adds their plaintexts; decryption recovers m·G, and a bounded discrete
// logarithm recovers m.
package elgamal

import (
	"fmt"
	"io"

	"github.com/koe-vote/koe/internal/group"
)

// CiphertextSize is the length of an encoded ciphertext A ‖ B.
const CiphertextSize = 2 * group.ElementSize

// Ciphertext is an exponential ElGamal ciphertext.
type Ciphertext struct {
	A, B *group.Element
}

// Zero returns the trivial encryption of 0 with nonce 0, the identity of
// homomorphic addition.
func Zero() Ciphertext { return Ciphertext{A: group.NewElement(), B: group.NewElement()} }

// Encrypt encrypts m under K with the secret nonce r, in constant time in r.
func Encrypt(K *group.Element, m uint64, r *group.Scalar) Ciphertext {
	B := group.Mul(r, K)
	B.Add(B, group.SmallBaseMul(m))
	return Ciphertext{A: group.BaseMul(r), B: B}
}

// EncryptRandom encrypts m under K with a fresh nonce, which it returns.
func EncryptRandom(rand io.Reader, K *group.Element, m uint64) (Ciphertext, *group.Scalar, error) {
	r, err := group.RandomScalar(rand)
	if err != nil {
		return Ciphertext{}, nil, err
	}
	return Encrypt(K, m, r), r, nil
}

// Add sets c to x + y and returns c. c may alias x or y.
func (c *Ciphertext) Add(x, y Ciphertext) *Ciphertext {
	A := group.NewElement().Add(x.A, y.A)
	B := group.NewElement().Add(x.B, y.B)
	c.A, c.B = A, B
	return c
}

// Accumulate adds x into c in place. c must own its elements (not share
// them with another ciphertext).
func (c *Ciphertext) Accumulate(x Ciphertext) {
	c.A.Add(c.A, x.A)
	c.B.Add(c.B, x.B)
}

// Clone returns a copy of c that shares no elements with it.
func (c Ciphertext) Clone() Ciphertext {
	return Ciphertext{A: group.NewElement().Set(c.A), B: group.NewElement().Set(c.B)}
}

// Equal reports whether two ciphertexts are identical.
func (c Ciphertext) Equal(x Ciphertext) bool { return group.Equal(c.A, x.A) && group.Equal(c.B, x.B) }

// Opens reports whether (A, B) = (r·G, m·G + r·K): the check a verifier makes
// of a spoiled ballot whose nonces were revealed. Variable time: r is public.
func (c Ciphertext) Opens(K *group.Element, m uint64, r *group.Scalar) bool {
	if !group.Equal(group.VarTimeDoubleBaseMul(group.NewScalar(), group.Generator(), r), c.A) {
		return false
	}
	return group.Equal(group.VarTimeDoubleBaseMul(r, K, group.ScalarFromUint64(m)), c.B)
}

// AppendBytes appends A ‖ B.
func (c Ciphertext) AppendBytes(out []byte) []byte {
	out = c.A.Encode(out)
	return c.B.Encode(out)
}

// Bytes returns A ‖ B.
func (c Ciphertext) Bytes() []byte { return c.AppendBytes(make([]byte, 0, CiphertextSize)) }

// Decode decodes A ‖ B strictly.
func Decode(b []byte) (Ciphertext, error) {
	if len(b) != CiphertextSize {
		return Ciphertext{}, fmt.Errorf("ciphertext: length %d, want %d", len(b), CiphertextSize)
	}
	A, err := group.DecodeElement(b[:32])
	if err != nil {
		return Ciphertext{}, fmt.Errorf("ciphertext: A: %w", err)
	}
	B, err := group.DecodeElement(b[32:])
	if err != nil {
		return Ciphertext{}, fmt.Errorf("ciphertext: B: %w", err)
	}
	return Ciphertext{A: A, B: B}, nil
}

// PartialDecrypt returns the decryption share D = x·A of a trustee whose
// key share is x, in constant time in x.
func PartialDecrypt(x *group.Scalar, c Ciphertext) *group.Element { return group.Mul(x, c.A) }
