package group

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"hash"
	"math"

	"github.com/gtank/ristretto255"
)

// Version is the protocol version every domain-separation string starts with.
const Version = "koe/v2"

// A Transcript is the length-framed, domain-separated input to a hash
// (SPEC.md §3). Every value written is framed as u32be(len(label)) ‖ label ‖
// u32be(len(value)) ‖ value, after the framed domain string, so no two
// different sequences of writes give the same hash input.
type Transcript struct {
	h   hash.Hash
	buf [4]byte
}

// NewTranscript starts a transcript hashed with SHA-512 (used for
// challenges and other scalars). domain must be "koe/v2/" followed by a
// non-empty name.
func NewTranscript(domain string) *Transcript { return newTranscript(sha512.New(), domain) }

// NewDigest starts a transcript hashed with SHA-256 (used for 32-byte
// identifiers: manifest hash, election context, tracking codes).
func NewDigest(domain string) *Transcript { return newTranscript(sha256.New(), domain) }

func newTranscript(h hash.Hash, domain string) *Transcript {
	if len(domain) <= len(Version)+1 || domain[:len(Version)+1] != Version+"/" {
		panic("group: domain " + domain + " does not start with " + Version + "/")
	}
	t := &Transcript{h: h}
	t.frame([]byte(domain))
	return t
}

func (t *Transcript) frame(b []byte) {
	if uint64(len(b)) > math.MaxUint32 {
		panic("group: transcript value longer than 2^32-1 bytes")
	}
	binary.BigEndian.PutUint32(t.buf[:], uint32(len(b)))
	t.h.Write(t.buf[:])
	t.h.Write(b)
}

// Bytes writes a labelled byte string.
func (t *Transcript) Bytes(label string, b []byte) *Transcript {
	t.frame([]byte(label))
	t.frame(b)
	return t
}

// String writes a labelled UTF-8 string.
func (t *Transcript) String(label, s string) *Transcript { return t.Bytes(label, []byte(s)) }

// Element writes the canonical encoding of e.
func (t *Transcript) Element(label string, e *Element) *Transcript {
	var b [ElementSize]byte
	return t.Bytes(label, e.Encode(b[:0]))
}

// Scalar writes the canonical encoding of s.
func (t *Transcript) Scalar(label string, s *Scalar) *Transcript {
	var b [ScalarSize]byte
	return t.Bytes(label, s.Encode(b[:0]))
}

// Uint64 writes v as 8 bytes, big-endian.
func (t *Transcript) Uint64(label string, v uint64) *Transcript {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return t.Bytes(label, b[:])
}

// Challenge finishes a SHA-512 transcript and reduces the 64-byte digest,
// read little-endian, modulo ℓ.
func (t *Transcript) Challenge() *Scalar {
	if t.h.Size() != 64 {
		panic("group: Challenge on a SHA-256 transcript")
	}
	s, err := ristretto255.NewScalar().SetUniformBytes(t.h.Sum(nil))
	if err != nil {
		panic(err)
	}
	return s
}

// Sum finishes the transcript and returns the digest.
func (t *Transcript) Sum() []byte { return t.h.Sum(nil) }

// Digest32 finishes a SHA-256 transcript and returns its 32-byte digest.
func (t *Transcript) Digest32() [32]byte {
	if t.h.Size() != 32 {
		panic("group: Digest32 on a SHA-512 transcript")
	}
	var d [32]byte
	t.h.Sum(d[:0])
	return d
}
