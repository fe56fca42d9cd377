package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"testing"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/zkp"
)

// TestServerQUALComplaintStorm: t trustees (3, 4, 5 of the survey's 3-of-5)
// complain against dealer 1, which answers all three, so its polynomial is
// on the board. The server that opens the election must leave dealer 1 out
// of QUAL and out of the joint key (crypto audit H4, SPEC.md §6.3 step 5).
func TestServerQUALComplaintStorm(t *testing.T) {
	h := start(t, sqliteStore(t))
	ctx := context.Background()
	manifest, _ := examples.Manifest("survey")
	var created api.Created
	must(t, h.admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created))
	id := created.ID
	manifest = serverManifest(t, h.url, id, manifest)
	p := ceremony.Params{N: 5, T: 3}
	h0 := ballot.Hash(manifest)
	trustees := make([]*ceremony.Trustee, p.N)
	tc := make([]*client.Client, p.N)
	var coeffs1 []*group.Scalar
	for j := 1; j <= p.N; j++ {
		seed := make([]byte, 4096)
		rand.Read(seed)
		tc[j-1] = client.New(h.url, created.TrusteeTokens[j-1])
		tr, ann, err := ceremony.NewTrustee(bytes.NewReader(seed), p, h0[:], j, fmt.Sprintf("trustee %d", j))
		must(t, err)
		if j == 1 { // NewTrustee draws the coefficients first
			r := bytes.NewReader(seed)
			for range p.T {
				a, _ := group.RandomScalar(r)
				coeffs1 = append(coeffs1, a)
			}
		}
		trustees[j-1] = tr
		must(t, tc[j-1].PostCeremony(ctx, id, ceremony.RoundAnnounce, ann))
	}
	transcript := func() *ceremony.Transcript {
		tr, err := h.admin.Transcript(ctx, id, p)
		must(t, err)
		return tr
	}
	for i, tr := range trustees {
		d, err := tr.Deal(rand.Reader, h0[:], transcript().Announcements)
		must(t, err)
		must(t, tc[i].PostCeremony(ctx, id, ceremony.RoundDeal, d))
	}
	for i, tr := range trustees {
		cur := transcript()
		seen := cur.Dealings
		if tr.Index >= 3 { // they "do not see" dealer 1's dealing
			seen = slices.DeleteFunc(slices.Clone(seen), func(d ceremony.Dealing) bool { return d.From == 1 })
		}
		v, err := tr.Receive(h0[:], cur.Announcements, seen)
		must(t, err)
		must(t, tc[i].PostCeremony(ctx, id, ceremony.RoundVerdict, v))
	}
	cur := transcript()
	if got := ceremony.ComplaintsAgainst(1, cur.Verdicts); fmt.Sprint(got) != "[3 4 5]" {
		t.Fatalf("complaints against dealer 1 from %v", got)
	}
	// Dealer 1 reveals its three shares anyway, signed under C₁₀.
	f1 := func(j int) *group.Scalar {
		x := group.ScalarFromUint64(uint64(j))
		s := group.NewScalar().Set(coeffs1[2])
		s.Multiply(s, x).Add(s, coeffs1[1])
		return s.Multiply(s, x).Add(s, coeffs1[0])
	}
	var forced []ceremony.Response
	for _, j := range []int{3, 4, 5} {
		r := ceremony.Response{Dealer: 1, To: j, Share: f1(j)}
		d := ceremony.ResponseDigest(h0[:], &r, ceremony.VerdictDigest(h0[:], &cur.Verdicts[j-1]))
		var err error
		r.Signature, err = zkp.ProveSchnorr(rand.Reader, d[:], coeffs1[0], cur.Announcements[0].Commitments[0])
		must(t, err)
		forced = append(forced, r)
	}
	must(t, tc[0].PostCeremony(ctx, id, ceremony.RoundRespond, forced))
	for i, tr := range trustees[1:] {
		rs, err := tr.Respond(h0[:], cur.Announcements, cur.Verdicts)
		must(t, err)
		if rs == nil {
			rs = []ceremony.Response{}
		}
		must(t, tc[i+1].PostCeremony(ctx, id, ceremony.RoundRespond, rs))
	}
	if _, err := h.admin.Raw(ctx, "POST", api.ElectionPath(id, "/roll"), "text/csv", []byte("voter_id\nS-1\nS-2\n")); err != nil {
		t.Fatal(err)
	}
	must(t, h.admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil))
	var info api.ElectionInfo
	must(t, h.admin.Do(ctx, "GET", api.ElectionPath(id, ""), "", nil, &info))
	if info.Params == nil || fmt.Sprint(info.Params.Qual) != "[2 3 4 5]" {
		t.Fatalf("the server opened the election with QUAL %v, want [2 3 4 5]", info.Params)
	}
	K := group.NewElement()
	for _, a := range cur.Announcements[1:] {
		K.Add(K, a.Commitments[0])
	}
	if info.Params.JointKey != fmt.Sprintf("%x", K.Bytes()) {
		t.Fatal("the joint key is not the sum of the qualified trustees' C_i0")
	}
	// Every qualified trustee finishes with the server's transcript.
	final := transcript()
	for _, tr := range trustees[1:] {
		if _, err := tr.Finish(h0[:], final); err != nil {
			t.Fatalf("%v: %v", tr, err)
		}
	}
}

// serverManifest returns the manifest of the server's election: the one
// posted with the server's board key filled in (SPEC.md §7.1).
func serverManifest(t *testing.T, url, id string, posted []byte) []byte {
	t.Helper()
	m, err := demo.ServerManifest(context.Background(), url, id, posted)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
