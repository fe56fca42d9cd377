package server_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/server"
	"github.com/koe-vote/koe/internal/verify"
)

// seeded is a deterministic byte stream: two ballots encrypted from the
// same seed have the same nonces, so the same ciphertext A components,
// whatever their bindings.
type seeded struct{ r *mrand.ChaCha8 }

func newSeeded(seed byte) io.Reader { return seeded{mrand.NewChaCha8([32]byte{seed})} }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

// sealWith encrypts pt for cred, drawing the nonces from r, and signs it
// with counter: as client.Seal does, but with chosen randomness.
func sealWith(t *testing.T, r io.Reader, el *client.Election, cred *credential.Credential, pt ballot.Plaintext, counter uint64) (*ballotbox.Envelope, *ballot.Ballot, ballot.Nonces) {
	t.Helper()
	var salt [credential.SaltSize]byte
	rand.Read(salt[:])
	b, nonces, err := ballot.Encrypt(r, el.E, credential.Binding(cred.PublicKey, salt), pt)
	must(t, err)
	sig := cred.SignCast(el.E.Context, b.TrackingCode(), counter)
	return &ballotbox.Envelope{Ballot: b.Bytes(), Credential: cred.Bytes(), Salt: salt[:], Counter: counter, Signature: sig}, b, nonces
}

