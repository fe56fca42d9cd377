package verify_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/tally"
	"github.com/koe-vote/koe/internal/verify"
	"github.com/koe-vote/koe/internal/zkp"
)

var (
	baseOnce sync.Once
	baseDir  string
	baseErr  error
)

const baseVoters = 24

// base returns a valid record of a small survey: 3 trustees, threshold 2,
// all three decrypting, one spoiled ballot.
func base(t *testing.T) string {
	t.Helper()
	baseOnce.Do(func() {
		dir, err := os.MkdirTemp("", "koe-verify-test-")
		if err != nil {
			baseErr = err
			return
		}
		baseDir = filepath.Join(dir, "record")
		data, _ := examples.Manifest("survey")
		_, baseErr = demo.Run(demo.Options{Dir: baseDir, Manifest: data, Voters: baseVoters, Trustees: 3, Threshold: 2, Spoil: 1, Seed: 7})
	})
	if baseErr != nil {
		t.Fatal(baseErr)
	}
	return baseDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if baseDir != "" {
		os.RemoveAll(filepath.Dir(baseDir))
	}
	os.Exit(code)
}

// copyRecord copies the base record into a fresh directory.
func copyRecord(t *testing.T) string { return copyDir(t, base(t)) }

// copyDir copies the record in src into a fresh directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "record")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestHonestRecordVerifies(t *testing.T) {
	for _, unbatched := range []bool{false, true} {
		rep := verify.Record(base(t), verify.Options{Unbatched: unbatched})
		if !rep.OK() {
			t.Fatalf("unbatched=%v: %+v", unbatched, rep.Failures())
		}
		if rep.Ballots != baseVoters || len(rep.Spoiled) != 1 || rep.Results == nil {
			t.Fatalf("report: %d ballots, %d spoiled, results %v", rep.Ballots, len(rep.Spoiled), rep.Results)
		}
	}
}

func readBallots(t *testing.T, dir string) (*ballot.Election, [][]byte) {
	t.Helper()
	e, _, err := record.LoadElection(dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, record.Ballots))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for i := 0; i < len(data); i += e.Style.Size() {
		out = append(out, bytes.Clone(data[i:i+e.Style.Size()]))
	}
	return e, out
}

func writeBallots(t *testing.T, dir string, raws [][]byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, record.Ballots), bytes.Join(raws, nil), 0o644); err != nil {
		t.Fatal(err)
	}
}

// offsets of question q's block, and of selection s within it, in a ballot.
func selectionOffset(st *ballot.Style, q, s int) int {
	off := ballot.HeaderSize
	for qi, qs := range st.Questions {
		sel := elgamal.CiphertextSize + zkp.RangeSize(0, qs.Max)
		if qi == q {
			return off + s*sel
		}
		off += qs.Selections * sel
		if qs.HasTotal {
			off += zkp.RangeSize(qs.TotalLo, qs.TotalHi)
		}
	}
	panic("no such question")
}

func questionEnd(st *ballot.Style, q int) int {
	qs := st.Questions[q]
	end := selectionOffset(st, q, 0) + qs.Selections*(elgamal.CiphertextSize+zkp.RangeSize(0, qs.Max))
	if qs.HasTotal {
		end += zkp.RangeSize(qs.TotalLo, qs.TotalHi)
	}
	return end
}

// selectionProofContext recomputes SPEC.md §8.3's selection proof context
// independently of the ballot package.
func selectionProofContext(e *ballot.Election, binding [32]byte, q, s int) []byte {
	d := group.NewDigest("koe/v2/ballot/selection").Bytes("election", e.Context[:]).Bytes("binding", binding[:]).
		Uint64("question", uint64(q)).Uint64("selection", uint64(s)).Digest32()
	return d[:]
}

