package witness

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// cosign makes a cosignature/v1 line by (name, priv) at time ts over the
// checkpoint text, as C2SP tlog-cosignature defines it.
func cosign(name string, priv ed25519.PrivateKey, ts uint64, text []byte) []byte {
	pub := priv.Public().(ed25519.PublicKey)
	sig := binary.BigEndian.AppendUint32(nil, KeyID(name, pub))
	sig = binary.BigEndian.AppendUint64(sig, ts)
	sig = append(sig, ed25519.Sign(priv, CosignedMessage(ts, text))...)
	return []byte("\u2014 " + name + " " + base64.StdEncoding.EncodeToString(sig))
}

type fixture struct {
	boardSigner note.Signer
	boardKey    note.Verifier
	witnesses   []*Key
	privs       []ed25519.PrivateKey
	signed      []byte // the board's checkpoint, signed by the board only
	text        []byte
}

func newFixture(t testing.TB, m int) *fixture {
	t.Helper()
	origin := "koe.test/koe/e1"
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{}
	f.boardSigner, _ = note.NewSigner(skey)
	f.boardKey, _ = note.NewVerifier(vkey)
	for i := range m {
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		k, err := NewKey(fmt.Sprintf("w%d.example", i), pub)
		if err != nil {
			t.Fatal(err)
		}
		f.witnesses, f.privs = append(f.witnesses, k), append(f.privs, priv)
	}
	f.text = []byte(origin + "\n3\n" + base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n")
	f.signed, err = note.Sign(&note.Note{Text: string(f.text)}, f.boardSigner)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) line(i int, ts uint64) []byte {
	return cosign(f.witnesses[i].name, f.privs[i], ts, f.text)
}

func TestParseKeyRoundTrip(t *testing.T) {
	f := newFixture(t, 1)
	k, err := ParseKey(f.witnesses[0].String())
	if err != nil {
		t.Fatal(err)
	}
	if k.Name() != "w0.example" || k.KeyHash() != f.witnesses[0].KeyHash() || !bytes.Equal(k.PublicKey(), f.witnesses[0].PublicKey()) {
		t.Fatal("round trip changed the key")
	}
}

func TestParseKeyRejects(t *testing.T) {
	// A key whose ID has a letter, so that "upper-case id" differs from it
	// (an ID of digits alone, 2.3 % of keys, made that case a false failure).
	var pub ed25519.PublicKey
	for pub == nil || !strings.ContainsAny(fmt.Sprintf("%08x", KeyID("w.example", pub)), "abcdef") {
		pub, _, _ = ed25519.GenerateKey(rand.Reader)
	}
	good, _ := NewKey("w.example", pub)
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	id := fmt.Sprintf("%08x", KeyID("w.example", pub))
	ed01 := b64(append([]byte{0x01}, pub...))
	small := make([]byte, 32) // the identity's encoding is 0x01 00…00
	small[0] = 1
	for name, text := range map[string]string{
		"empty":              "",
		"one plus":           "w.example+" + id,
		"empty name":         "+" + id + "+" + b64(append([]byte{4}, pub...)),
		"space in name":      "w example+" + id + "+" + b64(append([]byte{4}, pub...)),
		"upper-case id":      "w.example+" + strings.ToUpper(id) + "+" + b64(append([]byte{4}, pub...)),
		"short id":           "w.example+" + id[:7] + "+" + b64(append([]byte{4}, pub...)),
		"wrong id":           "w.example+00000000+" + b64(append([]byte{4}, pub...)),
		"Ed25519 note key":   "w.example+" + id + "+" + ed01,
		"extra padding":      good.String() + "=",
		"trailing newline":   good.String() + "\n",
		"short key":          "w.example+" + id + "+" + b64(append([]byte{4}, pub[:31]...)),
		"small-order key":    "w.example+" + fmt.Sprintf("%08x", KeyID("w.example", small)) + "+" + b64(append([]byte{4}, small...)),
		"name of other case": strings.Replace(good.String(), "w.example", "W.example", 1),
	} {
		if _, err := ParseKey(text); err == nil {
			t.Errorf("%s: %q accepted", name, text)
		}
	}
}

func TestPolicyRules(t *testing.T) {
	f := newFixture(t, 3)
	w := f.witnesses
	dup, _ := NewKey("other.example", w[0].PublicKey())
	boardNamed, _ := NewKey(f.boardKey.Name(), w[1].PublicKey())
	for name, c := range map[string]struct {
		ws []*Key
		k  int
	}{
		"quorum 0":           {w, 0},
		"quorum above m":     {w, 4},
		"quorum without any": {nil, 1},
		"a key twice":        {[]*Key{w[0], w[1], w[0]}, 2},
		"a public key twice": {[]*Key{w[0], dup}, 1},
		"the board's name":   {[]*Key{boardNamed}, 1},
	} {
		if _, err := NewPolicy(f.boardKey, c.ws, c.k); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewPolicy(f.boardKey, nil, 0); err != nil {
		t.Errorf("no witnesses: %v", err)
	}
}

func TestPolicyVerify(t *testing.T) {
	f := newFixture(t, 3)
	pol, err := NewPolicy(f.boardKey, f.witnesses, 2)
	if err != nil {
		t.Fatal(err)
	}
	add := func(lines ...[]byte) []byte {
		s, err := AddCosignatures(f.signed, lines...)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, _, err := pol.Verify(add(f.line(0, 10), f.line(2, 11))); err != nil {
		t.Fatalf("2 of 3: %v", err)
	}
	if _, c, err := pol.Verify(add(f.line(0, 10), f.line(1, 1), f.line(2, 11))); err != nil || len(c) != 3 {
		t.Fatalf("3 of 3: %v", err)
	}
	// The same witness twice is one witness.
	if _, _, err := pol.Verify(add(f.line(0, 10), f.line(0, 12))); !errors.Is(err, ErrQuorum) {
		t.Fatalf("one witness twice: %v, want ErrQuorum", err)
	}
	if _, _, err := pol.Verify(add(f.line(1, 5))); !errors.Is(err, ErrQuorum) {
		t.Fatalf("1 of 3: %v, want ErrQuorum", err)
	}
	// A cosignature over another time than it claims, or by an unlisted
	// key under a listed name, does not count; a bad one by a listed key
	// is an error.
	forged := f.line(0, 10)
	tampered := bytes.Clone(forged)
	raw, _ := base64.StdEncoding.DecodeString(string(tampered[len("\u2014 w0.example "):]))
	raw[11] ^= 1 // the timestamp
	tampered = []byte("\u2014 w0.example " + base64.StdEncoding.EncodeToString(raw))
	if _, _, err := pol.Verify(add(tampered, f.line(1, 1))); err == nil || errors.Is(err, ErrQuorum) {
		t.Fatalf("a tampered cosignature: %v, want a signature error", err)
	}
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	if _, _, err := pol.Verify(add(cosign("w0.example", stranger, 1, f.text), f.line(1, 1))); !errors.Is(err, ErrQuorum) {
		t.Fatalf("an unlisted key under a listed name: %v, want ErrQuorum", err)
	}
	// A cosignature of another checkpoint.
	other := bytes.Replace(f.text, []byte("\n3\n"), []byte("\n4\n"), 1)
	if _, _, err := pol.Verify(add(cosign("w0.example", f.privs[0], 1, other), f.line(1, 1))); err == nil || errors.Is(err, ErrQuorum) {
		t.Fatalf("a cosignature of another checkpoint: %v, want a signature error", err)
	}
	// Cosignatures on a checkpoint the board did not sign.
	_, unsigned, _ := bytes.Cut(add(f.line(0, 1), f.line(1, 1)), []byte("\n\n"))
	lines := bytes.SplitN(unsigned, []byte("\n"), 2)[1]
	if _, _, err := pol.Verify(append(append(bytes.Clone(f.text), '\n'), lines...)); err == nil {
		t.Fatal("cosigned but not signed by the board: accepted")
	}
	// A cosignature replaces the same key's older one.
	s := add(f.line(0, 1))
	s2, _ := AddCosignatures(s, f.line(0, 2))
	if bytes.Count(s2, []byte("w0.example")) != 1 {
		t.Fatalf("the same key's cosignature twice:\n%s", s2)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0\n": 0, "7\n": 7, "9223372036854775807\n": 1<<63 - 1} {
		if n, err := ParseSize([]byte(in)); err != nil || n != want {
			t.Errorf("%q: %d, %v", in, n, err)
		}
	}
	for _, in := range []string{"", "\n", "7", "07\n", "-1\n", "+1\n", "1 \n", "9223372036854775808\n", "1\n\n", "x\n"} {
		if _, err := ParseSize([]byte(in)); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func FuzzParseKey(f *testing.F) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	k, _ := NewKey("w.example", pub)
	f.Add(k.String())
	f.Add("a+00000000+BA==")
	f.Fuzz(func(t *testing.T, text string) {
		k, err := ParseKey(text)
		if err != nil {
			return
		}
		if k.String() != text {
			t.Fatalf("%q parsed to %q", text, k.String())
		}
		again, err := NewKey(k.Name(), k.PublicKey())
		if err != nil || again.String() != text {
			t.Fatalf("%q is not canonical", text)
		}
	})
}

// FuzzPolicyVerify feeds signed checkpoints with cosignature lines to a
// policy: it never panics, and what it accepts is signed by the board and
// cosigned by at least the quorum.
func FuzzPolicyVerify(f *testing.F) {
	fx := newFixture(f, 2)
	pol, _ := NewPolicy(fx.boardKey, fx.witnesses, 1)
	s, _ := AddCosignatures(fx.signed, fx.line(0, 1), fx.line(1, 2))
	f.Add(s)
	f.Add(fx.signed)
	f.Add([]byte("x\n\n\u2014 a b\n"))
	f.Fuzz(func(t *testing.T, signed []byte) {
		cp, c, err := pol.Verify(signed)
		if err != nil {
			return
		}
		if cp == nil || len(c) < 1 {
			t.Fatal("accepted without a cosignature")
		}
		if _, err := AddCosignatures(signed); err != nil {
			t.Fatalf("accepted a note AddCosignatures cannot split: %v", err)
		}
	})
}

func FuzzParseSize(f *testing.F) {
	f.Add([]byte("12\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ParseSize(b)
		if err == nil && fmt.Sprintf("%d\n", n) != string(b) {
			t.Fatalf("%q parsed to %d", b, n)
		}
	})
}
