package server_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/server"
	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/verify"
)

// eligibility is an election with a roll of five letters, of which three
// voters registered and voted and two abstained (SPEC.md §15.3), on a
// server whose store and registrar the test can reach as a dishonest
// operator would.
type eligibility struct {
	h     *oidcHarness
	srv   *server.Server
	st    store.Store
	id    string
	el    *client.Election
	codes map[string]string
	voter *client.Client
}

func startEligibility(t *testing.T, id string) *eligibility {
	t.Helper()
	return startEligibilityLog(t, id, io.Discard)
}

// startEligibilityLog is startEligibility with the server's log also
// written to logs.
func startEligibilityLog(t *testing.T, id string, logs io.Writer) *eligibility {
	t.Helper()
	ctx := context.Background()
	st := sqliteStore(t)
	_, key, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	srv, err := server.New(server.Config{Store: st, Origin: "koe.test", BoardKey: key, AdminToken: adminToken,
		RegistrarBits: 2048, RegisterRate: 1000, RegisterBurst: 1000, Logger: slog.New(slog.NewTextHandler(io.MultiWriter(testWriter{t}, logs), nil))})
	must(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	h := &oidcHarness{harness: &harness{t: t, url: ts.URL, admin: client.New(ts.URL, adminToken)}, st: st}
	h.createElection(t, id)
	codes, err := demo.ImportRoll(ctx, h.admin, id, "V", 5)
	must(t, err)
	must(t, h.admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil))
	voter := client.New(ts.URL, "")
	el, err := voter.Election(ctx, id)
	must(t, err)
	e := &eligibility{h: h, srv: srv, st: st, id: id, el: el, codes: codes, voter: voter}
	for _, v := range []string{"V00000", "V00001", "V00002"} {
		cred, err := voter.Register(ctx, el, v, codes[v])
		must(t, err)
		e.cast(t, cred)
	}
	return e
}

func (e *eligibility) cast(t *testing.T, cred *credential.Credential) {
	t.Helper()
	pt, err := e.el.E.Manifest.Plaintext(ballot.Answers{"plan": "yes"})
	must(t, err)
	env, _, _, err := client.Seal(e.el, cred, pt, 1)
	must(t, err)
	_, err = e.voter.Cast(context.Background(), e.id, env)
	must(t, err)
}

// forge is the dishonest registrar: a credential signed without any
// check, and without the voter.
func (e *eligibility) forge(t *testing.T) *credential.Credential {
	t.Helper()
	reg, err := server.RegistrarOf(context.Background(), e.srv, e.id)
	must(t, err)
	pending, blinded, err := credential.Request(rand.Reader, reg.PublicKey(), e.el.E.Context)
	must(t, err)
	sig, err := reg.Sign(blinded)
	must(t, err)
	cred, err := pending.Finalize(sig)
	must(t, err)
	return cred
}

// appendEntry appends an entry to the board as the operator, who holds
// the store and the board key, can: the server signs it into its next
// checkpoint like any other.
func (e *eligibility) appendEntry(t *testing.T, typ string, body any) {
	t.Helper()
	raw, err := json.Marshal(body)
	must(t, err)
	entry, err := board.Entry{Type: typ, Election: e.id, Time: time.Now(), Body: raw}.Encode()
	must(t, err)
	_, err = e.st.Append(context.Background(), e.id, [][]byte{entry})
	must(t, err)
}

func (e *eligibility) check(t *testing.T, voter string) *client.RollCheck {
	t.Helper()
	rc, err := e.voter.CheckRoll(context.Background(), e.el, voter, e.codes[voter])
	must(t, err)
	return rc
}

func (e *eligibility) verify(t *testing.T) *verify.Report {
	t.Helper()
	return verify.Record(downloadRecord(t, e.h.harness, e.id), verify.Options{})
}

func wantFailure(t *testing.T, rep *verify.Report, want string) {
	t.Helper()
	if rep.OK() {
		t.Fatalf("the record verified; want a failure saying %q", want)
	}
	for _, f := range rep.Failures() {
		if strings.Contains(f.Detail, want) {
			return
		}
	}
	t.Fatalf("no failure says %q: %+v", want, rep.Failures())
}

