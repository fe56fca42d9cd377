package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/client"
)

// trustee runs koe trustee SUB for trustee j against the operator's front
// end, and returns its exit code and what it printed.
func (o *operator) trustee(se *serverElection, sub string, j int, flags ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"trustee", sub, "--server", o.url, "--election", se.id,
		"--token-file", filepath.Join(se.dir, fmt.Sprintf("t%d.token", j)),
		"--key", filepath.Join(se.dir, fmt.Sprintf("t%d.key", j)), "--passphrase-file", se.pass}, flags...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestTrusteeMixOnServer: the city survey on a server, tallied; two
// trustees mix its text and rank questions from the command line, one
// round each, the trustees decrypt the tally and the final lists, the
// administrator publishes the results with the comments and the ranking,
// and the record verifies. A trustee whom the operator serves a list other
// than its board's refuses to mix on it.
func TestTrusteeMixOnServer(t *testing.T) {
	o := newOperator(t, nil)
	answers := []ballot.Answers{
		{"age": "30s", "science-city": 4.0, "priorities": []any{"bike-lanes", "shelters"}, "opinion": "図書館を夜も開けてください"},
		{"science-city": 2.0, "priorities": []any{"shelters"}, "opinion": "Please add English signs."},
		{"age": "70s", "science-city": 5.0, "priorities": []any{"shelters", "bus-stops", "bike-lanes"}},
	}
	se := o.talliedExample(t, "city-survey", "mix-on-server", 3, answers)
	want := func(what string, code int, stdout, stderr string, wantCode int, lines ...string) {
		t.Helper()
		if code != wantCode {
			t.Fatalf("%s: exit %d, want %d\n%s%s", what, code, wantCode, stdout, stderr)
		}
		for _, l := range lines {
			if !strings.Contains(stdout+stderr, l) {
				t.Errorf("%s: the output lacks %q:\n%s%s", what, l, stdout, stderr)
			}
		}
	}

	// Trustee 2 decrypts the tally first: the mix has not begun.
	code, stdout, stderr := o.trustee(se, "decrypt", 2)
	want("trustee 2 decrypts", code, stdout, stderr, 0, "Trustee 2: partial decryption of the tally of 3 ballots",
		"Question opinion: the mix is not complete yet (0 of 2 rounds): waiting for round 1")

	// A dishonest operator serves trustee 1 another list than its board's.
	o.setDoctorAt("/lists/0", func(body []byte) []byte {
		b := bytes.Clone(body)
		b[0], b[32] = b[32], b[0]
		return b
	})
	code, stdout, stderr = o.trustee(se, "mix", 1)
	want("mix on a doctored list", code, stdout, stderr, 1, "koe: error: question \"priorities\": the server's list 0 is not the one its board implies")
	o.setDoctorAt("", nil)

	code, stdout, stderr = o.trustee(se, "mix", 1)
	want("trustee 1 mixes", code, stdout, stderr, 0, "Question priorities: round 1 of 2 posted to "+o.url,
		"Question opinion: round 1 of 2 posted", "question opinion: shuffling 3 answers of 54 ciphertexts (round 1 of 2)")
	code, stdout, stderr = o.trustee(se, "mix", 1)
	want("trustee 1 again", code, stdout, stderr, 0, "Question opinion: already mixed (you mixed round 1 of 2)")
	code, stdout, stderr = o.trustee(se, "mix", 3)
	want("trustee 3 mixes", code, stdout, stderr, 0, "Question opinion: round 2 of 2 posted", "The mix is complete.")
	code, stdout, stderr = o.trustee(se, "mix", 2)
	want("trustee 2 after the mix", code, stdout, stderr, 0, "Question opinion: the mix is complete (2 rounds, by trustees [1 3])")

	code, stdout, stderr = o.trustee(se, "decrypt", 2)
	want("trustee 2 decrypts the mix", code, stdout, stderr, 0, "Trustee 2: you have already decrypted the tally",
		"Question opinion: decryption of the mixed list of 3 answers (mixed by trustees [1 3]: check with them that they did), with proofs, posted to "+o.url)
	code, stdout, stderr = o.trustee(se, "decrypt", 1)
	want("trustee 1 decrypts", code, stdout, stderr, 0, "Trustee 1: partial decryption of the tally of 3 ballots",
		"Question priorities: decryption of the mixed list of 3 answers", "When 2 trustees have decrypted the tally and every mixed question: koe admin publish")

	var out, errOut bytes.Buffer
	t.Setenv("KOE_ADMIN_TOKEN", operatorToken)
	code = run([]string{"admin", "publish", "--server", o.real, "--election", se.id}, &out, &errOut)
	want("publish", code, out.String(), errOut.String(), 0, "Ballots counted: 3", "2 件の意見 / 2 comments",
		"「図書館を夜も開けてください」", "「Please add English signs.」", "Schulze 勝者 / winner: 避難所の備蓄品拡充 / More supplies for evacuation shelters")

	out.Reset()
	errOut.Reset()
	code = run([]string{"verify", "--server", o.real, "--election", se.id}, &out, &errOut)
	want("verify", code, out.String(), errOut.String(), 0, "Verification PASSED")
}

// TestTrusteeMixBelowPrivacyThreshold: three ballots under a privacy
// threshold of four are not mixed (SPEC.md §16.6): the trustee refuses and
// posts no round.
func TestTrusteeMixBelowPrivacyThreshold(t *testing.T) {
	o := newOperator(t, nil)
	var answers []ballot.Answers
	for range 3 {
		answers = append(answers, ballot.Answers{"science-city": 3.0, "priorities": []any{"shelters"}, "opinion": "特になし"})
	}
	se := o.talliedExample(t, "city-survey", "mix-too-few", 4, answers)
	code, stdout, stderr := o.trustee(se, "mix", 1)
	if code == 0 || !strings.Contains(stderr, "koe: error: refusing to mix: 3 ballots were counted, fewer than the manifest's privacy threshold of 4") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	// The server has no mix to show below the threshold either.
	st, err := client.New(o.real, "").Mixes(context.Background(), se.id)
	if client.IsCode(err, api.CodeBelowPrivacyThreshold) {
		return
	}
	must(t, err)
	for _, q := range st.Questions {
		if len(q.Rounds) != 0 {
			t.Fatalf("question %s has %d rounds", q.Question, len(q.Rounds))
		}
	}
}
