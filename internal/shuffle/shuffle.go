// Package shuffle implements a verifiable re-encryption shuffle of ElGamal
// ciphertext vectors over ristretto255: the proof of shuffle of Terelius and
// Wikström (AFRICACRYPT 2010) in the form the CHVote protocol specification
// gives it (Haenni, Locher, Koenig, Dubuis: GenShuffleProof and
// CheckShuffleProof), adapted to vectors of w ciphertexts, as specified in
// SPEC.md §16.3.
//
// A list of N vectors, each of w ciphertexts (A, B) = (r·G, M + r·K) under
// the joint key K, is permuted and every component re-encrypted with its own
// nonce. The proof commits to the permutation with Pedersen commitments under
// independent generators H_0, …, H_N hashed to the group, and shows in zero
// knowledge that the committed matrix is a permutation matrix and that the
// output is the permuted, re-encrypted input. The proof carries its
// commitments; the verifier checks all its equations in one batched,
// parallel multi-scalar multiplication.
//
// Secret values (the permutation, nonces) are handled with the library's
// constant-time operations; verification is variable-time on public data.
package shuffle

import (
	"errors"
	"fmt"
	"io"

	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/group"
)

// A Vector is one list entry: w ciphertexts (a text answer's blocks).
type Vector = []elgamal.Ciphertext

// Limits on a shuffle (SPEC.md §16.3).
const (
	MaxCount = 1 << 20 // N, the number of vectors
	MaxWidth = 4096    // w, the ciphertexts per vector
)

// ErrInvalidProof is wrapped by every verification failure of a valid-shaped proof.
var ErrInvalidProof = errors.New("shuffle: invalid proof")

// Proof is a Terelius–Wikström proof of shuffle (SPEC.md §16.3).
// Indices run from 0 here and from 1 in the spec: C[i] is c_{i+1}.
type Proof struct {
	C     []*group.Element // permutation commitments c_1..c_N
	CHat  []*group.Element // commitment chain ĉ_1..ĉ_N
	T1    *group.Element
	T2    *group.Element
	T3    *group.Element
	T4A   []*group.Element // t_{4,k} on the A components, k = 1..w
	T4B   []*group.Element // t_{4,k} on the B components
	THat  []*group.Element // t̂_1..t̂_N
	S1    *group.Scalar
	S2    *group.Scalar
	S3    *group.Scalar
	S4    []*group.Scalar // s_{4,k}, k = 1..w
	SHat  []*group.Scalar // ŝ_1..ŝ_N
	SPrim []*group.Scalar // s'_1..s'_N
}

// Encrypt encrypts the elements ms under K with fresh nonces: one vector.
func Encrypt(rand io.Reader, K *group.Element, ms []*group.Element) (Vector, error) {
	v := make(Vector, len(ms))
	for k, m := range ms {
		r, err := group.RandomScalar(rand)
		if err != nil {
			return nil, fmt.Errorf("shuffle: %w", err)
		}
		B := group.Mul(r, K)
		B.Add(B, m)
		v[k] = elgamal.Ciphertext{A: group.BaseMul(r), B: B}
	}
	return v, nil
}

// shape checks 1 ≤ N ≤ MaxCount and that every vector has the same width
// 1 ≤ w ≤ MaxWidth, and returns N and w.
func shape(list []Vector) (n, w int, err error) {
	n = len(list)
	if n < 1 || n > MaxCount {
		return 0, 0, fmt.Errorf("shuffle: %d vectors, want 1..%d", n, MaxCount)
	}
	w = len(list[0])
	if w < 1 || w > MaxWidth {
		return 0, 0, fmt.Errorf("shuffle: width %d, want 1..%d", w, MaxWidth)
	}
	for i, v := range list {
		if len(v) != w {
			return 0, 0, fmt.Errorf("shuffle: vector %d has width %d, want %d", i, len(v), w)
		}
		for k, c := range v {
			if c.A == nil || c.B == nil {
				return 0, 0, fmt.Errorf("shuffle: vector %d, ciphertext %d: missing component", i, k)
			}
		}
	}
	return n, w, nil
}

// randomPermutation draws ψ uniformly by Fisher–Yates, each index by
// rejection sampling of 8-byte big-endian integers.
func randomPermutation(rand io.Reader, n int) ([]int, error) {
	psi := make([]int, n)
	for i := range psi {
		psi[i] = i
	}
	var buf [8]byte
	for i := n - 1; i > 0; i-- {
		bound := uint64(i + 1)
		limit := -bound / bound * bound // largest multiple of bound ≤ 2^64, mod 2^64
		for {
			if _, err := io.ReadFull(rand, buf[:]); err != nil {
				return nil, fmt.Errorf("shuffle: reading randomness: %w", err)
			}
			v := uint64(buf[0])<<56 | uint64(buf[1])<<48 | uint64(buf[2])<<40 | uint64(buf[3])<<32 |
				uint64(buf[4])<<24 | uint64(buf[5])<<16 | uint64(buf[6])<<8 | uint64(buf[7])
			if limit == 0 || v < limit {
				j := int(v % bound)
				psi[i], psi[j] = psi[j], psi[i]
				break
			}
		}
	}
	return psi, nil
}

func randomScalars(rand io.Reader, n int) ([]*group.Scalar, error) {
	out := make([]*group.Scalar, n)
	for i := range out {
		s, err := group.RandomScalar(rand)
		if err != nil {
			return nil, fmt.Errorf("shuffle: %w", err)
		}
		out[i] = s
	}
	return out, nil
}

// Shuffle permutes and re-encrypts the list under K and proves it for the
// 32-byte context ctx (SPEC.md §16.3–2.4). Output i is input
// ψ(i) with every component re-encrypted: (A + r̃·G, B + r̃·K).
func Shuffle(rand io.Reader, ctx []byte, K *group.Element, in []Vector) ([]Vector, *Proof, error) {
	l, err := NewList(in)
	if err != nil {
		return nil, nil, err
	}
	out, p, err := ShuffleList(rand, ctx, K, l)
	if err != nil {
		return nil, nil, err
	}
	return out.vectors, p, nil
}

// ShuffleList is Shuffle on a List: it hashes the input's encoding as it is
// and returns the output with its encoding.
func ShuffleList(rand io.Reader, ctx []byte, K *group.Element, in *List) (*List, *Proof, error) {
	if K == nil || group.IsIdentity(K) {
		return nil, nil, fmt.Errorf("shuffle: the key must not be the identity")
	}
	psi, err := randomPermutation(rand, in.Len())
	if err != nil {
		return nil, nil, err
	}
	return prove(rand, ctx, K, in, psi)
}
