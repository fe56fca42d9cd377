// Package credential implements koe's anonymous voting credentials according
// to SPEC.md §14: RSA blind signatures (RFC 9474, variant
// RSABSSA-SHA384-PSS-Randomized) issued by a registrar over a fresh Ed25519
// key that the voter's device makes for one election.
//
// # Issuance
//
// The device generates an Ed25519 key pair (vk, sk) and computes the
// credential message
//
//	m = group.NewDigest("koe/v2/credential").
//		Bytes("election", electionContext[:]).Bytes("voter", vk).Digest32()
//
// It then runs RFC 9474 §4.1 Prepare with a fresh 32-byte randomizer
// (input_msg = randomizer ‖ m) and §4.2 Blind, and sends the blinded message
// to the registrar, which checks the voter's eligibility and returns
// BlindSign(sk_R, blinded) (§4.3). The device unblinds and verifies
// (§4.4 Finalize). The registrar sees only a uniformly random integer mod n,
// so it cannot link the credential to the registration.
//
// # Verification
//
// A credential (vk, randomizer, sig) is valid for a registrar key and an
// election context when vk is the canonical encoding of an Ed25519 point of
// large order and sig, exactly k = ⌈bits/8⌉ bytes, is an RSASSA-PSS signature
// (SHA-384, MGF1-SHA-384, 48-byte salt) over randomizer ‖ m (§4.5).
//
// # Encodings
//
// In a ballot a credential is the fixed-length string
//
//	vk (32) ‖ randomizer (32) ‖ sig (k)
//
// A registrar's public key is "koe-registrar-pub-v1:" followed by the
// unpadded base64url DER SubjectPublicKeyInfo, and its ID is
// group.NewDigest("koe/v2/credential/registrar-key").Bytes("spki", spki).Digest32().
//
// # Casting
//
// Each ballot is authorised by an Ed25519 signature (RFC 8032, pure) under
// vk over the 32 bytes
//
//	group.NewDigest("koe/v2/cast").Bytes("election", electionContext[:]).
//		Bytes("tracking", tracking[:]).Uint64("counter", counter).Digest32()
//
// The ballot's proofs are bound to [Binding](vk) and the ballot box keeps the
// credential's counter under [KeyHash](vk).
package credential

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"

	"filippo.io/edwards25519"
	"github.com/cloudflare/circl/blindsign/blindrsa"

	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/strictjson"
)

// Sizes of the fixed-length parts of a credential.
const (
	VoterKeySize   = ed25519.PublicKeySize // 32
	RandomizerSize = 32                    // RFC 9474 §4.1 msg_prefix
)

var (
	// ErrInvalidCredential is wrapped by every error that rejects a
	// credential: a malformed encoding, a voter key that is not acceptable,
	// or a registrar signature that does not verify.
	ErrInvalidCredential = errors.New("credential: invalid credential")

	// ErrInvalidSignature is wrapped by every error that rejects a signature
	// other than the credential's own: a cast signature that does not
	// verify, or a blind signature from the registrar that does not
	// unblind to a valid credential.
	ErrInvalidSignature = errors.New("credential: invalid signature")
)

// message returns the credential message m of SPEC.md §14.
func message(electionContext [32]byte, vk []byte) [32]byte {
	return group.NewDigest("koe/v2/credential").
		Bytes("election", electionContext[:]).
		Bytes("voter", vk).
		Digest32()
}

// checkVoterKey accepts only the canonical encoding of an Ed25519 point whose
// order is not small, so that every credential has exactly one voter key
// encoding and no signature verifies under it without its secret key.
func checkVoterKey(vk []byte) error {
	if len(vk) != VoterKeySize {
		return fmt.Errorf("voter key is %d bytes, want %d", len(vk), VoterKeySize)
	}
	p, err := new(edwards25519.Point).SetBytes(vk)
	if err != nil {
		return errors.New("voter key is not an Ed25519 point")
	}
	if !bytes.Equal(p.Bytes(), vk) {
		return errors.New("voter key is not canonically encoded")
	}
	if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return errors.New("voter key has small order")
	}
	return nil
}

// A Credential is an anonymous voting credential: a voter key signed blindly
// by the registrar. Credentials from [Pending.Finalize] and
// [UnmarshalPrivate] also hold the voter's secret key, which never leaves the
// device; credentials from [DecodeCredential] do not.
type Credential struct {
	PublicKey  ed25519.PublicKey
	Randomizer [32]byte
	Signature  []byte

	private ed25519.PrivateKey
}

// Verify checks c against the registrar key and the election context
// (SPEC.md §14, RFC 9474 §4.5). Every failure wraps [ErrInvalidCredential].
// It runs in variable time: all its inputs are public.
func (c *Credential) Verify(pub *PublicKey, electionContext [32]byte) error {
	if err := pub.usable(); err != nil {
		return err
	}
	if err := checkVoterKey(c.PublicKey); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidCredential, err)
	}
	if k := pub.Size(); len(c.Signature) != k {
		return fmt.Errorf("%w: signature is %d bytes, want %d", ErrInvalidCredential, len(c.Signature), k)
	}
	m := message(electionContext, c.PublicKey)
	if err := verifyPrepared(pub, c.Randomizer, m[:], c.Signature); err != nil {
		return fmt.Errorf("%w: registrar signature does not verify", ErrInvalidCredential)
	}
	return nil
}

