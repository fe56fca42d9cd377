// Package keystore encrypts a trustee's secrets at rest under a passphrase,
// as specified in SPEC.md §6.5.
//
// A sealed file is one JSON object:
//
//	{"format":"koe/v2/keystore","kind":"koe/v2/trustee-secret","kdf":"argon2id",
//	 "time":3,"memory":65536,"threads":2,"salt":"…","nonce":"…","ciphertext":"…"}
//
// salt (16 bytes), nonce (24 bytes) and ciphertext are in standard padded
// base64. The key is argon2id(passphrase, salt, time, memory KiB, threads)
// with a 32-byte output; the plaintext is sealed with XChaCha20-Poly1305
// under that key and nonce, with the associated data
//
//	group.NewDigest("koe/v2/keystore").String("format", format).
//		String("kind", kind).String("kdf", kdf).Uint64("time", time).
//		Uint64("memory", memory).Uint64("threads", threads).
//		Bytes("salt", salt).Bytes("nonce", nonce).Digest32()
//
// so that changing any header field makes decryption fail. Decoding is
// strict: unknown, duplicate or differently-cased fields, trailing data,
// non-canonical base64, wrong lengths and work parameters outside sane bounds
// are all rejected before any key derivation is attempted.
package keystore

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/koe-vote/koe/internal/strictjson"
	"io"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/koe-vote/koe/internal/group"
)

// Format is the value of the "format" field of every keystore file.
const Format = "koe/v2/keystore"

// KDF is the only key derivation function defined by this version.
const KDF = "argon2id"

// Sizes and limits.
const (
	SaltSize      = 16
	NonceSize     = chacha20poly1305.NonceSizeX // 24
	KeySize       = chacha20poly1305.KeySize    // 32
	MaxPlaintext  = 1 << 20                     // 1 MiB
	MaxFileSize   = 2 << 20                     // 2 MiB
	MaxKindLength = 128

	MinTime    = 1
	MaxTime    = 10
	MinMemory  = 8 << 10 // KiB, 8 MiB
	MaxMemory  = 1 << 20 // KiB, 1 GiB
	MinThreads = 1
	MaxThreads = 16
)

var (
	// ErrWrongPassphrase is returned by Open when the file is well formed
	// but does not decrypt: the passphrase is wrong (or the ciphertext or a
	// header field was altered).
	ErrWrongPassphrase = errors.New("keystore: wrong passphrase (or the file was altered)")
	// ErrWrongKind is returned by Open when the file holds a different kind
	// of secret than the caller asked for.
	ErrWrongKind = errors.New("keystore: file holds a different kind of secret")
	// ErrMalformed is wrapped by every decoding error.
	ErrMalformed = errors.New("keystore: malformed file")
)

// Params are the argon2id work parameters. Memory is in KiB.
type Params struct {
	Time    uint32
	Memory  uint32
	Threads uint8
}

// DefaultParams are the parameters Seal uses: 3 passes over 64 MiB with 2 lanes.
var DefaultParams = Params{Time: 3, Memory: 64 << 10, Threads: 2}

// Check reports whether p is within the bounds Open accepts.
func (p Params) Check() error {
	switch {
	case p.Time < MinTime || p.Time > MaxTime:
		return fmt.Errorf("argon2id time %d outside %d..%d", p.Time, MinTime, MaxTime)
	case p.Memory < MinMemory || p.Memory > MaxMemory:
		return fmt.Errorf("argon2id memory %d KiB outside %d..%d KiB", p.Memory, MinMemory, MaxMemory)
	case p.Threads < MinThreads || p.Threads > MaxThreads:
		return fmt.Errorf("argon2id threads %d outside %d..%d", p.Threads, MinThreads, MaxThreads)
	}
	return nil
}

// file is the JSON document. Field order is the canonical order.
type file struct {
	Format     string `json:"format"`
	Kind       string `json:"kind"`
	KDF        string `json:"kdf"`
	Time       uint32 `json:"time"`
	Memory     uint32 `json:"memory"`
	Threads    uint8  `json:"threads"`
	Salt       string `json:"salt"`
	Nonce      string `json:"nonce"`
	Ciphertext string `json:"ciphertext"`
}

func checkKind(kind string) error {
	if kind == "" || len(kind) > MaxKindLength {
		return fmt.Errorf("kind must be 1..%d bytes", MaxKindLength)
	}
	for i := 0; i < len(kind); i++ {
		if kind[i] < 0x21 || kind[i] > 0x7e {
			return fmt.Errorf("kind %q must be printable ASCII without spaces", kind)
		}
	}
	return nil
}

func associatedData(kind string, p Params, salt, nonce []byte) []byte {
	d := group.NewDigest("koe/v2/keystore").
		String("format", Format).String("kind", kind).String("kdf", KDF).
		Uint64("time", uint64(p.Time)).Uint64("memory", uint64(p.Memory)).
		Uint64("threads", uint64(p.Threads)).
		Bytes("salt", salt).Bytes("nonce", nonce).Digest32()
	return d[:]
}

