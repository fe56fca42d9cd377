package group

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"math/big"
	"testing"
)

// framed is the framing of SPEC.md §3, written out independently of
// Transcript: each part as u32be(len(part)) ‖ part.
func framed(parts ...string) []byte {
	var out []byte
	for _, p := range parts {
		out = binary.BigEndian.AppendUint32(out, uint32(len(p)))
		out = append(out, p...)
	}
	return out
}

// TestTranscriptKnownAnswer pins SPEC.md §3 with literal values: the hash
// input is the framed domain, then for each write the framed label and the
// framed value. The digests were computed outside Go (Python hashlib).
func TestTranscriptKnownAnswer(t *testing.T) {
	const (
		input = "0000000b" + "6b6f652f76312f74657374" + // "koe/v1/test"
			"00000001" + "61" + "00000002" + "6263" + // Bytes("a", "bc")
			"00000001" + "6e" + "00000008" + "0000000000000007" // Uint64("n", 7)
		sha512Hex    = "b367a8c632b63ced6b442bd43a3d0c5fba25866e4a0fb6f95d59a4076cd6124419d11b31aaf7dc70d15bab9f9415ff231ca9c9f1ab45ca88bc4127c4ee662c40"
		sha256Hex    = "dc351b29c106b57cfa96ee3d9c37fccb43c75c6cc8ce42908858b5ae25cace4b"
		challengeHex = "037b6056359478dd8f01ad263d67c72d3b219db7953b301756dfe08e99d2b806"
	)
	if got := hex.EncodeToString(framed("koe/v1/test", "a", "bc", "n", "\x00\x00\x00\x00\x00\x00\x00\x07")); got != input {
		t.Fatalf("framed() = %s, want %s", got, input)
	}
	write := func(tr *Transcript) *Transcript { return tr.Bytes("a", []byte("bc")).Uint64("n", 7) }

	if got := hex.EncodeToString(write(NewTranscript("koe/v1/test")).Sum()); got != sha512Hex {
		t.Errorf("SHA-512 transcript = %s, want %s", got, sha512Hex)
	}
	d := write(NewDigest("koe/v1/test")).Digest32()
	if got := hex.EncodeToString(d[:]); got != sha256Hex {
		t.Errorf("SHA-256 transcript = %s, want %s", got, sha256Hex)
	}
	if got := hex.EncodeToString(write(NewTranscript("koe/v1/test")).Challenge().Encode(nil)); got != challengeHex {
		t.Errorf("Challenge = %s, want %s", got, challengeHex)
	}
}

// TestTranscriptFraming checks every writer against the framing computed by
// hand, and Challenge against the wide reduction of the digest.
func TestTranscriptFraming(t *testing.T) {
	G := Generator()
	five := ScalarFromUint64(5)
	input := framed(
		"koe/v1/test",
		"bytes", "\x00\x01\x02",
		"empty", "",
		"string", "héllo",
		"element", string(G.Encode(nil)),
		"scalar", string(five.Encode(nil)),
		"u64", "\x01\x02\x03\x04\x05\x06\x07\x08",
		"", "empty label",
	)
	write := func(tr *Transcript) *Transcript {
		return tr.Bytes("bytes", []byte{0, 1, 2}).
			Bytes("empty", nil).
			String("string", "héllo").
			Element("element", G).
			Scalar("scalar", five).
			Uint64("u64", 0x0102030405060708).
			String("", "empty label")
	}

	want512 := sha512.Sum512(input)
	if got := write(NewTranscript("koe/v1/test")).Sum(); !bytes.Equal(got, want512[:]) {
		t.Errorf("SHA-512 transcript:\n got %x\nwant %x", got, want512)
	}
	want256 := sha256.Sum256(input)
	if got := write(NewDigest("koe/v1/test")).Digest32(); got != want256 {
		t.Errorf("SHA-256 transcript:\n got %x\nwant %x", got, want256)
	}
	if got := write(NewDigest("koe/v1/test")).Sum(); !bytes.Equal(got, want256[:]) {
		t.Errorf("SHA-256 Sum:\n got %x\nwant %x", got, want256)
	}

	// Challenge is the 64-byte digest read little-endian, reduced mod ℓ.
	wantC := leBytes(new(big.Int).Mod(leInt(want512[:]), orderL))
	if got := write(NewTranscript("koe/v1/test")).Challenge().Encode(nil); !bytes.Equal(got, wantC) {
		t.Errorf("Challenge = %x, want %x", got, wantC)
	}
}

