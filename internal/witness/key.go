// Package witness lets koe's board be held by several organisations
// (SPEC.md §13.7): it verifies C2SP tlog-cosignature/v1 cosignatures by
// witnesses, checks a signed checkpoint against an election's witness
// policy (the board's key and k of m witnesses), and is a client of the
// C2SP tlog-witness protocol that submits the board's checkpoints, with
// consistency proofs, to off-the-shelf witnesses.
package witness

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/strictjson"
)

// algCosignatureV1 is the signature algorithm byte of an Ed25519
// tlog-cosignature/v1 key (C2SP signed-note, SPEC.md §13.7).
const algCosignatureV1 = 0x04

// cosigHeader starts the message a cosignature/v1 signature covers.
const cosigHeader = "cosignature/v1\ntime "

// Key is a witness's cosignature/v1 verifier key. It implements
// note.Verifier, so a signed note's cosignature lines verify with
// note.Open; Verify also keeps nothing: it is safe for concurrent use.
type Key struct {
	name   string
	hash   uint32
	public ed25519.PublicKey
	text   string
}

// Name returns the key's name.
func (k *Key) Name() string { return k.name }

// KeyHash returns the key ID, SHA-256(name ‖ "\n" ‖ 0x04 ‖ key)[0:4].
func (k *Key) KeyHash() uint32 { return k.hash }

// String returns the verifier key text.
func (k *Key) String() string { return k.text }

// PublicKey returns the Ed25519 public key.
func (k *Key) PublicKey() ed25519.PublicKey { return bytes.Clone(k.public) }

// Verify reports whether sig, a cosignature's bytes after the key ID
// (timestamp[8] ‖ Ed25519 signature[64]), is the key's cosignature of the
// checkpoint text msg (C2SP tlog-cosignature: the signature covers
// "cosignature/v1\ntime " T "\n" followed by the checkpoint).
func (k *Key) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	if t > 1<<63-1 {
		return false
	}
	return ed25519.Verify(k.public, CosignedMessage(t, msg), sig[8:])
}

// CosignedMessage is the message a cosignature/v1 signature made at time
// t (seconds since the Unix epoch) covers for the checkpoint text.
func CosignedMessage(t uint64, checkpoint []byte) []byte {
	m := make([]byte, 0, len(cosigHeader)+21+len(checkpoint))
	m = append(m, cosigHeader...)
	m = strconv.AppendUint(m, t, 10)
	m = append(m, '\n')
	return append(m, checkpoint...)
}

// KeyID returns SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[0:4] as a
// big-endian number, the key ID of a cosignature/v1 key.
func KeyID(name string, public ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{algCosignatureV1})
	h.Write(public)
	return binary.BigEndian.Uint32(h.Sum(nil)[:4])
}

// NewKey returns the cosignature/v1 verifier key of an Ed25519 public key
// under name.
func NewKey(name string, public ed25519.PublicKey) (*Key, error) {
	text := fmt.Sprintf("%s+%08x+%s", name, KeyID(name, public),
		base64.StdEncoding.EncodeToString(append([]byte{algCosignatureV1}, public...)))
	return ParseKey(text)
}

// ParseKey parses a witness's verifier key text, accepting only its one
// canonical form (SPEC.md §13.7):
//
//	name "+" hex(keyID) "+" base64(0x04 ‖ Ed25519 public key)
//
// split at its first two "+": the name is non-empty UTF-8 without "+" or
// white space; the key ID is exactly 8 lowercase hex digits equal to
// KeyID(name, key); the base64 part is canonical standard padded base64 of
// 33 bytes, 0x04 followed by a canonical Ed25519 public key
// (board.CheckEd25519Key).
func ParseKey(text string) (*Key, error) {
	name, rest, ok1 := strings.Cut(text, "+")
	hash16, key64, ok2 := strings.Cut(rest, "+")
	switch {
	case !ok1 || !ok2:
		return nil, errors.New(`witness: key is not name+keyid+key (two "+" separators)`)
	case name == "" || !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsSpace) >= 0:
		return nil, fmt.Errorf("witness: key name %q is empty, not UTF-8 or holds white space", name)
	case len(hash16) != 8 || strings.ToLower(hash16) != hash16:
		return nil, fmt.Errorf("witness: key ID %q is not 8 lowercase hex digits", hash16)
	}
	id, err := hex.DecodeString(hash16)
	if err != nil {
		return nil, fmt.Errorf("witness: key ID %q is not 8 lowercase hex digits", hash16)
	}
	key, err := strictjson.Base64(key64)
	if err != nil {
		return nil, fmt.Errorf("witness: key: %v", err)
	}
	if len(key) != 33 || key[0] != algCosignatureV1 {
		return nil, errors.New("witness: key is not 0x04 (cosignature/v1) followed by a 32-byte Ed25519 key")
	}
	if err := board.CheckEd25519Key(key[1:]); err != nil {
		return nil, fmt.Errorf("witness: key: %v", err)
	}
	pub := ed25519.PublicKey(key[1:])
	if binary.BigEndian.Uint32(id) != KeyID(name, pub) {
		return nil, errors.New("witness: key ID does not match its name and key")
	}
	return &Key{name: name, hash: binary.BigEndian.Uint32(id), public: pub, text: text}, nil
}