func deriveKey(passphrase, salt []byte, p Params) []byte {
	return argon2.IDKey(passphrase, salt, p.Time, p.Memory, p.Threads, KeySize)
}

// Seal encrypts plaintext under passphrase with DefaultParams. kind names
// what the plaintext is (for example "koe/v2/trustee-secret"); Open must be
// given the same kind.
func Seal(rand io.Reader, passphrase []byte, kind string, plaintext []byte) ([]byte, error) {
	return SealWithParams(rand, passphrase, kind, plaintext, DefaultParams)
}

// SealWithParams is Seal with explicit argon2id parameters, which must pass
// Params.Check. It exists for tests; real secrets should use Seal.
func SealWithParams(rand io.Reader, passphrase []byte, kind string, plaintext []byte, p Params) ([]byte, error) {
	if err := p.Check(); err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	if err := checkKind(kind); err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	if len(passphrase) == 0 {
		return nil, errors.New("keystore: empty passphrase")
	}
	if len(plaintext) > MaxPlaintext {
		return nil, fmt.Errorf("keystore: plaintext of %d bytes exceeds %d", len(plaintext), MaxPlaintext)
	}
	var buf [SaltSize + NonceSize]byte
	if _, err := io.ReadFull(rand, buf[:]); err != nil {
		return nil, fmt.Errorf("keystore: reading randomness: %w", err)
	}
	salt, nonce := buf[:SaltSize], buf[SaltSize:]
	aead, err := chacha20poly1305.NewX(deriveKey(passphrase, salt, p))
	if err != nil {
		return nil, err
	}
	ct := aead.Seal(nil, nonce, plaintext, associatedData(kind, p, salt, nonce))
	out, err := json.Marshal(file{
		Format: Format, Kind: kind, KDF: KDF,
		Time: p.Time, Memory: p.Memory, Threads: p.Threads,
		Salt:       base64.StdEncoding.EncodeToString(salt),
		Nonce:      base64.StdEncoding.EncodeToString(nonce),
		Ciphertext: base64.StdEncoding.EncodeToString(ct),
	})
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// decodeB64 decodes canonical padded standard base64 of exactly want bytes
// (or, if want < 0, of any length).
func decodeB64(field, s string, want int) ([]byte, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || base64.StdEncoding.EncodeToString(b) != s {
		return nil, fmt.Errorf("%w: %s is not canonical base64", ErrMalformed, field)
	}
	if want >= 0 && len(b) != want {
		return nil, fmt.Errorf("%w: %s is %d bytes, want %d", ErrMalformed, field, len(b), want)
	}
	return b, nil
}

// header is a decoded and checked file.
type header struct {
	kind            string
	params          Params
	salt, nonce, ct []byte
}

func parse(data []byte) (*header, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformed, len(data), MaxFileSize)
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%w: not UTF-8", ErrMalformed)
	}
	var f file
	if err := strictjson.Decode(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if f.Format != Format {
		return nil, fmt.Errorf("%w: format %q, want %q", ErrMalformed, f.Format, Format)
	}
	if err := checkKind(f.Kind); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if f.KDF != KDF {
		return nil, fmt.Errorf("%w: kdf %q, want %q", ErrMalformed, f.KDF, KDF)
	}
	p := Params{Time: f.Time, Memory: f.Memory, Threads: f.Threads}
	if err := p.Check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	h := &header{kind: f.Kind, params: p}
	var err error
	if h.salt, err = decodeB64("salt", f.Salt, SaltSize); err != nil {
		return nil, err
	}
	if h.nonce, err = decodeB64("nonce", f.Nonce, NonceSize); err != nil {
		return nil, err
	}
	if h.ct, err = decodeB64("ciphertext", f.Ciphertext, -1); err != nil {
		return nil, err
	}
	if len(h.ct) < chacha20poly1305.Overhead || len(h.ct) > MaxPlaintext+chacha20poly1305.Overhead {
		return nil, fmt.Errorf("%w: ciphertext of %d bytes", ErrMalformed, len(h.ct))
	}
	return h, nil
}

// Open decrypts a file made by Seal. It returns ErrWrongKind (wrapped) if
// the file holds another kind of secret, an error wrapping ErrMalformed if
// the file is not a well-formed keystore file, and ErrWrongPassphrase if it
// does not decrypt.
func Open(passphrase []byte, kind string, data []byte) ([]byte, error) {
	h, err := parse(data)
	if err != nil {
		return nil, err
	}
	if h.kind != kind {
		return nil, fmt.Errorf("%w: file holds %q, want %q", ErrWrongKind, h.kind, kind)
	}
	aead, err := chacha20poly1305.NewX(deriveKey(passphrase, h.salt, h.params))
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(nil, h.nonce, h.ct, associatedData(h.kind, h.params, h.salt, h.nonce))
	if err != nil {
		return nil, ErrWrongPassphrase
	}
	return pt, nil
}
