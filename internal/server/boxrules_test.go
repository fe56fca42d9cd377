package server_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/server"
	"github.com/koe-vote/koe/internal/store"
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

// boxElection is an open referendum on a server over SQLite, with six
// registered credentials.
type boxElection struct {
	st       store.Store
	url      string
	admin    *client.Client
	voter    *client.Client
	id       string
	manifest []byte
	created  api.Created
	trustees []*ceremony.Trustee
	el       *client.Election
	creds    []*credential.Credential
}

func openBoxElection(t *testing.T, cfg server.Config) *boxElection {
	ctx := context.Background()
	st := sqliteStore(t)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	cfg.Store, cfg.Origin, cfg.BoardKey, cfg.AdminToken = st, "koe.test", key, adminToken
	cfg.RegistrarBits, cfg.RegisterRate, cfg.RegisterBurst = 2048, 1000, 1000
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(cfg)
	must(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	b := &boxElection{st: st, url: ts.URL, admin: client.New(ts.URL, adminToken), voter: client.New(ts.URL, "")}
	b.manifest, _ = examples.Manifest("referendum")
	// Six voters: the privacy threshold is lowered to 1 (SPEC.md §7.2), so
	// that the trustees decrypt.
	m, err := ballot.ParseManifest(b.manifest)
	must(t, err)
	one := 1
	m.Privacy = &one
	b.manifest, err = json.Marshal(m)
	must(t, err)
	must(t, b.admin.Do(ctx, "POST", "/api/v1/elections", "application/json", b.manifest, &b.created))
	b.id = b.created.ID
	b.trustees, err = demo.ServerCeremony(ctx, ts.URL, b.id, b.manifest, b.created.TrusteeTokens)
	must(t, err)
	codes, err := demo.ImportRoll(ctx, b.admin, b.id, "B", 6)
	must(t, err)
	must(t, b.admin.Do(ctx, "POST", api.ElectionPath(b.id, "/open"), "", nil, nil))
	b.el, err = b.voter.Election(ctx, b.id)
	must(t, err)
	b.creds = make([]*credential.Credential, 6)
	for i := range b.creds {
		vid := "B0000" + string(rune('0'+i))
		b.creds[i], err = b.voter.Register(ctx, b.el, vid, codes[vid])
		must(t, err)
	}
	return b
}

// finish closes, tallies, decrypts and publishes the election and
// returns the verifier's report on its downloaded record.
func (b *boxElection) finish(t *testing.T) *verify.Report {
	ctx := context.Background()
	must(t, b.admin.Do(ctx, "POST", api.ElectionPath(b.id, "/close"), "", nil, nil))
	must(t, b.admin.Do(ctx, "POST", api.ElectionPath(b.id, "/tally"), "", nil, nil))
	must(t, demo.ServerDecrypt(ctx, b.url, b.id, b.manifest, b.trustees, b.created.TrusteeTokens, []int{1, 2, 3}))
	must(t, b.admin.Do(ctx, "POST", api.ElectionPath(b.id, "/publish"), "", nil, nil))
	return verify.Record(downloadRecord(t, &harness{t: t, url: b.url, admin: b.admin}, b.id), verify.Options{})
}

// TestBoxRulesOverHTTP drives the ballot box's rules over HTTP (SPEC.md
// §15.4): counters 1, 2, 3, … read from the board; re-votes limited per
// credential; spoiled ballots limited per client address; a ballot reusing
// another credential's ciphertext, or a spoiled ballot's, refused; and the
// record verifies afterwards.
func TestBoxRulesOverHTTP(t *testing.T) {
	ctx := context.Background()
	b := openBoxElection(t, server.Config{
		// No refill within the test: the bursts are the allowances.
		CastRate: 1e-9, CastBurst: 8, SpoilRate: 1e-9, SpoilBurst: 3,
	})
	id, voter, el, creds := b.id, b.voter, b.el, b.creds
	yes, _ := el.E.Manifest.Plaintext(ballot.Answers{"plan": "yes"})
	no, _ := el.E.Manifest.Plaintext(ballot.Answers{"plan": "no"})
	var err error
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
	var cs api.CredentialState
	must(t, voter.Do(ctx, "GET", api.ElectionPath(id, "/credentials/"+hex.EncodeToString(a.PublicKey)), "", nil, &cs))
	if cs.Next != 3 || cs.Last == nil || *cs.Last != 2 || cs.Index == nil {
		t.Fatalf("credential state %+v, want next 3, last 2 and an index", cs)
	}
	for _, bad := range []string{"00", strings.ToUpper(hex.EncodeToString(a.PublicKey)), "zz" + hex.EncodeToString(a.PublicKey)[2:]} {
		wantCode(t, voter.Do(ctx, "GET", api.ElectionPath(id, "/credentials/"+bad), "", nil, nil), "malformed")
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
	rep := b.finish(t)
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

// TestVerifierNamesCounterBreaks puts on the board, behind the ballot
// box's back, validly signed casts that break the counter rule — a gap, a
// repeat and a lower counter — and checks that the trustees refuse to
// decrypt that board and that the verifier names each entry (SPEC.md
// §13.6 step 5, §9.2; crypto-audit M4).
func TestVerifierNamesCounterBreaks(t *testing.T) {
	ctx := context.Background()
	b := openBoxElection(t, server.Config{})
	yes, _ := b.el.E.Manifest.Plaintext(ballot.Answers{"plan": "yes"})
	no, _ := b.el.E.Manifest.Plaintext(ballot.Answers{"plan": "no"})
	x := b.creds[0]
	cast := func(pt ballot.Plaintext, counter uint64) {
		env, _, _, err := client.Seal(b.el, x, pt, counter)
		must(t, err)
		_, err = b.voter.Cast(ctx, b.id, env)
		must(t, err)
	}
	cast(no, 1)
	cast(no, 2)
	first, err := b.st.TreeSize(ctx, b.id)
	must(t, err)
	var entries [][]byte
	for _, counter := range []uint64{4, 2, 1} { // a gap, a repeat, a lower counter
		env, _, _, err := client.Seal(b.el, x, no, counter)
		must(t, err)
		body, _ := json.Marshal(env)
		raw, err := board.Entry{Type: board.TypeBallot, Election: b.id, Time: time.Now().UTC().Truncate(time.Second), Body: body}.Encode()
		must(t, err)
		entries = append(entries, raw)
	}
	_, err = b.st.Append(ctx, b.id, entries)
	must(t, err)
	cast(yes, 3) // the box's last accepted counter is still 2

	// The trustees verify before they decrypt (SPEC.md §9.2), so they
	// refuse this board, naming the first entry that breaks the rule.
	must(t, b.admin.Do(ctx, "POST", api.ElectionPath(b.id, "/close"), "", nil, nil))
	must(t, b.admin.Do(ctx, "POST", api.ElectionPath(b.id, "/tally"), "", nil, nil))
	err = demo.ServerDecrypt(ctx, b.url, b.id, b.manifest, b.trustees, b.created.TrusteeTokens, []int{1, 2, 3})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("board entry %d: counter 4 skips", first)) {
		t.Fatalf("the trustees decrypted a board breaking the counter rule, or refused for another reason: %v", err)
	}
	rep := verify.Record(downloadRecord(t, &harness{t: t, url: b.url, admin: b.admin}, b.id), verify.Options{})
	var got []string
	for _, f := range rep.Failures() {
		got = append(got, f.What+": "+f.Detail)
	}
	want := []string{
		fmt.Sprintf("board: entry %d: counter 4 skips: the credential's next counter is 3", first),
		fmt.Sprintf("board: entry %d: counter 2 repeats or goes below the credential's last, 2", first+1),
		fmt.Sprintf("board: entry %d: counter 1 repeats or goes below the credential's last, 2", first+2),
	}
	if len(got) != len(want) {
		t.Fatalf("failures:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("failure %d = %q, want %q…", i, got[i], want[i])
		}
	}

}
