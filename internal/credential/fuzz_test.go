package credential

import (
	"bytes"
	"crypto/rand"
	"testing"
)

func FuzzDecodeCredential(f *testing.F) {
	a, _, _ := registrars(f)
	pub := a.PublicKey()
	c := issue(f, a, context("fuzz"))
	enc := c.Bytes()
	f.Add(enc)
	f.Add(enc[:len(enc)-1])
	f.Add(append(bytes.Clone(enc), 0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := DecodeCredential(pub, b)
		if err != nil {
			return
		}
		if !bytes.Equal(d.Bytes(), b) {
			t.Fatal("decode/encode round trip differs")
		}
		if err := d.Verify(pub, context("fuzz")); err == nil && !bytes.Equal(b, enc) {
			// Possible only by forging an RSA signature.
			t.Fatalf("forged credential %x verifies", b)
		}
	})
}

func FuzzUnmarshalPublicKey(f *testing.F) {
	a, _, c3072 := registrars(f)
	for _, r := range []*Registrar{a, c3072} {
		text, _ := r.PublicKey().MarshalText()
		f.Add(text)
		f.Add(text[:len(text)-1])
	}
	secret, _ := a.MarshalPrivate()
	f.Add(secret)
	f.Add([]byte(PublicKeyPrefix))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p PublicKey
		if err := p.UnmarshalText(b); err != nil {
			return
		}
		again, err := p.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("non-canonical key accepted: %q re-encodes as %q", b, again)
		}
		if bits := p.key.N.BitLen(); !validBits(bits) {
			t.Fatalf("accepted a %d-bit key", bits)
		}
	})
}

func FuzzUnmarshalPrivate(f *testing.F) {
	a, _, _ := registrars(f)
	pub := a.PublicKey()
	c := issue(f, a, context("fuzz"))
	good, _ := c.MarshalPrivate()
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := UnmarshalPrivate(pub, b)
		if err != nil {
			return
		}
		again, err := d.MarshalPrivate()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("non-canonical credential file accepted: %q re-encodes as %q", b, again)
		}
		// The decoded secret key signs for the decoded public key.
		var z [32]byte
		if err := VerifyCast(d.PublicKey, z, z, 0, d.SignCast(z, z, 0)); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzUnmarshalRegistrar(f *testing.F) {
	a, _, _ := registrars(f)
	secret, _ := a.MarshalPrivate()
	f.Add(secret)
	pubText, _ := a.PublicKey().MarshalText()
	f.Add(pubText)
	f.Add([]byte(SecretKeyPrefix))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := UnmarshalRegistrar(b)
		if err != nil {
			return
		}
		again, err := r.MarshalPrivate()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, b) {
			t.Fatal("non-canonical secret key accepted")
		}
		_, blinded, err := Request(rand.Reader, r.PublicKey(), context("fuzz"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Sign(blinded); err != nil {
			t.Fatal(err)
		}
	})
}
