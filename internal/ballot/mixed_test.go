package ballot

import (
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/textenc"
)

var cityAnswers = Answers{
	"age":          "40s",
	"science-city": 4.0,
	"priorities":   []any{"school-route", "shelters"},
	"opinion":      "駅前の自転車置き場を増やしてほしいです。研究所の一般公開日をもっと知らせてください。",
}

// decryptVector decrypts a vector of component ciphertexts with the
// election's secret key: M_k = B_k − x·A_k.
func decryptVector(x *group.Scalar, cts []elgamal.Ciphertext) []*group.Element {
	out := make([]*group.Element, len(cts))
	for k, c := range cts {
		out[k] = group.NewElement().Subtract(c.B, group.Mul(x, c.A))
	}
	return out
}

func TestMixedQuestionsRoundTrip(t *testing.T) {
	e, x := testElection(t, "city-survey")
	if got := e.Manifest.Mixed(); !slices.Equal(got, []int{2, 3}) {
		t.Fatalf("Mixed() = %v, want [2 3]", got)
	}
	if e.Style.Selections() != 7+5 {
		t.Fatalf("%d tallied selections, want 12 (a rating 1..5 has 5; the rank and text components are not tallied)", e.Style.Selections())
	}
	pt, err := e.Manifest.Plaintext(cityAnswers)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Manifest.Answers(pt); !equalAnswers(got, cityAnswers) {
		t.Fatalf("Answers(Plaintext(a)) = %v, want %v", got, cityAnswers)
	}
	b, nonces, err := Encrypt(rand.Reader, e, [32]byte{7}, pt)
	if err != nil {
		t.Fatal(err)
	}
	w := textenc.WidthOf(400)
	if want := HeaderSize + 7*(64+128*2) + 128*2 + 5*(64+128*2) + 128*1 + 5*128 + w*128; len(b.Bytes()) != want || e.Style.Size() != want {
		t.Fatalf("ballot %d bytes, style %d, want %d", len(b.Bytes()), e.Style.Size(), want)
	}
	d, err := Decode(e, b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Verify(e); err != nil {
		t.Fatal(err)
	}
	batch := group.NewBatch()
	if err := d.AddTo(batch, e); err != nil || !batch.Verify() {
		t.Fatalf("batch rejects an honest ballot (%v)", err)
	}
	if n := len(d.CiphertextAs()); n != 12+5+w {
		t.Fatalf("CiphertextAs has %d values, want every ciphertext (%d) for the reuse check", n, 12+5+w)
	}
	cts, err := DecodeCiphertexts(e, b.Bytes())
	if err != nil || len(cts) != e.Style.Selections() {
		t.Fatalf("DecodeCiphertexts: %d ciphertexts (%v), want %d", len(cts), err, e.Style.Selections())
	}
	if d.MixVector(0) != nil {
		t.Fatal("MixVector of a tallied question is not nil")
	}
	text, err := e.Manifest.DecodeMixed(3, decryptVector(x, d.MixVector(3)))
	if err != nil || text != cityAnswers["opinion"] {
		t.Fatalf("text decrypts to %q (%v)", text, err)
	}
	ranking, err := e.Manifest.DecodeMixed(2, decryptVector(x, d.MixVector(2)))
	if err != nil || !slices.Equal(ranking.([]string), []string{"school-route", "shelters"}) {
		t.Fatalf("ranking decrypts to %v (%v)", ranking, err)
	}
	sp := Spoil(b, pt, nonces)
	if _, err := sp.Check(e); err != nil {
		t.Fatalf("honest spoiled ballot: %v", err)
	}
	// A spoiled ballot that claims another comment or another ranking.
	for _, tc := range []struct {
		name string
		edit func(p Plaintext)
	}{
		{"other comment", func(p Plaintext) { p[3][5] ^= 1 }},
		{"other ranking", func(p Plaintext) { p[2][0], p[2][1] = p[2][1], p[2][0] }},
	} {
		pt2 := clonePlaintext(pt)
		tc.edit(pt2)
		sp := Spoil(b, pt2, nonces)
		if _, err := sp.Check(e); err == nil {
			t.Errorf("%s: a spoiled ballot opening to an answer it does not encrypt is accepted", tc.name)
		}
	}
}

func clonePlaintext(p Plaintext) Plaintext {
	out := make(Plaintext, len(p))
	for i := range p {
		out[i] = slices.Clone(p[i])
	}
	return out
}

func equalAnswers(a, b Answers) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok {
			return false
		}
		lv, isList := v.([]any)
		lw, isList2 := w.([]any)
		if isList != isList2 || (isList && !slices.Equal(lv, lw)) || (!isList && v != w) {
			return false
		}
	}
	return true
}

