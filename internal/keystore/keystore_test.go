package keystore

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"github.com/koe-vote/koe/internal/strictjson/strictjsontest"
	"strings"
	"testing"
)

// testParams are the cheapest parameters Open accepts.
var testParams = Params{Time: MinTime, Memory: MinMemory, Threads: 1}

const kind = "koe/v2/trustee-secret"

var pass = []byte("correct horse battery staple")

func seal(t testing.TB, plaintext []byte) []byte {
	t.Helper()
	f, err := SealWithParams(rand.Reader, pass, kind, plaintext, testParams)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestRoundTrip(t *testing.T) {
	for _, pt := range [][]byte{{}, []byte("x"), bytes.Repeat([]byte{0xa5}, 4096)} {
		f := seal(t, pt)
		got, err := Open(pass, kind, f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, pt) {
			t.Fatalf("round trip: got %x, want %x", got, pt)
		}
	}
}

func TestDefaultsAreStrong(t *testing.T) {
	if DefaultParams != (Params{Time: 3, Memory: 65536, Threads: 2}) {
		t.Fatalf("DefaultParams = %+v", DefaultParams)
	}
	if testing.Short() {
		t.Skip("argon2id with 64 MiB")
	}
	f, err := Seal(rand.Reader, pass, kind, []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(f, []byte(`"time":3,"memory":65536,"threads":2`)) {
		t.Fatalf("Seal did not use the defaults: %s", f)
	}
	if _, err := Open(pass, kind, f); err != nil {
		t.Fatal(err)
	}
}

func TestSealRejects(t *testing.T) {
	tests := []struct {
		name string
		pass []byte
		kind string
		p    Params
		pt   []byte
	}{
		{"empty passphrase", nil, kind, testParams, nil},
		{"empty kind", pass, "", testParams, nil},
		{"kind with space", pass, "koe v1", testParams, nil},
		{"weak memory", pass, kind, Params{1, 1024, 1}, nil},
		{"zero time", pass, kind, Params{0, MinMemory, 1}, nil},
		{"zero threads", pass, kind, Params{1, MinMemory, 0}, nil},
		{"huge plaintext", pass, kind, testParams, make([]byte, MaxPlaintext+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := SealWithParams(rand.Reader, tt.pass, tt.kind, tt.pt, tt.p); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestWrongPassphrase(t *testing.T) {
	f := seal(t, []byte("secret"))
	for _, p := range [][]byte{nil, []byte("correct horse battery stapler"), []byte("Correct horse battery staple")} {
		if _, err := Open(p, kind, f); !errors.Is(err, ErrWrongPassphrase) {
			t.Fatalf("Open with %q: %v, want ErrWrongPassphrase", p, err)
		}
	}
}

func TestWrongKind(t *testing.T) {
	f := seal(t, []byte("secret"))
	_, err := Open(pass, "koe/v2/other", f)
	if !errors.Is(err, ErrWrongKind) {
		t.Fatalf("got %v, want ErrWrongKind", err)
	}
	if !strings.Contains(err.Error(), kind) {
		t.Errorf("error %q does not name the kind found", err)
	}
}

// tamper decodes f, applies edit to the generic object and re-encodes it.
func tamper(t *testing.T, f []byte, edit func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(f, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func flipB64(s string) string {
	b, _ := base64.StdEncoding.DecodeString(s)
	b[0] ^= 1
	return base64.StdEncoding.EncodeToString(b)
}

func TestTampered(t *testing.T) {
	f := seal(t, []byte("secret"))
	var orig file
	if err := json.Unmarshal(f, &orig); err != nil {
		t.Fatal(err)
	}
	set := func(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }
	tests := []struct {
		name string
		file []byte
		want error // nil: any error
	}{
		// Header fields bound only through the associated data or the key.
		{"kind", tamper(t, f, set("kind", "koe/v2/other")), ErrWrongKind},
		{"time", tamper(t, f, set("time", 2)), ErrWrongPassphrase},
		{"memory", tamper(t, f, set("memory", MinMemory+8)), ErrWrongPassphrase},
		{"threads", tamper(t, f, set("threads", 2)), ErrWrongPassphrase},
		{"salt", tamper(t, f, set("salt", flipB64(orig.Salt))), ErrWrongPassphrase},
		{"nonce", tamper(t, f, set("nonce", flipB64(orig.Nonce))), ErrWrongPassphrase},
		{"ciphertext", tamper(t, f, set("ciphertext", flipB64(orig.Ciphertext))), ErrWrongPassphrase},
		// Fields checked by the decoder.
		{"format", tamper(t, f, set("format", "koe/v1/keystore")), ErrMalformed},
		{"kdf", tamper(t, f, set("kdf", "scrypt")), ErrMalformed},
		{"time too high", tamper(t, f, set("time", 11)), ErrMalformed},
		{"time zero", tamper(t, f, set("time", 0)), ErrMalformed},
		{"memory too low", tamper(t, f, set("memory", MinMemory-1)), ErrMalformed},
		{"memory too high", tamper(t, f, set("memory", MaxMemory+1)), ErrMalformed},
		{"memory negative", tamper(t, f, set("memory", -1)), ErrMalformed},
		{"memory fractional", tamper(t, f, set("memory", 8192.5)), ErrMalformed},
		{"threads too high", tamper(t, f, set("threads", 17)), ErrMalformed},
		{"threads overflow", tamper(t, f, set("threads", 258)), ErrMalformed},
		{"short salt", tamper(t, f, set("salt", orig.Salt[:12])), ErrMalformed},
		{"short nonce", tamper(t, f, set("nonce", orig.Nonce[:28])), ErrMalformed},
		{"short ciphertext", tamper(t, f, set("ciphertext", "AAAA")), ErrMalformed},
		{"unpadded base64", tamper(t, f, set("salt", strings.TrimRight(orig.Salt, "="))), ErrMalformed},
		{"url base64", tamper(t, f, set("ciphertext", "-_"+orig.Ciphertext[2:])), ErrMalformed},
		{"non-canonical base64 padding bits", tamper(t, f, set("salt", orig.Salt[:len(orig.Salt)-3]+"B==")), ErrMalformed},
		{"salt not a string", tamper(t, f, set("salt", 5)), ErrMalformed},
		{"missing field", tamper(t, f, func(m map[string]any) { delete(m, "nonce") }), ErrMalformed},
		{"unknown field", tamper(t, f, set("comment", "hi")), ErrMalformed},
		{"recased field", []byte(strings.Replace(string(f), `"kind"`, `"Kind"`, 1)), ErrMalformed},
		{"duplicate field", []byte(strings.Replace(string(f), `{`, `{"kind":"koe/v2/other",`, 1)), ErrMalformed},
		{"trailing data", append(bytes.Clone(f), []byte(`{}`)...), ErrMalformed},
		{"trailing garbage", append(bytes.Clone(f), 'x'), ErrMalformed},
		{"two documents", append(bytes.Clone(f), f...), ErrMalformed},
		{"array", []byte(`[]`), ErrMalformed},
		{"null", []byte(`null`), ErrMalformed},
		{"empty", nil, ErrMalformed},
		{"truncated", f[:len(f)/2], ErrMalformed},
		{"not UTF-8", append([]byte{0xff}, f...), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(pass, kind, tt.file)
			if err == nil {
				t.Fatal("tampered file accepted")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func FuzzOpen(f *testing.F) {
	sealed, err := SealWithParams(rand.Reader, pass, kind, []byte("secret"), testParams)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	f.Add([]byte(`{"format":"koe/v2/keystore"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := parse(data)
		if err != nil {
			return
		}
		// Anything that parses must have sane parameters and lengths, and
		// decryption must either succeed or fail cleanly.
		if h.params.Check() != nil || len(h.salt) != SaltSize || len(h.nonce) != NonceSize {
			t.Fatalf("parse accepted bad header %+v", h)
		}
		if h.params.Memory > 2*MinMemory || h.params.Time > 2 {
			return // keep fuzzing fast
		}
		if _, err := Open(pass, kind, data); err != nil && !errors.Is(err, ErrWrongPassphrase) && !errors.Is(err, ErrWrongKind) {
			t.Fatalf("Open after successful parse: %v", err)
		}
	})
}

// A keystore file lacking a field is refused, naming the field (SPEC §6.5,
// §2.3).
func TestRequiredFields(t *testing.T) {
	f := seal(t, []byte("secret"))
	strictjsontest.RequireFields(t, f, func(b []byte) error { _, err := Open(pass, kind, b); return err },
		"format", "kind", "kdf", "time", "memory", "threads", "salt", "nonce", "ciphertext")
}