// verifyPrepared is RSASSA-PSS-VERIFY over input_msg = randomizer ‖ msg
// (RFC 9474 §4.1 and §4.5).
func verifyPrepared(pub *PublicKey, randomizer [32]byte, msg, sig []byte) error {
	input := make([]byte, 0, RandomizerSize+len(msg))
	input = append(append(input, randomizer[:]...), msg...)
	return pub.verifier.Verify(input, sig)
}

// Bytes returns the ballot encoding vk (32) ‖ randomizer (32) ‖ signature (k).
func (c *Credential) Bytes() []byte {
	out := make([]byte, 0, len(c.PublicKey)+RandomizerSize+len(c.Signature))
	out = append(out, c.PublicKey...)
	out = append(out, c.Randomizer[:]...)
	return append(out, c.Signature...)
}

// DecodeCredential decodes the encoding produced by [Credential.Bytes] for a
// credential under pub. It checks the length (exactly 64 + k bytes), the
// voter key and that the signature is an integer less than the modulus, but
// not the signature itself: call [Credential.Verify]. Errors wrap
// [ErrInvalidCredential].
func DecodeCredential(pub *PublicKey, b []byte) (*Credential, error) {
	if err := pub.usable(); err != nil {
		return nil, err
	}
	k := pub.Size()
	if want := VoterKeySize + RandomizerSize + k; len(b) != want {
		return nil, fmt.Errorf("%w: encoding is %d bytes, want %d", ErrInvalidCredential, len(b), want)
	}
	c := &Credential{
		PublicKey: bytes.Clone(b[:VoterKeySize]),
		Signature: bytes.Clone(b[VoterKeySize+RandomizerSize:]),
	}
	copy(c.Randomizer[:], b[VoterKeySize:])
	if err := c.checkShape(pub); err != nil {
		return nil, err
	}
	return c, nil
}

// checkShape checks everything about c except the signature equation.
func (c *Credential) checkShape(pub *PublicKey) error {
	if err := checkVoterKey(c.PublicKey); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidCredential, err)
	}
	if k := pub.Size(); len(c.Signature) != k {
		return fmt.Errorf("%w: signature is %d bytes, want %d", ErrInvalidCredential, len(c.Signature), k)
	}
	if new(big.Int).SetBytes(c.Signature).Cmp(pub.key.N) >= 0 {
		return fmt.Errorf("%w: signature is not less than the modulus", ErrInvalidCredential)
	}
	return nil
}

// A Pending is a credential request waiting for the registrar's blind
// signature. It holds secrets (the voter key and the blinding inverse) and
// must stay on the device.
type Pending struct {
	pub             *PublicKey
	electionContext [32]byte
	client          blindrsa.Client
	state           blindrsa.State
	vk              ed25519.PublicKey
	sk              ed25519.PrivateKey
	randomizer      [32]byte
}

// Request starts issuance on the voter's device: it makes a fresh Ed25519
// key pair, computes the credential message for electionContext, prepares it
// with a fresh randomizer and blinds it (RFC 9474 §4.1–4.2). The blinded
// message goes to the registrar's [Registrar.Sign]; its answer goes to
// [Pending.Finalize]. If rand is nil, crypto/rand is used.
func Request(rand io.Reader, pub *PublicKey, electionContext [32]byte) (*Pending, []byte, error) {
	if err := pub.usable(); err != nil {
		return nil, nil, err
	}
	rand = orDefault(rand)
	vk, sk, err := ed25519.GenerateKey(rand)
	if err != nil {
		return nil, nil, fmt.Errorf("credential: generating voter key: %w", err)
	}
	return request(rand, pub, electionContext, vk, sk)
}

func request(rand io.Reader, pub *PublicKey, electionContext [32]byte, vk ed25519.PublicKey, sk ed25519.PrivateKey) (*Pending, []byte, error) {
	client, err := blindrsa.NewClient(variant, pub.key)
	if err != nil {
		return nil, nil, err
	}
	m := message(electionContext, vk)
	input, err := client.Prepare(rand, m[:])
	if err != nil {
		return nil, nil, fmt.Errorf("credential: preparing message: %w", err)
	}
	p := &Pending{pub: pub, electionContext: electionContext, client: client, vk: vk, sk: sk}
	copy(p.randomizer[:], input[:RandomizerSize])
	blinded, state, err := client.Blind(rand, input)
	if err != nil {
		return nil, nil, fmt.Errorf("credential: blinding: %w", err)
	}
	p.state = state
	return p, blinded, nil
}

func orDefault(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	return r
}

