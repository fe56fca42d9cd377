package credential

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"strings"
	"sync"
	"testing"

	"filippo.io/edwards25519"
)

// Registrar keys are slow to generate, so the tests share a few.
var (
	keysOnce            sync.Once
	regA, regB, reg3072 *Registrar
)

func registrars(t testing.TB) (a, b, c3072 *Registrar) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if regA, err = NewRegistrar(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if regB, err = NewRegistrar(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if reg3072, err = NewRegistrar(rand.Reader, 3072); err != nil {
			panic(err)
		}
	})
	return regA, regB, reg3072
}

func context(s string) [32]byte {
	var c [32]byte
	copy(c[:], s)
	return c
}

// issue runs the whole issuance protocol.
func issue(t testing.TB, r *Registrar, ctx [32]byte) *Credential {
	t.Helper()
	p, blinded, err := Request(rand.Reader, r.PublicKey(), ctx)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := r.Sign(blinded)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Finalize(bs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRoundTrip(t *testing.T) {
	a, _, c3072 := registrars(t)
	for _, tc := range []struct {
		name string
		reg  *Registrar
		size int
	}{
		{"2048", a, 256},
		{"3072", c3072, 384},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pub := tc.reg.PublicKey()
			if pub.Size() != tc.size {
				t.Fatalf("Size() = %d, want %d", pub.Size(), tc.size)
			}
			ctx := context("election one")
			c := issue(t, tc.reg, ctx)
			if err := c.Verify(pub, ctx); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if len(c.Signature) != tc.size {
				t.Fatalf("signature is %d bytes", len(c.Signature))
			}

			// Ballot encoding.
			enc := c.Bytes()
			if len(enc) != 64+tc.size {
				t.Fatalf("Bytes() is %d bytes, want %d", len(enc), 64+tc.size)
			}
			if !bytes.Equal(enc[:32], c.PublicKey) || !bytes.Equal(enc[32:64], c.Randomizer[:]) || !bytes.Equal(enc[64:], c.Signature) {
				t.Fatal("Bytes() layout is not pk ‖ randomizer ‖ signature")
			}
			d, err := DecodeCredential(pub, enc)
			if err != nil {
				t.Fatalf("DecodeCredential: %v", err)
			}
			if err := d.Verify(pub, ctx); err != nil {
				t.Fatalf("Verify after decode: %v", err)
			}
			if !bytes.Equal(d.Bytes(), enc) {
				t.Fatal("decode/encode round trip differs")
			}
			if d.private != nil {
				t.Fatal("decoded credential holds a secret key")
			}

			// Device storage.
			priv, err := c.MarshalPrivate()
			if err != nil {
				t.Fatal(err)
			}
			c2, err := UnmarshalPrivate(pub, priv)
			if err != nil {
				t.Fatalf("UnmarshalPrivate: %v", err)
			}
			if !bytes.Equal(c2.Bytes(), enc) || !c2.private.Equal(c.private) {
				t.Fatal("private round trip differs")
			}
			priv2, _ := c2.MarshalPrivate()
			if !bytes.Equal(priv, priv2) {
				t.Fatal("MarshalPrivate is not canonical")
			}

			// Casting.
			tracking := context("tracking code")
			sig := c2.SignCast(ctx, tracking, 7)
			if err := VerifyCast(d.PublicKey, ctx, tracking, 7, sig); err != nil {
				t.Fatalf("VerifyCast: %v", err)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	a, b, _ := registrars(t)
	pub := a.PublicKey()
	ctx := context("election one")
	c := issue(t, a, ctx)

	flip := func(b []byte, i int) []byte { b = bytes.Clone(b); b[i] ^= 1; return b }
	otherKey, _, _ := ed25519.GenerateKey(rand.Reader)
	identity := edwards25519.NewIdentityPoint().Bytes()
	// A large-order point with a small y has a second, non-canonical
	// encoding y + p, which is still less than 2^255 when y < 19.
	var nc []byte
	for y := byte(2); y < 19; y++ {
		enc := make([]byte, 32)
		enc[0] = y
		if p, err := new(edwards25519.Point).SetBytes(enc); err == nil {
			if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 0 {
				// Add p = 2^255-19 to y.
				v := new(big.Int).Add(big.NewInt(int64(y)), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19)))
				nc = make([]byte, 32)
				v.FillBytes(nc)
				for i, j := 0, 31; i < j; i, j = i+1, j-1 {
					nc[i], nc[j] = nc[j], nc[i]
				}
				if _, err := new(edwards25519.Point).SetBytes(nc); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
	}
	if nc == nil {
		t.Fatal("no non-canonical test point found")
	}

	for _, tc := range []struct {
		name string
		pub  *PublicKey
		ctx  [32]byte
		mod  func(*Credential)
	}{
		{"other election", pub, context("election two"), nil},
		{"other registrar", b.PublicKey(), ctx, nil},
		{"tampered signature", pub, ctx, func(c *Credential) { c.Signature = flip(c.Signature, 100) }},
		{"tampered signature last byte", pub, ctx, func(c *Credential) { c.Signature = flip(c.Signature, len(c.Signature)-1) }},
		{"tampered randomizer", pub, ctx, func(c *Credential) { c.Randomizer[0] ^= 1 }},
		{"tampered voter key", pub, ctx, func(c *Credential) { c.PublicKey = flip(c.PublicKey, 3) }},
		{"other voter key", pub, ctx, func(c *Credential) { c.PublicKey = otherKey }},
		{"short signature", pub, ctx, func(c *Credential) { c.Signature = c.Signature[1:] }},
		{"long signature", pub, ctx, func(c *Credential) { c.Signature = append([]byte{0}, c.Signature...) }},
		{"empty signature", pub, ctx, func(c *Credential) { c.Signature = nil }},
		{"signature ≥ n", pub, ctx, func(c *Credential) {
			c.Signature = new(big.Int).Add(new(big.Int).SetBytes(c.Signature), pub.key.N).Bytes()
		}},
		{"short voter key", pub, ctx, func(c *Credential) { c.PublicKey = c.PublicKey[:31] }},
		{"nil voter key", pub, ctx, func(c *Credential) { c.PublicKey = nil }},
		{"identity voter key", pub, ctx, func(c *Credential) { c.PublicKey = identity }},
		{"non-canonical voter key", pub, ctx, func(c *Credential) { c.PublicKey = nc }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := *c
			d.PublicKey = bytes.Clone(c.PublicKey)
			d.Signature = bytes.Clone(c.Signature)
			if tc.mod != nil {
				tc.mod(&d)
			}
			err := d.Verify(tc.pub, tc.ctx)
			if !errors.Is(err, ErrInvalidCredential) {
				t.Fatalf("Verify = %v, want ErrInvalidCredential", err)
			}
		})
	}
}

func TestFinalizeRejects(t *testing.T) {
	a, b, c3072 := registrars(t)
	ctx := context("election one")
	// A request whose blinded message another registrar (b, with the same
	// key length) can sign too: below both moduli.
	var p *Pending
	var blinded, otherRegistrar []byte
	var err error
	for {
		if p, blinded, err = Request(rand.Reader, a.PublicKey(), ctx); err != nil {
			t.Fatal(err)
		}
		if otherRegistrar, err = b.Sign(blinded); err == nil {
			break
		}
	}
	good, err := a.Sign(blinded)
	if err != nil {
		t.Fatal(err)
	}
	_, blinded2, err := Request(rand.Reader, a.PublicKey(), ctx)
	if err != nil {
		t.Fatal(err)
	}
	otherRequest, err := a.Sign(blinded2)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(good)
	flipped[17] ^= 0x40

	for _, tc := range []struct {
		name string
		sig  []byte
	}{
		{"other registrar", otherRegistrar},
		{"signature for another request", otherRequest},
		{"tampered", flipped},
		{"echoed blinded message", blinded},
		{"short", good[1:]},
		{"long", append(bytes.Clone(good), 0)},
		{"empty", nil},
		{"zero", make([]byte, len(good))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := p.Finalize(tc.sig); !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("Finalize = %v, want ErrInvalidSignature", err)
			}
		})
	}
	t.Run("another registrar of another size", func(t *testing.T) {
		_, err := c3072.Sign(blinded)
		if !errors.Is(err, ErrInvalidBlindedMessage) {
			t.Fatalf("3072-bit registrar signed a 2048-bit blinded message: %v", err)
		}
	})
	// The pending request still finalizes with the right signature.
	if _, err := p.Finalize(good); err != nil {
		t.Fatalf("Finalize(good) after failures: %v", err)
	}
}

func TestSignRejects(t *testing.T) {
	a, _, _ := registrars(t)
	k := a.PublicKey().Size()
	n := a.PublicKey().key.N
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"short", make([]byte, k-1)},
		{"long", make([]byte, k+1)},
		{"zero", make([]byte, k)},
		{"n", n.FillBytes(make([]byte, k))},
		{"n+1", new(big.Int).Add(n, big.NewInt(1)).FillBytes(make([]byte, k))},
		{"all ones", bytes.Repeat([]byte{0xff}, k)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := a.Sign(tc.in); !errors.Is(err, ErrInvalidBlindedMessage) {
				t.Fatalf("Sign = %v, want ErrInvalidBlindedMessage", err)
			}
		})
	}
}

