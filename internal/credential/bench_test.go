package credential

import (
	"crypto/rand"
	"testing"
)

func BenchmarkVerify3072(b *testing.B) {
	_, _, r := registrars(b)
	ctx := context("bench")
	c := issue(b, r, ctx)
	pub := r.PublicKey()
	for b.Loop() {
		if err := c.Verify(pub, ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign3072(b *testing.B) {
	_, _, r := registrars(b)
	_, blinded, err := Request(rand.Reader, r.PublicKey(), context("bench"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := r.Sign(blinded); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRequest3072(b *testing.B) {
	_, _, r := registrars(b)
	pub := r.PublicKey()
	for b.Loop() {
		if _, _, err := Request(rand.Reader, pub, context("bench")); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFinalize3072(b *testing.B) {
	_, _, r := registrars(b)
	p, blinded, err := Request(rand.Reader, r.PublicKey(), context("bench"))
	if err != nil {
		b.Fatal(err)
	}
	bs, err := r.Sign(blinded)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := p.Finalize(bs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyCast(b *testing.B) {
	a, _, _ := registrars(b)
	ctx := context("bench")
	c := issue(b, a, ctx)
	sig := c.SignCast(ctx, ctx, 1)
	for b.Loop() {
		if err := VerifyCast(c.PublicKey, ctx, ctx, 1, sig); err != nil {
			b.Fatal(err)
		}
	}
}
