package ballot

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/koe-vote/koe/internal/strictjson/strictjsontest"
	"os"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/zkp"
)

// verifyBothWays checks a ballot with Verify and with a batch and fails the
// test if they disagree. It returns Verify's error.
func verifyBothWays(t *testing.T, e *Election, b *Ballot) error {
	t.Helper()
	err := b.Verify(e)
	batch := group.NewBatch()
	addErr := b.AddTo(batch, e)
	batchOK := addErr == nil && batch.Verify()
	if (err == nil) != batchOK {
		t.Fatalf("Verify says %v, batch says ok=%v (AddTo: %v)", err, batchOK, addErr)
	}
	if err != nil && !errors.Is(err, ErrBallot) {
		t.Fatalf("error %v does not wrap ErrBallot", err)
	}
	return err
}

// prover makes the proof attached to a forged ballot. claim is the value
// the forger pretends the ciphertext holds; r is its real nonce.
type prover func(st *zkp.RangeStatement, claim uint64, r *group.Scalar) (*zkp.Range, error)

// onlyBad uses p for claims outside the statement's range and proves
// honestly otherwise, so that only the bad part of a forgery is forged.
func onlyBad(p prover) prover {
	return func(st *zkp.RangeStatement, claim uint64, r *group.Scalar) (*zkp.Range, error) {
		if claim >= st.Lo && claim <= st.Hi {
			return honest(st, claim, r)
		}
		return p(st, claim, r)
	}
}

func honest(st *zkp.RangeStatement, claim uint64, r *group.Scalar) (*zkp.Range, error) {
	return zkp.ProveRange(rand.Reader, st, claim, r)
}

// clamp claims the nearest allowed value: ProveRange then runs, but the
// proof it makes is for a statement that is false.
func clamp(st *zkp.RangeStatement, claim uint64, r *group.Scalar) (*zkp.Range, error) {
	claim = max(st.Lo, min(claim, st.Hi))
	return zkp.ProveRange(rand.Reader, st, claim, r)
}

// wider proves the value in a range one wider at the top, then drops the
// extra branch so that the proof has the size the style wants.
func wider(st *zkp.RangeStatement, claim uint64, r *group.Scalar) (*zkp.Range, error) {
	w := *st
	w.Hi = max(st.Hi+1, claim)
	if w.Hi-w.Lo >= zkp.MaxRangeBranches {
		return nil, fmt.Errorf("range too wide")
	}
	p, err := zkp.ProveRange(rand.Reader, &w, claim, r)
	if err != nil {
		return nil, err
	}
	return &zkp.Range{Branches: p.Branches[:st.Hi-st.Lo+1]}, nil
}

// otherCiphertext attaches an honest proof made for a fresh encryption of
// the clamped value.
func otherCiphertext(st *zkp.RangeStatement, claim uint64, _ *group.Scalar) (*zkp.Range, error) {
	claim = max(st.Lo, min(claim, st.Hi))
	r2, _ := group.RandomScalar(rand.Reader)
	ct := elgamal.Encrypt(st.K, claim, r2)
	s := *st
	s.A, s.B = ct.A, ct.B
	return zkp.ProveRange(rand.Reader, &s, claim, r2)
}

// forge encrypts pt without checking it against the style, with proofs
// made by sel and total, and returns the ballot decoded from its encoding.
func forge(t *testing.T, e *Election, pt Plaintext, sel, total prover) *Ballot {
	t.Helper()
	b := &Ballot{Context: e.Context, Binding: [32]byte{7}, Questions: make([]EncryptedQuestion, len(pt))}
	for qi, qs := range e.Style.Questions {
		q := &b.Questions[qi]
		rSum := group.NewScalar()
		var sum uint64
		for si, v := range pt[qi] {
			ct, r, err := elgamal.EncryptRandom(rand.Reader, e.Key, v)
			if err != nil {
				t.Fatal(err)
			}
			st := &zkp.RangeStatement{Context: selectionContext(&b.Context, &b.Binding, qi, si), K: e.Key, A: ct.A, B: ct.B, Lo: 0, Hi: qs.Max}
			p, err := sel(st, v, r)
			if err != nil {
				t.Fatalf("question %d selection %d: %v", qi, si, err)
			}
			q.Selections = append(q.Selections, Selection{Ciphertext: ct, Proof: p})
			rSum.Add(rSum, r)
			sum += v
		}
		if qs.HasTotal {
			c := q.Sum()
			st := &zkp.RangeStatement{Context: totalContext(&b.Context, &b.Binding, qi), K: e.Key, A: c.A, B: c.B, Lo: qs.TotalLo, Hi: qs.TotalHi}
			p, err := total(st, sum, rSum)
			if err != nil {
				t.Fatalf("question %d total: %v", qi, err)
			}
			q.Total = p
		}
	}
	raw := b.encode()
	d, err := Decode(e, raw)
	if err != nil {
		t.Fatalf("forged ballot does not decode: %v", err)
	}
	return d
}