// TestBlindingHidesMessage checks that what the registrar sees is neither
// the credential message nor its RFC 9474 input, and that blinding the same
// prepared message twice gives unrelated values that both unblind to valid
// signatures.
func TestBlindingHidesMessage(t *testing.T) {
	a, _, _ := registrars(t)
	pub := a.PublicKey()
	ctx := context("election one")
	p, blinded1, err := Request(rand.Reader, pub, ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := message(ctx, p.vk)
	input := append(p.randomizer[:], m[:]...)
	blinded2, state2, err := p.client.Blind(rand.Reader, input)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		needle []byte
	}{
		{"message", m[:]},
		{"voter key", p.vk},
		{"randomizer", p.randomizer[:]},
		{"second blinding", blinded2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if bytes.Contains(blinded1, tc.needle) {
				t.Fatalf("blinded message contains the %s", tc.name)
			}
		})
	}
	if new(big.Int).SetBytes(blinded1).Cmp(new(big.Int).SetBytes(input)) == 0 {
		t.Fatal("blinded message equals the prepared message")
	}

	// Both blindings unblind to credentials for the same message.
	c1, err := p.Finalize(mustSign(t, a, blinded1))
	if err != nil {
		t.Fatal(err)
	}
	p2 := *p
	p2.state = state2
	c2, err := p2.Finalize(mustSign(t, a, blinded2))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c1.PublicKey, c2.PublicKey) || c1.Randomizer != c2.Randomizer {
		t.Fatal("the two credentials differ in message")
	}
	// The salts differ, so the signatures do too: the registrar cannot
	// recognise a credential by recomputing anything from its inputs.
	if bytes.Equal(c1.Signature, c2.Signature) || bytes.Equal(c1.Signature, blinded1) {
		t.Fatal("signatures repeat")
	}
}

