package credential

import (
	"bytes"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/cloudflare/circl/blindsign/blindrsa"

	"github.com/koe-vote/koe/internal/group"
)

// Key sizes. Production registrars use Bits; the decoders accept exactly the
// moduli of 2048, 3072 or 4096 bits with public exponent 65537.
const (
	Bits     = 3072
	Exponent = 65537
)

// PublicKeyPrefix and SecretKeyPrefix start the text encodings of a
// registrar's public and secret keys (SPEC.md §14).
const (
	PublicKeyPrefix = "koe-registrar-pub-v1:"
	SecretKeyPrefix = "koe-registrar-secret-v1:"
)

// Upper bounds on the text encodings, checked before any decoding. A 4096-bit
// SPKI is 550 bytes and a 4096-bit PKCS #8 key about 2,400 bytes.
const (
	maxPublicKeyText = 1024
	maxSecretKeyText = 4096
)

// b64 is unpadded base64url that rejects non-zero trailing bits, so every key
// has exactly one text encoding.
var b64 = base64.RawURLEncoding.Strict()

// decodeB64 decodes canonical unpadded base64url. encoding/base64 skips
// '\r' and '\n' even in strict mode, so the result is re-encoded and
// compared.
func decodeB64(s string) ([]byte, error) {
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if b64.EncodeToString(b) != s {
		return nil, errors.New("non-canonical encoding")
	}
	return b, nil
}

// variant is the one RFC 9474 variant koe uses.
const variant = blindrsa.SHA384PSSRandomized

// ErrInvalidBlindedMessage is returned by [Registrar.Sign] for a blinded
// message that is not an integer in [1, n-1] encoded in exactly the modulus
// length: the request is malformed, not a failure of the registrar.
var ErrInvalidBlindedMessage = errors.New("credential: invalid blinded message")

func validBits(bits int) bool { return bits == 2048 || bits == 3072 || bits == 4096 }

// checkRSAPublicKey enforces the key profile of SPEC.md §14.
func checkRSAPublicKey(k *rsa.PublicKey) error {
	if k == nil || k.N == nil || !validBits(k.N.BitLen()) {
		return errors.New("RSA modulus must be 2048, 3072 or 4096 bits")
	}
	if k.E != Exponent {
		return fmt.Errorf("RSA public exponent is %d, want %d", k.E, Exponent)
	}
	if k.N.Bit(0) == 0 {
		return errors.New("RSA modulus is even")
	}
	return nil
}

// A PublicKey is a registrar's RSA public key. The zero value is not usable;
// get one from [Registrar.PublicKey] or [PublicKey.UnmarshalText].
type PublicKey struct {
	key      *rsa.PublicKey
	spki     []byte // DER SubjectPublicKeyInfo, the canonical encoding
	id       [32]byte
	verifier blindrsa.Verifier
}

func newPublicKey(k *rsa.PublicKey) (*PublicKey, error) {
	if err := checkRSAPublicKey(k); err != nil {
		return nil, err
	}
	k = &rsa.PublicKey{N: new(big.Int).Set(k.N), E: k.E}
	spki, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, err
	}
	v, err := blindrsa.NewVerifier(variant, k)
	if err != nil {
		return nil, err
	}
	return &PublicKey{
		key:      k,
		spki:     spki,
		id:       group.NewDigest("koe/v2/credential/registrar-key").Bytes("spki", spki).Digest32(),
		verifier: v,
	}, nil
}

func (pub *PublicKey) usable() error {
	if pub == nil || pub.key == nil {
		return errors.New("credential: nil or zero registrar public key")
	}
	return nil
}

// Size returns the modulus length k in bytes: the length of blinded
// messages, blind signatures and credential signatures under this key.
func (pub *PublicKey) Size() int { return pub.key.Size() }

// ID returns the key's identifier,
//
//	group.NewDigest("koe/v2/credential/registrar-key").Bytes("spki", spki).Digest32()
//
// where spki is the DER SubjectPublicKeyInfo of the key.
func (pub *PublicKey) ID() [32]byte { return pub.id }