func TestForgedBallots(t *testing.T) {
	ref, _ := testElection(t, "referendum")
	budget, _ := testElection(t, "budget") // multiple choice, 10 options, 1..4
	survey, _ := testElection(t, "survey") // includes a rating 1..5 (values 0..4)
	ones := func(n, k int) []uint64 {
		v := make([]uint64, n)
		for i := range k {
			v[i] = 1
		}
		return v
	}
	for _, tc := range []struct {
		name       string
		e          *Election
		pt         Plaintext
		sel, total prover
		where      string // the part of the ballot the error must name
	}{
		// Sanity: the forging code makes valid ballots from valid plaintexts.
		{"valid referendum", ref, Plaintext{{1, 0}}, honest, honest, ""},
		{"valid budget", budget, Plaintext{ones(10, 4)}, honest, honest, ""},
		{"valid survey", survey, Plaintext{ones(8, 1), ones(8, 3), {0, 0, 0, 0, 1}, ones(5, 1)}, honest, honest, ""},

		// A selection that encrypts 2 where 0..1 is allowed; the total is fine.
		{"selection 2, clamped proof", budget, Plaintext{{2, 0, 0, 0, 0, 0, 0, 0, 0, 0}}, clamp, honest, "selection 1"},
		{"selection 2, wider proof", budget, Plaintext{{0, 0, 2, 0, 0, 0, 0, 0, 0, 0}}, wider, honest, "selection 3"},
		{"selection 2, proof of another ciphertext", budget, Plaintext{{1, 2, 0, 0, 0, 0, 0, 0, 0, 0}}, otherCiphertext, honest, "selection 2"},
		{"referendum selection 2, other one −1", ref, Plaintext{{2, 0}}, clamp, clamp, "selection 1"},
		// A rating is one-hot (SPEC §8.1): a value's selection of 2, or
		// 200, counts that value twice or 200 times.
		{"rating selection 2", survey, Plaintext{ones(8, 1), ones(8, 1), {0, 0, 2, 0, 0}, ones(5, 1)}, clamp, clamp, "question 3 (science-city) selection 3"},
		{"rating selection 200", survey, Plaintext{ones(8, 1), ones(8, 1), {200, 0, 0, 0, 0}, ones(5, 1)}, wider, clamp, "question 3 (science-city) selection 1"},

		// Over- and under-votes: every selection is 0 or 1, the total is wrong.
		{"over-voted multiple, clamped total", budget, Plaintext{ones(10, 5)}, honest, clamp, "total"},
		{"over-voted multiple, wider total", budget, Plaintext{ones(10, 5)}, honest, wider, "total"},
		{"over-voted multiple, total of another ciphertext", budget, Plaintext{ones(10, 10)}, honest, otherCiphertext, "total"},
		{"under-voted multiple", budget, Plaintext{ones(10, 0)}, honest, clamp, "total"},
		{"over-voted single", ref, Plaintext{{1, 1}}, honest, clamp, "total"},
		{"blank required single", ref, Plaintext{{0, 0}}, honest, clamp, "total"},
		{"over-voted single in survey", survey, Plaintext{ones(8, 2), ones(8, 1), {1, 0, 0, 0, 0}, ones(5, 1)}, honest, otherCiphertext, "question 1 (age) total"},
		// A rating with two values chosen, or none: each selection is 0 or
		// 1, the total proof [1, 1] fails.
		{"rating with two values", survey, Plaintext{ones(8, 1), ones(8, 1), {0, 1, 0, 1, 0}, ones(5, 1)}, honest, clamp, "question 3 (science-city) total"},
		{"rating with every value", survey, Plaintext{ones(8, 1), ones(8, 1), ones(5, 5), ones(5, 1)}, honest, wider, "question 3 (science-city) total"},
		{"rating with no value", survey, Plaintext{ones(8, 1), ones(8, 1), ones(5, 0), ones(5, 1)}, honest, clamp, "question 3 (science-city) total"},
		{"rating with two values, total of another ciphertext", survey, Plaintext{ones(8, 1), ones(8, 1), {1, 1, 0, 0, 0}, ones(5, 1)}, honest, otherCiphertext, "question 3 (science-city) total"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := forge(t, tc.e, tc.pt, onlyBad(tc.sel), onlyBad(tc.total))
			err := verifyBothWays(t, tc.e, b)
			if tc.where == "" {
				if err != nil {
					t.Fatalf("valid ballot rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("forged ballot accepted")
			}
			if !strings.Contains(err.Error(), tc.where) {
				t.Fatalf("error %q does not name %q", err, tc.where)
			}
			// A batch of honest ballots with the forgery in the middle fails too.
			batch := group.NewBatch()
			for i := range 3 {
				if i == 1 {
					if b.AddTo(batch, tc.e) != nil {
						return // rejected before the batch
					}
					continue
				}
				pt, _ := tc.e.Manifest.Plaintext(goodAnswers(tc.e.Manifest))
				good, _, err := Encrypt(rand.Reader, tc.e, [32]byte{byte(i)}, pt)
				if err != nil {
					t.Fatal(err)
				}
				if err := good.AddTo(batch, tc.e); err != nil {
					t.Fatal(err)
				}
			}
			if batch.Verify() {
				t.Fatal("batch with a forged ballot verifies")
			}
		})
	}
	t.Run("Encrypt refuses", func(t *testing.T) {
		for _, pt := range []Plaintext{{{2, 0}}, {{1, 1}}, {{0, 0}}, {{1}}, {{1, 0, 0}}, {}, {{1, 0}, {1, 0}}} {
			if _, _, err := Encrypt(rand.Reader, ref, [32]byte{}, pt); err == nil {
				t.Errorf("Encrypt(%v) succeeded", pt)
			}
		}
	})
}

// goodAnswers returns valid answers for one of the example manifests.
func goodAnswers(m *Manifest) Answers {
	switch m.Questions[0].ID {
	case "projects":
		return Answers{"projects": []any{"wifi"}}
	case "age":
		return Answers{"age": "30s", "fields": "health", "science-city": 2.0, "internet-voting": "rather-for"}
	}
	return Answers{"plan": "no"}
}

// TestTamperedBallot changes one part of an honest ballot at a time.
func TestTamperedBallot(t *testing.T) {
	e, _ := testElection(t, "budget")
	pt, _ := e.Manifest.Plaintext(Answers{"projects": []any{"wifi", "park-lights"}})
	b, _, err := Encrypt(rand.Reader, e, [32]byte{1}, pt)
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := Encrypt(rand.Reader, e, [32]byte{2}, pt)
	decode := func(t *testing.T, raw []byte) *Ballot {
		t.Helper()
		d, err := Decode(e, raw)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	selBytes := elgamal.CiphertextSize + zkp.RangeSize(0, 1)
	for _, tc := range []struct {
		name string
		fn   func(raw []byte) []byte
	}{
		{"binding changed", func(raw []byte) []byte { raw[len(Magic)+32] ^= 1; return raw }},
		{"selection from another ballot", func(raw []byte) []byte {
			copy(raw[HeaderSize:HeaderSize+selBytes], other.Bytes()[HeaderSize:])
			return raw
		}},
		{"selections swapped", func(raw []byte) []byte {
			s0 := bytes.Clone(raw[HeaderSize : HeaderSize+selBytes])
			copy(raw[HeaderSize:], raw[HeaderSize+selBytes:HeaderSize+2*selBytes])
			copy(raw[HeaderSize+selBytes:], s0)
			return raw
		}},
		{"ciphertext re-encrypted to 2", func(raw []byte) []byte {
			ct := elgamal.Encrypt(e.Key, 2, group.ScalarFromUint64(12345))
			copy(raw[HeaderSize:], ct.Bytes())
			return raw
		}},
		{"ciphertext B + G", func(raw []byte) []byte {
			ct, _ := elgamal.Decode(raw[HeaderSize : HeaderSize+64])
			B := group.NewElement().Add(ct.B, group.Generator())
			copy(raw[HeaderSize+32:], B.Bytes())
			return raw
		}},
		{"total proof from another ballot", func(raw []byte) []byte {
			n := zkp.RangeSize(1, 4)
			copy(raw[len(raw)-n:], other.Bytes()[len(raw)-n:])
			return raw
		}},
		{"last scalar + 1", func(raw []byte) []byte {
			s, _ := group.DecodeScalar(raw[len(raw)-32:])
			copy(raw[len(raw)-32:], group.NewScalar().Add(s, group.ScalarFromUint64(1)).Bytes())
			return raw
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.fn(bytes.Clone(b.Bytes()))
			if bytes.Equal(raw, b.Bytes()) {
				t.Fatal("tampering changed nothing")
			}
			d := decode(t, raw)
			if err := verifyBothWays(t, e, d); err == nil {
				t.Fatal("tampered ballot accepted")
			}
		})
	}
	t.Run("every scalar bit 0", func(t *testing.T) {
		// Flip the low bit of every c and s of every branch in turn.
		raw := b.Bytes()
		off := HeaderSize
		var offsets []int
		for range e.Style.Questions[0].Selections {
			off += elgamal.CiphertextSize
			for range 2 {
				offsets = append(offsets, off+64, off+96)
				off += zkp.BranchSize
			}
		}
		for range 4 {
			offsets = append(offsets, off+64, off+96)
			off += zkp.BranchSize
		}
		if off != len(raw) {
			t.Fatalf("layout: %d, length %d", off, len(raw))
		}
		for _, o := range offsets {
			bad := bytes.Clone(raw)
			bad[o] ^= 1
			if err := verifyBothWays(t, e, decode(t, bad)); err == nil {
				t.Fatalf("flipping byte %d accepted", o)
			}
		}
	})
}

func TestDecodeRejects(t *testing.T) {
	e, _ := testElection(t, "survey")
	pt, err := e.Manifest.Plaintext(Answers{"age": "30s", "fields": []any{"health"}, "science-city": 3.0, "internet-voting": "rather-for"})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := Encrypt(rand.Reader, e, [32]byte{1}, pt)
	if err != nil {
		t.Fatal(err)
	}
	raw := b.Bytes()
	otherKey, _ := testElection(t, "survey")
	otherManifest, _ := testElection(t, "budget")
	set := func(off int, v []byte) []byte {
		out := bytes.Clone(raw)
		copy(out[off:], v)
		return out
	}
	ff := bytes.Repeat([]byte{0xff}, 32)
	neg := append([]byte{1}, make([]byte, 31)...)
	scalarL, _ := hex.DecodeString("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010") // ℓ
	type tcase struct {
		name string
		e    *Election
		raw  []byte
	}
	cases := []tcase{
		{"empty", e, nil},
		{"one byte short", e, raw[:len(raw)-1]},
		{"one byte long", e, append(bytes.Clone(raw), 0)},
		{"header only", e, raw[:HeaderSize]},
		{"bad magic", e, set(0, []byte("koe2"))},
		{"magic case", e, set(0, []byte("KOE1"))},
		{"other context", e, set(len(Magic), make([]byte, 32))},
		{"context bit", e, set(len(Magic), []byte{raw[len(Magic)] ^ 1})},
		{"election with another key", otherKey, raw},
		{"election with another manifest", otherManifest, raw},
	}
	// A non-canonical element or scalar in every position of every selection
	// and total proof.
	off := HeaderSize
	for qi, qs := range e.Style.Questions {
		for si := range qs.Selections {
			where := fmt.Sprintf("q%d s%d", qi+1, si+1)
			cases = append(cases,
				tcase{where + " A all ones", e, set(off, ff)},
				tcase{where + " B negative", e, set(off+32, neg)})
			off += elgamal.CiphertextSize
			for br := range int(qs.Max + 1) {
				if si == 0 || br == 0 {
					cases = append(cases,
						tcase{fmt.Sprintf("%s branch %d U", where, br), e, set(off, ff)},
						tcase{fmt.Sprintf("%s branch %d V", where, br), e, set(off+32, neg)},
						tcase{fmt.Sprintf("%s branch %d c", where, br), e, set(off+64, scalarL)},
						tcase{fmt.Sprintf("%s branch %d s", where, br), e, set(off+96, ff)})
				}
				off += zkp.BranchSize
			}
		}
		if qs.HasTotal {
			for br := range int(qs.TotalHi - qs.TotalLo + 1) {
				where := fmt.Sprintf("q%d total branch %d", qi+1, br)
				cases = append(cases,
					tcase{where + " U", e, set(off, neg)},
					tcase{where + " s", e, set(off+96, scalarL)})
				off += zkp.BranchSize
			}
		}
	}
	if off != len(raw) {
		t.Fatalf("layout walk ends at %d, ballot has %d bytes", off, len(raw))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Decode(tc.e, tc.raw)
			if err == nil || d != nil {
				t.Fatal("decoded")
			}
			if !errors.Is(err, ErrBallot) {
				t.Fatalf("error %v does not wrap ErrBallot", err)
			}
		})
	}
	t.Run("honest decodes", func(t *testing.T) {
		d, err := Decode(e, raw)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(d.encode(), raw) || d.TrackingCode() != b.TrackingCode() {
			t.Fatal("decoded ballot does not re-encode")
		}
	})
	t.Run("DecodeCiphertexts", func(t *testing.T) {
		cts, err := DecodeCiphertexts(e, raw)
		if err != nil || len(cts) != e.Style.Selections() {
			t.Fatalf("got %d, %v", len(cts), err)
		}
		if _, err := DecodeCiphertexts(e, raw[:len(raw)-1]); err == nil {
			t.Fatal("DecodeCiphertexts accepted a short ballot")
		}
		if _, err := DecodeCiphertexts(e, set(HeaderSize, ff)); err == nil {
			t.Fatal("DecodeCiphertexts accepted a non-canonical element")
		}
	})
}