func mustSign(t *testing.T, r *Registrar, blinded []byte) []byte {
	t.Helper()
	s, err := r.Sign(blinded)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDecodeCredentialRejects(t *testing.T) {
	a, _, c3072 := registrars(t)
	pub := a.PublicKey()
	c := issue(t, a, context("e"))
	enc := c.Bytes()
	identity := edwards25519.NewIdentityPoint().Bytes()
	sigN := pub.key.N.FillBytes(make([]byte, pub.Size()))
	for _, tc := range []struct {
		name string
		pub  *PublicKey
		in   []byte
	}{
		{"empty", pub, nil},
		{"short", pub, enc[:len(enc)-1]},
		{"long", pub, append(bytes.Clone(enc), 0)},
		{"for a 3072-bit key", c3072.PublicKey(), enc},
		{"small-order key", pub, append(append(bytes.Clone(identity), enc[32:64]...), enc[64:]...)},
		{"invalid point", pub, append(bytes.Repeat([]byte{0xff}, 32), enc[32:]...)},
		{"signature = n", pub, append(bytes.Clone(enc[:64]), sigN...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeCredential(tc.pub, tc.in); !errors.Is(err, ErrInvalidCredential) {
				t.Fatalf("DecodeCredential = %v, want ErrInvalidCredential", err)
			}
		})
	}
	if _, err := DecodeCredential(nil, enc); err == nil {
		t.Fatal("DecodeCredential with a nil key succeeded")
	}
	if _, err := DecodeCredential(&PublicKey{}, enc); err == nil {
		t.Fatal("DecodeCredential with a zero key succeeded")
	}
}

func TestUnmarshalPrivateRejects(t *testing.T) {
	a, _, c3072 := registrars(t)
	pub := a.PublicKey()
	c := issue(t, a, context("e"))
	good, err := c.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	var j map[string]string
	if err := json.Unmarshal(good, &j); err != nil {
		t.Fatal(err)
	}
	with := func(k, v string) []byte {
		return []byte(strings.Replace(string(good), `"`+k+`":"`+j[k]+`"`, `"`+k+`":"`+v+`"`, 1))
	}
	_, otherSK, _ := ed25519.GenerateKey(rand.Reader)
	for _, tc := range []struct {
		name string
		pub  *PublicKey
		in   []byte
	}{
		{"empty", pub, nil},
		{"other format", pub, with("format", "koe/v2/credential")},
		{"uppercase hex", pub, with("public_key", strings.ToUpper(j["public_key"]))},
		{"short randomizer", pub, with("randomizer", j["randomizer"][2:])},
		{"odd hex", pub, with("seed", j["seed"][1:])},
		{"other seed", pub, with("seed", hex.EncodeToString(otherSK.Seed()))},
		{"short signature", pub, with("signature", j["signature"][2:])},
		{"other key size", c3072.PublicKey(), good},
		{"trailing data", pub, append(bytes.Clone(good), '{', '}')},
		{"unknown field", pub, []byte(strings.Replace(string(good), `{`, `{"x":"y",`, 1))},
		{"duplicate field", pub, []byte(strings.Replace(string(good), `{`, `{"seed":"`+j["seed"]+`",`, 1))},
		{"differently cased field", pub, []byte(strings.Replace(string(good), `"seed"`, `"Seed"`, 1))},
		{"missing field", pub, []byte(strings.Replace(string(good), `,"seed":"`+j["seed"]+`"`, ``, 1))},
		{"too long", pub, append(bytes.Clone(good), bytes.Repeat([]byte(" "), maxPrivateText)...)},
		{"whitespace", pub, []byte(strings.Replace(string(good), `{`, `{ `, 1))},
		{"trailing newline", pub, append(bytes.Clone(good), '\n')},
		{"reordered", pub, []byte(`{"public_key":"` + j["public_key"] + `","format":"` + j["format"] + `","randomizer":"` + j["randomizer"] + `","signature":"` + j["signature"] + `","seed":"` + j["seed"] + `"}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := UnmarshalPrivate(tc.pub, tc.in); !errors.Is(err, ErrInvalidCredential) {
				t.Fatalf("UnmarshalPrivate = %v, want ErrInvalidCredential", err)
			}
		})
	}
	d, _ := DecodeCredential(pub, c.Bytes())
	if _, err := d.MarshalPrivate(); err == nil {
		t.Fatal("MarshalPrivate without a secret key succeeded")
	}
}

func TestCast(t *testing.T) {
	a, _, _ := registrars(t)
	ctx := context("election one")
	c := issue(t, a, ctx)
	other := issue(t, a, ctx)
	tracking := context("tracking one")
	sig := c.SignCast(ctx, tracking, 3)
	if err := VerifyCast(c.PublicKey, ctx, tracking, 3, sig); err != nil {
		t.Fatalf("VerifyCast: %v", err)
	}
	flipped := bytes.Clone(sig)
	flipped[5] ^= 1
	for _, tc := range []struct {
		name     string
		pk       ed25519.PublicKey
		ctx      [32]byte
		tracking [32]byte
		counter  uint64
		sig      []byte
	}{
		{"other counter", c.PublicKey, ctx, tracking, 4, sig},
		{"counter zero", c.PublicKey, ctx, tracking, 0, sig},
		{"other tracking", c.PublicKey, ctx, context("tracking two"), 3, sig},
		{"other election", c.PublicKey, context("election two"), tracking, 3, sig},
		{"other credential", other.PublicKey, ctx, tracking, 3, sig},
		{"tampered", c.PublicKey, ctx, tracking, 3, flipped},
		{"short signature", c.PublicKey, ctx, tracking, 3, sig[:63]},
		{"long signature", c.PublicKey, ctx, tracking, 3, append(bytes.Clone(sig), 0)},
		{"short key", c.PublicKey[:31], ctx, tracking, 3, sig},
		{"nil key", nil, ctx, tracking, 3, sig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := VerifyCast(tc.pk, tc.ctx, tc.tracking, tc.counter, tc.sig); !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("VerifyCast = %v, want ErrInvalidSignature", err)
			}
		})
	}
	t.Run("decoded credential cannot sign", func(t *testing.T) {
		d, err := DecodeCredential(a.PublicKey(), c.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if recover() == nil {
				t.Fatal("SignCast without a secret key did not panic")
			}
		}()
		d.SignCast(ctx, tracking, 3)
	})
}

func TestDigests(t *testing.T) {
	var pk1, pk2 [32]byte
	pk2[0] = 1
	var salt, salt2 [SaltSize]byte
	salt2[0] = 1
	if Binding(pk1[:], salt) == Binding(pk2[:], salt) || KeyHash(pk1[:]) == KeyHash(pk2[:]) {
		t.Fatal("digest ignores the key")
	}
	if Binding(pk1[:], salt) == Binding(pk1[:], salt2) {
		t.Fatal("Binding ignores the salt")
	}
	if Binding(pk1[:], salt) == KeyHash(pk1[:]) {
		t.Fatal("Binding and KeyHash are not domain-separated")
	}
	ctx := context("e")
	if message(ctx, pk1[:]) == Binding(pk1[:], salt) || message(ctx, pk1[:]) == KeyHash(pk1[:]) {
		t.Fatal("credential message is not domain-separated")
	}
	if castMessage(ctx, ctx, 1) == castMessage(ctx, ctx, 2) {
		t.Fatal("cast message ignores the counter")
	}
}

func TestPublicKeyText(t *testing.T) {
	a, b, c3072 := registrars(t)
	for _, r := range []*Registrar{a, c3072} {
		text, err := r.PublicKey().MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(text), PublicKeyPrefix) {
			t.Fatalf("text %q lacks the prefix", text)
		}
		var p PublicKey
		if err := p.UnmarshalText(text); err != nil {
			t.Fatalf("UnmarshalText: %v", err)
		}
		if !p.Equal(r.PublicKey()) || p.ID() != r.PublicKey().ID() || p.Equal(b.PublicKey()) {
			t.Fatal("round trip changed the key")
		}
		if p.String() != string(text) {
			t.Fatal("String differs from MarshalText")
		}
	}
	if a.PublicKey().ID() == b.PublicKey().ID() {
		t.Fatal("two keys share an ID")
	}

	text, _ := a.PublicKey().MarshalText()
	body := strings.TrimPrefix(string(text), PublicKeyPrefix)
	der, _ := b64.DecodeString(body)
	secret, _ := a.MarshalPrivate()
	mk := func(k *rsa.PublicKey) string {
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return PublicKeyPrefix + b64.EncodeToString(der)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	edpk, _, _ := ed25519.GenerateKey(rand.Reader)
	edDER, _ := x509.MarshalPKIXPublicKey(edpk)
	// Changing the last character's unused low bits gives non-canonical base64.
	nonCanonical := body[:len(body)-1] + string(b64alphabetNext(body[len(body)-1]))
	for _, tc := range []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"prefix only", PublicKeyPrefix},
		{"no prefix", body},
		{"other prefix", "koe-registrar-pub-v2:" + body},
		{"uppercase prefix", strings.ToUpper(PublicKeyPrefix) + body},
		{"secret key", string(secret)},
		{"padded base64", string(text) + "="},
		{"std base64", PublicKeyPrefix + strings.NewReplacer("-", "+", "_", "/").Replace(body) + "+/"},
		{"non-canonical base64", nonCanonical},
		{"trailing newline", string(text) + "\n"},
		{"inner newline", string(text[:40]) + "\r\n" + string(text[40:])},
		{"trailing DER", PublicKeyPrefix + b64.EncodeToString(append(bytes.Clone(der), 0))},
		{"truncated DER", PublicKeyPrefix + b64.EncodeToString(der[:len(der)-1])},
		{"1024-bit key", mk(&small.PublicKey)},
		{"exponent 3", mk(&rsa.PublicKey{N: a.PublicKey().key.N, E: 3})},
		{"ed25519 key", PublicKeyPrefix + b64.EncodeToString(edDER)},
		{"too long", PublicKeyPrefix + strings.Repeat("A", maxPublicKeyText)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := *b.PublicKey()
			if err := p.UnmarshalText([]byte(tc.in)); err == nil {
				t.Fatal("UnmarshalText accepted it")
			}
			if !p.Equal(b.PublicKey()) {
				t.Fatal("UnmarshalText changed the key on error")
			}
		})
	}
}

// b64alphabetNext returns the base64url character after c, which differs from
// c only in its lowest bit.
func b64alphabetNext(c byte) byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, c)
	return alphabet[i^1]
}

func TestRegistrarSecretKey(t *testing.T) {
	a, _, _ := registrars(t)
	text, err := a.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(text), SecretKeyPrefix) {
		t.Fatal("secret key lacks its prefix")
	}
	r, err := UnmarshalRegistrar(text)
	if err != nil {
		t.Fatalf("UnmarshalRegistrar: %v", err)
	}
	if !r.PublicKey().Equal(a.PublicKey()) {
		t.Fatal("round trip changed the public key")
	}
	// The decoded registrar issues valid credentials under the original key.
	ctx := context("e")
	c := issue(t, r, ctx)
	if err := c.Verify(a.PublicKey(), ctx); err != nil {
		t.Fatal(err)
	}

	pubText, _ := a.PublicKey().MarshalText()
	body := strings.TrimPrefix(string(text), SecretKeyPrefix)
	der, _ := b64.DecodeString(body)
	pkcs1 := x509.MarshalPKCS1PrivateKey(a.sk)
	for _, tc := range []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"public key", string(pubText)},
		{"no prefix", body},
		{"PKCS #1", SecretKeyPrefix + b64.EncodeToString(pkcs1)},
		{"trailing DER", SecretKeyPrefix + b64.EncodeToString(append(bytes.Clone(der), 0))},
		{"padded", string(text) + "="},
		{"inner newline", string(text[:40]) + "\n" + string(text[40:])},
		{"too long", SecretKeyPrefix + strings.Repeat("A", maxSecretKeyText)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := UnmarshalRegistrar([]byte(tc.in)); err == nil {
				t.Fatal("UnmarshalRegistrar accepted it")
			}
		})
	}
}

func TestNewRegistrarBits(t *testing.T) {
	for _, bits := range []int{0, 1024, 2047, 2049, 3000, 8192} {
		if _, err := NewRegistrar(rand.Reader, bits); err == nil {
			t.Errorf("NewRegistrar(%d) succeeded", bits)
		}
	}
}

func TestZeroPublicKey(t *testing.T) {
	var zero PublicKey
	if _, _, err := Request(rand.Reader, &zero, context("e")); err == nil {
		t.Fatal("Request with a zero key succeeded")
	}
	if _, _, err := Request(rand.Reader, nil, context("e")); err == nil {
		t.Fatal("Request with a nil key succeeded")
	}
	if _, err := zero.MarshalText(); err == nil {
		t.Fatal("MarshalText of a zero key succeeded")
	}
	c := &Credential{}
	if err := c.Verify(&zero, context("e")); err == nil {
		t.Fatal("Verify with a zero key succeeded")
	}
}

// TestRFC9474Vector checks the RFC 9474 Appendix A test vector for
// RSABSSA-SHA384-PSS-Randomized against this package's signing and
// verification, confirming that input_msg = msg_prefix ‖ msg.
func TestRFC9474Vector(t *testing.T) {
	data, err := os.ReadFile("testdata/rfc9474-sha384-pss-randomized.json")
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]string
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	num := func(k string) *big.Int {
		n, ok := new(big.Int).SetString(strings.TrimPrefix(v[k], "0x"), 16)
		if !ok {
			t.Fatalf("bad %s", k)
		}
		return n
	}
	bin := func(k string) []byte {
		b, err := hex.DecodeString(v[k])
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sk := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: num("n"), E: int(num("e").Int64())},
		D:         num("d"),
		Primes:    []*big.Int{num("p"), num("q")},
	}
	r, err := newRegistrar(sk)
	if err != nil {
		t.Fatal(err)
	}
	blindSig, err := r.Sign(bin("blinded_msg"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(blindSig, bin("blind_sig")) {
		t.Fatal("BlindSign differs from the test vector")
	}
	var prefix [32]byte
	copy(prefix[:], bin("msg_prefix"))
	if !bytes.Equal(append(prefix[:], bin("msg")...), bin("input_msg")) {
		t.Fatal("input_msg is not msg_prefix ‖ msg")
	}
	if err := verifyPrepared(r.PublicKey(), prefix, bin("msg"), bin("sig")); err != nil {
		t.Fatalf("vector signature does not verify: %v", err)
	}
	prefix[0] ^= 1
	if err := verifyPrepared(r.PublicKey(), prefix, bin("msg"), bin("sig")); err == nil {
		t.Fatal("vector signature verifies under another prefix")
	}
}
