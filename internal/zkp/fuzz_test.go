package zkp

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/koe-vote/koe/internal/group"
)

func FuzzDecodeSchnorr(f *testing.F) {
	p, _ := ProveSchnorr(rand.Reader, nil, one, group.Generator())
	f.Add(p.Bytes())
	f.Add(append(bytes.Clone(p.Bytes()[:32]), scalarL...))
	f.Add(append(bytes.Clone(elementNeg), p.Bytes()[32:]...))
	f.Add([]byte{})
	f.Add(make([]byte, SchnorrSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := DecodeSchnorr(b)
		if err != nil {
			if q != nil {
				t.Fatal("non-nil proof with an error")
			}
			return
		}
		if !bytes.Equal(q.Bytes(), b) {
			t.Fatalf("decodes %x but re-encodes to %x", b, q.Bytes())
		}
		// Verification of arbitrary input must not panic.
		_ = q.Verify(b, group.Generator())
	})
}

func FuzzDecodeDLEQ(f *testing.F) {
	G := group.Generator()
	p, _ := ProveDLEQ(rand.Reader, nil, one, G, G, G)
	f.Add(p.Bytes())
	f.Add(append(bytes.Clone(p.Bytes()[:64]), scalarFF...))
	f.Add([]byte{})
	f.Add(make([]byte, DLEQSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := DecodeDLEQ(b)
		if err != nil {
			if q != nil {
				t.Fatal("non-nil proof with an error")
			}
			return
		}
		if !bytes.Equal(q.Bytes(), b) {
			t.Fatalf("decodes %x but re-encodes to %x", b, q.Bytes())
		}
		_ = q.Verify(b, G, G, G)
	})
}

func FuzzDecodeRange(f *testing.F) {
	st := &RangeStatement{K: group.Generator(), A: group.Identity(), B: group.SmallBaseMul(1), Lo: 0, Hi: 1}
	p, _ := ProveRange(rand.Reader, st, 1, group.NewScalar())
	f.Add(p.AppendBytes(nil), 2)
	f.Add(p.AppendBytes(nil)[:BranchSize], 1)
	f.Add(p.AppendBytes(nil), 3)
	f.Add([]byte{}, 0)
	f.Add(make([]byte, BranchSize), 1)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		q, err := DecodeRange(b, n)
		if err != nil {
			if q != nil {
				t.Fatal("non-nil proof with an error")
			}
			return
		}
		if len(q.Branches) != n {
			t.Fatalf("%d branches, asked for %d", len(q.Branches), n)
		}
		if !bytes.Equal(q.AppendBytes(nil), b) {
			t.Fatalf("decodes %x but re-encodes differently", b)
		}
		st := &RangeStatement{Context: b, K: group.Generator(), A: group.Generator(), B: group.Generator(), Lo: 0, Hi: uint64(n - 1)}
		if q.Verify(st) == nil {
			t.Fatal("a fuzzed proof verifies")
		}
	})
}