// Finalize unblinds the registrar's blind signature and verifies the
// resulting credential (RFC 9474 §4.4). A blind signature of the wrong
// length, or one that does not unblind to a valid signature under the
// registrar key the request was made for, is rejected with an error wrapping
// [ErrInvalidSignature]: the registrar misbehaved or the request must be
// repeated.
func (p *Pending) Finalize(blindSig []byte) (*Credential, error) {
	if k := p.pub.Size(); len(blindSig) != k {
		return nil, fmt.Errorf("%w: blind signature is %d bytes, want %d", ErrInvalidSignature, len(blindSig), k)
	}
	sig, err := p.client.Finalize(p.state, blindSig)
	if err != nil {
		return nil, fmt.Errorf("%w: registrar's blind signature does not verify", ErrInvalidSignature)
	}
	c := &Credential{
		PublicKey:  bytes.Clone(p.vk),
		Randomizer: p.randomizer,
		Signature:  sig,
		private:    bytes.Clone(p.sk),
	}
	if err := c.Verify(p.pub, p.electionContext); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidSignature, err)
	}
	return c, nil
}

// privateFormat is the "format" of the device's credential file.
const privateFormat = "koe/v2/credential-secret"

// maxPrivateText bounds the device's credential file; a 4096-bit credential
// file is about 1,300 bytes.
const maxPrivateText = 4096

type privateJSON struct {
	Format     string `json:"format"`
	PublicKey  string `json:"public_key"`
	Randomizer string `json:"randomizer"`
	Signature  string `json:"signature"`
	Seed       string `json:"seed"`
}

// MarshalPrivate returns the credential with its secret key, for the device
// to store, as one JSON object with lowercase hex fields:
//
//	{"format":"koe/v2/credential-secret","public_key":"…","randomizer":"…",
//	 "signature":"…","seed":"…"}
//
// seed is the 32-byte RFC 8032 secret key. It fails for a credential without
// its secret key.
func (c *Credential) MarshalPrivate() ([]byte, error) {
	if len(c.private) != ed25519.PrivateKeySize {
		return nil, errors.New("credential: MarshalPrivate: credential has no secret key")
	}
	return []byte(`{"format":"` + privateFormat +
		`","public_key":"` + hex.EncodeToString(c.PublicKey) +
		`","randomizer":"` + hex.EncodeToString(c.Randomizer[:]) +
		`","signature":"` + hex.EncodeToString(c.Signature) +
		`","seed":"` + hex.EncodeToString(c.private.Seed()) + `"}`), nil
}

// UnmarshalPrivate decodes the encoding produced by [Credential.MarshalPrivate]
// for a credential under pub. Decoding is strict: unknown, duplicate or
// differently-cased fields, trailing data, uppercase or odd-length hex and
// wrong lengths are rejected, the seed must derive public_key, and the input
// must be exactly the bytes MarshalPrivate writes (fields in that order, no
// whitespace). Like
// [DecodeCredential] it does not check the registrar's signature: call
// [Credential.Verify]. Errors wrap [ErrInvalidCredential].
func UnmarshalPrivate(pub *PublicKey, b []byte) (*Credential, error) {
	if err := pub.usable(); err != nil {
		return nil, err
	}
	if len(b) > maxPrivateText {
		return nil, fmt.Errorf("%w: credential file is %d bytes, longer than %d", ErrInvalidCredential, len(b), maxPrivateText)
	}
	var j privateJSON
	if err := strictjson.Decode(b, &j); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidCredential, err)
	}
	if j.Format != privateFormat {
		return nil, fmt.Errorf("%w: format is %q, want %q", ErrInvalidCredential, j.Format, privateFormat)
	}
	vk, err := decodeHex("public_key", j.PublicKey, VoterKeySize)
	if err != nil {
		return nil, err
	}
	randomizer, err := decodeHex("randomizer", j.Randomizer, RandomizerSize)
	if err != nil {
		return nil, err
	}
	sig, err := decodeHex("signature", j.Signature, pub.Size())
	if err != nil {
		return nil, err
	}
	seed, err := decodeHex("seed", j.Seed, ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	sk := ed25519.NewKeyFromSeed(seed)
	c := &Credential{PublicKey: vk, Signature: sig, private: sk}
	copy(c.Randomizer[:], randomizer)
	if !bytes.Equal(sk.Public().(ed25519.PublicKey), vk) {
		return nil, fmt.Errorf("%w: seed does not match public_key", ErrInvalidCredential)
	}
	if err := c.checkShape(pub); err != nil {
		return nil, err
	}
	if again, _ := c.MarshalPrivate(); !bytes.Equal(again, b) {
		return nil, fmt.Errorf("%w: credential file is not in canonical form (field order, whitespace)", ErrInvalidCredential)
	}
	return c, nil
}

func decodeHex(field, s string, n int) ([]byte, error) {
	if len(s) != 2*n {
		return nil, fmt.Errorf("%w: %s is %d hex digits, want %d", ErrInvalidCredential, field, len(s), 2*n)
	}
	b, err := hex.DecodeString(s)
	if err != nil || hex.EncodeToString(b) != s {
		return nil, fmt.Errorf("%w: %s is not lowercase hex", ErrInvalidCredential, field)
	}
	return b, nil
}
