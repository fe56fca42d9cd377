package ceremony

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/group"
)

// A complaint storm (crypto audit H4): trustees publish false complaints,
// properly signed, against dealers whose shares were good. Every honest
// dealer answers with the client's Respond. Before GJKR disqualification a
// dealer revealed a share for every complaint, so t complaints published its
// whole polynomial while the transcript still verified with the dealer in
// QUAL. The tests require that a dealer facing t or more complaints reveals
// nothing and is disqualified, so that no qualified dealer's aᵢ₀ — and so
// no part of the joint secret — can be computed from the transcript.

// falseVerdict is the verdict trustee from publishes when it complains
// against every dealer in against although every share it got was good.
func falseVerdict(t testing.TB, r *run, ds []Dealing, from int, against []int) Verdict {
	t.Helper()
	v := Verdict{From: from, AnnouncementsHash: AnnouncementsHash(testContext, r.anns), Complaints: []Complaint{}}
	digests := make(map[int][]byte)
	for k := range ds {
		if d := &ds[k]; d.From != from && !slices.Contains(against, d.From) {
			h := DealingDigest(testContext, d)
			digests[d.From] = h[:]
		}
	}
	for _, i := range against {
		v.Complaints = append(v.Complaints, Complaint{Against: i, Reason: "share does not match the commitments"})
	}
	v.DealingsHash = DealingsHash(testContext, r.p.N, from, digests)
	var err error
	if v.Signature, err = r.trustee(from).sign(rand.Reader, VerdictDigest(testContext, &v)); err != nil {
		t.Fatal(err)
	}
	return v
}

// storm runs a ceremony in which trustee j complains against the dealers
// complaints[j]; every trustee responds with Respond, then forced (if set)
// makes the dealers in it reveal every complained share anyway, as a
// dishonest dealer could. It returns the run with its transcript.
func storm(t *testing.T, p Params, complaints map[int][]int, forced []int) *run {
	t.Helper()
	r := runCeremony(t, p, hooks{})
	vs := r.tr.Verdicts
	for j, against := range complaints {
		vs[j-1] = falseVerdict(t, r, r.tr.Dealings, j, against)
	}
	var rs []Response
	for _, tt := range r.trustees {
		out, err := tt.Respond(testContext, r.anns, vs)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(forced, tt.Index) {
			out = forcedResponses(t, r, vs, tt.Index)
		}
		rs = append(rs, out...)
	}
	r.tr.Verdicts, r.tr.Responses = vs, rs
	return r
}

// forcedResponses reveals, signed, every share dealer i owes a complainer.
func forcedResponses(t *testing.T, r *run, vs []Verdict, i int) []Response {
	var out []Response
	for k := range vs {
		for _, c := range vs[k].Complaints {
			if c.Against != i {
				continue
			}
			resp := Response{Dealer: i, To: vs[k].From, Share: r.trustee(i).eval(vs[k].From)}
			var err error
			resp.Signature, err = r.trustee(i).sign(rand.Reader, ResponseDigest(testContext, &resp, VerdictDigest(testContext, &vs[k])))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, resp)
		}
	}
	return out
}

// publicCoefficient interpolates fᵢ(0) from the shares of dealer i that the
// transcript reveals; ok is false if it reveals fewer than t.
func publicCoefficient(tr *Transcript, i int) (a *group.Scalar, ok bool) {
	shares := make(map[int]*group.Scalar)
	var set []int
	for _, r := range tr.Responses {
		if r.Dealer == i {
			shares[r.To] = r.Share
			set = append(set, r.To)
		}
	}
	if len(set) < tr.T {
		return nil, false
	}
	set = set[:tr.T]
	a = group.NewScalar()
	for _, j := range set {
		a.Add(a, group.NewScalar().Multiply(Lagrange(set, j), shares[j]))
	}
	return a, true
}

// checkNothingPublic fails if the transcript reveals t shares of a dealer
// in QUAL, or if the revealed shares give the joint secret.
func checkNothingPublic(t *testing.T, tr *Transcript, res *Result) {
	t.Helper()
	for _, i := range res.Qual {
		if _, ok := publicCoefficient(tr, i); ok {
			t.Errorf("the transcript reveals t shares of qualified dealer %d: its aᵢ₀ is public", i)
		}
	}
}