// Equal reports whether pub and other are the same key.
func (pub *PublicKey) Equal(other *PublicKey) bool {
	if pub.usable() != nil || other.usable() != nil {
		return false
	}
	return bytes.Equal(pub.spki, other.spki)
}

// MarshalText returns "koe-registrar-pub-v1:" followed by the unpadded
// base64url encoding of the key's DER SubjectPublicKeyInfo.
func (pub *PublicKey) MarshalText() ([]byte, error) {
	if err := pub.usable(); err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(PublicKeyPrefix)+b64.EncodedLen(len(pub.spki)))
	out = append(out, PublicKeyPrefix...)
	return b64.AppendEncode(out, pub.spki), nil
}

// String returns the text encoding of the key.
func (pub *PublicKey) String() string {
	b, err := pub.MarshalText()
	if err != nil {
		return "<invalid registrar public key>"
	}
	return string(b)
}

// UnmarshalText decodes the encoding produced by [PublicKey.MarshalText].
// It accepts only the one canonical encoding of a key in the profile of
// SPEC.md §14: the prefix, canonical unpadded base64url, a DER
// SubjectPublicKeyInfo that re-encodes to the same bytes, and an RSA key of
// 2048, 3072 or 4096 bits with exponent 65537. pub is unchanged on error.
func (pub *PublicKey) UnmarshalText(text []byte) error {
	if len(text) > maxPublicKeyText {
		return fmt.Errorf("credential: registrar public key is %d bytes, longer than %d", len(text), maxPublicKeyText)
	}
	s := string(text)
	if strings.HasPrefix(s, SecretKeyPrefix) {
		return errors.New("credential: this is a registrar secret key, not a public key; keep it secret and use the " + PublicKeyPrefix + " key instead")
	}
	rest, ok := strings.CutPrefix(s, PublicKeyPrefix)
	if !ok {
		return fmt.Errorf("credential: registrar public key does not start with %q", PublicKeyPrefix)
	}
	der, err := decodeB64(rest)
	if err != nil {
		return fmt.Errorf("credential: registrar public key: invalid base64url: %v", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return fmt.Errorf("credential: registrar public key: %v", err)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("credential: registrar public key is a %T, not an RSA key", k)
	}
	p, err := newPublicKey(rk)
	if err != nil {
		return fmt.Errorf("credential: registrar public key: %v", err)
	}
	if !bytes.Equal(p.spki, der) {
		return errors.New("credential: registrar public key: non-canonical SubjectPublicKeyInfo encoding")
	}
	*pub = *p
	return nil
}

// A Registrar holds the RSA secret key that blind-signs credentials
// (RFC 9474 §4.3, BlindSign). Its methods are safe for concurrent use.
type Registrar struct {
	sk     *rsa.PrivateKey
	signer blindrsa.Signer
	pub    *PublicKey
}

// NewRegistrar generates a registrar key of the given size, which must be
// 2048, 3072 or 4096 bits; elections use [Bits]. Since Go 1.26 RSA key
// generation always draws from crypto/rand, so rand is passed on but
// ignored.
func NewRegistrar(rand io.Reader, bits int) (*Registrar, error) {
	if !validBits(bits) {
		return nil, fmt.Errorf("credential: registrar key size %d bits; want 2048, 3072 or 4096", bits)
	}
	sk, err := rsa.GenerateKey(rand, bits)
	if err != nil {
		return nil, fmt.Errorf("credential: generating registrar key: %w", err)
	}
	return newRegistrar(sk)
}

func newRegistrar(sk *rsa.PrivateKey) (*Registrar, error) {
	if len(sk.Primes) != 2 {
		return nil, errors.New("RSA key must have exactly two primes")
	}
	if err := sk.Validate(); err != nil {
		return nil, err
	}
	pub, err := newPublicKey(&sk.PublicKey)
	if err != nil {
		return nil, err
	}
	sk.Precompute()
	return &Registrar{sk: sk, signer: blindrsa.NewSigner(sk), pub: pub}, nil
}

// PublicKey returns the registrar's public key.
func (r *Registrar) PublicKey() *PublicKey { return r.pub }

// Sign computes the blind signature blinded^d mod n (RFC 9474 §4.3). blinded
// must be exactly [PublicKey.Size] bytes and, read big-endian, an integer in
// [1, n-1]; otherwise Sign returns an error wrapping
// [ErrInvalidBlindedMessage]. The result is checked against the public key
// before it is returned.
//
// The registrar learns nothing about the credential from blinded: it is
// uniformly distributed given the voter's message.
func (r *Registrar) Sign(blinded []byte) ([]byte, error) {
	if err := r.CheckBlinded(blinded); err != nil {
		return nil, err
	}
	s, err := r.signer.BlindSign(blinded)
	if err != nil {
		return nil, fmt.Errorf("credential: blind signing: %w", err)
	}
	return s, nil
}

// CheckBlinded checks, cheaply, that Sign would accept blinded: exactly
// the modulus's length, an integer in [1, n−1]; ErrInvalidBlindedMessage
// if not. A registrar checks it before recording an issuance, and signs
// after.
func (r *Registrar) CheckBlinded(blinded []byte) error {
	if k := r.pub.Size(); len(blinded) != k {
		return fmt.Errorf("%w: %d bytes, want %d", ErrInvalidBlindedMessage, len(blinded), k)
	}
	m := new(big.Int).SetBytes(blinded)
	if m.Sign() == 0 || m.Cmp(r.sk.N) >= 0 {
		return fmt.Errorf("%w: not an integer in [1, n-1]", ErrInvalidBlindedMessage)
	}
	return nil
}

// MarshalPrivate returns the registrar's secret key as text:
// "koe-registrar-secret-v1:" followed by the unpadded base64url encoding of
// its PKCS #8 DER encoding. It is secret: store it sealed (for example with
// internal/keystore) and never log it.
func (r *Registrar) MarshalPrivate() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(r.sk)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(SecretKeyPrefix)+b64.EncodedLen(len(der)))
	out = append(out, SecretKeyPrefix...)
	return b64.AppendEncode(out, der), nil
}

