package tally

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/koe-vote/koe/internal/strictjson/strictjsontest"
	"slices"
	"strings"
	"testing"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/group"
)

func randScalar(t testing.TB) *group.Scalar {
	t.Helper()
	s, err := group.RandomScalar(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dealer holds Shamir shares xᵢ = f(i) of the secret x = f(0) for a random
// polynomial f of degree t − 1, as a key ceremony would leave them.
type dealer struct {
	x      *group.Scalar
	shares map[int]*group.Scalar
	keys   map[int]*group.Element // Yᵢ = xᵢ·G
}

func deal(t testing.TB, n, threshold int) *dealer {
	t.Helper()
	coeffs := make([]*group.Scalar, threshold)
	for i := range coeffs {
		coeffs[i] = randScalar(t)
	}
	d := &dealer{x: coeffs[0], shares: map[int]*group.Scalar{}, keys: map[int]*group.Element{}}
	for i := 1; i <= n; i++ {
		// Horner: f(i) = c0 + i·(c1 + i·(c2 + …)).
		xi := group.NewScalar()
		is := group.ScalarFromUint64(uint64(i))
		for k := threshold - 1; k >= 0; k-- {
			xi.Multiply(xi, is)
			xi.Add(xi, coeffs[k])
		}
		d.shares[i] = xi
		d.keys[i] = group.BaseMul(xi)
	}
	return d
}

// subsets returns every subset of {1..n} with k elements.
func subsets(n, k int) [][]int {
	var out [][]int
	var rec func(start int, cur []int)
	rec = func(start int, cur []int) {
		if len(cur) == k {
			out = append(out, slices.Clone(cur))
			return
		}
		for i := start; i <= n; i++ {
			rec(i+1, append(cur, i))
		}
	}
	rec(1, nil)
	return out
}

func TestLagrange(t *testing.T) {
	for _, nt := range []struct{ n, t int }{{1, 1}, {3, 2}, {5, 3}, {5, 5}, {7, 4}} {
		d := deal(t, nt.n, nt.t)
		for k := 1; k <= nt.n; k++ {
			for _, set := range subsets(nt.n, k) {
				t.Run(fmt.Sprintf("n=%d t=%d %v", nt.n, nt.t, set), func(t *testing.T) {
					sum := group.NewScalar()
					for _, i := range set {
						sum.Add(sum, group.NewScalar().Multiply(ceremony.Lagrange(set, i), d.shares[i]))
					}
					got := sum.Equal(d.x) == 1
					if want := k >= nt.t; got != want {
						t.Fatalf("%d shares of threshold %d reconstruct the secret: %v", k, nt.t, got)
					}
				})
			}
		}
	}
	t.Run("coefficients sum to one", func(t *testing.T) {
		set := []int{2, 5, 9, 11}
		sum := group.NewScalar()
		for _, i := range set {
			sum.Add(sum, ceremony.Lagrange(set, i))
		}
		if sum.Equal(group.ScalarFromUint64(1)) != 1 {
			t.Fatal("Σ λᵢ ≠ 1")
		}
	})
}

// fixture is an election with a few encrypted ballots and a threshold key.
type fixture struct {
	e    *ballot.Election
	d    *dealer
	acc  *Accumulator
	want []uint64
	raws [][]byte
}

func newFixture(t testing.TB, manifest []byte, n, threshold int, answers []ballot.Answers) *fixture {
	t.Helper()
	d := deal(t, n, threshold)
	e, err := ballot.NewElection(manifest, group.BaseMul(d.x), ballot.NoRegistrar)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{e: e, d: d, acc: NewAccumulator(e.Style), want: make([]uint64, e.Style.Selections())}
	for i, a := range answers {
		pt, err := e.Manifest.Plaintext(a)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := ballot.Encrypt(rand.Reader, e, [32]byte{byte(i)}, pt)
		if err != nil {
			t.Fatal(err)
		}
		f.acc.Add(b)
		f.raws = append(f.raws, b.Bytes())
		k := 0
		for _, q := range pt {
			for _, v := range q {
				f.want[k] += v
				k++
			}
		}
	}
	return f
}

// withPrivacy sets a manifest's privacyThreshold, so that a test can
// decrypt a tally of a few ballots.
func withPrivacy(manifest []byte, min int) []byte {
	return bytes.Replace(manifest, []byte(`"questions"`), fmt.Appendf(nil, `"privacyThreshold": %d, "questions"`, min), 1)
}

func referendum(t testing.TB) []byte {
	t.Helper()
	m, err := examples.Manifest("referendum")
	if err != nil {
		t.Fatal(err)
	}
	return withPrivacy(m, 1)
}

func referendumFixture(t testing.TB) *fixture {
	return newFixture(t, referendum(t), 5, 3, []ballot.Answers{
		{"plan": "yes"}, {"plan": "no"}, {"plan": "yes"}, {"plan": "yes"},
	})
}

func (f *fixture) share(t testing.TB, trustee int) *Share {
	t.Helper()
	s, err := Decrypt(rand.Reader, f.e, f.acc, trustee, f.d.shares[trustee])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// roundTrip passes a share through its JSON form, as the record does.
func roundTrip(t testing.TB, s *Share) *Share {
	t.Helper()
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ParseShare(data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDecryptCombine(t *testing.T) {
	f := referendumFixture(t)
	table := elgamal.NewDlogTable(MaxTotal(f.e.Style, f.acc.Ballots))
	checked := map[int][]*group.Element{}
	for i := 1; i <= 5; i++ {
		Ds, err := Check(f.e, f.acc, roundTrip(t, f.share(t, i)), f.d.keys[i])
		if err != nil {
			t.Fatalf("trustee %d: %v", i, err)
		}
		checked[i] = Ds
	}
	for k := 1; k <= 5; k++ {
		for _, set := range subsets(5, k) {
			t.Run(fmt.Sprint(set), func(t *testing.T) {
				partials := map[int][]*group.Element{}
				for _, i := range set {
					partials[i] = checked[i]
				}
				totals, err := Combine(f.acc, partials, 3, table)
				if k < 3 {
					if err == nil {
						t.Fatalf("Combine with %d of threshold 3 gave %v", k, totals)
					}
					return
				}
				if err != nil || !slices.Equal(totals, f.want) {
					t.Fatalf("got %v, %v; want %v", totals, err, f.want)
				}
			})
		}
	}
	t.Run("below threshold despite a low threshold argument", func(t *testing.T) {
		// With fewer shares than the polynomial's degree needs, the
		// result is garbage: the table finds no logarithm.
		partials := map[int][]*group.Element{1: checked[1], 4: checked[4]}
		if totals, err := Combine(f.acc, partials, 2, table); err == nil && slices.Equal(totals, f.want) {
			t.Fatal("two shares of a 3-of-5 key decrypt")
		} else if err != nil && !errors.Is(err, elgamal.ErrNoLog) {
			t.Fatalf("got %v, want ErrNoLog", err)
		}
	})
	t.Run("table too small", func(t *testing.T) {
		_, err := Combine(f.acc, checked, 3, elgamal.NewDlogTable(2))
		if !errors.Is(err, elgamal.ErrNoLog) {
			t.Fatalf("got %v, want ErrNoLog", err)
		}
	})
	t.Run("results", func(t *testing.T) {
		totals, err := Combine(f.acc, checked, 3, table)
		if err != nil {
			t.Fatal(err)
		}
		r := ResultsOf(f.e.Manifest, f.acc.Ballots, totals)
		if r.Election != "shin-chosha-2026" || r.Ballots != 4 || len(r.Questions) != 1 {
			t.Fatalf("results %+v", r)
		}
		want := []OptionResult{{"yes", 3}, {"no", 1}}
		if !slices.Equal(r.Questions[0].Options, want) {
			t.Fatalf("options %v, want %v", r.Questions[0].Options, want)
		}
	})
}

func TestSumMatchesAdd(t *testing.T) {
	f := referendumFixture(t)
	acc, err := Sum(f.e, f.raws)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Hash(f.e.Context) != f.acc.Hash(f.e.Context) {
		t.Fatal("Sum and Add disagree")
	}
	pub := acc.Publish()
	back, err := ParseEncrypted(pub, f.e.Style)
	if err != nil {
		t.Fatal(err)
	}
	if back.Hash(f.e.Context) != acc.Hash(f.e.Context) {
		t.Fatal("Publish and ParseEncrypted do not round-trip")
	}
	if _, err := Sum(f.e, append(slices.Clone(f.raws), f.raws[0][:10])); err == nil {
		t.Fatal("Sum accepted a truncated ballot")
	}
	empty, err := Sum(f.e, nil)
	if err != nil || empty.Ballots != 0 {
		t.Fatalf("Sum(nil) = %v, %v", empty, err)
	}
}

func flipHex(s string, i int) string {
	b, _ := hex.DecodeString(s)
	b[i] ^= 0x02
	return hex.EncodeToString(b)
}

func TestCheckRejects(t *testing.T) {
	f := referendumFixture(t)
	good := f.share(t, 2)
	Y := f.d.keys[2]
	if _, err := Check(f.e, f.acc, good, Y); err != nil {
		t.Fatal(err)
	}
	// Another tally: one more ballot.
	other := referendumFixture(t)
	otherAcc := NewAccumulator(f.e.Style)
	otherAcc.Merge(f.acc)
	otherAcc.Ballots++
	mutate := func(fn func(s *Share)) *Share {
		s := roundTrip(t, good)
		fn(s)
		return s
	}
	// A D that is a valid element but the wrong one.
	wrongD := func() string {
		D, _ := hex.DecodeString(good.Partials[0].D)
		e, _ := group.DecodeElement(D)
		return hex.EncodeToString(group.NewElement().Add(e, group.Generator()).Bytes())
	}()
	for _, tc := range []struct {
		name  string
		share *Share
		acc   *Accumulator
		Y     *group.Element
		want  string
	}{
		{"flipped D bit", mutate(func(s *Share) { s.Partials[0].D = flipHex(s.Partials[0].D, 0) }), f.acc, Y, ""},
		{"flipped D bit 2", mutate(func(s *Share) { s.Partials[1].D = flipHex(s.Partials[1].D, 17) }), f.acc, Y, ""},
		{"D + G", mutate(func(s *Share) { s.Partials[0].D = wrongD }), f.acc, Y, "invalid proof"},
		{"flipped proof U", mutate(func(s *Share) { s.Partials[0].Proof = flipHex(s.Partials[0].Proof, 5) }), f.acc, Y, ""},
		{"flipped proof V", mutate(func(s *Share) { s.Partials[1].Proof = flipHex(s.Partials[1].Proof, 40) }), f.acc, Y, ""},
		{"flipped proof s", mutate(func(s *Share) { s.Partials[1].Proof = flipHex(s.Partials[1].Proof, 64) }), f.acc, Y, "invalid proof"},
		{"partials swapped", mutate(func(s *Share) { s.Partials[0], s.Partials[1] = s.Partials[1], s.Partials[0] }), f.acc, Y, "invalid proof"},
		{"wrong trustee key", good, f.acc, f.d.keys[3], "invalid proof"},
		{"claims another trustee", mutate(func(s *Share) { s.Trustee = 3 }), f.acc, Y, "invalid proof"},
		{"share of another trustee", f.share(t, 4), f.acc, Y, "invalid proof"},
		{"wrong tally hash", mutate(func(s *Share) { s.Tally = flipHex(s.Tally, 0) }), f.acc, Y, "another tally"},
		{"another tally", good, other.acc, Y, "another tally"},
		{"wrong ballot count", good, otherAcc, Y, "another tally"},
		{"uppercase tally hash", mutate(func(s *Share) { s.Tally = strings.ToUpper(s.Tally) }), f.acc, Y, "another tally"},
		{"too few partials", mutate(func(s *Share) { s.Partials = s.Partials[:1] }), f.acc, Y, "partial decryptions"},
		{"too many partials", mutate(func(s *Share) { s.Partials = append(s.Partials, s.Partials[0]) }), f.acc, Y, "partial decryptions"},
		{"no partials", mutate(func(s *Share) { s.Partials = nil }), f.acc, Y, "partial decryptions"},
		{"uppercase D", mutate(func(s *Share) { s.Partials[0].D = strings.ToUpper(s.Partials[0].D) }), f.acc, Y, "lowercase hex"},
		{"short D", mutate(func(s *Share) { s.Partials[0].D = s.Partials[0].D[:62] }), f.acc, Y, "lowercase hex"},
		{"odd D", mutate(func(s *Share) { s.Partials[0].D = s.Partials[0].D[:63] }), f.acc, Y, "lowercase hex"},
		{"non-canonical D", mutate(func(s *Share) { s.Partials[0].D = strings.Repeat("ff", 32) }), f.acc, Y, "canonical"},
		{"short proof", mutate(func(s *Share) { s.Partials[0].Proof = s.Partials[0].Proof[:190] }), f.acc, Y, "lowercase hex"},
		{"non-canonical proof scalar", mutate(func(s *Share) {
			s.Partials[0].Proof = s.Partials[0].Proof[:128] + strings.Repeat("ff", 32)
		}), f.acc, Y, "canonical"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			Ds, err := Check(f.e, tc.acc, tc.share, tc.Y)
			if err == nil {
				t.Fatal("accepted")
			}
			if Ds != nil {
				t.Fatal("partials returned with an error")
			}
			if !errors.Is(err, ErrShare) {
				t.Fatalf("error %v does not wrap ErrShare", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestParseShare(t *testing.T) {
	f := referendumFixture(t)
	good, _ := json.Marshal(f.share(t, 1))
	if _, err := ParseShare(good); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data string
	}{
		{"empty", ""},
		{"not an object", "[]"},
		{"unknown field", `{"trustee":1,"tally":"","partials":[],"extra":1}`},
		{"wrong type", `{"trustee":"1"}`},
		{"trailing object", string(good) + "{}"},
		{"trailing number", string(good) + " 1"},
		{"truncated", string(good[:len(good)-1])},
		{"trailing brace", string(good) + "}"},
		{"trailing bracket", string(good) + "]"},
		{"duplicate field", `{"trustee":1,"trustee":2,"tally":"","partials":[]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseShare([]byte(tc.data)); !errors.Is(err, ErrShare) {
				t.Fatalf("got %v, want ErrShare", err)
			}
		})
	}
}

func TestParseEncrypted(t *testing.T) {
	f := referendumFixture(t)
	pub := f.acc.Publish()
	for _, tc := range []struct {
		name string
		fn   func(p *Encrypted)
	}{
		{"negative count", func(p *Encrypted) { p.Ballots = -1 }},
		{"missing ciphertext", func(p *Encrypted) { p.Ciphertexts = p.Ciphertexts[:1] }},
		{"extra ciphertext", func(p *Encrypted) { p.Ciphertexts = append(p.Ciphertexts, p.Ciphertexts[0]) }},
		{"uppercase", func(p *Encrypted) { p.Ciphertexts[0] = strings.ToUpper(p.Ciphertexts[0]) }},
		{"short", func(p *Encrypted) { p.Ciphertexts[0] = p.Ciphertexts[0][:126] }},
		{"non-canonical", func(p *Encrypted) { p.Ciphertexts[1] = strings.Repeat("ff", 64) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Encrypted{Ballots: pub.Ballots, Ciphertexts: slices.Clone(pub.Ciphertexts)}
			tc.fn(p)
			if _, err := ParseEncrypted(p, f.e.Style); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

const ratingManifest = `{"spec":"koe/v2","id":"rating","kind":"survey","title":{"ja":"評価"},"trustees":3,"threshold":2,"privacyThreshold":3,
"questions":[
 {"id":"score","kind":"rating","label":{"ja":"点数"},"min":3,"max":7},
 {"id":"pick","kind":"single","label":{"ja":"選択"},"optional":true,"options":[{"id":"a","label":{"ja":"あ"}},{"id":"b","label":{"ja":"い"}}]},
 {"id":"zero","kind":"rating","label":{"ja":"零"},"min":0,"max":2}
]}`

func TestResultsOfRating(t *testing.T) {
	answers := []ballot.Answers{
		{"score": 3.0, "pick": "a", "zero": 0.0},
		{"score": 7.0, "zero": 2.0},
		{"score": 5.0, "pick": "b", "zero": 1.0},
	}
	f := newFixture(t, []byte(ratingManifest), 3, 2, answers)
	partials := map[int][]*group.Element{}
	for _, i := range []int{1, 3} {
		Ds, err := Check(f.e, f.acc, f.share(t, i), f.d.keys[i])
		if err != nil {
			t.Fatal(err)
		}
		partials[i] = Ds
	}
	totals, err := Combine(f.acc, partials, 2, elgamal.NewDlogTable(MaxTotal(f.e.Style, f.acc.Ballots)))
	if err != nil {
		t.Fatal(err)
	}
	// One selection per value (one-hot, SPEC §8.1): score 3..7 gave 3, 7
	// and 5 once each; pick a and b; zero 0, 1 and 2.
	if want := []uint64{1, 0, 1, 0, 1, 1, 1, 1, 1, 1}; !slices.Equal(totals, want) {
		t.Fatalf("totals %v, want %v", totals, want)
	}
	r := ResultsOf(f.e.Manifest, f.acc.Ballots, totals)
	if want := []ValueResult{{3, 1}, {4, 0}, {5, 1}, {6, 0}, {7, 1}}; !slices.Equal(r.Questions[0].Values, want) {
		t.Fatalf("score values %v, want %v", r.Questions[0].Values, want)
	}
	if want := []ValueResult{{0, 1}, {1, 1}, {2, 1}}; !slices.Equal(r.Questions[2].Values, want) {
		t.Fatalf("zero-based values %v, want %v", r.Questions[2].Values, want)
	}
	if r.Questions[1].Values != nil || r.Questions[0].Options != nil {
		t.Fatalf("values of a single question, or options of a rating: %+v", r.Questions[:2])
	}
	if got := *r.Questions[0].Total; got != 3+7+5 {
		t.Fatalf("score total %d, want %d", got, 3+7+5)
	}
	if got := r.Questions[0].Mean(r.Ballots); got != 5 {
		t.Fatalf("mean %v, want 5", got)
	}
	if got := *r.Questions[2].Total; got != 3 {
		t.Fatalf("zero-based total %d, want 3", got)
	}
	if r.Questions[1].Total != nil || !slices.Equal(r.Questions[1].Options, []OptionResult{{"a", 1}, {"b", 1}}) {
		t.Fatalf("single-choice result %+v", r.Questions[1])
	}
	t.Run("no ballots", func(t *testing.T) {
		r := ResultsOf(f.e.Manifest, 0, make([]uint64, 10))
		if *r.Questions[0].Total != 0 || r.Questions[0].Mean(0) != 0 || len(r.Questions[0].Values) != 5 {
			t.Fatalf("%+v", r.Questions[0])
		}
	})
	t.Run("MaxTotal", func(t *testing.T) {
		if got := MaxTotal(f.e.Style, 10); got != 10 {
			t.Fatalf("MaxTotal = %d, want 10 (every selection 0 or 1, 10 ballots)", got)
		}
	})
	t.Run("round trip", func(t *testing.T) {
		data, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseResults(data)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := json.Marshal(back)
		if string(again) != string(data) {
			t.Fatalf("round trip changed %s to %s", data, again)
		}
	})
}

func TestParseResults(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
	}{
		{"empty", ""},
		{"unknown field", `{"election":"x","ballots":1,"questions":[],"winner":"x"}`},
		{"unknown nested field", `{"election":"x","ballots":1,"questions":[{"id":"q","kind":"single","options":[{"id":"a","count":1,"share":0.5}]}]}`},
		{"negative count", `{"election":"x","ballots":1,"questions":[{"id":"q","kind":"single","options":[{"id":"a","count":-1}]}]}`},
		{"rating value without count", `{"election":"x","ballots":1,"questions":[{"id":"r","kind":"rating","values":[{"value":1}],"total":1}]}`},
		{"rating count without value", `{"election":"x","ballots":1,"questions":[{"id":"r","kind":"rating","values":[{"count":1}],"total":1}]}`},
		{"rating negative count", `{"election":"x","ballots":1,"questions":[{"id":"r","kind":"rating","values":[{"value":1,"count":-1}],"total":1}]}`},
		{"rating fractional value", `{"election":"x","ballots":1,"questions":[{"id":"r","kind":"rating","values":[{"value":1.5,"count":1}],"total":1}]}`},
		{"rating null values", `{"election":"x","ballots":1,"questions":[{"id":"r","kind":"rating","values":null,"total":1}]}`},
		{"trailing data", `{"election":"x","ballots":1,"questions":[]} {}`},
		{"trailing brace", `{"election":"x","ballots":1,"questions":[]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseResults([]byte(tc.data)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// A tally of fewer ballots than the privacy threshold is not decrypted: a
// tally of one ballot would be that ballot (crypto-audit H1).
func TestDecryptRefusesBelowPrivacyThreshold(t *testing.T) {
	m, err := examples.Manifest("referendum")
	if err != nil {
		t.Fatal(err)
	}
	answers := []ballot.Answers{{"plan": "yes"}, {"plan": "no"}, {"plan": "yes"}, {"plan": "yes"}}
	for _, tc := range []struct {
		name     string
		manifest []byte
		ok       bool
	}{
		{"default threshold 10", m, false},
		{"threshold 5", withPrivacy(m, 5), false},
		{"threshold 4, exactly met", withPrivacy(m, 4), true},
		{"threshold 1", withPrivacy(m, 1), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.manifest, 3, 2, answers)
			s, err := Decrypt(rand.Reader, f.e, f.acc, 1, f.d.shares[1])
			if tc.ok {
				if err != nil {
					t.Fatalf("a tally of %d ballots refused: %v", f.acc.Ballots, err)
				}
				return
			}
			if !errors.Is(err, ErrWithheld) || s != nil {
				t.Fatalf("a tally of %d ballots under privacyThreshold %d: got %v, want ErrWithheld", f.acc.Ballots, f.e.Manifest.PrivacyThreshold(), err)
			}
			if err := CheckPrivacy(f.e.Manifest, f.acc.Ballots); !errors.Is(err, ErrWithheld) {
				t.Fatalf("CheckPrivacy: %v", err)
			}
		})
	}
}

// A share, a tally or results lacking a field are refused, naming the
// field (SPEC §2.3, §9.1, §9.2, §9.4).
func TestRequiredFields(t *testing.T) {
	f := referendumFixture(t)
	share, _ := json.Marshal(f.share(t, 1))
	strictjsontest.RequireFields(t, share, func(b []byte) error { _, err := ParseShare(b); return err },
		"trustee", "tally", "partials", "partials.0.d", "partials.0.proof")
	results, _ := json.Marshal(ResultsOf(f.e.Manifest, 3, make([]uint64, f.e.Style.Selections())))
	strictjsontest.RequireFields(t, results, func(b []byte) error { _, err := ParseResults(b); return err },
		"election", "ballots", "questions", "questions.0.id", "questions.0.kind", "questions.0.options.0.id", "questions.0.options.0.count")
}
