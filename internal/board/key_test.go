package board_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/koe-vote/koe/internal/board"
)

// keyText builds a verifier key text for name and the 32 key bytes, with a
// correct key hash, so that only the property under test is wrong.
func keyText(name string, pub []byte) string {
	key := append([]byte{0x01}, pub...)
	sum := sha256.Sum256(append([]byte(name+"\n"), key...))
	return name + "+" + hex.EncodeToString(sum[:4]) + "+" + base64.StdEncoding.EncodeToString(key)
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// TestVerifierKeyWithPlus: the base64 part of a key may hold "+"; the
// text splits at its first two "+" only (SPEC.md §13.3).
func TestVerifierKeyWithPlus(t *testing.T) {
	for tries := 0; ; tries++ {
		_, vkey, err := note.GenerateKey(rand.Reader, "vote.example.org/koe/e1")
		if err != nil {
			t.Fatal(err)
		}
		_, rest, _ := strings.Cut(vkey, "+")
		_, b64, _ := strings.Cut(rest, "+")
		if !strings.Contains(b64, "+") {
			if tries > 1000 {
				t.Fatal("no key with + in its base64 in 1000 tries")
			}
			continue
		}
		v, err := board.ParseVerifierKey(vkey)
		if err != nil {
			t.Fatalf("%s: %v", vkey, err)
		}
		if v.Name() != "vote.example.org/koe/e1" {
			t.Fatalf("name %q", v.Name())
		}
		if _, err := board.ParseVerifierKeyFile([]byte(vkey + "\n")); err != nil {
			t.Fatal(err)
		}
		return
	}
}

func TestVerifierKeyRejects(t *testing.T) {
	_, good, err := note.GenerateKey(rand.Reader, "vote.example.org/koe/e1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := board.ParseVerifierKey(good); err != nil {
		t.Fatal(err)
	}
	name, rest, _ := strings.Cut(good, "+")
	hash, b64, _ := strings.Cut(rest, "+")
	pub, _ := base64.StdEncoding.DecodeString(b64)
	for _, c := range []struct{ why, text string }{
		{"empty", ""},
		{"no separators", name},
		{"one separator", name + "+" + hash},
		{"upper-case key hash", name + "+" + strings.ToUpper(hash) + "+" + b64},
		{"short key hash", name + "+" + hash[1:] + "+" + b64},
		{"wrong key hash", name + "+" + fmt.Sprintf("%08x", 0) + "+" + b64},
		{"base64 with a newline", name + "+" + hash + "+" + b64[:10] + "\n" + b64[10:]},
		{"base64 with padding added", name + "+" + hash + "+" + b64 + "="},
		{"base64 url alphabet", strings.NewReplacer("+", "-", "/", "_").Replace(name+"+"+hash+"+") + strings.NewReplacer("+", "-", "/", "_").Replace(b64)},
		{"trailing space", good + " "},
		{"name with a space", keyText("vote example", pub[1:])},
		{"another algorithm", func() string {
			k := append([]byte{0x02}, pub[1:]...)
			sum := sha256.Sum256(append([]byte(name+"\n"), k...))
			return name + "+" + hex.EncodeToString(sum[:4]) + "+" + base64.StdEncoding.EncodeToString(k)
		}()},
		{"short key", keyText(name, pub[1:31])},
		{"identity key (small order)", keyText(name, mustHex("0100000000000000000000000000000000000000000000000000000000000000"))},
		{"order-2 key", keyText(name, mustHex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"))},
		{"non-canonical key (y ≥ p)", keyText(name, mustHex("f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"))},
		{"not a point", keyText(name, mustHex("0200000000000000000000000000000000000000000000000000000000000000"))},
	} {
		if _, err := board.ParseVerifierKey(c.text); err == nil {
			t.Errorf("%s: accepted %q", c.why, c.text)
		} else {
			t.Logf("%s: %v", c.why, err)
		}
	}
	for _, file := range []string{good, good + "\n\n", good + "\r\n", " " + good + "\n", good + " \n", "\n" + good + "\n"} {
		if _, err := board.ParseVerifierKeyFile([]byte(file)); err == nil {
			t.Errorf("key file %q accepted", file)
		}
	}
}

func TestCheckEd25519Key(t *testing.T) {
	_, vkey, _ := note.GenerateKey(rand.Reader, "n")
	_, rest, _ := strings.Cut(vkey, "+")
	_, b64, _ := strings.Cut(rest, "+")
	pub, _ := base64.StdEncoding.DecodeString(b64)
	if err := board.CheckEd25519Key(pub[1:]); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{
		"0100000000000000000000000000000000000000000000000000000000000000", // identity
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2
		"0000000000000000000000000000000000000000000000000000000000000080", // order 4, sign bit set with x = 0... or not a point
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // identity, y = p + 1
		"f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p + 3: a large-order point, non-canonical
		"0100000000000000000000000000000000000000000000000000000000000080", // identity with the sign bit set
	} {
		if err := board.CheckEd25519Key(mustHex(h)); err == nil {
			t.Errorf("%s accepted", h)
		}
	}
}

func FuzzParseVerifierKey(f *testing.F) {
	_, vkey, _ := note.GenerateKey(rand.Reader, "vote.example.org/koe/e1")
	f.Add(vkey)
	f.Add(vkey + "\n")
	f.Add("a+00000000+AQ==")
	f.Fuzz(func(t *testing.T, text string) {
		v, err := board.ParseVerifierKey(text)
		if err != nil {
			return
		}
		// Only the one canonical text is accepted: it is rebuilt from
		// the parsed name and the key bytes after the second "+".
		_, rest, _ := strings.Cut(text, "+")
		_, b64, _ := strings.Cut(rest, "+")
		key, err := base64.StdEncoding.Strict().DecodeString(b64)
		if err != nil || len(key) != 33 {
			t.Fatalf("accepted %q with key part %q", text, b64)
		}
		if got := keyText(v.Name(), key[1:]); got != text {
			t.Fatalf("accepted %q, canonical form %q", text, got)
		}
	})
}