func editJSON(t *testing.T, name string, edit func(map[string]any)) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	edit(v)
	out, _ := json.MarshalIndent(v, "", "  ")
	if err := os.WriteFile(name, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// flipHex flips the lowest bit of the byte at index i of a hex string.
func flipHex(s string, i int) string {
	b, _ := hex.DecodeString(s)
	b[i] ^= 1
	return hex.EncodeToString(b)
}

func TestTamperedRecordsAreRejected(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(t *testing.T, dir string)
		want   []string // every string must appear in one failure line
	}{
		{"bit flipped in a selection's range proof", func(t *testing.T, dir string) {
			e, raws := readBallots(t, dir)
			// the low byte of branch 0's challenge c of question 2, selection 3
			off := selectionOffset(e.Style, 1, 2) + elgamal.CiphertextSize + 2*group.ElementSize
			raws[4][off] ^= 1
			writeBallots(t, dir, raws)
		}, []string{"ballot 5", "question 2 (fields) selection 3", "invalid proof"}},
		{"bit flipped in a total proof's response", func(t *testing.T, dir string) {
			e, raws := readBallots(t, dir)
			off := questionEnd(e.Style, 0) - group.ScalarSize
			raws[0][off] ^= 1
			writeBallots(t, dir, raws)
		}, []string{"ballot 1", "question 1 (age) total", "invalid proof"}},
		{"bit flipped in a commitment, making it non-canonical or wrong", func(t *testing.T, dir string) {
			e, raws := readBallots(t, dir)
			off := selectionOffset(e.Style, 2, 0) + elgamal.CiphertextSize + 5
			raws[7][off] ^= 0x10
			writeBallots(t, dir, raws)
		}, []string{"ballot 8", "question 3"}},
		{"selection encrypting 2 where 0 or 1 is allowed", func(t *testing.T, dir string) {
			e, raws := readBallots(t, dir)
			ct, _, _ := elgamal.EncryptRandom(rand.Reader, e.Key, 2)
			off := selectionOffset(e.Style, 0, 0)
			copy(raws[2][off:], ct.Bytes())
			writeBallots(t, dir, raws)
		}, []string{"ballot 3", "question 1 (age) selection 1", "invalid proof"}},
		{"over-voted question with valid selection proofs", func(t *testing.T, dir string) {
			e, raws := readBallots(t, dir)
			b, err := ballot.Decode(e, raws[5])
			if err != nil {
				t.Fatal(err)
			}
			// Set every option of "fields" (at most 3 allowed) to 1, each
			// with a valid 0..1 proof; the total proof cannot follow.
			for s := 0; s < e.Style.Questions[1].Selections; s++ {
				ct, r, _ := elgamal.EncryptRandom(rand.Reader, e.Key, 1)
				st := &zkp.RangeStatement{Context: selectionProofContext(e, b.Binding, 1, s), K: e.Key, A: ct.A, B: ct.B, Lo: 0, Hi: 1}
				proof, err := zkp.ProveRange(rand.Reader, st, 1, r)
				if err != nil {
					t.Fatal(err)
				}
				off := selectionOffset(e.Style, 1, s)
				copy(raws[5][off:], proof.AppendBytes(ct.Bytes()))
			}
			writeBallots(t, dir, raws)
		}, []string{"ballot 6", "question 2 (fields) total", "invalid proof"}},
		{"ballot dropped", func(t *testing.T, dir string) {
			_, raws := readBallots(t, dir)
			writeBallots(t, dir, append(raws[:9], raws[10:]...))
		}, []string{"tally.json", "counts 24 ballots, the record holds 23"}},
		{"ballot duplicated", func(t *testing.T, dir string) {
			_, raws := readBallots(t, dir)
			writeBallots(t, dir, append(raws, raws[1]))
		}, []string{"ballot 25", "duplicate of ballot 2"}},
		{"ballot replaced by another valid ballot", func(t *testing.T, dir string) {
			e, raws := readBallots(t, dir)
			pt, _ := e.Manifest.Plaintext(ballot.Answers{"age": "20s", "fields": []any{"digital"}, "science-city": 1.0, "internet-voting": "for"})
			b, _, err := ballot.Encrypt(rand.Reader, e, [32]byte{9}, pt)
			if err != nil {
				t.Fatal(err)
			}
			raws[11] = b.Bytes()
			writeBallots(t, dir, raws)
		}, []string{"tally.json", "is not the sum of the ballots' ciphertexts"}},
		{"a question copied from another ballot (replay)", func(t *testing.T, dir string) {
			e, raws := readBallots(t, dir)
			victim, _ := ballot.Decode(e, raws[3])
			pt, _ := e.Manifest.Plaintext(ballot.Answers{"age": "20s", "fields": []any{"digital"}, "science-city": 1.0, "internet-voting": "for"})
			forged, _, err := ballot.Encrypt(rand.Reader, e, victim.Binding, pt)
			if err != nil {
				t.Fatal(err)
			}
			raw := bytes.Clone(forged.Bytes())
			end := questionEnd(e.Style, 0)
			copy(raw[ballot.HeaderSize:end], raws[3][ballot.HeaderSize:end])
			writeBallots(t, dir, append(raws, raw))
		}, []string{"ballot 25", "reuses a ciphertext of ballot 4"}},
		{"counted ballot reusing a spoiled ballot's ciphertexts", func(t *testing.T, dir string) {
			e, raws := readBallots(t, dir)
			lines, _ := record.ReadSpoiled(dir)
			s, _ := ballot.ParseSpoiled(lines[0])
			victim, err := ballot.Decode(e, s.Ballot)
			if err != nil {
				t.Fatal(err)
			}
			pt, _ := e.Manifest.Plaintext(ballot.Answers{"age": "20s", "fields": []any{"digital"}, "science-city": 1.0, "internet-voting": "for"})
			forged, _, err := ballot.Encrypt(rand.Reader, e, victim.Binding, pt)
			if err != nil {
				t.Fatal(err)
			}
			raw := bytes.Clone(forged.Bytes())
			end := questionEnd(e.Style, 0)
			copy(raw[ballot.HeaderSize:end], s.Ballot[ballot.HeaderSize:end])
			writeBallots(t, dir, append(raws, raw))
		}, []string{"spoiled.jsonl", "shares a ciphertext with counted ballot 25"}},
		{"ciphertext with nonce 0 (A is the identity)", func(t *testing.T, dir string) {
			e, raws := readBallots(t, dir)
			off := selectionOffset(e.Style, 3, 1)
			copy(raws[13][off:off+32], make([]byte, 32))
			writeBallots(t, dir, raws)
		}, []string{"ballot 14", "A is the identity"}},
		{"ballot of another election", func(t *testing.T, dir string) {
			_, raws := readBallots(t, dir)
			raws[0][len(ballot.Magic)] ^= 1
			writeBallots(t, dir, raws)
		}, []string{"ballot 1", "made for another election"}},
		{"truncated ballots file", func(t *testing.T, dir string) {
			_, raws := readBallots(t, dir)
			raws[len(raws)-1] = raws[len(raws)-1][:100]
			writeBallots(t, dir, raws)
		}, []string{"ballots.bin", "not a whole number"}},
		{"spoiled ballot also counted", func(t *testing.T, dir string) {
			_, raws := readBallots(t, dir)
			lines, _ := record.ReadSpoiled(dir)
			s, err := ballot.ParseSpoiled(lines[0])
			if err != nil {
				t.Fatal(err)
			}
			writeBallots(t, dir, append(raws, s.Ballot))
		}, []string{"spoiled.jsonl", "also among the counted ballots"}},
		{"spoiled ballot opened to other choices", func(t *testing.T, dir string) {
			lines, _ := record.ReadSpoiled(dir)
			s, _ := ballot.ParseSpoiled(lines[0])
			// The rating's one-hot row moved to the next value.
			row := s.Values[2]
			s.Values[2] = append([]uint64{row[len(row)-1]}, row[:len(row)-1]...)
			data, _ := json.Marshal(s)
			os.WriteFile(filepath.Join(dir, record.Spoiled), append(data, '\n'), 0o644)
		}, []string{"spoiled.jsonl", "question 3 selection", "does not encrypt"}},
		{"spoiled ballot opened to two ratings", func(t *testing.T, dir string) {
			lines, _ := record.ReadSpoiled(dir)
			s, _ := ballot.ParseSpoiled(lines[0])
			for i := range s.Values[2] {
				s.Values[2][i] = uint64(i % 2)
			}
			data, _ := json.Marshal(s)
			os.WriteFile(filepath.Join(dir, record.Spoiled), append(data, '\n'), 0o644)
		}, []string{"spoiled.jsonl", "science-city", "exactly one value chosen, this has 2"}},
		{"bit flipped in a trustee's coefficient proof", func(t *testing.T, dir string) {
			editJSON(t, record.CeremonyFile(dir, ceremony.RoundAnnounce, 2), func(v map[string]any) {
				proofs := v["proofs"].([]any)
				proofs[0] = flipHex(proofs[0].(string), 40)
			})
		}, []string{"ceremony", "trustee 2"}},
		{"manifest edited after the ceremony", func(t *testing.T, dir string) {
			name := filepath.Join(dir, record.Manifest)
			data, _ := os.ReadFile(name)
			os.WriteFile(name, bytes.Replace(data, []byte("Teens"), []byte("Teenagers"), 1), 0o644)
		}, []string{"ceremony"}},
		{"joint key in election.json replaced", func(t *testing.T, dir string) {
			editJSON(t, filepath.Join(dir, record.Election), func(v map[string]any) {
				v["jointKey"] = hex.EncodeToString(group.BaseMul(group.ScalarFromUint64(5)).Bytes())
			})
		}, []string{"election.json", "does not match"}},
		{"bit flipped in a decryption proof", func(t *testing.T, dir string) {
			editJSON(t, record.DecryptionFile(dir, 1), func(v map[string]any) {
				p := v["partials"].([]any)[3].(map[string]any)
				p["proof"] = flipHex(p["proof"].(string), 70)
			})
		}, []string{"decryptions/trustee-1.json", "selection 4", "invalid proof"}},
		{"wrong decryption share", func(t *testing.T, dir string) {
			editJSON(t, record.DecryptionFile(dir, 3), func(v map[string]any) {
				ps := v["partials"].([]any)
				ps[0].(map[string]any)["d"] = ps[1].(map[string]any)["d"]
			})
		}, []string{"decryptions/trustee-3.json", "selection 1"}},
		{"decryption shares missing below the threshold", func(t *testing.T, dir string) {
			os.Remove(record.DecryptionFile(dir, 1))
			os.Remove(record.DecryptionFile(dir, 2))
		}, []string{"decryptions", "1 valid partial decryptions, the threshold is 2"}},
		{"decryption share from a trustee's file holding another trustee", func(t *testing.T, dir string) {
			editJSON(t, record.DecryptionFile(dir, 2), func(v map[string]any) { v["trustee"] = 3 })
		}, []string{"decryptions/trustee-2.json", "trustee 3"}},
		{"results that do not match the tally", func(t *testing.T, dir string) {
			editJSON(t, filepath.Join(dir, record.Results), func(v map[string]any) {
				q := v["questions"].([]any)[3].(map[string]any)
				o := q["options"].([]any)[0].(map[string]any)
				o["count"] = o["count"].(float64) + 1
			})
		}, []string{"results.json", "internet-voting", "votes published"}},
		{"rating total changed", func(t *testing.T, dir string) {
			editJSON(t, filepath.Join(dir, record.Results), func(v map[string]any) {
				q := v["questions"].([]any)[2].(map[string]any)
				q["total"] = q["total"].(float64) - 1
			})
		}, []string{"results.json", "science-city", "total differs"}},
		{"rating count changed", func(t *testing.T, dir string) {
			editJSON(t, filepath.Join(dir, record.Results), func(v map[string]any) {
				q := v["questions"].([]any)[2].(map[string]any)
				c := q["values"].([]any)[1].(map[string]any)
				c["count"] = c["count"].(float64) + 1
			})
		}, []string{"results.json", `"science-city" value 2`, "ballots published, the decryption gives"}},
		{"rating counts moved to other values", func(t *testing.T, dir string) {
			editJSON(t, filepath.Join(dir, record.Results), func(v map[string]any) {
				q := v["questions"].([]any)[2].(map[string]any)
				for _, c := range q["values"].([]any) {
					c.(map[string]any)["value"] = c.(map[string]any)["value"].(float64) + 1
				}
			})
		}, []string{"results.json", "science-city", "entry 1 of values is for value 2, want 1"}},
		{"rating value left out", func(t *testing.T, dir string) {
			editJSON(t, filepath.Join(dir, record.Results), func(v map[string]any) {
				q := v["questions"].([]any)[2].(map[string]any)
				q["values"] = q["values"].([]any)[1:]
			})
		}, []string{"results.json", "science-city", "4 values, want 5"}},
		{"rating counts removed", func(t *testing.T, dir string) {
			editJSON(t, filepath.Join(dir, record.Results), func(v map[string]any) {
				delete(v["questions"].([]any)[2].(map[string]any), "values")
			})
		}, []string{"results.json", "science-city", "0 values, want 5"}},
		{"tally ciphertext replaced", func(t *testing.T, dir string) {
			editJSON(t, filepath.Join(dir, record.Tally), func(v map[string]any) {
				cts := v["ciphertexts"].([]any)
				cts[0], cts[1] = cts[1], cts[0]
			})
		}, []string{"tally.json", "selection 1 is not the sum"}},
		{"unknown field in results", func(t *testing.T, dir string) {
			editJSON(t, filepath.Join(dir, record.Results), func(v map[string]any) { v["winner"] = "yes" })
		}, []string{"results.json", "unknown field"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyRecord(t)
			tc.tamper(t, dir)
			rep := verify.Record(dir, verify.Options{})
			if rep.OK() {
				t.Fatal("a tampered record verified")
			}
			var lines []string
			for _, f := range rep.Failures() {
				lines = append(lines, f.What+": "+f.Detail)
			}
			for _, l := range lines {
				if containsAll(l, tc.want) {
					return
				}
			}
			t.Fatalf("no failure mentions %q; failures:\n%s", tc.want, strings.Join(lines, "\n"))
		})
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func TestBallotsMatchesRecord(t *testing.T) {
	dir := base(t)
	e, _, err := record.LoadElection(dir)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := verify.Ballots(dir, e, verify.Options{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	var pub tally.Encrypted
	if err := record.ReadJSON(filepath.Join(dir, record.Tally), &pub); err != nil {
		t.Fatal(err)
	}
	got := acc.Publish()
	if got.Ballots != pub.Ballots || strings.Join(got.Ciphertexts, ",") != strings.Join(pub.Ciphertexts, ",") {
		t.Fatal("Ballots' sum differs from the published tally")
	}
}

// TestViolatingBallotIsNamedAndExcluded: a counted ballot that breaks a
// cross-ballot rule (SPEC.md §11 step 5) is named, not counted, and the
// tally and results are still checked against the other ballots
// (crypto-audit M2: one voter must not stop the whole record's check).
func TestViolatingBallotIsNamedAndExcluded(t *testing.T) {
	other := ballot.Answers{"age": "20s", "fields": []any{"digital"}, "science-city": 1.0, "internet-voting": "for"}
	// reprove returns a ballot whose first question's ciphertexts and
	// proofs are those of src, under src's binding, the rest fresh.
	reprove := func(t *testing.T, e *ballot.Election, src []byte) []byte {
		victim, err := ballot.Decode(e, src)
		if err != nil {
			t.Fatal(err)
		}
		pt, _ := e.Manifest.Plaintext(other)
		forged, _, err := ballot.Encrypt(rand.Reader, e, victim.Binding, pt)
		if err != nil {
			t.Fatal(err)
		}
		raw := bytes.Clone(forged.Bytes())
		end := questionEnd(e.Style, 0)
		copy(raw[ballot.HeaderSize:end], src[ballot.HeaderSize:end])
		return raw
	}
	spoiledBallot := func(t *testing.T, dir string) []byte {
		lines, _ := record.ReadSpoiled(dir)
		s, err := ballot.ParseSpoiled(lines[0])
		if err != nil {
			t.Fatal(err)
		}
		return s.Ballot
	}
	for _, tc := range []struct {
		name   string
		insert func(t *testing.T, e *ballot.Election, dir string, raws [][]byte) []byte
		at     int // where the violating ballot goes in ballots.bin
		want   []string
	}{
		{"a duplicate of a counted ballot", func(t *testing.T, e *ballot.Election, dir string, raws [][]byte) []byte {
			return raws[1]
		}, 24, []string{"ballot 25", "not counted", "duplicate of ballot 2"}},
		{"a counted ballot's ciphertext reused", func(t *testing.T, e *ballot.Election, dir string, raws [][]byte) []byte {
			return reprove(t, e, raws[3])
		}, 24, []string{"ballot 25", "not counted", "reuses a ciphertext of ballot 4"}},
		{"a counted ballot's ciphertext reused, in the middle", func(t *testing.T, e *ballot.Election, dir string, raws [][]byte) []byte {
			return reprove(t, e, raws[1])
		}, 5, []string{"ballot 6", "not counted", "reuses a ciphertext of ballot 2"}},
		{"a spoiled ballot cast", func(t *testing.T, e *ballot.Election, dir string, raws [][]byte) []byte {
			return spoiledBallot(t, dir)
		}, 24, []string{"ballot 25", "not counted", "was spoiled"}},
		{"a spoiled ballot's ciphertext reused", func(t *testing.T, e *ballot.Election, dir string, raws [][]byte) []byte {
			return reprove(t, e, spoiledBallot(t, dir))
		}, 10, []string{"ballot 11", "not counted", "ciphertext of a spoiled ballot"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyRecord(t)
			e, raws := readBallots(t, dir)
			bad := tc.insert(t, e, dir, raws)
			raws = append(raws[:tc.at:tc.at], append([][]byte{bad}, raws[tc.at:]...)...)
			writeBallots(t, dir, raws)
			rep := verify.Record(dir, verify.Options{})
			if rep.OK() {
				t.Fatal("a record with a violating ballot verified")
			}
			var named bool
			for _, f := range rep.Failures() {
				switch {
				case f.What == record.Ballots && containsAll(f.Detail, tc.want):
					named = true
				case f.What == record.Spoiled && strings.Contains(tc.name, "spoiled"):
					// The spoiled ballot that shares it is named too.
				default:
					t.Errorf("unexpected failure %s: %s", f.What, f.Detail)
				}
			}
			if !named {
				t.Errorf("no failure says %q: %+v", tc.want, rep.Failures())
			}
			passed := map[string]string{}
			for _, c := range rep.Checks {
				if c.OK {
					passed[c.What] = c.Detail
				}
			}
			if !strings.Contains(passed[record.Tally], "sum of the 24 ballots") || passed[record.Results] == "" || rep.Results == nil || rep.Ballots != baseVoters {
				t.Fatalf("the tally of the other %d ballots was not checked: %d ballots, checks %+v", baseVoters, rep.Ballots, rep.Checks)
			}
		})
	}
}
