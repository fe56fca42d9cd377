package ballotbox

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"github.com/koe-vote/koe/internal/strictjson"
	"github.com/koe-vote/koe/internal/strictjson/strictjsontest"
	"strings"
	"testing"
	"time"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/group"
)

type fixture struct {
	e    *ballot.Election
	reg  *credential.Registrar
	cred *credential.Credential
	pt   ballot.Plaintext
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	data, _ := examples.Manifest("referendum")
	x, _ := group.RandomScalar(rand.Reader)
	reg, err := credential.NewRegistrar(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e, err := ballot.NewElection(data, group.BaseMul(x), reg.PublicKey().ID())
	if err != nil {
		t.Fatal(err)
	}
	pending, blinded, err := credential.Request(rand.Reader, reg.PublicKey(), e.Context)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := reg.Sign(blinded)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := pending.Finalize(sig)
	if err != nil {
		t.Fatal(err)
	}
	pt, _ := e.Manifest.Plaintext(ballot.Answers{"plan": "yes"})
	return &fixture{e: e, reg: reg, cred: cred, pt: pt}
}

func (f *fixture) envelope(t testing.TB, counter uint64) *Envelope {
	t.Helper()
	var salt [credential.SaltSize]byte
	rand.Read(salt[:])
	b, _, err := ballot.Encrypt(rand.Reader, f.e, credential.Binding(f.cred.PublicKey, salt), f.pt)
	if err != nil {
		t.Fatal(err)
	}
	return &Envelope{Ballot: b.Bytes(), Credential: f.cred.Bytes(), Salt: salt[:], Counter: counter,
		Signature: f.cred.SignCast(f.e.Context, b.TrackingCode(), counter)}
}

func TestCheck(t *testing.T) {
	f := newFixture(t)
	other := newFixture(t)
	env := f.envelope(t, 1)
	for _, batched := range []bool{false, true} {
		var batch *group.Batch
		if batched {
			batch = group.NewBatch()
		}
		c, err := Check(f.e, f.reg.PublicKey(), env, batch)
		if err != nil {
			t.Fatal(err)
		}
		if batched && !batch.Verify() {
			t.Fatal("batch rejects an honest envelope")
		}
		if c.Key != credential.KeyHash(f.cred.PublicKey) {
			t.Fatal("wrong credential key")
		}
	}
	flip := func(b []byte, i int) []byte { b = bytes.Clone(b); b[i] ^= 1; return b }
	cases := []struct {
		name   string
		mutate func(e *Envelope)
		want   error
	}{
		{"ballot changed after signing", func(e *Envelope) { e.Ballot = flip(e.Ballot, len(e.Ballot)-1) }, ErrInvalidSignature},
		{"truncated ballot", func(e *Envelope) { e.Ballot = e.Ballot[:100] }, ErrInvalidBallot},
		{"credential signature", func(e *Envelope) { e.Credential = flip(e.Credential, len(e.Credential)-1) }, ErrInvalidCredential},
		{"credential from another registrar", func(e *Envelope) { e.Credential = other.cred.Bytes() }, ErrInvalidCredential},
		{"no credential", func(e *Envelope) { e.Credential = nil }, ErrInvalidCredential},
		{"counter", func(e *Envelope) { e.Counter++ }, ErrInvalidSignature},
		{"signature", func(e *Envelope) { e.Signature = flip(e.Signature, 3) }, ErrInvalidSignature},
		{"ballot of another credential", func(e *Envelope) {
			b, _, _ := ballot.Encrypt(rand.Reader, f.e, credential.Binding(other.cred.PublicKey, [credential.SaltSize]byte(e.Salt)), f.pt)
			e.Ballot = b.Bytes()
			e.Signature = f.cred.SignCast(f.e.Context, b.TrackingCode(), e.Counter)
		}, ErrInvalidBallot},
		{"another salt than the ballot's", func(e *Envelope) { e.Salt = flip(e.Salt, 0) }, ErrInvalidBallot},
		{"no salt", func(e *Envelope) { e.Salt = nil }, ErrMalformed},
		{"short salt", func(e *Envelope) { e.Salt = e.Salt[:31] }, ErrMalformed},
		{"long salt", func(e *Envelope) { e.Salt = append(bytes.Clone(e.Salt), 0) }, ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := *env
			tc.mutate(&bad)
			if _, err := Check(f.e, f.reg.PublicKey(), &bad, nil); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// A proof that fails only in the batch equations.
	bad := *env
	bad.Ballot = bytes.Clone(env.Ballot)
	bad.Ballot[ballot.HeaderSize+64+64] ^= 1 // the low byte of branch 0's challenge share
	b, _ := ballot.Decode(f.e, bad.Ballot)
	bad.Signature = f.cred.SignCast(f.e.Context, b.TrackingCode(), bad.Counter)
	if _, err := Check(f.e, f.reg.PublicKey(), &bad, nil); !errors.Is(err, ErrInvalidBallot) {
		t.Fatalf("a tampered proof: %v", err)
	}
}

func entry(t testing.TB, typ string, body any) board.Entry {
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return board.Entry{Type: typ, Election: "e", Time: time.Now(), Body: raw}
}

func TestCounted(t *testing.T) {
	f := newFixture(t)
	g := newFixture(t)
	a1, a2, b1, a3 := f.envelope(t, 1), f.envelope(t, 2), g.envelope(t, 1), f.envelope(t, 3)
	entries := []board.Entry{
		entry(t, board.TypeOpen, map[string]string{}),
		entry(t, board.TypeBallot, a1),
		entry(t, board.TypeBallot, b1),
		entry(t, board.TypeSpoiled, map[string]string{}),
		entry(t, board.TypeBallot, a2),
		entry(t, board.TypeBallot, a3),
	}
	got, err := Counted(entries)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Counter != 1 || !bytes.Equal(got[0].Credential, g.cred.Bytes()) || got[1].Counter != 3 {
		t.Fatalf("counted %d envelopes: %+v", len(got), got)
	}
	// The last envelope counts: the counter rule is the verifier's to check.
	later := append(entries, entry(t, board.TypeBallot, a2))
	if got, err := Counted(later); err != nil || len(got) != 2 || got[1].Counter != 2 {
		t.Fatalf("counted %v, %v; want the last envelope, counter 2", got, err)
	}
	if _, err := Counted([]board.Entry{entry(t, board.TypeBallot, map[string]int{"x": 1})}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a malformed ballot entry: %v", err)
	}
}

func FuzzParseEnvelope(f *testing.F) {
	fx := newFixture(f)
	good, _ := json.Marshal(fx.envelope(f, 7))
	f.Add(good)
	f.Add([]byte(`{"ballot":"","credential":"","salt":"","counter":0,"signature":""}`))
	f.Add([]byte(`{"ballot":"","credential":"","counter":0,"signature":""}`))
	f.Add([]byte(`{"ballot":"AA==","extra":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := ParseEnvelope(data)
		if err != nil {
			return
		}
		out, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseEnvelope(out)
		if errors.Is(err, strictjson.ErrNull) {
			return // a missing field re-encodes as null, which no decoder takes
		}
		if err != nil || again.Counter != env.Counter || !bytes.Equal(again.Ballot, env.Ballot) ||
			!bytes.Equal(again.Credential, env.Credential) || !bytes.Equal(again.Signature, env.Signature) || !bytes.Equal(again.Salt, env.Salt) {
			t.Fatalf("round trip of %s: %v", data, err)
		}
		// Checking a fuzzed envelope never panics.
		Check(fx.e, fx.reg.PublicKey(), env, group.NewBatch())
	})
}

// TestChallengeUnlinkable is crypto-audit H2: a ballot challenged (spoiled)
// and the ballot the same credential then casts share no public value, so
// the board does not show whose vote the challenge opened.
func TestChallengeUnlinkable(t *testing.T) {
	f := newFixture(t)
	challenged := f.envelope(t, 1) // encrypted as if to be cast, then challenged
	cast := f.envelope(t, 1)
	cb, err := Check(f.e, f.reg.PublicKey(), challenged, nil)
	if err != nil {
		t.Fatal(err)
	}
	sb := cb.Ballot
	// What the board shows of the challenge: the ballot and its nonces,
	// never its envelope (credential, salt, signature).
	cc, err := Check(f.e, f.reg.PublicKey(), cast, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sb.Binding == cc.Ballot.Binding {
		t.Fatal("the challenged and the cast ballot have the same binding")
	}
	// An observer who knows the credential's key and every salt revealed on
	// the board cannot recompute the challenged ballot's binding.
	if sb.Binding == credential.Binding(cc.Credential.PublicKey, [credential.SaltSize]byte(cast.Salt)) {
		t.Fatal("the challenged ballot's binding is recomputable from the cast envelope")
	}
	public := map[[32]byte]string{sb.Binding: "binding", sb.TrackingCode(): "tracking code"}
	for _, a := range sb.CiphertextAs() {
		public[a] = "ciphertext"
	}
	castValues := [][32]byte{cc.Ballot.Binding, cc.Tracking, cc.Key, [32]byte(cast.Salt), [32]byte(cc.Credential.PublicKey)}
	castValues = append(castValues, cc.Ballot.CiphertextAs()...)
	for _, v := range castValues {
		if what, ok := public[v]; ok {
			t.Errorf("the cast envelope repeats the challenged ballot's %s", what)
		}
	}
}

// A cast envelope lacking a field is refused by ParseEnvelope (SPEC §2.3,
// §15.4), naming the field.
func TestParseEnvelopeRequiresFields(t *testing.T) {
	f := newFixture(t)
	data, err := json.Marshal(f.envelope(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	strictjsontest.RequireFields(t, data, func(data []byte) error {
		env, err := ParseEnvelope(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseEnvelope: %v does not wrap ErrMalformed", err)
			}
			return err
		}
		_, err = Check(f.e, f.reg.PublicKey(), env, nil)
		return err
	}, "ballot", "credential", "salt", "counter", "signature")
}

// Check's errors carry both its sentinel and the cause's (errors.Is finds
// each), on one line, without a doubled prefix (code-review §3 item 7).
func TestCheckErrorWrapping(t *testing.T) {
	f := newFixture(t)
	flip := func(b []byte, i int) []byte { b = bytes.Clone(b); b[i] ^= 1; return b }
	for _, tc := range []struct {
		name   string
		mutate func(e *Envelope)
		is     []error
		double string
	}{
		{"truncated ballot", func(e *Envelope) { e.Ballot = e.Ballot[:100] }, []error{ErrInvalidBallot, ballot.ErrBallot}, "invalid ballot: invalid ballot"},
		{"credential", func(e *Envelope) { e.Credential = flip(e.Credential, len(e.Credential)-1) }, []error{ErrInvalidCredential, credential.ErrInvalidCredential}, "invalid credential: credential: invalid credential"},
		{"short credential", func(e *Envelope) { e.Credential = e.Credential[:10] }, []error{ErrInvalidCredential, credential.ErrInvalidCredential}, "invalid credential: credential: invalid credential"},
		{"signature", func(e *Envelope) { e.Signature = flip(e.Signature, 3) }, []error{ErrInvalidSignature, credential.ErrInvalidSignature}, "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := *f.envelope(t, 1)
			tc.mutate(&env)
			_, err := Check(f.e, f.reg.PublicKey(), &env, nil)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, s := range tc.is {
				if !errors.Is(err, s) {
					t.Errorf("%v: errors.Is(%v) is false", err, s)
				}
			}
			if strings.Contains(err.Error(), tc.double) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%q: a doubled prefix or a line break", err)
			}
		})
	}
}
