package server

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/koe-vote/koe/internal/strictjson"
)

// An election's private configuration (the registrar's RSA key, the roll's
// HMAC key, the trustees' token hashes, the digital-ID client secret) is
// sealed in the store with XChaCha20-Poly1305 under a key derived from the
// board's signing key, which lives outside the database (a file every
// front end shares), so that a copy of the database alone does not hold
// them. The election id is the associated data: a sealed configuration
// does not open as another election's.
const sealedPrefix = "koe-sealed-v1:"

// configKey derives the sealing key from the board key.
func configKey(boardKey ed25519.PrivateKey) ([]byte, error) {
	return hkdf.Key(sha256.New, boardKey.Seed(), nil, "koe/v2/election-config-seal", chacha20poly1305.KeySize)
}

func sealAD(election string) []byte { return []byte("koe/v2/election-config\x00" + election) }

// sealConfig encodes and seals an election's configuration.
func (s *Server) sealConfig(election string, cfg electionConfig) ([]byte, error) {
	plain, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(s.configKey)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	out := append([]byte(sealedPrefix), nonce...)
	return aead.Seal(out, nonce, plain, sealAD(election)), nil
}

// openConfig opens a stored configuration; one stored in the clear (by an
// earlier koe) is read as it is.
func (s *Server) openConfig(election string, stored []byte) (electionConfig, error) {
	var cfg electionConfig
	plain := stored
	if sealed, ok := bytes.CutPrefix(stored, []byte(sealedPrefix)); ok {
		aead, err := chacha20poly1305.NewX(s.configKey)
		if err != nil {
			return cfg, err
		}
		if len(sealed) < aead.NonceSize()+aead.Overhead() {
			return cfg, errors.New("sealed configuration too short")
		}
		plain, err = aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], sealAD(election))
		if err != nil {
			return cfg, fmt.Errorf("the configuration does not open with this server's board key (another key, or another election's row)")
		}
	}
	if err := strictjson.Decode(plain, &cfg); err != nil {
		return cfg, err
	}
	return cfg, nil
}
