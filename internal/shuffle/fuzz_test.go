package shuffle

import (
	"bytes"
	"testing"
)

// FuzzDecodeProof decodes arbitrary bytes as a proof: no panics, and an
// accepted proof re-encodes to the same bytes.
func FuzzDecodeProof(f *testing.F) {
	fx := newFixture(f, 2, 2)
	f.Add(fx.p.Bytes())
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeProof(b)
		if err != nil {
			return
		}
		if !bytes.Equal(p.Bytes(), b) {
			t.Fatal("re-encoding differs")
		}
		// A decoded proof of the right shape never panics the verifier.
		if len(p.C) == 2 && len(p.S4) == 2 {
			_ = Verify(testCtx, fx.K, fx.in, fx.out, p)
		}
	})
}

// FuzzDecodeList decodes arbitrary bytes as a list of 2 vectors of width 2:
// no panics, and an accepted list re-encodes to the same bytes.
func FuzzDecodeList(f *testing.F) {
	fx := newFixture(f, 2, 2)
	l, err := NewList(fx.in)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(l.Bytes())
	f.Add(make([]byte, 256))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := DecodeList(b, 2, 2)
		if err != nil {
			return
		}
		again, err := NewList(l.Vectors())
		if err != nil || !bytes.Equal(again.Bytes(), b) {
			t.Fatal("re-encoding differs")
		}
	})
}
