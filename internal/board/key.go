package board

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"filippo.io/edwards25519"
	"golang.org/x/mod/sumdb/note"

	"github.com/koe-vote/koe/internal/strictjson"
)

// CheckEd25519Key accepts only a canonical Ed25519 public key (SPEC.md
// §2.4): 32 bytes that decode as a point of edwards25519 (RFC 8032
// §5.1.3), re-encode to the same 32 bytes (y < p; the sign bit clear when
// x = 0), and whose point is not of small order ([8]P is not the identity).
// Such a key has one encoding, and no signature verifies under it without
// its secret key.
func CheckEd25519Key(pub []byte) error {
	if len(pub) != 32 {
		return fmt.Errorf("an Ed25519 public key is 32 bytes, not %d", len(pub))
	}
	p, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return errors.New("the Ed25519 public key is not a point of the curve")
	}
	if !bytes.Equal(p.Bytes(), pub) {
		return errors.New("the Ed25519 public key is not canonically encoded")
	}
	if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return errors.New("the Ed25519 public key has small order")
	}
	return nil
}

// ParseVerifierKey parses a board's note verifier key text (SPEC.md
// §13.3), accepting only its one canonical form:
//
//	name "+" hex(keyhash) "+" base64(0x01 ‖ public key)
//
// The text is split at its first two "+": the name holds no "+" and no
// white space and is valid UTF-8 (so the base64 part, which may hold "+",
// is everything after the second); the key hash is exactly 8 lowercase hex
// digits and equals SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[0:4]; the
// base64 part is canonical standard padded base64 (§2.3) of 33 bytes,
// 0x01 then a canonical Ed25519 public key (CheckEd25519Key). Nothing may
// precede or follow the text (a file holding it ends in one "\n", which
// the caller strips: see ParseVerifierKeyFile).
func ParseVerifierKey(text string) (note.Verifier, error) {
	name, rest, ok1 := strings.Cut(text, "+")
	hash16, key64, ok2 := strings.Cut(rest, "+")
	switch {
	case !ok1 || !ok2:
		return nil, errors.New(`board: verifier key is not name+keyhash+key (two "+" separators)`)
	case name == "" || !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsSpace) >= 0:
		return nil, fmt.Errorf("board: verifier key name %q is empty, not UTF-8 or holds white space", name)
	case len(hash16) != 8 || strings.ToLower(hash16) != hash16:
		return nil, fmt.Errorf("board: verifier key hash %q is not 8 lowercase hex digits", hash16)
	}
	hash, err := hex.DecodeString(hash16)
	if err != nil {
		return nil, fmt.Errorf("board: verifier key hash %q is not 8 lowercase hex digits", hash16)
	}
	key, err := strictjson.Base64(key64)
	if err != nil {
		return nil, fmt.Errorf("board: verifier key: %v", err)
	}
	if len(key) != 33 || key[0] != 0x01 {
		return nil, errors.New("board: verifier key is not 0x01 followed by a 32-byte Ed25519 key")
	}
	if err := CheckEd25519Key(key[1:]); err != nil {
		return nil, fmt.Errorf("board: verifier key: %v", err)
	}
	sum := sha256.Sum256(append([]byte(name+"\n"), key...))
	if !bytes.Equal(sum[:4], hash) {
		return nil, errors.New("board: verifier key hash does not match its name and key")
	}
	v, err := note.NewVerifier(text)
	if err != nil {
		return nil, fmt.Errorf("board: verifier key: %v", err)
	}
	return v, nil
}

// ParseVerifierKeyFile parses the contents of a record's board/key
// (SPEC.md §10.1): the verifier key text followed by exactly one "\n" and
// nothing else.
func ParseVerifierKeyFile(data []byte) (note.Verifier, error) {
	text, ok := bytes.CutSuffix(data, []byte("\n"))
	if !ok || bytes.ContainsAny(text, "\r\n") {
		return nil, errors.New(`board: the key file must hold the verifier key text and one final "\n", nothing else`)
	}
	return ParseVerifierKey(string(text))
}
