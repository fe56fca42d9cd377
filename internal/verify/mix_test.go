package verify_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"github.com/koe-vote/koe/internal/group"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/mixnet"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/tally"
	"github.com/koe-vote/koe/internal/verify"
	"github.com/koe-vote/koe/internal/zkp"
)

var (
	mixOnce    sync.Once
	mixDir     string
	mixSummary *demo.Summary
	mixErr     error
)

const mixVoters = 12

// mixBase returns a valid record of examples/city-survey.json (a rank
// question "priorities" and a text question "opinion"): 12 voters, 3
// trustees, threshold 2, all three decrypting, so rounds by trustees 1 and
// 2 and shares of 1, 2 and 3. Built once per test binary.
func mixBase(t *testing.T) (string, *demo.Summary) {
	t.Helper()
	mixOnce.Do(func() {
		dir, err := os.MkdirTemp("", "koe-verify-mix-")
		if err != nil {
			mixErr = err
			return
		}
		mixDir = filepath.Join(dir, "record")
		data, _ := os.ReadFile(filepath.Join("..", "..", "examples", "city-survey.json"))
		if len(data) == 0 {
			data, _ = examples.Manifest("city-survey")
		}
		mixSummary, mixErr = demo.Run(demo.Options{Dir: mixDir, Manifest: data, Voters: mixVoters, Trustees: 3, Threshold: 2, Spoil: 1, Seed: 11})
		if mixErr == nil && !mixSummary.Report.OK() {
			mixErr = fmt.Errorf("the base record does not verify: %+v", mixSummary.Report.Failures())
		}
	})
	if mixErr != nil {
		t.Fatal(mixErr)
	}
	return mixDir, mixSummary
}

