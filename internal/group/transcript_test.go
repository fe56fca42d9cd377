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
		input = "0000000b" + "6b6f652f76322f74657374" + // "koe/v2/test"
			"00000001" + "61" + "00000002" + "6263" + // Bytes("a", "bc")
			"00000001" + "6e" + "00000008" + "0000000000000007" // Uint64("n", 7)
		sha512Hex    = "fe5942c99be6324141a63c6b5e65916f986cbc8e1b8254d6dee03f61985999eb8d37f74d4f8a46a73034c12b561551a846bbe23522c0fad16c19d873c74bf7e6"
		sha256Hex    = "eb2541b4b72118a1b1f8e3028de2a6f8cfc6b425c2e12349a06132ab12552231"
		challengeHex = "bc9318da6aca0fa7b2ad647154d8751b818079edc8bc1d4f0879b37de5f8380c"
	)
	if got := hex.EncodeToString(framed("koe/v2/test", "a", "bc", "n", "\x00\x00\x00\x00\x00\x00\x00\x07")); got != input {
		t.Fatalf("framed() = %s, want %s", got, input)
	}
	write := func(tr *Transcript) *Transcript { return tr.Bytes("a", []byte("bc")).Uint64("n", 7) }

	if got := hex.EncodeToString(write(NewTranscript("koe/v2/test")).Sum()); got != sha512Hex {
		t.Errorf("SHA-512 transcript = %s, want %s", got, sha512Hex)
	}
	d := write(NewDigest("koe/v2/test")).Digest32()
	if got := hex.EncodeToString(d[:]); got != sha256Hex {
		t.Errorf("SHA-256 transcript = %s, want %s", got, sha256Hex)
	}
	if got := hex.EncodeToString(write(NewTranscript("koe/v2/test")).Challenge().Encode(nil)); got != challengeHex {
		t.Errorf("Challenge = %s, want %s", got, challengeHex)
	}
}

// TestTranscriptFraming checks every writer against the framing computed by
// hand, and Challenge against the wide reduction of the digest.
func TestTranscriptFraming(t *testing.T) {
	G := Generator()
	five := ScalarFromUint64(5)
	input := framed(
		"koe/v2/test",
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
	if got := write(NewTranscript("koe/v2/test")).Sum(); !bytes.Equal(got, want512[:]) {
		t.Errorf("SHA-512 transcript:\n got %x\nwant %x", got, want512)
	}
	want256 := sha256.Sum256(input)
	if got := write(NewDigest("koe/v2/test")).Digest32(); got != want256 {
		t.Errorf("SHA-256 transcript:\n got %x\nwant %x", got, want256)
	}
	if got := write(NewDigest("koe/v2/test")).Sum(); !bytes.Equal(got, want256[:]) {
		t.Errorf("SHA-256 Sum:\n got %x\nwant %x", got, want256)
	}

	// Challenge is the 64-byte digest read little-endian, reduced mod ℓ.
	wantC := leBytes(new(big.Int).Mod(leInt(want512[:]), orderL))
	if got := write(NewTranscript("koe/v2/test")).Challenge().Encode(nil); !bytes.Equal(got, wantC) {
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
		{"a|bc", "koe/v2/x", []write{{"a", "bc"}}},
		{"ab|c", "koe/v2/x", []write{{"ab", "c"}}},
		{"|abc", "koe/v2/x", []write{{"", "abc"}}},
		{"abc|", "koe/v2/x", []write{{"abc", ""}}},
		{"value split", "koe/v2/x", []write{{"v", "ab"}, {"v", "c"}}},
		{"value split 2", "koe/v2/x", []write{{"v", "a"}, {"v", "bc"}}},
		{"value joined", "koe/v2/x", []write{{"v", "abc"}}},
		{"empty write", "koe/v2/x", []write{{"v", "abc"}, {"", ""}}},
		{"other domain", "koe/v2/y", []write{{"a", "bc"}}},
		{"domain absorbs label", "koe/v2/xa", []write{{"", "bc"}}},
		{"no writes", "koe/v2/x", nil},
		{"label/value swapped", "koe/v2/x", []write{{"bc", "a"}}},
		{"framing bytes in value", "koe/v2/x", []write{{"a", "bc\x00\x00\x00\x01d\x00\x00\x00\x00"}}},
		{"framing bytes as writes", "koe/v2/x", []write{{"a", "bc"}, {"d", ""}}},
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
	a, b := NewTranscript("koe/v2/x").Sum(), NewDigest("koe/v2/x").Sum()
	if bytes.Equal(a[:32], b) {
		t.Error("SHA-512 and SHA-256 transcripts agree")
	}
}

func TestNewTranscriptDomain(t *testing.T) {
	for _, domain := range []string{"", "koe", "koe/v2", "koe/v2/", "koe/v1/ballot", "KOE/v2/ballot",
		"koe/v20/ballot", "/koe/v2/ballot", " koe/v2/ballot", "koe/v2ballot"} {
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
	for _, domain := range []string{"koe/v2/ballot", "koe/v2/x", "koe/v2/a/b/c"} {
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
	mustPanic("Challenge on a SHA-256 transcript", func() { NewDigest("koe/v2/x").Challenge() })
	mustPanic("Digest32 on a SHA-512 transcript", func() { NewTranscript("koe/v2/x").Digest32() })
}