func TestComplaintStorm(t *testing.T) {
	t.Run("every trustee against every dealer", func(t *testing.T) {
		// The audit's demonstration: n = 3, t = 2; each trustee complains
		// against both others, so every dealer faces t complaints.
		p := Params{N: 3, T: 2}
		r := storm(t, p, map[int][]int{1: {2, 3}, 2: {1, 3}, 3: {1, 2}}, nil)
		if len(r.tr.Responses) != 0 {
			t.Errorf("dealers facing t complaints revealed %d shares", len(r.tr.Responses))
		}
		x := group.NewScalar()
		public := true
		for i := 1; i <= p.N; i++ {
			a, ok := publicCoefficient(r.tr, i)
			public = public && ok
			if ok {
				x.Add(x, a)
			}
		}
		res, err := r.tr.Verify(testContext)
		if err == nil && public && group.Equal(group.BaseMul(x), res.JointKey) {
			t.Fatalf("the transcript verifies with QUAL = %v and the joint secret x, x·G = K, is computable from it", res.Qual)
		}
		if !errors.Is(err, ErrTooFewQualified) {
			t.Fatalf("Verify = %v, want ErrTooFewQualified", err)
		}
		for i := 1; i <= p.N; i++ {
			if want := fmt.Sprintf("trustee %d disqualified: complaints from 2 trustees", i); !strings.Contains(err.Error(), want) {
				t.Errorf("Verify error %q does not say %q", err, want)
			}
		}
	})
	t.Run("t colluders against an honest dealer", func(t *testing.T) {
		// n = 4, t = 2: trustees 3 and 4 falsely complain against dealer 1.
		p := Params{N: 4, T: 2}
		r := storm(t, p, map[int][]int{3: {1}, 4: {1}}, nil)
		for _, resp := range r.tr.Responses {
			if resp.Dealer == 1 {
				t.Errorf("dealer 1, facing t complaints, revealed its share for trustee %d", resp.To)
			}
		}
		if a, ok := publicCoefficient(r.tr, 1); ok && group.Equal(group.BaseMul(a), r.anns[0].Commitments[0]) {
			t.Error("dealer 1's a₁₀ is computable from the transcript")
		}
		res, err := r.tr.Verify(testContext)
		if err != nil {
			t.Fatal(err)
		}
		want := []Disqualification{{Trustee: 1, Reason: "complaints from 2 trustees (t = 2): its shares must stay secret"}}
		if fmt.Sprint(res.Qual) != "[2 3 4]" || fmt.Sprint(res.Disqualified) != fmt.Sprint(want) {
			t.Fatalf("QUAL = %v, disqualified %v; want [2 3 4], %v", res.Qual, res.Disqualified, want)
		}
		checkNothingPublic(t, r.tr, res)
		checkInterpolation(t, res, p.T, finishAll(t, r, res))
	})
	t.Run("a dealer that reveals t shares anyway", func(t *testing.T) {
		// Dealer 1 answers both complaints against it although it must not:
		// its polynomial is public, so it cannot stay in QUAL.
		p := Params{N: 4, T: 2}
		r := storm(t, p, map[int][]int{3: {1}, 4: {1}}, []int{1})
		if _, ok := publicCoefficient(r.tr, 1); !ok {
			t.Fatal("the forced responses do not reveal dealer 1's polynomial")
		}
		res, err := r.tr.Verify(testContext)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(res.Qual, 1) {
			t.Fatalf("dealer 1 whose polynomial the transcript reveals stays in QUAL = %v", res.Qual)
		}
		checkNothingPublic(t, r.tr, res)
		checkInterpolation(t, res, p.T, finishAll(t, r, res))
	})
	t.Run("t−1 colluders", func(t *testing.T) {
		// n = 4, t = 3: trustees 3 and 4 (t−1 of them) complain against
		// dealer 1, which answers; they learn nothing they did not hold,
		// the dealer stays in QUAL, and only t−1 of its shares are public.
		p := Params{N: 4, T: 3}
		r := storm(t, p, map[int][]int{3: {1}, 4: {1}}, nil)
		if len(r.tr.Responses) != 2 {
			t.Fatalf("dealer 1 revealed %d shares, want 2", len(r.tr.Responses))
		}
		res, err := r.tr.Verify(testContext)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Qual) != p.N {
			t.Fatalf("QUAL = %v, disqualified %v", res.Qual, res.Disqualified)
		}
		checkNothingPublic(t, r.tr, res)
		checkInterpolation(t, res, p.T, finishAll(t, r, res))
	})
}
