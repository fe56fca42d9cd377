package verify_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/verify"
	"github.com/koe-vote/koe/internal/zkp"
)

// TestComplaintStormRecord is crypto audit H4 at the level of koe verify:
// trustees 2 and 3 (t of them) complain against dealer 1, which answers
// both, so its polynomial is public. A record whose election.json keeps
// dealer 1 in QUAL (the key then includes its C₁₀) must not verify; the
// record with dealer 1 disqualified does.
func TestComplaintStormRecord(t *testing.T) {
	manifest, err := os.ReadFile("../../testdata/vectors/record/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ballot.ParseManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	p := ceremony.Params{N: m.Trustees, T: m.Threshold}
	if p != (ceremony.Params{N: 3, T: 2}) {
		t.Fatalf("the test needs a 2-of-3 manifest, not %+v", p)
	}
	hM := ballot.Hash(manifest)

	// Each trustee's randomness is kept, so that the test can re-derive
	// dealer 1's coefficients (NewTrustee draws them first) and sign for it.
	var trustees []*ceremony.Trustee
	var anns []ceremony.Announcement
	var coeffs1 []*group.Scalar
	for i := 1; i <= p.N; i++ {
		seed := make([]byte, 4096)
		rand.Read(seed)
		tt, a, err := ceremony.NewTrustee(bytes.NewReader(seed), p, hM[:], i, fmt.Sprintf("Trustee %d", i))
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			r := bytes.NewReader(seed)
			for range p.T {
				s, _ := group.RandomScalar(r)
				coeffs1 = append(coeffs1, s)
			}
		}
		trustees, anns = append(trustees, tt), append(anns, *a)
	}
	var ds []ceremony.Dealing
	for _, tt := range trustees {
		d, err := tt.Deal(rand.Reader, hM[:], anns)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, *d)
	}
	// Trustees 2 and 3 "do not see" dealer 1's dealing: both complain.
	var vs []ceremony.Verdict
	for _, tt := range trustees {
		seen := ds
		if tt.Index != 1 {
			seen = ds[1:]
		}
		v, err := tt.Receive(hM[:], anns, seen)
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, *v)
	}
	if got := ceremony.ComplaintsAgainst(1, vs); fmt.Sprint(got) != "[2 3]" {
		t.Fatalf("complaints against dealer 1 from %v", got)
	}
	honest, err := trustees[0].Respond(hM[:], anns, vs)
	if err != nil {
		t.Fatal(err)
	}
	if len(honest) != 0 {
		t.Fatalf("dealer 1 facing t complaints revealed %d shares", len(honest))
	}
	// Dealer 1 answers both anyway (as the old client did).
	f1 := func(j int) *group.Scalar {
		return group.NewScalar().Add(coeffs1[0], group.NewScalar().Multiply(coeffs1[1], group.ScalarFromUint64(uint64(j))))
	}
	var forced []ceremony.Response
	for _, j := range []int{2, 3} {
		r := ceremony.Response{Dealer: 1, To: j, Share: f1(j)}
		d := ceremony.ResponseDigest(hM[:], &r, ceremony.VerdictDigest(hM[:], &vs[j-1]))
		if r.Signature, err = zkp.ProveSchnorr(rand.Reader, d[:], coeffs1[0], anns[0].Commitments[0]); err != nil {
			t.Fatal(err)
		}
		forced = append(forced, r)
	}
	// The responses make a₁₀ public: 3·s₁₂ − 2·s₁₃ = f₁(0).
	a10 := group.NewScalar().Subtract(group.NewScalar().Multiply(group.ScalarFromUint64(3), forced[0].Share),
		group.NewScalar().Multiply(group.ScalarFromUint64(2), forced[1].Share))
	if !group.Equal(group.BaseMul(a10), anns[0].Commitments[0]) {
		t.Fatal("the forced responses do not reveal a₁₀")
	}

	write := func(t *testing.T, responses []ceremony.Response, qual []int) string {
		dir := t.TempDir()
		must := func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}
		must(os.WriteFile(filepath.Join(dir, record.Manifest), manifest, 0o644))
		must(os.MkdirAll(filepath.Join(dir, record.CeremonyDir), 0o755))
		for j := 1; j <= p.N; j++ {
			must(record.WriteJSON(record.CeremonyFile(dir, ceremony.RoundAnnounce, j), anns[j-1]))
			must(record.WriteJSON(record.CeremonyFile(dir, ceremony.RoundDeal, j), ds[j-1]))
			must(record.WriteJSON(record.CeremonyFile(dir, ceremony.RoundVerdict, j), vs[j-1]))
			rs := []ceremony.Response{}
			for _, r := range responses {
				if r.Dealer == j {
					rs = append(rs, r)
				}
			}
			must(record.WriteJSON(record.CeremonyFile(dir, ceremony.RoundRespond, j), rs))
		}
		// election.json as computed with the given QUAL.
		res := &ceremony.Result{VerificationKeys: map[int]*group.Element{}, JointKey: group.NewElement()}
		res.Qual = qual
		for _, i := range qual {
			res.JointKey.Add(res.JointKey, anns[i-1].Commitments[0])
		}
		for _, j := range qual {
			Y := group.NewElement()
			for _, i := range qual {
				C := anns[i-1].Commitments
				Y.Add(Y, C[0])
				Y.Add(Y, group.VarTimeMul(group.ScalarFromUint64(uint64(j)), C[1]))
			}
			res.VerificationKeys[j] = Y
		}
		e, err := ballot.NewElection(manifest, res.JointKey, ballot.NoRegistrar)
		must(err)
		must(record.WriteJSON(filepath.Join(dir, record.Election), record.ParamsOf(e, res)))
		return dir
	}

	t.Run("dealer 1 kept in QUAL", func(t *testing.T) {
		r := verify.Record(write(t, forced, []int{1, 2, 3}), verify.Options{})
		if r.OK() {
			t.Fatal("koe verify accepts a record whose key includes dealer 1, whose a₁₀ its transcript reveals")
		}
		f := r.Failures()
		if len(f) == 0 || !strings.Contains(fmt.Sprint(f), record.Election) {
			t.Fatalf("failures %v do not name %s", f, record.Election)
		}
		for _, c := range r.Checks {
			if c.What == record.CeremonyDir && !strings.Contains(c.Detail, "qualified trustees [2 3]") {
				t.Fatalf("ceremony check: %s", c.Detail)
			}
		}
	})
	for _, tc := range []struct {
		name      string
		responses []ceremony.Response
	}{{"dealer 1 disqualified, revealing nothing", nil}, {"dealer 1 disqualified, its responses published", forced}} {
		t.Run(tc.name, func(t *testing.T) {
			r := verify.Record(write(t, tc.responses, []int{2, 3}), verify.Options{})
			if !r.OK() {
				t.Fatalf("the record with QUAL [2 3] does not verify: %v", r.Failures())
			}
		})
	}
}
