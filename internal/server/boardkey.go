package server

import (
	"crypto/ed25519"

	"golang.org/x/mod/sumdb/note"

	"github.com/koe-vote/koe/internal/board"
)

// boardSigner signs one election's checkpoints with the server's Ed25519
// board key, under the election's origin as the note key name (SPEC.md
// §13.3): one key for the server, one verifier key per election.
type boardSigner struct {
	name string
	hash uint32
	key  ed25519.PrivateKey
}

func (s *boardSigner) Name() string                    { return s.name }
func (s *boardSigner) KeyHash() uint32                 { return s.hash }
func (s *boardSigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.key, msg), nil }

// signerFor returns the signer and the verifier key of an origin.
func signerFor(key ed25519.PrivateKey, origin string) (note.Signer, string, error) {
	vkey, err := note.NewEd25519VerifierKey(origin, key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, "", err
	}
	v, err := board.ParseVerifierKey(vkey)
	if err != nil {
		return nil, "", err
	}
	return &boardSigner{name: origin, hash: v.KeyHash(), key: key}, vkey, nil
}