func TestPlaintextRejects(t *testing.T) {
	survey, _ := testElection(t, "survey")
	budget, _ := testElection(t, "budget")
	ref, _ := testElection(t, "referendum")
	valid := Answers{"age": "30s", "fields": []any{"health"}, "science-city": 3.0, "internet-voting": "rather-for"}
	with := func(k string, v any) Answers {
		a := Answers{}
		for kk, vv := range valid {
			a[kk] = vv
		}
		if v == nil {
			delete(a, k)
		} else {
			a[k] = v
		}
		return a
	}
	if _, err := survey.Manifest.Plaintext(valid); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		m    *Manifest
		a    Answers
		want string
	}{
		{"unknown question", survey.Manifest, with("colour", "red"), "unknown question"},
		{"unknown option", survey.Manifest, with("age", "90s"), "no option"},
		{"option of another question", survey.Manifest, with("age", "health"), "no option"},
		{"option not a string", survey.Manifest, with("age", 3.0), "not an option"},
		{"single given a list", survey.Manifest, with("age", []any{"30s"}), "not an option"},
		{"missing required single", survey.Manifest, with("age", nil), "needs an answer"},
		{"null required single", ref.Manifest, Answers{"plan": nil}, "null is not allowed"},
		{"empty answers", ref.Manifest, Answers{}, "needs an answer"},
		{"too many choices", survey.Manifest, with("fields", []any{"health", "disaster", "transport", "education"}), "options chosen"},
		{"too few choices", survey.Manifest, with("fields", []any{}), "options chosen"},
		{"missing multiple with min 1", survey.Manifest, with("fields", nil), "options chosen"},
		{"duplicate choice", survey.Manifest, with("fields", []any{"health", "health"}), "chosen twice"},
		{"unknown option in list", survey.Manifest, with("fields", []any{"health", "space"}), "no option"},
		{"multiple given a number", survey.Manifest, with("fields", 1.0), "list of option ids"},
		{"budget over max", budget.Manifest, Answers{"projects": []any{"wifi", "park-lights", "bike-lanes", "a", "b"}}, "no option"},
		{"rating above", survey.Manifest, with("science-city", 6.0), "whole number"},
		{"rating below", survey.Manifest, with("science-city", 0.0), "whole number"},
		{"rating negative", survey.Manifest, with("science-city", -1.0), "whole number"},
		{"rating huge", survey.Manifest, with("science-city", 1e300), "whole number"},
		{"rating non-integer", survey.Manifest, with("science-city", 3.5), "whole number"},
		{"rating string", survey.Manifest, with("science-city", "3"), "a number"},
		{"rating bad json.Number", survey.Manifest, with("science-city", json.Number("x")), "science-city"},
		{"rating json.Number fraction", survey.Manifest, with("science-city", json.Number("2.5")), "integers only"},
		{"rating missing", survey.Manifest, with("science-city", nil), "needs an answer"},
		{"rating list", survey.Manifest, with("science-city", []any{3.0}), "a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pt, err := tc.m.Plaintext(tc.a)
			if err == nil {
				t.Fatalf("accepted as %v", pt)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
	t.Run("accepted forms", func(t *testing.T) {
		for _, a := range []Answers{
			with("science-city", 5),
			with("science-city", json.Number("1")),
			with("fields", "health"),
			with("fields", []any{"health", "disaster", "transport"}),
		} {
			if _, err := survey.Manifest.Plaintext(a); err != nil {
				t.Errorf("%v: %v", a, err)
			}
		}
	})
}

func TestParseAnswers(t *testing.T) {
	for _, tc := range []struct {
		data string
		ok   bool
	}{
		{`{"plan":"yes"}`, true},
		{`{"plan":"yes"} `, true},
		{``, false},
		{`[]`, false},
		{`"yes"`, false},
		{`{"plan":"yes"} {}`, false},
		{`{"plan":"yes"} 1`, false},
		{`{"plan":`, false},
		{`{"plan":null}`, false},
		{`{"fields":["health",null]}`, false},
		{`null`, false},
		{`{"plan":"yes","plan":"no"}`, false},
		{`{"score":3}`, true},
		{`{"score":-3}`, true},
		{`{"score":3.0}`, false},
		{`{"score":3e0}`, false},
		{`{"score":2.5}`, false},
		{"{\"plan\":\"\xff\"}", false},
	} {
		t.Run(tc.data, func(t *testing.T) {
			if _, err := ParseAnswers([]byte(tc.data)); (err == nil) != tc.ok {
				t.Fatalf("got %v, want ok=%v", err, tc.ok)
			}
		})
	}
	for _, data := range []string{`{"plan":"yes"}}`, `{"plan":"yes"}]`} {
		t.Run("trailing "+data[len(data)-1:], func(t *testing.T) {
			if _, err := ParseAnswers([]byte(data)); err == nil {
				t.Fatalf("ParseAnswers accepts %q", data)
			}
		})
	}
}

// manifestJSON builds a small valid manifest and lets a test change it.
func manifestJSON(t *testing.T, edit func(m map[string]any)) []byte {
	t.Helper()
	m := map[string]any{
		"spec": "koe/v2", "id": "test", "kind": "vote",
		"title":    map[string]any{"ja": "テスト"},
		"trustees": 3, "threshold": 2,
		"questions": []any{
			map[string]any{"id": "q1", "kind": "single", "label": map[string]any{"ja": "問1"},
				"options": []any{map[string]any{"id": "a", "label": map[string]any{"ja": "あ"}}, map[string]any{"id": "b", "label": map[string]any{"ja": "い"}}}},
			map[string]any{"id": "q2", "kind": "multiple", "label": map[string]any{"ja": "問2"}, "min": 1, "max": 2,
				"options": []any{map[string]any{"id": "a", "label": map[string]any{"ja": "あ"}}, map[string]any{"id": "b", "label": map[string]any{"ja": "い"}}, map[string]any{"id": "c", "label": map[string]any{"ja": "う"}}}},
			map[string]any{"id": "q3", "kind": "rating", "label": map[string]any{"ja": "問3"}, "min": 1, "max": 5},
		},
	}
	if edit != nil {
		edit(m)
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseManifestRejects(t *testing.T) {
	if _, err := ParseManifest(manifestJSON(t, nil)); err != nil {
		t.Fatalf("base manifest: %v", err)
	}
	q := func(m map[string]any, i int) map[string]any { return m["questions"].([]any)[i].(map[string]any) }
	options := func(n int) []any {
		var out []any
		for i := range n {
			out = append(out, map[string]any{"id": fmt.Sprintf("o%d", i), "label": map[string]any{"ja": "選"}})
		}
		return out
	}
	for _, tc := range []struct {
		name string
		edit func(m map[string]any)
	}{
		{"bad spec", func(m map[string]any) { m["spec"] = "koe/v1" }},
		{"missing spec", func(m map[string]any) { delete(m, "spec") }},
		{"bad id uppercase", func(m map[string]any) { m["id"] = "Test" }},
		{"bad id empty", func(m map[string]any) { m["id"] = "" }},
		{"bad id leading dash", func(m map[string]any) { m["id"] = "-test" }},
		{"bad id space", func(m map[string]any) { m["id"] = "a b" }},
		{"bad id too long", func(m map[string]any) { m["id"] = strings.Repeat("a", 65) }},
		{"bad kind", func(m map[string]any) { m["kind"] = "poll" }},
		{"empty title", func(m map[string]any) { m["title"] = map[string]any{"en": "Test"} }},
		{"title too long", func(m map[string]any) { m["title"] = map[string]any{"ja": strings.Repeat("あ", 700)} }},
		{"empty description", func(m map[string]any) { m["description"] = map[string]any{"ja": ""} }},
		{"bad opens", func(m map[string]any) { m["opens"] = "tomorrow" }},
		{"closes before opens", func(m map[string]any) {
			m["opens"], m["closes"] = "2026-05-02T00:00:00+09:00", "2026-05-01T00:00:00+09:00"
		}},
		{"closes equals opens", func(m map[string]any) {
			m["opens"], m["closes"] = "2026-05-01T00:00:00+09:00", "2026-04-30T15:00:00Z"
		}},
		{"no trustees", func(m map[string]any) { m["trustees"] = 0 }},
		{"too many trustees", func(m map[string]any) { m["trustees"], m["threshold"] = 65, 2 }},
		{"threshold > trustees", func(m map[string]any) { m["threshold"] = 4 }},
		{"threshold 0", func(m map[string]any) { m["threshold"] = 0 }},
		{"threshold negative", func(m map[string]any) { m["threshold"] = -1 }},
		{"privacyThreshold 0", func(m map[string]any) { m["privacyThreshold"] = 0 }},
		{"privacyThreshold negative", func(m map[string]any) { m["privacyThreshold"] = -1 }},
		{"privacyThreshold too big", func(m map[string]any) { m["privacyThreshold"] = MaxPrivacyThreshold + 1 }},
		{"privacyThreshold a string", func(m map[string]any) { m["privacyThreshold"] = "10" }},
		{"privacyThreshold a fraction", func(m map[string]any) { m["privacyThreshold"] = 2.5 }},
		{"privacyThreshold null", func(m map[string]any) { m["privacyThreshold"] = nil }},
		{"no questions", func(m map[string]any) { m["questions"] = []any{} }},
		{"too many questions", func(m map[string]any) {
			var qs []any
			for i := range MaxQuestions + 1 {
				qs = append(qs, map[string]any{"id": fmt.Sprintf("r%d", i), "kind": "rating", "label": map[string]any{"ja": "問"}, "min": 0, "max": 1})
			}
			m["questions"] = qs
		}},
		{"too many selections", func(m map[string]any) {
			var qs []any
			for i := range MaxSelections/MaxOptions + 1 {
				qs = append(qs, map[string]any{"id": fmt.Sprintf("m%d", i), "kind": "multiple", "label": map[string]any{"ja": "問"}, "min": 0, "max": 1, "options": options(MaxOptions)})
			}
			m["questions"] = qs
		}},
		{"duplicate question id", func(m map[string]any) { q(m, 1)["id"] = "q1" }},
		{"bad question id", func(m map[string]any) { q(m, 0)["id"] = "Q1" }},
		{"empty question label", func(m map[string]any) { q(m, 0)["label"] = map[string]any{"ja": ""} }},
		{"duplicate option id", func(m map[string]any) {
			q(m, 0)["options"].([]any)[1].(map[string]any)["id"] = "a"
		}},
		{"bad option id", func(m map[string]any) { q(m, 0)["options"].([]any)[1].(map[string]any)["id"] = "B" }},
		{"empty option label", func(m map[string]any) {
			q(m, 0)["options"].([]any)[1].(map[string]any)["label"] = map[string]any{"en": "b"}
		}},
		{"empty option description", func(m map[string]any) {
			q(m, 0)["options"].([]any)[1].(map[string]any)["description"] = map[string]any{"ja": ""}
		}},
		{"single without options", func(m map[string]any) { q(m, 0)["options"] = []any{} }},
		{"single with too many options", func(m map[string]any) { q(m, 0)["options"] = options(MaxOptions + 1) }},
		{"single with max", func(m map[string]any) { q(m, 0)["max"] = 1 }},
		{"single with minLabel", func(m map[string]any) { q(m, 0)["minLabel"] = map[string]any{"ja": "低"} }},
		{"multiple with max > options", func(m map[string]any) { q(m, 1)["max"] = 4 }},
		{"multiple with min > max", func(m map[string]any) { q(m, 1)["min"] = 3 }},
		{"multiple with max 0", func(m map[string]any) { q(m, 1)["min"], q(m, 1)["max"] = 0, 0 }},
		{"multiple with negative min", func(m map[string]any) { q(m, 1)["min"] = -1 }},
		{"multiple optional", func(m map[string]any) { q(m, 1)["optional"] = true }},
		{"rating span too big", func(m map[string]any) { q(m, 2)["min"], q(m, 2)["max"] = 0, MaxRatingSpan+1 }},
		{"rating span too big, offset", func(m map[string]any) { q(m, 2)["min"], q(m, 2)["max"] = 10, 11+MaxRatingSpan }},
		{"rating min = max", func(m map[string]any) { q(m, 2)["min"], q(m, 2)["max"] = 3, 3 }},
		{"rating negative min", func(m map[string]any) { q(m, 2)["min"] = -1 }},
		{"rating with options", func(m map[string]any) { q(m, 2)["options"] = options(2) }},
		{"rating optional", func(m map[string]any) { q(m, 2)["optional"] = true }},
		{"rating empty scale label", func(m map[string]any) { q(m, 2)["maxLabel"] = map[string]any{"ja": ""} }},
		{"kind text", func(m map[string]any) { q(m, 2)["kind"] = "text"; delete(q(m, 2), "min"); delete(q(m, 2), "max") }},
		{"unknown question kind", func(m map[string]any) { q(m, 0)["kind"] = "ranked" }},
		{"unknown field", func(m map[string]any) { m["secret"] = "x" }},
		{"unknown question field", func(m map[string]any) { q(m, 0)["weight"] = 2 }},
		{"unknown option field", func(m map[string]any) { q(m, 0)["options"].([]any)[0].(map[string]any)["votes"] = 0 }},
		{"label tag not BCP 47", func(m map[string]any) { m["title"] = map[string]any{"ja": "テスト", "fr_FR!": "Test"} }},
		{"label tag not canonical", func(m map[string]any) { m["title"] = map[string]any{"ja": "テスト", "zh-hans": "测试"} }},
		{"label tag empty label", func(m map[string]any) { m["title"] = map[string]any{"ja": "テスト", "ko": ""} }},
		{"label not a string", func(m map[string]any) { m["title"] = map[string]any{"ja": "テスト", "ko": 1} }},
		{"label without ja", func(m map[string]any) { m["title"] = map[string]any{"en": "Test", "ko": "테스트"} }},
		{"wrong type", func(m map[string]any) { m["trustees"] = "3" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := manifestJSON(t, tc.edit)
			m, err := ParseManifest(data)
			if err == nil || m != nil {
				t.Fatalf("accepted %s", data)
			}
			if !errors.Is(err, ErrManifest) {
				t.Fatalf("error %v does not wrap ErrManifest", err)
			}
		})
	}
	base := manifestJSON(t, nil)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not an object", []byte(`[]`)},
		{"null", []byte(`null`)},
		{"trailing object", append(bytes.Clone(base), []byte(` {}`)...)},
		{"trailing brace", append(bytes.Clone(base), '}')},
		{"trailing bracket", append(bytes.Clone(base), ']')},
		{"trailing garbage", append(bytes.Clone(base), 'x')},
		{"two manifests", append(bytes.Clone(base), base...)},
		{"truncated", base[:len(base)-1]},
		{"not UTF-8", append(bytes.Clone(base[:len(base)-1]), []byte(`,"x":"\xff"}`)...)},
		{"duplicate key", append([]byte(`{"spec":"koe/v2",`), base[1:]...)},
		{"key in other case", bytes.Replace(bytes.Clone(base), []byte(`"threshold"`), []byte(`"Threshold"`), 1)},
		{"too large", append(bytes.Clone(base), bytes.Repeat([]byte(" "), MaxManifestSize)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if m, err := ParseManifest(tc.data); err == nil || m != nil {
				t.Fatal("accepted")
			} else if !errors.Is(err, ErrManifest) {
				t.Fatalf("error %v does not wrap ErrManifest", err)
			}
		})
	}
	t.Run("trailing whitespace is fine", func(t *testing.T) {
		if _, err := ParseManifest(append(bytes.Clone(base), " \n\t"...)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("limits are inclusive", func(t *testing.T) {
		for name, edit := range map[string]func(m map[string]any){
			"64 trustees":          func(m map[string]any) { m["trustees"], m["threshold"] = MaxTrustees, MaxTrustees },
			"rating span 100":      func(m map[string]any) { q(m, 2)["min"], q(m, 2)["max"] = 7, 7+MaxRatingSpan },
			"64 options":           func(m map[string]any) { q(m, 0)["options"] = options(MaxOptions) },
			"max = options":        func(m map[string]any) { q(m, 1)["max"] = 3 },
			"id of 64 characters":  func(m map[string]any) { m["id"] = strings.Repeat("a", 64) },
			"privacyThreshold 1":   func(m map[string]any) { m["privacyThreshold"] = 1 },
			"privacyThreshold max": func(m map[string]any) { m["privacyThreshold"] = MaxPrivacyThreshold },
		} {
			if _, err := ParseManifest(manifestJSON(t, edit)); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
}

func TestPrivacyThreshold(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(m map[string]any)
		want int
	}{
		{"absent", nil, DefaultPrivacyThreshold},
		{"one", func(m map[string]any) { m["privacyThreshold"] = 1 }, 1},
		{"fifty", func(m map[string]any) { m["privacyThreshold"] = 50 }, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseManifest(manifestJSON(t, tc.edit))
			if err != nil {
				t.Fatal(err)
			}
			if got := m.PrivacyThreshold(); got != tc.want {
				t.Fatalf("PrivacyThreshold() = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestNewElectionRejects(t *testing.T) {
	data := manifestJSON(t, nil)
	if _, err := NewElection(data, nil, NoRegistrar); err == nil {
		t.Fatal("accepted a nil key")
	}
	if _, err := NewElection(data, group.Identity(), NoRegistrar); !errors.Is(err, group.ErrIdentity) {
		t.Fatalf("identity key: got %v", err)
	}
	if _, err := NewElection([]byte("{}"), group.Generator(), NoRegistrar); !errors.Is(err, ErrManifest) {
		t.Fatalf("bad manifest: got %v", err)
	}
	a, _ := NewElection(data, group.Generator(), NoRegistrar)
	b, _ := NewElection(append(bytes.Clone(data), ' '), group.Generator(), NoRegistrar)
	if a.Context == b.Context {
		t.Fatal("the context does not depend on the exact manifest bytes")
	}
	// A registrar key swapped after the ceremony gives another context,
	// so every proof and credential made under the first no longer verifies.
	c, _ := NewElection(data, group.Generator(), [32]byte{1})
	if c.Context == a.Context || c.Registrar != [32]byte{1} {
		t.Fatal("the context does not depend on the registrar key id")
	}
}

func TestSpoiledRejects(t *testing.T) {
	e, _ := testElection(t, "referendum")
	pt := Plaintext{{1, 0}}
	b, nonces, err := Encrypt(rand.Reader, e, [32]byte{3}, pt)
	if err != nil {
		t.Fatal(err)
	}
	good := Spoil(b, pt, nonces)
	if _, err := good.Check(e); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(good)
	back, err := ParseSpoiled(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := back.Check(e); err != nil {
		t.Fatalf("after JSON: %v", err)
	}
	mutate := func(fn func(s *Spoiled)) *Spoiled {
		s, _ := ParseSpoiled(data)
		fn(s)
		return s
	}
	for _, tc := range []struct {
		name string
		s    *Spoiled
	}{
		{"other value", mutate(func(s *Spoiled) { s.Values = Plaintext{{0, 1}} })},
		{"invalid value", mutate(func(s *Spoiled) { s.Values = Plaintext{{1, 1}} })},
		{"missing question", mutate(func(s *Spoiled) { s.Values = Plaintext{} })},
		{"nonces swapped", mutate(func(s *Spoiled) { s.Nonces[0][0], s.Nonces[0][1] = s.Nonces[0][1], s.Nonces[0][0] })},
		{"nonce missing", mutate(func(s *Spoiled) { s.Nonces[0] = s.Nonces[0][:1] })},
		{"no nonces", mutate(func(s *Spoiled) { s.Nonces = nil })},
		{"uppercase nonce", mutate(func(s *Spoiled) { s.Nonces[0][0] = strings.ToUpper(s.Nonces[0][0]) })},
		{"non-canonical nonce", mutate(func(s *Spoiled) { s.Nonces[0][0] = strings.Repeat("ff", 32) })},
		{"short nonce", mutate(func(s *Spoiled) { s.Nonces[0][0] = s.Nonces[0][0][:62] })},
		{"truncated ballot", mutate(func(s *Spoiled) { s.Ballot = s.Ballot[:len(s.Ballot)-1] })},
		{"tampered ballot", mutate(func(s *Spoiled) { s.Ballot[len(s.Ballot)-1] ^= 1 })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.s.Check(e); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	for _, tc := range []struct{ name, data string }{
		{"unknown field", `{"ballot":"","values":[],"nonces":[],"x":1}`},
		{"trailing", string(data) + "{}"},
		{"trailing brace", string(data) + "}"},
		{"bad base64", `{"ballot":"!!","values":[],"nonces":[]}`},
		{"negative value", `{"ballot":"","values":[[-1]],"nonces":[]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseSpoiled([]byte(tc.data)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// A spoiled ballot lacking a field is refused, naming the field (SPEC
// §8.6, §2.3).
func TestParseSpoiledRequiresFields(t *testing.T) {
	data, err := os.ReadFile("../../examples/referendum.json")
	if err != nil {
		t.Fatal(err)
	}
	x, _ := group.RandomScalar(rand.Reader)
	e, err := NewElection(data, group.BaseMul(x), NoRegistrar)
	if err != nil {
		t.Fatal(err)
	}
	pt := Plaintext{{0, 1}}
	b, nonces, err := Encrypt(rand.Reader, e, [32]byte{}, pt)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := json.Marshal(Spoil(b, pt, nonces))
	strictjsontest.RequireFields(t, good, func(b []byte) error { _, err := ParseSpoiled(b); return err },
		"ballot", "values", "nonces")
}
