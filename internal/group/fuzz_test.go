package group

import (
	"bytes"
	"errors"
	"testing"
)

func FuzzDecodeElement(f *testing.F) {
	for _, h := range smallMultiples {
		f.Add(mustHex(f, h))
	}
	for _, v := range badEncodings {
		f.Add(mustHex(f, v.hex))
	}
	f.Add([]byte{})
	f.Add(make([]byte, 31))
	f.Add(make([]byte, 33))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeElement(b)
		pk, pkErr := DecodePublicKey(b)
		if err != nil {
			if !errors.Is(err, ErrEncoding) {
				t.Fatalf("DecodeElement error %v is not ErrEncoding", err)
			}
			if e != nil || pk != nil || !errors.Is(pkErr, ErrEncoding) {
				t.Fatalf("DecodePublicKey disagrees with DecodeElement: %v", pkErr)
			}
			return
		}
		if got := e.Encode(nil); !bytes.Equal(got, b) {
			t.Fatalf("decode OK but re-encodes %x to %x", b, got)
		}
		if IsIdentity(e) != errors.Is(pkErr, ErrIdentity) || (pkErr == nil) != (pk != nil) {
			t.Fatalf("DecodePublicKey(%x) = %v, identity %v", b, pkErr, IsIdentity(e))
		}
		if pk != nil && !Equal(pk, e) {
			t.Fatal("DecodePublicKey and DecodeElement decode differently")
		}
	})
}

func FuzzDecodeScalar(f *testing.F) {
	f.Add(make([]byte, 32))
	f.Add(ScalarFromInt64(-1).Encode(nil))
	f.Add(leBytes(orderL))
	f.Add(bytes.Repeat([]byte{0xff}, 32))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeScalar(b)
		// Independent oracle: accepted iff 32 bytes whose value is below ℓ.
		canonical := len(b) == ScalarSize && leInt(b).Cmp(orderL) < 0
		if (err == nil) != canonical {
			t.Fatalf("DecodeScalar(%x): err = %v, canonical = %v", b, err, canonical)
		}
		if err != nil {
			if !errors.Is(err, ErrEncoding) || s != nil {
				t.Fatalf("DecodeScalar(%x) = %v, %v", b, s, err)
			}
			return
		}
		if got := s.Encode(nil); !bytes.Equal(got, b) {
			t.Fatalf("decode OK but re-encodes %x to %x", b, got)
		}
	})
}

// FuzzPippengerRecoding checks the signed-digit recoding, for every window
// width, and the bucket method against Straus on a tiny MSM.
func FuzzPippengerRecoding(f *testing.F) {
	f.Add(make([]byte, 64), uint8(2))
	f.Add(bytes.Repeat([]byte{0xff}, 64), uint8(8))
	f.Add(bytes.Repeat([]byte{0x80}, 64), uint8(4))
	f.Fuzz(func(t *testing.T, wide []byte, c uint8) {
		if len(wide) > 64 {
			return
		}
		wide = append(bytes.Clone(wide), make([]byte, 64-len(wide))...)
		s, err := NewScalar().SetUniformBytes(wide)
		if err != nil {
			t.Fatal(err)
		}
		window := uint(c%13) + 2 // 2..14
		w := int((255 + window - 1) / window)
		digits := recodeSigned([]*Scalar{s}, window, w)
		v := leInt(nil)
		half := int64(1) << (window - 1)
		for j := w - 1; j >= 0; j-- {
			d := int64(digits[j])
			if d < -half || d >= half {
				t.Fatalf("c=%d: digit %d out of range", window, d)
			}
			v.Lsh(v, window).Add(v, leInt(nil).SetInt64(d))
		}
		if v.Cmp(leInt(s.Encode(nil))) != 0 {
			t.Fatalf("c=%d: recoding of %x gives %v", window, s.Encode(nil), v)
		}
		P := Generator()
		if !Equal(varTimePippenger([]*Scalar{s, s}, []*Element{P, Identity()}, window), VarTimeMul(s, P)) {
			t.Fatalf("c=%d: Pippenger wrong for %x", window, s.Encode(nil))
		}
	})
}