// TestCopiedCommentRefused is Cortier and Smyth's replay: a voter copies
// another voter's comment ciphertexts (and their proofs) into a ballot with
// their own binding. The proofs of knowledge are bound to the binding, so
// the copy does not verify; a re-randomised copy cannot be proved without
// the victim's nonces either.
func TestCopiedCommentRefused(t *testing.T) {
	e, _ := testElection(t, "city-survey")
	pt, err := e.Manifest.Plaintext(cityAnswers)
	if err != nil {
		t.Fatal(err)
	}
	victim, _, err := Encrypt(rand.Reader, e, [32]byte{1}, pt)
	if err != nil {
		t.Fatal(err)
	}
	own, err := e.Manifest.Plaintext(Answers{"science-city": 2.0, "priorities": []any{"bike-lanes"}})
	if err != nil {
		t.Fatal(err)
	}
	attacker, _, err := Encrypt(rand.Reader, e, [32]byte{2}, own)
	if err != nil {
		t.Fatal(err)
	}
	attacker.Questions[3] = victim.Questions[3]
	attacker.raw = attacker.encode()
	d, err := Decode(e, attacker.raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Verify(e); !errors.Is(err, ErrBallot) || !strings.Contains(err.Error(), "component 1") {
		t.Fatalf("a copied comment verifies: %v", err)
	}
	batch := group.NewBatch()
	if err := d.AddTo(batch, e); err != nil || batch.Verify() {
		t.Fatalf("a batch accepts a copied comment (%v)", err)
	}
}

func TestRankAnswersRefused(t *testing.T) {
	e, _ := testElection(t, "city-survey")
	base := func(rank any) Answers {
		a := Answers{"science-city": 3.0}
		if rank != nil {
			a["priorities"] = rank
		}
		return a
	}
	for _, tc := range []struct {
		name string
		a    Answers
	}{
		{"none ranked with min 1", base(nil)},
		{"empty ranking", base([]any{})},
		{"ranked twice", base([]any{"shelters", "shelters"})},
		{"more than max", base([]any{"shelters", "bus-stops", "bike-lanes", "school-route"})},
		{"unknown option", base([]any{"airport"})},
		{"a string", base("shelters")},
		{"text too long", Answers{"science-city": 3.0, "opinion": strings.Repeat("あ", 401)}},
		{"text a number", Answers{"science-city": 3.0, "opinion": 3.0}},
	} {
		if _, err := e.Manifest.Plaintext(tc.a); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if _, err := e.Manifest.Plaintext(Answers{"science-city": 3.0, "priorities": []any{"bus-stops"}, "opinion": strings.Repeat("あ", 400)}); err != nil {
		t.Errorf("a full-length comment: %v", err)
	}
}

// TestDecodeMixedInvalid: rank components carry no validity proof, so a
// vector that is not a ranking must decrypt to "invalid", with the reason.
func TestDecodeMixedInvalid(t *testing.T) {
	e, _ := testElection(t, "city-survey")
	pos := func(p ...uint64) []*group.Element {
		out := make([]*group.Element, len(p))
		for i, v := range p {
			out[i] = group.SmallBaseMul(v)
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		elems []*group.Element
		want  string
	}{
		{"shared position", pos(1, 1, 0, 0, 0), "share position"},
		{"gap", pos(1, 3, 0, 0, 0), "no option has position 2"},
		{"above max", pos(4, 0, 0, 0, 0), "no position"},
		{"none ranked, min 1", pos(0, 0, 0, 0, 0), "at least 1"},
		{"too few components", pos(1, 0, 0, 0), "components"},
		{"not a small multiple", append(pos(1, 0, 0, 0), group.SmallBaseMul(1000)), "no position"},
	} {
		_, err := e.Manifest.DecodeMixed(2, tc.elems)
		if !errors.Is(err, ErrInvalidAnswer) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrInvalidAnswer with %q", tc.name, err, tc.want)
		}
	}
	if got, err := e.Manifest.DecodeMixed(2, pos(0, 0, 1, 3, 2)); err != nil || !slices.Equal(got.([]string), []string{"bus-stops", "bike-lanes", "library-hours"}) {
		t.Errorf("valid ranking: %v (%v)", got, err)
	}
	if _, err := e.Manifest.DecodeMixed(0, nil); err == nil || errors.Is(err, ErrInvalidAnswer) {
		t.Errorf("DecodeMixed of a single-choice question: %v", err)
	}
	// A text vector with an element that is not an embedded block.
	w := textenc.WidthOf(400)
	elems := pos(make([]uint64, w)...)
	elems[0] = group.SmallBaseMul(5)
	if _, err := e.Manifest.DecodeMixed(3, elems); !errors.Is(err, ErrInvalidAnswer) {
		t.Errorf("text of non-embedded elements: %v", err)
	}
	// The empty comment is allowed: the question is optional.
	empty, _ := textenc.EncodeText("", 400)
	if got, err := e.Manifest.DecodeMixed(3, empty); err != nil || got != "" {
		t.Errorf("empty optional comment: %q (%v)", got, err)
	}
}
