package tally

import (
	"crypto/rand"
	"slices"
	"testing"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/shuffle"
)

// TestMixedQuestionsEndToEnd takes the city survey's rank and text
// questions from encrypted ballots through two mixes and a 2-of-3
// decryption to their results: the comments equal what the voters wrote as
// a multiset, and the rankings are counted.
func TestMixedQuestionsEndToEnd(t *testing.T) {
	data, err := examples.Manifest("city-survey")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := group.RandomScalar(rand.Reader)
	b, _ := group.RandomScalar(rand.Reader)
	shares := map[int]*group.Scalar{}
	for j := 1; j <= 3; j++ {
		s := group.NewScalar().Multiply(b, group.ScalarFromUint64(uint64(j)))
		shares[j] = s.Add(s, a)
	}
	K := group.BaseMul(a)
	e, err := ballot.NewElection(data, K, ballot.NoRegistrar)
	if err != nil {
		t.Fatal(err)
	}
	voters := []ballot.Answers{
		{"age": "40s", "science-city": 4.0, "priorities": []any{"school-route", "shelters"},
			"opinion": "駅前の自転車置き場を増やしてほしいです。"},
		{"age": "20s", "science-city": 5.0, "priorities": []any{"shelters", "school-route", "bus-stops"},
			"opinion": "研究所の一般公開日をもっと知らせてください。"},
		{"age": "70s", "science-city": 2.0, "priorities": []any{"shelters"}, "opinion": ""},
		{"age": "30s", "science-city": 3.0, "priorities": []any{"school-route", "bike-lanes"},
			"opinion": "駅前の自転車置き場を増やしてほしいです。"},
	}
	var counted []*ballot.Ballot
	for i, ans := range voters {
		pt, err := e.Manifest.Plaintext(ans)
		if err != nil {
			t.Fatal(err)
		}
		bb, _, err := ballot.Encrypt(rand.Reader, e, [32]byte{byte(i + 1)}, pt)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ballot.Decode(e, bb.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		counted = append(counted, d)
	}
	results := map[string]*MixedResult{}
	for _, qi := range e.Manifest.Mixed() {
		list, err := MixInput(counted, qi)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // two trustees mix in turn; every mix verifies
			out, proof, err := shuffle.ShuffleList(rand.Reader, e.Context[:], K, list)
			if err != nil {
				t.Fatal(err)
			}
			if err := shuffle.VerifyList(e.Context[:], K, list, out, proof.Bytes()); err != nil {
				t.Fatal(err)
			}
			list = out
		}
		partials := map[int][]*group.Element{}
		for _, j := range []int{1, 3} {
			share, err := DecryptList(rand.Reader, e.Context[:], list, j, shares[j])
			if err != nil {
				t.Fatal(err)
			}
			_, Ds, err := CheckListShare(e.Context[:], list, share, group.BaseMul(shares[j]))
			if err != nil {
				t.Fatal(err)
			}
			partials[j] = Ds
		}
		ms, err := CombineList(list, partials, 2)
		if err != nil {
			t.Fatal(err)
		}
		r, err := MixedResultOf(e.Manifest, qi, ms)
		if err != nil {
			t.Fatal(err)
		}
		results[r.Question] = r
	}
	op := results["opinion"]
	got := slices.Clone(op.Comments)
	slices.Sort(got)
	want := []string{"研究所の一般公開日をもっと知らせてください。", "駅前の自転車置き場を増やしてほしいです。", "駅前の自転車置き場を増やしてほしいです。"}
	slices.Sort(want)
	if !slices.Equal(got, want) || op.Empty != 1 || op.Invalid != 0 {
		t.Fatalf("comments %q (empty %d, invalid %d), want %q and one empty", op.Comments, op.Empty, op.Invalid, want)
	}
	pr := results["priorities"]
	// Options: shelters, school-route, bus-stops, library-hours, bike-lanes (n = 5).
	if pr.Valid != 4 || pr.Invalid != 0 {
		t.Fatalf("rankings: %d valid, %d invalid", pr.Valid, pr.Invalid)
	}
	if !slices.Equal(pr.Borda, []int{3 + 4 + 4, 4 + 3 + 4, 2, 0, 3}) {
		t.Fatalf("Borda %v", pr.Borda)
	}
	// shelters over school-route: voters 2 and 3; school-route over shelters: 1 and 4 — a tie.
	if pr.Pairwise[0][1] != 2 || pr.Pairwise[1][0] != 2 || !slices.Equal(pr.Winners, []string{"shelters", "school-route"}) {
		t.Fatalf("pairwise %v, winners %v", pr.Pairwise, pr.Winners)
	}
	if _, err := MixedResultOf(e.Manifest, 0, nil); err == nil {
		t.Fatal("a choice question was decoded as mixed")
	}
	if _, err := MixInput(counted, 0); err == nil {
		t.Fatal("a choice question was mixed")
	}
}

// TestMixedResultInvalid: a vector that decodes to no valid answer is
// counted as invalid, not listed.
func TestMixedResultInvalid(t *testing.T) {
	data, err := examples.Manifest("city-survey")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ballot.ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	rankQ := 2
	two := group.SmallBaseMul(2)
	zero := group.SmallBaseMul(0)
	dup := []*group.Element{two, two, zero, zero, zero} // two options at position 2, none at 1
	r, err := MixedResultOf(m, rankQ, [][]*group.Element{dup})
	if err != nil {
		t.Fatal(err)
	}
	if r.Invalid != 1 || r.Valid != 0 {
		t.Fatalf("invalid %d valid %d", r.Invalid, r.Valid)
	}
}
