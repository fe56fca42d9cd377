package vectors

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"github.com/koe-vote/koe/internal/credential"
)

// frame is SPEC.md §3.1's u32be(len(x)) ‖ x, written here from the SPEC
// alone, independently of internal/group.
func frame(x []byte) []byte { return append(binary.BigEndian.AppendUint32(nil, uint32(len(x))), x...) }

// specHash is H256 of a domain and (label, value) writes, by the layout of
// SPEC.md §3.1 and the table of §14.1.
func specHash(domain string, writes ...[]byte) [32]byte {
	in := frame([]byte(domain))
	for _, w := range writes {
		in = append(in, frame(w)...)
	}
	return sha256.Sum256(in)
}

// TestCredentialHashLayouts checks the exact byte layouts SPEC.md §14.1
// gives for the hashes of §14.2–§14.3 against the code, on random inputs.
func TestCredentialHashLayouts(t *testing.T) {
	for range 20 {
		var ctx, tracking, salt [32]byte
		rand.Read(ctx[:])
		rand.Read(tracking[:])
		rand.Read(salt[:])
		pk, sk, _ := ed25519.GenerateKey(rand.Reader)
		var cb [8]byte
		rand.Read(cb[:])
		counter := binary.BigEndian.Uint64(cb[:])

		if got, want := credential.Binding(pk, salt), specHash("koe/v2/ballot/binding", []byte("voter"), pk, []byte("salt"), salt[:]); got != want {
			t.Fatalf("binding %x, SPEC layout %x", got, want)
		}
		if got, want := credential.KeyHash(pk), specHash("koe/v2/credential/id", []byte("voter"), pk); got != want {
			t.Fatalf("credential id %x, SPEC layout %x", got, want)
		}
		// The cast message: 134 bytes; a signature over SPEC's bytes
		// verifies with the code's VerifyCast.
		in := frame([]byte("koe/v2/cast"))
		in = append(append(in, frame([]byte("election"))...), frame(ctx[:])...)
		in = append(append(in, frame([]byte("tracking"))...), frame(tracking[:])...)
		in = append(append(in, frame([]byte("counter"))...), frame(binary.BigEndian.AppendUint64(nil, counter))...)
		if len(in) != 134 {
			t.Fatalf("cast message input is %d bytes, SPEC says 134", len(in))
		}
		m := sha256.Sum256(in)
		if err := credential.VerifyCast(pk, ctx, tracking, counter, ed25519.Sign(sk, m[:])); err != nil {
			t.Fatalf("a signature over SPEC's cast message: %v", err)
		}
	}
	// The credential message: 114 bytes.
	if n := len(frame([]byte("koe/v2/credential"))) + len(frame([]byte("election"))) + 36 + len(frame([]byte("voter"))) + 36; n != 114 {
		t.Fatalf("credential message input is %d bytes, SPEC says 114", n)
	}
}