// TestIssuanceRecomputedByVoters: every voter finds on the board, from
// their letter alone, their roll commitment and exactly one issuance
// naming it; abstainers find none; a credential the registrar issues in an
// abstainer's name shows on that abstainer's check, though the record
// still verifies (the verifier cannot know who abstained).
func TestIssuanceRecomputedByVoters(t *testing.T) {
	e := startEligibility(t, "roll-check")
	for _, v := range []string{"V00000", "V00001", "V00002"} {
		if rc := e.check(t, v); !rc.OnRoll || len(rc.Issued) != 1 {
			t.Errorf("voter %s: on the roll %v, %d issuances naming them; want true, 1", v, rc.OnRoll, len(rc.Issued))
		}
	}
	for _, v := range []string{"V00003", "V00004"} {
		if rc := e.check(t, v); !rc.OnRoll || len(rc.Issued) != 0 {
			t.Errorf("abstainer %s: on the roll %v, %d issuances naming them; want true, 0", v, rc.OnRoll, len(rc.Issued))
		}
	}
	if _, err := e.voter.CheckRoll(context.Background(), e.el, "V00003", "AAAA-BBBB-CCCC-DDDD"); err != nil {
		t.Fatal(err)
	} else if rc, _ := e.voter.CheckRoll(context.Background(), e.el, "V00003", "AAAA-BBBB-CCCC-DDDD"); rc.OnRoll {
		t.Error("a letter with a wrong code is on the roll")
	}
	rep := e.verify(t)
	if !rep.OK() {
		t.Fatalf("the honest record does not verify: %+v", rep.Failures())
	}

	// The registrar stuffs a ballot for abstainer V00003: an issuance
	// entry naming their commitment (it printed their letter) and a
	// credential it signs itself.
	c, err := credential.RollCommitment(e.id, "V00003", e.codes["V00003"])
	must(t, err)
	e.appendEntry(t, board.TypeCredentialIssued, board.Issuance{Value: c}.Body())
	e.cast(t, e.forge(t))
	if rep := e.verify(t); !rep.OK() {
		t.Fatalf("the verifier cannot tell an abstainer from a voter, yet it failed: %+v", rep.Failures())
	}
	if rc := e.check(t, "V00003"); len(rc.Issued) != 1 {
		t.Fatalf("the abstainer finds %d issuances in their name, want the stuffed one", len(rc.Issued))
	}
	if rc := e.check(t, "V00004"); len(rc.Issued) != 0 {
		t.Fatalf("the other abstainer finds %d issuances in their name", len(rc.Issued))
	}
}

// TestCredentialsAboveTheBound: a credential the registrar signs without
// recording an issuance makes the record invalid.
func TestCredentialsAboveTheBound(t *testing.T) {
	e := startEligibility(t, "over-bound")
	e.cast(t, e.forge(t))
	wantFailure(t, e.verify(t), "4 credentials cast ballots, but only 3 were issued (3 by roll, 0 by digital ID)")
}

// TestStuffedIssuances: issuance entries that name no letter of the roll,
// name one twice, or a roll grown after open, make the record invalid.
func TestStuffedIssuances(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		typ        string
		body       any
	}{
		{"issuance naming no letter of the roll", "not on the roll published before open", board.TypeCredentialIssued, board.Issuance{Value: [32]byte{7}}.Body()},
		{"second issuance to a voter", "was issued a second credential", board.TypeCredentialIssued, nil},
		{"roll grown after open", "the roll is published before the election opens", board.TypeRoll, board.RollEntries([][32]byte{{9}})[0]},
		{"registrar key after open", "a second registrar key", board.TypeRegistrarKey, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := startEligibility(t, "stuffed-"+strings.ReplaceAll(tc.name, " ", "-"))
			body := tc.body
			switch tc.name {
			case "second issuance to a voter":
				c, err := credential.RollCommitment(e.id, "V00001", e.codes["V00001"])
				must(t, err)
				body = board.Issuance{Value: c}.Body()
			case "registrar key after open":
				text, err := e.forgeKey(t)
				must(t, err)
				body = board.RegistrarKeyBody{Key: text}
			}
			e.appendEntry(t, tc.typ, body)
			wantFailure(t, e.verify(t), tc.want)
		})
	}
}

func (e *eligibility) forgeKey(t *testing.T) (string, error) {
	reg, err := credential.NewRegistrar(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	text, err := reg.PublicKey().MarshalText()
	return string(text), err
}
