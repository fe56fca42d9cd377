package server_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/credential"
)

// TestReissue: a voter who lost their letter gets a new code while they
// have not registered (SPEC.md §15.3 Re-issue). The old code is refused
// as revoked, the new one registers and votes, the board's reissue entry
// names no voter, the voter's check of the old letter finds it revoked and
// the record verifies.
func TestReissue(t *testing.T) {
	e := startEligibility(t, "reissue") // V00000–V00002 voted; V00003, V00004 abstained so far
	ctx := context.Background()
	before, err := e.st.TreeSize(ctx, e.id)
	must(t, err)
	out, err := e.h.admin.Reissue(ctx, e.id, []string{"ｖ００００３"}, false) // folded to V00003
	must(t, err)
	if len(out.Codes) != 1 || out.Codes[0].Voter != "V00003" || out.Codes[0].Code == e.codes["V00003"] || len(out.Registered)+len(out.Unknown) != 0 {
		t.Fatalf("re-issue answered %+v", out)
	}
	newCode := out.Codes[0].Code
	if _, err := credential.NormalizeCode(newCode); err != nil {
		t.Fatalf("the new code %q: %v", newCode, err)
	}
	// The board's entry: the old and new commitments, nothing else.
	raws, err := e.st.ReadEntries(ctx, e.id, before, 1)
	must(t, err)
	raw := raws[0]
	en, err := board.DecodeEntry(raw)
	must(t, err)
	re, err := board.DecodeReissue(en.Body)
	must(t, err)
	oldC, _ := credential.RollCommitment(e.id, "V00003", e.codes["V00003"])
	newC, _ := credential.RollCommitment(e.id, "V00003", newCode)
	if en.Type != board.TypeReissue || re.Revoked != oldC || re.Roll != newC {
		t.Fatalf("entry %d is %s %+v; want reissue of the old commitment to the new", before, en.Type, re)
	}
	if bytes.Contains(raw, []byte("V0000")) || bytes.Contains(raw, []byte(newCode)) {
		t.Fatalf("the reissue entry names the voter or the code: %s", raw)
	}

	// The old letter: revoked, on the board and at the registrar.
	if rc := e.check(t, "V00003"); len(rc.Revoked) != 1 || len(rc.Issued) != 0 {
		t.Fatalf("the old letter's check: revoked %v, issued %v", rc.Revoked, rc.Issued)
	}
	_, err = e.voter.Register(ctx, e.el, "V00003", e.codes["V00003"])
	wantCode(t, err, api.CodeRevoked)
	// The new letter: on the roll, registers, votes.
	e.codes["V00003"] = newCode
	if rc := e.check(t, "V00003"); !rc.OnRoll || len(rc.Revoked) != 0 {
		t.Fatalf("the new letter's check: on the roll %v, revoked %v", rc.OnRoll, rc.Revoked)
	}
	cred, err := e.voter.Register(ctx, e.el, "V00003", newCode)
	must(t, err)
	e.cast(t, cred)
	if rep := e.verify(t); !rep.OK() {
		t.Fatalf("the record with a re-issue does not verify: %+v", rep.Failures())
	}

	// Refusals.
	_, err = e.h.admin.Reissue(ctx, e.id, []string{"V00003"}, false)
	wantCode(t, err, api.CodeAlreadyRegistered)
	_, err = e.h.admin.Reissue(ctx, e.id, []string{"V00000"}, false)
	wantCode(t, err, api.CodeAlreadyRegistered)
	_, err = e.h.admin.Reissue(ctx, e.id, []string{"Z99999"}, false)
	wantCode(t, err, api.CodeNotFound)
	_, err = client.New(e.h.url, "wrong-token").Reissue(ctx, e.id, []string{"V00004"}, false)
	wantCode(t, err, api.CodeUnauthorized)
	_, err = client.New(e.h.url, "").Reissue(ctx, e.id, []string{"V00004"}, false)
	wantCode(t, err, api.CodeUnauthorized)
	_, err = e.h.admin.Reissue(ctx, e.id, nil, false)
	wantCode(t, err, api.CodeMalformed)
	_, err = e.h.admin.Reissue(ctx, e.id, []string{"V00004", "v00004"}, false)
	wantCode(t, err, api.CodeDuplicate)
	_, err = e.h.admin.Reissue(ctx, "no-such-election", []string{"V00004"}, false)
	if err == nil {
		t.Fatal("re-issue in a missing election succeeded")
	}

	// In bulk, the registered and unknown voters are listed, the others
	// re-issued.
	out, err = e.h.admin.Reissue(ctx, e.id, []string{"V00000", "V00004", "Z99999"}, false)
	must(t, err)
	if len(out.Codes) != 1 || out.Codes[0].Voter != "V00004" || strings.Join(out.Registered, ",") != "V00000" || strings.Join(out.Unknown, ",") != "Z99999" {
		t.Fatalf("bulk re-issue answered %+v", out)
	}
	_, err = e.voter.Register(ctx, e.el, "V00004", e.codes["V00004"])
	wantCode(t, err, api.CodeRevoked)

	// Once closed, nothing is re-issued.
	must(t, e.h.admin.Do(ctx, "POST", api.ElectionPath(e.id, "/close"), "", nil, nil))
	_, err = e.h.admin.Reissue(ctx, e.id, []string{"V00004"}, false)
	wantCode(t, err, api.CodeWrongState)
	if rep := e.verify(t); !rep.OK() {
		t.Fatalf("the closed record does not verify: %+v", rep.Failures())
	}
}

// TestReissueLogNamesNoVoter: the log lines of a re-issue and of a
// refused revoked code name neither the voter nor a code.
func TestReissueLogNamesNoVoter(t *testing.T) {
	var logs bytes.Buffer
	e := startEligibilityLog(t, "reissue-log", &logs)
	ctx := context.Background()
	out, err := e.h.admin.Reissue(ctx, e.id, []string{"V00004"}, false)
	must(t, err)
	_, err = e.voter.Register(ctx, e.el, "V00004", e.codes["V00004"])
	wantCode(t, err, api.CodeRevoked)
	text := logs.String()
	if !strings.Contains(text, "reason=revoked") || !strings.Contains(text, "count=1") {
		t.Fatalf("the log does not record the re-issue and the revoked code:\n%s", text)
	}
	for _, secret := range []string{"V00004", e.codes["V00004"], out.Codes[0].Code} {
		if strings.Contains(text, secret) {
			t.Fatalf("the log names %q:\n%s", secret, text)
		}
	}
}