// TestBoxRulesOverHTTP drives the ballot box's rules over HTTP (SPEC.md
// §15.4): counters 1, 2, 3, … read from the board; re-votes limited per
// credential; spoiled ballots limited per client address; a ballot reusing
// another credential's ciphertext, or a spoiled ballot's, refused; and the
// record verifies afterwards.
func TestBoxRulesOverHTTP(t *testing.T) {
	ctx := context.Background()
	st := sqliteStore(t)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	srv, err := server.New(server.Config{
		Store: st, Origin: "koe.test", BoardKey: key, AdminToken: adminToken,
		RegistrarBits: 2048, RegisterRate: 1000, RegisterBurst: 1000,
		// No refill within the test: the bursts are the allowances.
		CastRate: 1e-9, CastBurst: 8, SpoilRate: 1e-9, SpoilBurst: 3,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	must(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	admin := client.New(ts.URL, adminToken)
	manifest, _ := examples.Manifest("referendum")
	var created server.Created
	must(t, admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created))
	id := created.ID
	trustees, err := demo.ServerCeremony(ctx, ts.URL, id, manifest, created.TrusteeTokens)
	must(t, err)
	codes, err := demo.ImportRoll(ctx, admin, id, "B", 6)
	must(t, err)
	must(t, admin.Do(ctx, "POST", client.ElectionPath(id, "/open"), "", nil, nil))
	voter := client.New(ts.URL, "")
	el, err := voter.Election(ctx, id)
	must(t, err)
	yes, _ := el.E.Manifest.Plaintext(ballot.Answers{"plan": "yes"})
	no, _ := el.E.Manifest.Plaintext(ballot.Answers{"plan": "no"})
	creds := make([]*credential.Credential, 6)
	for i := range creds {
		vid := "B0000" + string(rune('0'+i))
		creds[i], err = voter.Register(ctx, el, vid, codes[vid])
		must(t, err)
	}
	cast := func(cred *credential.Credential, pt ballot.Plaintext, counter uint64) error {
		env, _, _, err := client.Seal(el, cred, pt, counter)
		must(t, err)
		_, err = voter.Cast(ctx, id, env)
		return err
	}
	next := func(cred *credential.Credential) uint64 {
		t.Helper()
		n, err := voter.NextCounter(ctx, el, cred)
		must(t, err)
		return n
	}
	counted := map[int]ballot.Plaintext{} // credential → its last cast

	// Counters (crypto-audit M4): the first cast is 1, each later one the
	// last plus one; a gap, a repeat and a lower counter are refused.
	a := creds[0]
	if n := next(a); n != 1 {
		t.Fatalf("next counter of a credential that never cast = %d, want 1", n)
	}
	wantCode(t, cast(a, yes, 2), "wrong-counter")
	wantCode(t, cast(a, yes, 0), "wrong-counter")
	must(t, cast(a, yes, next(a)))
	if n := next(a); n != 2 {
		t.Fatalf("next counter after one cast = %d, want 2", n)
	}
	wantCode(t, cast(a, no, 1), "replay")        // a repeat
	wantCode(t, cast(a, no, 3), "wrong-counter") // a gap
	must(t, cast(a, no, next(a)))
	wantCode(t, cast(a, no, 1), "replay") // a lower counter
	counted[0] = no
	var cs server.CredentialState
	must(t, voter.Do(ctx, "GET", client.ElectionPath(id, "/credentials/"+hex.EncodeToString(a.PublicKey)), "", nil, &cs))
	if cs.Next != 3 || cs.Last != 2 || cs.Index == nil {
		t.Fatalf("credential state %+v, want next 3, last 2 and an index", cs)
	}
	for _, bad := range []string{"00", strings.ToUpper(hex.EncodeToString(a.PublicKey)), "zz" + hex.EncodeToString(a.PublicKey)[2:]} {
		wantCode(t, voter.Do(ctx, "GET", client.ElectionPath(id, "/credentials/"+bad), "", nil, nil), "malformed")
	}

	// Re-votes are limited per credential: c casts its allowance of 8, the
	// 9th is refused with 429, and another credential is not affected.
	c := creds[1]
	for range 8 {
		must(t, cast(c, yes, next(c)))
	}
	wantCode(t, cast(c, no, next(c)), "too-many-casts")
	counted[1] = yes
	must(t, cast(a, yes, next(a)))
	counted[0] = yes

	// A ballot reusing another credential's ciphertext (crypto-audit M2,
	// abuse-test C-1): d casts; e casts a ballot with d's nonces, so d's
	// A components, with valid proofs under its own binding: refused.
	d, e := creds[2], creds[3]
	envD, _, _ := sealWith(t, newSeeded(1), el, d, yes, 1)
	_, err = voter.Cast(ctx, id, envD)
	must(t, err)
	counted[2] = yes
	envE, _, _ := sealWith(t, newSeeded(1), el, e, yes, 1)
	_, err = voter.Cast(ctx, id, envE)
	wantCode(t, err, "reused-ciphertext")
	// A spoiled ballot's nonces are public: a cast reusing them is refused.
	_, sb, sn := sealWith(t, newSeeded(2), el, e, no, 1)
	must(t, voter.Spoil(ctx, id, ballot.Spoil(sb, no, sn)))
	envE, _, _ = sealWith(t, newSeeded(2), el, e, no, 1)
	_, err = voter.Cast(ctx, id, envE)
	wantCode(t, err, "reused-ciphertext")
	// And a spoiled ballot sharing a ciphertext with a cast one.
	_, sd, sdn := sealWith(t, newSeeded(1), el, d, yes, 2)
	wantCode(t, voter.Spoil(ctx, id, ballot.Spoil(sd, yes, sdn)), "reused-ciphertext")
	// e's refused casts took no counter: its first accepted cast is 1.
	if n := next(e); n != 1 {
		t.Fatalf("next counter after refused casts = %d, want 1", n)
	}
	must(t, cast(e, no, 1))
	counted[3] = no

	// Spoiled ballots are limited per client address (three allowed here;
	// two were used, the refused one included).
	_, sb, sn, _ = client.Seal(el, creds[4], yes, 0)
	must(t, voter.Spoil(ctx, id, ballot.Spoil(sb, yes, sn)))
	_, sb, sn, _ = client.Seal(el, creds[4], yes, 0)
	wantCode(t, voter.Spoil(ctx, id, ballot.Spoil(sb, yes, sn)), "rate-limited")

	// The record verifies, and counts each credential's last cast.
	must(t, admin.Do(ctx, "POST", client.ElectionPath(id, "/close"), "", nil, nil))
	must(t, admin.Do(ctx, "POST", client.ElectionPath(id, "/tally"), "", nil, nil))
	must(t, demo.ServerDecrypt(ctx, ts.URL, id, manifest, trustees, created.TrusteeTokens, []int{1, 2, 3}))
	must(t, admin.Do(ctx, "POST", client.ElectionPath(id, "/publish"), "", nil, nil))
	rep := verify.Record(downloadRecord(t, &harness{t: t, url: ts.URL, admin: admin}, id), verify.Options{})
	if !rep.OK() {
		t.Fatalf("the record does not verify: %+v", rep.Failures())
	}
	if rep.Ballots != len(counted) || len(rep.Spoiled) != 2 {
		t.Fatalf("verified %d ballots and %d spoiled, want %d and 2", rep.Ballots, len(rep.Spoiled), len(counted))
	}
	yesVotes := 0
	for _, pt := range counted {
		if el.E.Manifest.Answers(pt)["plan"] == "yes" {
			yesVotes++
		}
	}
	for _, q := range rep.Results.Questions {
		for _, o := range q.Options {
			if o.ID == "yes" && o.Count != uint64(yesVotes) {
				t.Fatalf("%d yes votes counted, want %d", o.Count, yesVotes)
			}
		}
	}
}