// TestTranscriptInjective checks that different write sequences give
// different hashes, including the classic concatenation ambiguities.
func TestTranscriptInjective(t *testing.T) {
	type write struct{ label, value string }
	cases := []struct {
		name   string
		domain string
		writes []write
	}{
		{"a|bc", "koe/v1/x", []write{{"a", "bc"}}},
		{"ab|c", "koe/v1/x", []write{{"ab", "c"}}},
		{"|abc", "koe/v1/x", []write{{"", "abc"}}},
		{"abc|", "koe/v1/x", []write{{"abc", ""}}},
		{"value split", "koe/v1/x", []write{{"v", "ab"}, {"v", "c"}}},
		{"value split 2", "koe/v1/x", []write{{"v", "a"}, {"v", "bc"}}},
		{"value joined", "koe/v1/x", []write{{"v", "abc"}}},
		{"empty write", "koe/v1/x", []write{{"v", "abc"}, {"", ""}}},
		{"other domain", "koe/v1/y", []write{{"a", "bc"}}},
		{"domain absorbs label", "koe/v1/xa", []write{{"", "bc"}}},
		{"no writes", "koe/v1/x", nil},
		{"label/value swapped", "koe/v1/x", []write{{"bc", "a"}}},
		{"framing bytes in value", "koe/v1/x", []write{{"a", "bc\x00\x00\x00\x01d\x00\x00\x00\x00"}}},
		{"framing bytes as writes", "koe/v1/x", []write{{"a", "bc"}, {"d", ""}}},
	}
	seen512 := map[string]string{}
	seen256 := map[[32]byte]string{}
	for _, tc := range cases {
		t1, t2 := NewTranscript(tc.domain), NewDigest(tc.domain)
		for _, w := range tc.writes {
			t1.String(w.label, w.value)
			t2.String(w.label, w.value)
		}
		h1, h2 := string(t1.Sum()), t2.Digest32()
		if other, ok := seen512[h1]; ok {
			t.Errorf("SHA-512: %q and %q collide", tc.name, other)
		}
		if other, ok := seen256[h2]; ok {
			t.Errorf("SHA-256: %q and %q collide", tc.name, other)
		}
		seen512[h1], seen256[h2] = tc.name, tc.name
	}

	// A SHA-512 and a SHA-256 transcript of the same writes are unrelated.
	a, b := NewTranscript("koe/v1/x").Sum(), NewDigest("koe/v1/x").Sum()
	if bytes.Equal(a[:32], b) {
		t.Error("SHA-512 and SHA-256 transcripts agree")
	}
}

func TestNewTranscriptDomain(t *testing.T) {
	for _, domain := range []string{"", "koe", "koe/v1", "koe/v1/", "koe/v2/ballot", "KOE/v1/ballot",
		"koe/v10/ballot", "/koe/v1/ballot", " koe/v1/ballot", "koe/v1ballot"} {
		for name, f := range map[string]func(string) *Transcript{"NewTranscript": NewTranscript, "NewDigest": NewDigest} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s(%q) did not panic", name, domain)
					}
				}()
				f(domain)
			}()
		}
	}
	for _, domain := range []string{"koe/v1/ballot", "koe/v1/x", "koe/v1/a/b/c"} {
		NewTranscript(domain)
		NewDigest(domain)
	}
}

func TestTranscriptWrongHash(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", name)
			}
		}()
		f()
	}
	mustPanic("Challenge on a SHA-256 transcript", func() { NewDigest("koe/v1/x").Challenge() })
	mustPanic("Digest32 on a SHA-512 transcript", func() { NewTranscript("koe/v1/x").Digest32() })
}