// chainOf rebuilds question id's chain from the record's files.
func chainOf(t *testing.T, dir, id string) *mixnet.Chain {
	t.Helper()
	e, res, err := record.LoadElection(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, raws := readBallots(t, dir)
	var bs []*ballot.Ballot
	for _, raw := range raws {
		b, err := ballot.Decode(e, raw)
		if err != nil {
			t.Fatal(err)
		}
		bs = append(bs, b)
	}
	qi := -1
	for i, q := range e.Manifest.Questions {
		if q.ID == id {
			qi = i
		}
	}
	c, err := mixnet.NewChain(e, qi, bs, res.VerificationKeys, e.Manifest.Threshold)
	if err != nil {
		t.Fatal(err)
	}
	files, err := record.ListMix(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	for k, name := range files.Rounds {
		msg, _ := os.ReadFile(name)
		if err := c.AddRound(files.Trustees[k], msg); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// failureLines verifies dir and returns its failures, one per line; the
// record must not verify.
func failureLines(t *testing.T, dir string) []string {
	t.Helper()
	rep := verify.Record(dir, verify.Options{})
	if rep.OK() {
		t.Fatal("a tampered record verified")
	}
	var lines []string
	for _, f := range rep.Failures() {
		lines = append(lines, f.What+": "+f.Detail)
	}
	return lines
}

func wantFailure(t *testing.T, dir string, want []string) {
	t.Helper()
	lines := failureLines(t, dir)
	for _, l := range lines {
		if containsAll(l, want) {
			return
		}
	}
	t.Fatalf("no failure mentions %q; failures:\n%s", want, strings.Join(lines, "\n"))
}

func TestMixRecordVerifies(t *testing.T) {
	dir, s := mixBase(t)
	var stages []string
	var last [2]int
	rep := verify.Record(dir, verify.Options{Progress: func(stage string, done, total int) {
		if len(stages) == 0 || stages[len(stages)-1] != stage {
			stages = append(stages, stage)
		}
		if stage == "mixes" {
			last = [2]int{done, total}
		}
	}})
	if !rep.OK() {
		t.Fatalf("%+v", rep.Failures())
	}
	// Two questions, each 2 rounds and 3 shares.
	if strings.Join(stages, ",") != "ballots,mixes" || last != [2]int{10, 10} {
		t.Fatalf("progress stages %v, last mixes step %v", stages, last)
	}
	for _, q := range rep.Results.Questions {
		if q.Kind == ballot.KindText && (q.Answers == nil || *q.Answers != len(s.Mixed[1].Comments)) {
			t.Fatalf("text counts not recomputed: %+v", q)
		}
		if q.Kind == ballot.KindRank && (q.Valid == nil || len(q.Winners) == 0) {
			t.Fatalf("rank counts not recomputed: %+v", q)
		}
	}
	passed := map[string]bool{}
	for _, c := range rep.Checks {
		passed[c.What] = true
	}
	for _, what := range []string{"mixes/opinion", "mixes/priorities", "mixed/opinion.json", "mixed/priorities.json"} {
		if !passed[what] {
			t.Errorf("no check of %s", what)
		}
	}
}

// vectorAt returns the byte range of vector i (0-based) of a round
// message's list, of width w.
func vectorAt(i, w int) (int, int) { return 64 * w * i, 64 * w * (i + 1) }

func TestTamperedMixesAreRejected(t *testing.T) {
	dir0, s := mixBase(t)
	opinion := chainOf(t, dir0, "opinion")
	w := opinion.Input.Width()
	round := func(dir string, r, j int) string { return record.MixRoundFile(dir, "opinion", r, j) }
	share := func(dir string, j int) string { return record.MixShareFile(dir, "opinion", j) }
	cases := []struct {
		name   string
		tamper func(t *testing.T, dir string)
		want   []string
	}{
		{"a round with one ciphertext replaced", func(t *testing.T, dir string) {
			msg := readFile(t, round(dir, 1, 1))
			ct := elgamalEncrypt(t, s)
			copy(msg[64*w*3+64*2:], ct)
			writeFile(t, round(dir, 1, 1), msg)
		}, []string{"mixes/opinion/round-1-1.bin", "question \"opinion\" round 1", "not attested by trustee 1"}},
		{"a round with one ciphertext replaced, attested again by its trustee", func(t *testing.T, dir string) {
			msg := readFile(t, round(dir, 1, 1))
			ct := elgamalEncrypt(t, s)
			copy(msg[64*w*3+64*2:], ct)
			writeFile(t, round(dir, 1, 1), reattest(t, s, opinion.Question, msg, 1, 1))
		}, []string{"mixes/opinion/round-1-1.bin", "question \"opinion\" round 1 by trustee 1", "shuffle"}},
		{"a round with one vector dropped", func(t *testing.T, dir string) {
			msg := readFile(t, round(dir, 2, 2))
			lo, hi := vectorAt(4, w)
			writeFile(t, round(dir, 2, 2), append(msg[:lo:lo], msg[hi:]...))
		}, []string{"mixes/opinion/round-2-2.bin", "round 2 by trustee 2", "bytes"}},
		{"two vectors swapped after the proof", func(t *testing.T, dir string) {
			msg := readFile(t, round(dir, 2, 2))
			a0, a1 := vectorAt(0, w)
			b0, b1 := vectorAt(1, w)
			a := bytes.Clone(msg[a0:a1])
			copy(msg[a0:a1], msg[b0:b1])
			copy(msg[b0:b1], a)
			writeFile(t, round(dir, 2, 2), reattest(t, s, opinion.Question, msg, 2, 2))
		}, []string{"mixes/opinion/round-2-2.bin", "round 2 by trustee 2", "shuffle"}},
		{"a round file of another trustee", func(t *testing.T, dir string) {
			os.Rename(round(dir, 1, 1), round(dir, 1, 3))
		}, []string{"mixes/opinion/round-1-3.bin", "round 1 by trustee 3"}},
		{"a round by a trustee who mixed already", func(t *testing.T, dir string) {
			os.Rename(round(dir, 2, 2), round(dir, 2, 1))
		}, []string{"mixes/opinion/round-2-1.bin", "trustee 1 already mixed"}},
		{"a round by a trustee not in the ceremony", func(t *testing.T, dir string) {
			os.Rename(round(dir, 2, 2), round(dir, 2, 4))
		}, []string{"mixes/opinion/round-2-4.bin", "trustee 4 is not a qualified trustee"}},
		{"the last round missing", func(t *testing.T, dir string) {
			os.Remove(round(dir, 2, 2))
		}, []string{"mixes/opinion", "beside 1 of the 2 rounds"}},
		{"the last round and the shares missing", func(t *testing.T, dir string) {
			os.Remove(round(dir, 2, 2))
			for j := 1; j <= 3; j++ {
				os.Remove(share(dir, j))
			}
		}, []string{"mixes/opinion", "results are published but question \"opinion\" has 1 of its 2 rounds"}},
		{"the first round missing", func(t *testing.T, dir string) {
			os.Remove(round(dir, 1, 1))
		}, []string{"mixes/opinion", "round 1 is missing"}},
		{"no mix at all", func(t *testing.T, dir string) {
			os.RemoveAll(filepath.Join(dir, record.MixesDir, "opinion"))
		}, []string{"mixes/opinion", "has 0 of its 2 rounds"}},
		{"an extra round", func(t *testing.T, dir string) {
			writeFile(t, round(dir, 3, 3), readFile(t, round(dir, 2, 2)))
		}, []string{"mixes/opinion", "3 round files", "exactly 2 rounds"}},
		{"two files for one round", func(t *testing.T, dir string) {
			writeFile(t, round(dir, 2, 3), readFile(t, round(dir, 2, 2)))
		}, []string{"mixes/opinion", "two files for round 2"}},
		{"a decryption share with one component changed", func(t *testing.T, dir string) {
			data := readFile(t, share(dir, 3))
			const per = 32 + zkp.DLEQSize
			// D of component 5 := D of component 6, a valid element.
			copy(data[36+4*per:36+4*per+32], data[36+5*per:36+5*per+32])
			writeFile(t, share(dir, 3), data)
		}, []string{"mixes/opinion/decryption-3.bin", "trustee 3", "component 5"}},
		{"a decryption share of another list", func(t *testing.T, dir string) {
			// Trustee 2 decrypts round 1's output instead of the final list.
			data, err := tally.DecryptList(rand.Reader, s.Election.Context[:], opinion.Rounds[0].Output, 2, s.Trustees[1].Share())
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, share(dir, 2), data)
		}, []string{"mixes/opinion/decryption-2.bin", "trustee 2", "another list"}},
		{"a decryption share in another trustee's file", func(t *testing.T, dir string) {
			os.Remove(share(dir, 1))
			os.Rename(share(dir, 3), share(dir, 1))
		}, []string{"mixes/opinion/decryption-1.bin", "trustee 1"}},
		{"decryption shares below the threshold", func(t *testing.T, dir string) {
			os.Remove(share(dir, 1))
			os.Remove(share(dir, 2))
		}, []string{"mixes/opinion", "1 valid decryption shares", "threshold is 2"}},
		{"mixed/Q.json with a comment changed", func(t *testing.T, dir string) {
			editJSON(t, record.MixedFile(dir, "opinion"), func(v map[string]any) {
				cs := v["comments"].([]any)
				cs[2] = cs[2].(string) + "!"
			})
		}, []string{"mixed/opinion.json", "comment 3 is"}},
		{"mixed/Q.json with a comment dropped", func(t *testing.T, dir string) {
			editJSON(t, record.MixedFile(dir, "opinion"), func(v map[string]any) {
				cs := v["comments"].([]any)
				v["comments"] = cs[1:]
			})
		}, []string{"mixed/opinion.json", "comments, the decryption gives"}},
		{"mixed/Q.json with the comments reordered", func(t *testing.T, dir string) {
			editJSON(t, record.MixedFile(dir, "opinion"), func(v map[string]any) {
				cs := v["comments"].([]any)
				for k := 1; k < len(cs); k++ {
					if cs[k] != cs[0] {
						cs[0], cs[k] = cs[k], cs[0]
						return
					}
				}
				t.Fatal("every comment is the same")
			})
		}, []string{"mixed/opinion.json", "comment 1 is"}},
		{"mixed/Q.json with an unknown field", func(t *testing.T, dir string) {
			editJSON(t, record.MixedFile(dir, "opinion"), func(v map[string]any) { v["note"] = "x" })
		}, []string{"mixed/opinion.json", "unknown field"}},
		{"mixed/Q.json missing", func(t *testing.T, dir string) {
			os.Remove(record.MixedFile(dir, "opinion"))
		}, []string{"mixed/opinion.json"}},
		{"mixed/Q.json with another winner", func(t *testing.T, dir string) {
			editJSON(t, record.MixedFile(dir, "priorities"), func(v map[string]any) { v["winners"] = otherWinner(v["winners"]) })
		}, []string{"mixed/priorities.json", "winners ["}},
		{"mixed/Q.json with a Borda score changed", func(t *testing.T, dir string) {
			editJSON(t, record.MixedFile(dir, "priorities"), func(v map[string]any) {
				b := v["borda"].([]any)
				b[1] = b[1].(float64) + 1
			})
		}, []string{"mixed/priorities.json", "Borda scores"}},
		{"results.json with a wrong number of text answers", func(t *testing.T, dir string) {
			editResultsQuestion(t, dir, "opinion", func(q map[string]any) { q["answers"] = q["answers"].(float64) + 1 })
		}, []string{"results.json", "\"opinion\"", "answers"}},
		{"results.json with a wrong empty count", func(t *testing.T, dir string) {
			editResultsQuestion(t, dir, "opinion", func(q map[string]any) { q["empty"] = q["empty"].(float64) + 1 })
		}, []string{"results.json", "\"opinion\"", "empty"}},
		{"results.json without the invalid count", func(t *testing.T, dir string) {
			editResultsQuestion(t, dir, "opinion", func(q map[string]any) { delete(q, "invalid") })
		}, []string{"results.json", "\"opinion\"", "\"invalid\" is missing"}},
		{"results.json with another rank winner", func(t *testing.T, dir string) {
			editResultsQuestion(t, dir, "priorities", func(q map[string]any) { q["winners"] = otherWinner(q["winners"]) })
		}, []string{"results.json", "\"priorities\"", "winners"}},
		{"results.json with a wrong number of valid rankings", func(t *testing.T, dir string) {
			editResultsQuestion(t, dir, "priorities", func(q map[string]any) { q["valid"] = q["valid"].(float64) - 1 })
		}, []string{"results.json", "\"priorities\"", "valid"}},
		{"results.json with text counts on a tallied question", func(t *testing.T, dir string) {
			editResultsQuestion(t, dir, "age", func(q map[string]any) { q["answers"] = 3.0 })
		}, []string{"results.json", "\"age\"", "\"answers\""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, dir0)
			tc.tamper(t, dir)
			wantFailure(t, dir, tc.want)
		})
	}
}

// otherWinner returns a list of winners other than ws.
func otherWinner(ws any) []any {
	if l := ws.([]any); len(l) == 1 && l[0] == "shelters" {
		return []any{"bike-lanes"}
	}
	return []any{"shelters"}
}

func editResultsQuestion(t *testing.T, dir, id string, edit func(map[string]any)) {
	t.Helper()
	editJSON(t, filepath.Join(dir, record.Results), func(v map[string]any) {
		for _, q := range v["questions"].([]any) {
			if q := q.(map[string]any); q["id"] == id {
				edit(q)
				return
			}
		}
		t.Fatalf("no question %q in results.json", id)
	})
}

// elgamalEncrypt returns a fresh encryption of 0 under the election key,
// encoded, for replacing a ciphertext.
// reattest replaces a round message's attestation with trustee j's own
// for what the message now holds: what a dishonest trustee, holding its
// key share, can do, so that the proof of shuffle alone must catch it.
func reattest(t *testing.T, s *demo.Summary, qi int, msg []byte, r, j int) []byte {
	t.Helper()
	body := msg[:len(msg)-zkp.SchnorrSize]
	var x *group.Scalar
	for _, tr := range s.Trustees {
		if tr.Index == j {
			x = tr.Share()
		}
	}
	ctx := mixnet.AttestationContext(mixnet.RoundContext(s.Election.Context, qi, r, j), body)
	p, err := zkp.ProveSchnorr(rand.Reader, ctx, x, group.BaseMul(x))
	if err != nil {
		t.Fatal(err)
	}
	return append(bytes.Clone(body), p.Bytes()...)
}

func elgamalEncrypt(t *testing.T, s *demo.Summary) []byte {
	t.Helper()
	ct, _, err := elgamal.EncryptRandom(rand.Reader, s.Election.Key, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ct.Bytes()
}

// componentAt returns the offset in raw of mixed question qi's component
// k ciphertext (its A ‖ B, then the Schnorr proof).
func componentAt(t *testing.T, e *ballot.Election, raw []byte, qi, k int) int {
	t.Helper()
	b, err := ballot.Decode(e, raw)
	if err != nil {
		t.Fatal(err)
	}
	off := bytes.Index(raw, b.MixVector(qi)[k].Bytes())
	if off < 0 {
		t.Fatal("component not found")
	}
	return off
}

// TestCopiedTextComponent: a voter who copies another ballot's text
// answer — its ciphertexts, so its plaintext after the mix — cannot prove
// knowledge of their nonces under its own binding.
func TestCopiedTextComponent(t *testing.T) {
	dir0, _ := mixBase(t)
	qi := 3 // opinion
	t.Run("into another ballot, proofs and all", func(t *testing.T) {
		dir := copyDir(t, dir0)
		e, raws := readBallots(t, dir)
		w := e.Style.Questions[qi].Selections
		from, to := componentAt(t, e, raws[0], qi, 0), componentAt(t, e, raws[4], qi, 0)
		n := w * (64 + zkp.SchnorrSize)
		copy(raws[4][to:to+n], raws[0][from:from+n])
		writeBallots(t, dir, raws)
		rep := verify.Record(dir, verify.Options{})
		if rep.OK() {
			t.Fatal("a ballot with a copied text answer verified")
		}
		named := false
		for _, f := range rep.Failures() {
			if f.What == record.Ballots && containsAll(f.Detail, []string{"ballot 5", "question 4 (opinion) component 1", "nonce proof"}) {
				named = true
			}
		}
		if !named {
			t.Fatalf("the copied answer is not named: %+v", rep.Failures())
		}
		// An invalid ballot stops verification after the spoiled ballots
		// (SPEC.md §11 step 5): no tally and no mix is checked.
		for _, c := range rep.Checks {
			if c.What == record.Tally || strings.HasPrefix(c.What, record.MixesDir) {
				t.Fatalf("checked %s after an invalid ballot: %s", c.What, c.Detail)
			}
		}
	})
	t.Run("replayed under the victim's binding", func(t *testing.T) {
		// The whole text answer and the binding copied, the other answers
		// fresh: every proof holds, the ciphertexts repeat ballot 3's, so
		// the ballot is excluded and the mix of the other 12 still checks.
		dir := copyDir(t, dir0)
		e, raws := readBallots(t, dir)
		victim, _ := ballot.Decode(e, raws[2])
		pt, err := e.Manifest.Plaintext(ballot.Answers{"age": "20s", "science-city": 2.0, "priorities": []any{"bike-lanes"}, "opinion": "copied"})
		if err != nil {
			t.Fatal(err)
		}
		forged, _, err := ballot.Encrypt(rand.Reader, e, victim.Binding, pt)
		if err != nil {
			t.Fatal(err)
		}
		raw := bytes.Clone(forged.Bytes())
		w := e.Style.Questions[qi].Selections
		from, to := componentAt(t, e, raws[2], qi, 0), componentAt(t, e, raw, qi, 0)
		n := w * (64 + zkp.SchnorrSize)
		copy(raw[to:to+n], raws[2][from:from+n])
		writeBallots(t, dir, append(raws[:6:6], append([][]byte{raw}, raws[6:]...)...))
		rep := verify.Record(dir, verify.Options{})
		var named bool
		for _, f := range rep.Failures() {
			switch {
			case f.What == record.Ballots && containsAll(f.Detail, []string{"ballot 7", "not counted", "reuses a ciphertext of ballot 3"}):
				named = true
			default:
				t.Errorf("unexpected failure %s: %s", f.What, f.Detail)
			}
		}
		if !named {
			t.Fatalf("the replayed ballot is not named: %+v", rep.Failures())
		}
		passed := map[string]bool{}
		for _, c := range rep.Checks {
			if c.OK {
				passed[c.What] = true
			}
		}
		if !passed["mixes/opinion"] || !passed["mixed/opinion.json"] || !passed[record.Results] {
			t.Fatalf("the mix of the counted ballots was not checked: %+v", rep.Checks)
		}
	})
}

// TestMixedFiles: the mixed/Q.json files a record derived from a board
// lacks are computed from its rounds and shares exactly as the record's
// writer wrote them.
func TestMixedFiles(t *testing.T) {
	dir0, _ := mixBase(t)
	got, err := verify.MixedFiles(dir0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d files", len(got))
	}
	for name, data := range got {
		if want := readFile(t, filepath.Join(dir0, filepath.FromSlash(name))); !bytes.Equal(data, want) {
			t.Fatalf("%s differs from the record's", name)
		}
	}
	// In memory, from the files without mixed/.
	files := map[string][]byte{}
	err = filepath.WalkDir(dir0, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir0, p)
		if name := filepath.ToSlash(rel); !strings.HasPrefix(name, record.MixedDir+"/") {
			files[name] = readFile(t, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := verify.MixedFilesOf(files); err != nil {
		t.Fatal(err)
	}
	for name, data := range got {
		if !bytes.Equal(files[name], data) {
			t.Fatalf("MixedFilesOf: %s differs", name)
		}
	}
	// A question whose shares are below the threshold gets no file.
	dir := copyDir(t, dir0)
	os.Remove(record.MixShareFile(dir, "opinion", 1))
	os.Remove(record.MixShareFile(dir, "opinion", 2))
	got, err = verify.MixedFiles(dir)
	if err != nil || len(got) != 1 || got["mixed/priorities.json"] == nil {
		t.Fatalf("%d files, %v", len(got), err)
	}
}

// TestMixOutOfPlace: there is no mix before the tally, nor of a tally
// below the privacy threshold (SPEC.md §16.6); a record holding one is
// invalid, though it publishes no decryption of the tally.
func TestMixOutOfPlace(t *testing.T) {
	dir0, s := mixBase(t)
	unpublish := func(dir string) {
		os.Remove(filepath.Join(dir, record.Results))
		os.RemoveAll(filepath.Join(dir, record.DecryptDir))
		os.RemoveAll(filepath.Join(dir, record.MixedDir))
	}
	t.Run("before the tally", func(t *testing.T) {
		dir := copyDir(t, dir0)
		unpublish(dir)
		os.Remove(filepath.Join(dir, record.Tally))
		wantFailure(t, dir, []string{"mixes", "before the tally"})
		// Without the mix, the same record is in progress and valid so far.
		os.RemoveAll(filepath.Join(dir, record.MixesDir))
		if rep := verify.Record(dir, verify.Options{}); !rep.OK() || !rep.InProgress {
			t.Fatalf("in progress %v: %+v", rep.InProgress, rep.Failures())
		}
	})
	t.Run("below the privacy threshold", func(t *testing.T) {
		dir := copyDir(t, dir0)
		unpublish(dir)
		p := s.Election.Manifest.PrivacyThreshold()
		for n := mixVoters; n >= p; n-- {
			dropLastBallot(t, dir, s.Election)
		}
		wantFailure(t, dir, []string{"mixes", "below the manifest's privacy threshold"})
		os.RemoveAll(filepath.Join(dir, record.MixesDir))
		if rep := verify.Record(dir, verify.Options{}); !rep.OK() || !rep.Withheld {
			t.Fatalf("withheld %v: %+v", rep.Withheld, rep.Failures())
		}
	})
}