// UnmarshalRegistrar decodes the encoding produced by
// [Registrar.MarshalPrivate]. It accepts only a canonical PKCS #8 encoding
// of a valid two-prime RSA key in the profile of SPEC.md §14.
func UnmarshalRegistrar(text []byte) (*Registrar, error) {
	if len(text) > maxSecretKeyText {
		return nil, fmt.Errorf("credential: registrar secret key is %d bytes, longer than %d", len(text), maxSecretKeyText)
	}
	s := string(text)
	if strings.HasPrefix(s, PublicKeyPrefix) {
		return nil, errors.New("credential: this is a registrar public key, not the secret key")
	}
	rest, ok := strings.CutPrefix(s, SecretKeyPrefix)
	if !ok {
		return nil, fmt.Errorf("credential: registrar secret key does not start with %q", SecretKeyPrefix)
	}
	der, err := decodeB64(rest)
	if err != nil {
		return nil, fmt.Errorf("credential: registrar secret key: invalid base64url: %v", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("credential: registrar secret key: %v", err)
	}
	sk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("credential: registrar secret key is a %T, not an RSA key", k)
	}
	r, err := newRegistrar(sk)
	if err != nil {
		return nil, fmt.Errorf("credential: registrar secret key: %v", err)
	}
	again, err := x509.MarshalPKCS8PrivateKey(r.sk)
	if err != nil || subtle.ConstantTimeCompare(again, der) != 1 {
		return nil, errors.New("credential: registrar secret key: non-canonical PKCS #8 encoding")
	}
	return r, nil
}
