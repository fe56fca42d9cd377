// Package staff holds the console's staff accounts' passwords (SPEC.md
// §15.8): argon2id hashes with a salt of their own, encoded as
//
//	$argon2id$v=19$m=MEMORY,t=TIME,p=THREADS$BASE64(salt)$BASE64(hash)
//
// (the PHC string format, unpadded standard base64), and checked in
// constant time. It also says which account names and passwords are
// acceptable.
package staff

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// The parameters of new hashes: RFC 9106's second recommended option
// scaled down to OWASP's minimum for a server (19 MiB, two passes), so
// that a sign-in costs tens of milliseconds.
const (
	memoryKiB = 19 * 1024
	passes    = 2
	threads   = 1
	saltLen   = 16
	hashLen   = 32
)

// Limits on a stored hash's parameters, so that a damaged or hostile row
// cannot make a sign-in take unbounded time or memory.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxPasses    = 16
	maxThreads   = 16
)

// MinPassword and MaxPassword bound a password's length in characters.
const (
	MinPassword = 12
	MaxPassword = 256
)

// Hash is a decoded password hash.
type Hash struct {
	Memory  uint32 // KiB
	Passes  uint32
	Threads uint8
	Salt    []byte
	Key     []byte
}

var b64 = base64.RawStdEncoding.Strict()

// HashPassword hashes a password with a new random salt.
func HashPassword(password string) []byte {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	h := Hash{Memory: memoryKiB, Passes: passes, Threads: threads, Salt: salt}
	h.Key = h.derive(password, hashLen)
	return h.Encode()
}

func (h *Hash) derive(password string, n int) []byte {
	return argon2.IDKey([]byte(password), h.Salt, h.Passes, h.Memory, h.Threads, uint32(n))
}

// Encode returns the hash's PHC string.
func (h *Hash) Encode() []byte {
	return fmt.Appendf(nil, "$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.Memory, h.Passes, h.Threads,
		b64.EncodeToString(h.Salt), b64.EncodeToString(h.Key))
}

// ParseHash decodes a PHC string as Encode writes it, strictly: every
// field present once, in order, in canonical decimal and base64, and
// every parameter within bounds.
func ParseHash(s []byte) (*Hash, error) {
	parts := strings.Split(string(s), "$")
	if len(parts) != 6 || parts[0] != "" {
		return nil, errors.New("staff: password hash: not a PHC string of 5 fields")
	}
	if parts[1] != "argon2id" {
		return nil, fmt.Errorf("staff: password hash: algorithm %q, want argon2id", parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return nil, fmt.Errorf("staff: password hash: version %q, want v=%d", parts[2], argon2.Version)
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return nil, errors.New("staff: password hash: want parameters m=…,t=…,p=…")
	}
	var vals [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(params[i], name+"=")
		if !ok {
			return nil, fmt.Errorf("staff: password hash: parameter %d is not %s", i+1, name)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || strconv.FormatUint(n, 10) != v {
			return nil, fmt.Errorf("staff: password hash: %s=%q is not a canonical number", name, v)
		}
		vals[i] = n
	}
	h := &Hash{Memory: uint32(vals[0]), Passes: uint32(vals[1]), Threads: uint8(vals[2])}
	switch {
	case vals[2] < 1 || vals[2] > maxThreads:
		return nil, fmt.Errorf("staff: password hash: p=%d is not in 1…%d", vals[2], maxThreads)
	case vals[1] < 1 || vals[1] > maxPasses:
		return nil, fmt.Errorf("staff: password hash: t=%d is not in 1…%d", vals[1], maxPasses)
	case vals[0] < 8*vals[2] || vals[0] > maxMemoryKiB:
		return nil, fmt.Errorf("staff: password hash: m=%d is not in 8·p…%d", vals[0], maxMemoryKiB)
	}
	var err error
	if h.Salt, err = b64.DecodeString(parts[4]); err != nil || len(h.Salt) < 8 || len(h.Salt) > 64 {
		return nil, errors.New("staff: password hash: the salt is not 8 to 64 bytes of base64")
	}
	if h.Key, err = b64.DecodeString(parts[5]); err != nil || len(h.Key) < 16 || len(h.Key) > 64 {
		return nil, errors.New("staff: password hash: the hash is not 16 to 64 bytes of base64")
	}
	return h, nil
}

// CheckPassword reports whether password is the one hashed in encoded
// (comparing in constant time); false if encoded does not parse.
func CheckPassword(encoded []byte, password string) bool {
	h, err := ParseHash(encoded)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(h.derive(password, len(h.Key)), h.Key) == 1
}

// dummy is a hash of no one's password, checked when an account does not
// exist so that a sign-in takes as long either way.
var dummy = sync.OnceValue(func() []byte { return HashPassword("koe/v1/staff/no-such-account") })

// CheckMissing spends the time of a password check for an account that
// does not exist; it always returns false.
func CheckMissing(password string) bool {
	CheckPassword(dummy(), password)
	return false
}

// Roles are the staff roles, each with what it may do.
var Roles = []string{"admin", "observer"}

// ValidRole reports whether role is one of Roles.
func ValidRole(role string) bool { return role == "admin" || role == "observer" }

// CheckName says why an account name is not acceptable (nil if it is):
// 1 to 64 characters, letters, digits and . _ - @ only, so that a name
// shows as itself in every page and log.
func CheckName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > 64 {
		return errors.New("an account name has 1 to 64 characters")
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("._-@", r) {
			return fmt.Errorf("an account name has only letters, digits and . _ - @ (not %q)", r)
		}
	}
	return nil
}

// CheckPasswordRules says why a new password is not acceptable (nil if it
// is): MinPassword to MaxPassword characters, and valid UTF-8.
func CheckPasswordRules(password string) error {
	if !utf8.ValidString(password) {
		return errors.New("a password must be valid UTF-8 text")
	}
	if n := utf8.RuneCountInString(password); n < MinPassword || n > MaxPassword {
		return fmt.Errorf("a password has %d to %d characters", MinPassword, MaxPassword)
	}
	return nil
}
