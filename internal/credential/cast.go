package credential

import (
	"crypto/ed25519"
	"fmt"

	"github.com/koe-vote/koe/internal/group"
)

// castMessage returns the 32 bytes a cast signature signs (SPEC.md §14).
func castMessage(electionContext, tracking [32]byte, counter uint64) [32]byte {
	return group.NewDigest("koe/v2/cast").
		Bytes("election", electionContext[:]).
		Bytes("tracking", tracking[:]).
		Uint64("counter", counter).
		Digest32()
}

// SignCast signs the casting of the ballot with the given tracking code as
// the counter-th ballot of this credential in the election: a pure Ed25519
// signature (RFC 8032) under the voter key over
//
//	group.NewDigest("koe/v2/cast").Bytes("election", electionContext[:]).
//		Bytes("tracking", tracking[:]).Uint64("counter", counter).Digest32()
//
// It panics if c does not hold its secret key (a credential from
// [DecodeCredential]).
func (c *Credential) SignCast(electionContext, tracking [32]byte, counter uint64) []byte {
	if len(c.private) != ed25519.PrivateKeySize {
		panic("credential: SignCast on a credential without its secret key")
	}
	m := castMessage(electionContext, tracking, counter)
	return ed25519.Sign(c.private, m[:])
}

// VerifyCast checks a signature made by [Credential.SignCast]. Every failure
// wraps [ErrInvalidSignature]. It does not check the voter key beyond its
// length; [Credential.Verify] does.
//
// Ed25519 signatures are not unique (a signer can make many for one
// message), so nothing should be derived from sig's bytes.
func VerifyCast(pk ed25519.PublicKey, electionContext, tracking [32]byte, counter uint64, sig []byte) error {
	if len(pk) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: voter key is %d bytes, want %d", ErrInvalidSignature, len(pk), ed25519.PublicKeySize)
	}
	if len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: cast signature is %d bytes, want %d", ErrInvalidSignature, len(sig), ed25519.SignatureSize)
	}
	m := castMessage(electionContext, tracking, counter)
	if !ed25519.Verify(pk, m[:], sig) {
		return fmt.Errorf("%w: cast signature does not verify", ErrInvalidSignature)
	}
	return nil
}

// SaltSize is the size of a ballot's binding salt.
const SaltSize = 32

// Binding returns the value a ballot's proofs are bound to, so that they
// cannot be moved to a ballot cast with another credential:
//
//	group.NewDigest("koe/v2/ballot/binding").Bytes("voter", pk).Bytes("salt", salt).Digest32()
//
// The salt is fresh for every ballot and revealed only in the cast
// envelope, so a ballot that is challenged (spoiled) instead carries
// nothing that links it to the credential (SPEC.md §14.3).
func Binding(pk ed25519.PublicKey, salt [SaltSize]byte) [32]byte {
	return group.NewDigest("koe/v2/ballot/binding").Bytes("voter", pk).Bytes("salt", salt[:]).Digest32()
}

// KeyHash returns the ballot box's key for a credential's counter:
//
//	group.NewDigest("koe/v2/credential/id").Bytes("voter", pk).Digest32()
func KeyHash(pk ed25519.PublicKey) [32]byte {
	return group.NewDigest("koe/v2/credential/id").Bytes("voter", pk).Digest32()
}
