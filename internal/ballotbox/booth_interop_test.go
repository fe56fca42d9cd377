package ballotbox

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/group"
)

// boothInterop is what the JavaScript booth (web/booth) made in its test:
// a registrar key, a blinded request and the registrar's answer, the
// credential the booth unblinded, two cast envelopes (a vote and a
// re-vote) and a spoiled ballot. testdata/booth-interop.json is a frozen
// copy of web/booth/test/out/interop.json.
type boothInterop struct {
	Comment         string          `json:"comment"`
	Manifest        string          `json:"manifest"`
	K               string          `json:"K"`
	Context         string          `json:"context"`
	RegistrarPublic string          `json:"registrar_public"`
	RegistrarSecret string          `json:"registrar_secret"`
	Blinded         string          `json:"blinded"`
	BlindSignature  string          `json:"blind_signature"`
	Credential      string          `json:"credential"`
	CredentialSec   string          `json:"credential_secret"`
	Binding         string          `json:"binding"`
	Salt            string          `json:"salt"`
	KeyHash         string          `json:"key_hash"`
	Answers         json.RawMessage `json:"answers"`
	Plaintext       [][]uint64      `json:"plaintext"`
	Envelopes       []struct {
		Counter      uint64 `json:"counter"`
		TrackingCode string `json:"tracking_code"`
		Envelope     string `json:"envelope"`
	} `json:"envelopes"`
	Spoiled string `json:"spoiled"`
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBoothInterop checks, with the Go implementation, everything the
// JavaScript booth produced: the same protocol from two implementations.
func TestBoothInterop(t *testing.T) {
	data, err := os.ReadFile("testdata/booth-interop.json")
	if err != nil {
		t.Fatal(err)
	}
	var v boothInterop
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	manifest, err := os.ReadFile("../../" + v.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	K, err := group.DecodePublicKey(unhex(t, v.K))
	if err != nil {
		t.Fatal(err)
	}
	pub := new(credential.PublicKey)
	if err := pub.UnmarshalText([]byte(v.RegistrarPublic)); err != nil {
		t.Fatal(err)
	}
	e, err := ballot.NewElection(manifest, K, pub.ID())
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(e.Context[:]) != v.Context {
		t.Fatal("the booth's election context differs from Go's")
	}
	cred, err := credential.DecodeCredential(pub, unhex(t, v.Credential))
	if err != nil {
		t.Fatal(err)
	}
	if err := cred.Verify(pub, e.Context); err != nil {
		t.Fatalf("the booth's credential: %v", err)
	}
	secret, err := credential.UnmarshalPrivate(pub, []byte(v.CredentialSec))
	if err != nil {
		t.Fatalf("the booth's credential secret: %v", err)
	}
	if !bytes.Equal(secret.Bytes(), cred.Bytes()) {
		t.Fatal("the credential secret holds another credential")
	}
	salt, err := hex.DecodeString(v.Salt)
	if err != nil || len(salt) != credential.SaltSize {
		t.Fatalf("the booth's salt %q", v.Salt)
	}
	if b := credential.Binding(cred.PublicKey, [credential.SaltSize]byte(salt)); hex.EncodeToString(b[:]) != v.Binding {
		t.Fatal("binding differs")
	}
	if k := credential.KeyHash(cred.PublicKey); hex.EncodeToString(k[:]) != v.KeyHash {
		t.Fatal("credential key hash differs")
	}
	// The registrar's blind signature is deterministic: Go's registrar,
	// given the booth's blinded message, signs it the same way.
	reg, err := credential.UnmarshalRegistrar([]byte(v.RegistrarSecret))
	if err != nil {
		t.Fatalf("the registrar key made in JavaScript: %v", err)
	}
	if !reg.PublicKey().Equal(pub) {
		t.Fatal("the registrar's secret and public keys differ")
	}
	sig, err := reg.Sign(unhex(t, v.Blinded))
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(sig) != v.BlindSignature {
		t.Fatal("Go's blind signature differs from the one the booth unblinded")
	}
	if len(v.Envelopes) != 2 {
		t.Fatalf("%d envelopes, want 2", len(v.Envelopes))
	}
	for _, x := range v.Envelopes {
		env, err := ParseEnvelope([]byte(x.Envelope))
		if err != nil {
			t.Fatal(err)
		}
		for _, batched := range []bool{false, true} {
			var batch *group.Batch
			if batched {
				batch = group.NewBatch()
			}
			c, err := Check(e, pub, env, batch)
			if err != nil {
				t.Fatalf("counter %d: %v", x.Counter, err)
			}
			if batched && !batch.Verify() {
				t.Fatalf("counter %d: the batch rejects the booth's proofs", x.Counter)
			}
			if hex.EncodeToString(c.Tracking[:]) != x.TrackingCode || env.Counter != x.Counter {
				t.Fatalf("counter %d: tracking code or counter differ", x.Counter)
			}
		}
		again, _ := json.Marshal(env)
		if string(again) != x.Envelope {
			t.Fatalf("the booth's envelope JSON is not Go's encoding:\n%s\n%s", x.Envelope, again)
		}
		// Tampering is caught.
		bad := *env
		bad.Counter++
		if _, err := Check(e, pub, &bad, nil); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("a changed counter: %v", err)
		}
	}
	sp, err := ballot.ParseSpoiled([]byte(v.Spoiled))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Check(e); err != nil {
		t.Fatalf("the booth's spoiled ballot: %v", err)
	}
	for q := range v.Plaintext {
		if !slices.Equal(sp.Values[q], v.Plaintext[q]) {
			t.Fatalf("spoiled values %v, want %v", sp.Values, v.Plaintext)
		}
	}
	badCred := bytes.Clone(unhex(t, v.Credential))
	badCred[len(badCred)-1] ^= 1
	if c, err := credential.DecodeCredential(pub, badCred); err == nil && c.Verify(pub, e.Context) == nil {
		t.Fatal("a tampered credential verified")
	}
}
