package ceremony

import (
	"bytes"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/group"
)

var testContext = func() []byte { h := sha256.Sum256([]byte("test manifest")); return h[:] }()

// hooks let a test make trustees misbehave.
type hooks struct {
	// dealings may rewrite the published dealings before round 3.
	dealings func(t testing.TB, r *run, ds []Dealing) []Dealing
	// seen may hide dealings from trustee j in round 3 (they still reach the transcript).
	seen func(j int, ds []Dealing) []Dealing
	// responses may rewrite the responses of dealer i.
	responses func(r *run, i int, rs []Response) []Response
}

type run struct {
	p        Params
	trustees []*Trustee // trustees[i-1] is trustee i
	anns     []Announcement
	tr       *Transcript
}

func (r *run) trustee(i int) *Trustee { return r.trustees[i-1] }

// runCeremony runs rounds 1–4 and returns the transcript; it does not call Verify.
func runCeremony(t testing.TB, p Params, h hooks) *run {
	t.Helper()
	r := &run{p: p}
	for i := 1; i <= p.N; i++ {
		tt, a, err := NewTrustee(rand.Reader, p, testContext, i, fmt.Sprintf("Trustee %d", i))
		if err != nil {
			t.Fatal(err)
		}
		r.trustees = append(r.trustees, tt)
		r.anns = append(r.anns, *a)
	}
	var ds []Dealing
	for _, tt := range r.trustees {
		d, err := tt.Deal(rand.Reader, testContext, r.anns)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, *d)
	}
	if h.dealings != nil {
		ds = h.dealings(t, r, ds)
		// The dealers the hook makes misbehave sign what they publish.
		for k := range ds {
			var err error
			if ds[k].Signature, err = r.trustee(ds[k].From).sign(rand.Reader, DealingDigest(testContext, &ds[k])); err != nil {
				t.Fatal(err)
			}
		}
	}
	var vs []Verdict
	for _, tt := range r.trustees {
		seen := ds
		if h.seen != nil {
			seen = h.seen(tt.Index, ds)
		}
		v, err := tt.Receive(testContext, r.anns, seen)
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, *v)
	}
	var rs []Response
	for _, tt := range r.trustees {
		out, err := tt.Respond(testContext, r.anns, vs)
		if err != nil {
			t.Fatal(err)
		}
		if h.responses != nil {
			out = h.responses(r, tt.Index, out)
			for k := range out {
				vh := VerdictDigest(testContext, &vs[out[k].To-1])
				if out[k].Signature, err = tt.sign(rand.Reader, ResponseDigest(testContext, &out[k], vh)); err != nil {
					t.Fatal(err)
				}
			}
		}
		rs = append(rs, out...)
	}
	r.tr = &Transcript{Params: p, Announcements: r.anns, Dealings: ds, Verdicts: vs, Responses: rs}
	return r
}

// finishAll runs Finish for every trustee in QUAL and checks the result
// against Verify's and against the dealers' coefficients.
func finishAll(t *testing.T, r *run, res *Result) map[int]*group.Scalar {
	t.Helper()
	shares := make(map[int]*group.Scalar)
	want := group.NewScalar()
	for _, i := range res.Qual {
		want.Add(want, r.trustee(i).coeffs[0])
	}
	if !group.Equal(group.BaseMul(want), res.JointKey) {
		t.Fatal("joint key is not Σ_{i∈QUAL} aᵢ₀·G")
	}
	for _, tt := range r.trustees {
		got, err := tt.Finish(testContext, r.tr)
		if !containsInt(res.Qual, tt.Index) {
			if !errors.Is(err, ErrDisqualified) {
				t.Fatalf("Finish of disqualified trustee %d: %v", tt.Index, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Finish of trustee %d: %v", tt.Index, err)
		}
		if !group.Equal(got.JointKey, res.JointKey) {
			t.Fatalf("trustee %d computed another joint key", tt.Index)
		}
		x := tt.Share()
		if !group.Equal(group.BaseMul(x), res.VerificationKeys[tt.Index]) {
			t.Fatalf("x_%d·G != Y_%d", tt.Index, tt.Index)
		}
		shares[tt.Index] = x
	}
	return shares
}

func containsInt(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// subsets returns every subset of set with exactly k elements.
func subsets(set []int, k int) [][]int {
	if k == 0 {
		return [][]int{{}}
	}
	if len(set) < k {
		return nil
	}
	var out [][]int
	for _, rest := range subsets(set[1:], k-1) {
		out = append(out, append([]int{set[0]}, rest...))
	}
	return append(out, subsets(set[1:], k)...)
}

// checkInterpolation checks Σ λⱼ·xⱼ·G = K for every subset of QUAL of size
// t and for QUAL itself, and that t−1 shares do not suffice.
func checkInterpolation(t *testing.T, res *Result, tt int, shares map[int]*group.Scalar) {
	t.Helper()
	sets := append(subsets(res.Qual, tt), res.Qual)
	for _, set := range sets {
		x := group.NewScalar()
		for _, j := range set {
			x.Add(x, group.NewScalar().Multiply(Lagrange(set, j), shares[j]))
		}
		if !group.Equal(group.BaseMul(x), res.JointKey) {
			t.Fatalf("shares %v do not interpolate to the joint secret", set)
		}
		// The same with public verification keys only.
		var ls []*group.Scalar
		var ys []*group.Element
		for _, j := range set {
			ls = append(ls, Lagrange(set, j))
			ys = append(ys, res.VerificationKeys[j])
		}
		if !group.Equal(group.VarTimeMSM(ls, ys), res.JointKey) {
			t.Fatalf("verification keys %v do not interpolate to the joint key", set)
		}
	}
	if tt > 1 {
		set := res.Qual[:tt-1]
		x := group.NewScalar()
		for _, j := range set {
			x.Add(x, group.NewScalar().Multiply(Lagrange(set, j), shares[j]))
		}
		if group.Equal(group.BaseMul(x), res.JointKey) {
			t.Fatalf("t−1 shares %v interpolate to the joint secret", set)
		}
	}
}

func TestHonestCeremony(t *testing.T) {
	for _, p := range []Params{{1, 1}, {2, 1}, {2, 2}, {3, 2}, {5, 3}, {5, 5}, {7, 4}} {
		t.Run(fmt.Sprintf("%d-of-%d", p.T, p.N), func(t *testing.T) {
			r := runCeremony(t, p, hooks{})
			res, err := r.tr.Verify(testContext)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Qual) != p.N || len(res.Disqualified) != 0 {
				t.Fatalf("QUAL = %v, disqualified %v", res.Qual, res.Disqualified)
			}
			for _, v := range r.tr.Verdicts {
				if len(v.Complaints) != 0 {
					t.Fatalf("honest trustee %d complained: %v", v.From, v.Complaints)
				}
			}
			if len(r.tr.Responses) != 0 {
				t.Fatal("responses without complaints")
			}
			checkInterpolation(t, res, p.T, finishAll(t, r, res))
		})
	}
}

// resealTo replaces the share dealer i sends to trustee j with the given plaintext.
func resealTo(t testing.TB, r *run, ds []Dealing, i, j int, plaintext []byte) {
	t.Helper()
	pk, err := hpkeKEM.NewPublicKey(r.anns[j-1].HPKEPublicKey)
	if err != nil {
		t.Fatal(err)
	}
	info := ShareInfo(testContext, i, j)
	ct, err := hpke.Seal(pk, hpkeKDF, hpkeAEAD, info[:], plaintext)
	if err != nil {
		t.Fatal(err)
	}
	setCiphertext(ds, i, j, ct)
}

func setCiphertext(ds []Dealing, i, j int, ct []byte) {
	for k := range ds {
		if ds[k].From != i {
			continue
		}
		shares := append([]EncryptedShare{}, ds[k].Shares...)
		for m := range shares {
			if shares[m].To == j {
				shares[m].Ciphertext = ct
			}
		}
		ds[k].Shares = shares
	}
}

func wrongShare(r *run, i, j int) *group.Scalar {
	return group.NewScalar().Add(r.trustee(i).eval(j), group.ScalarFromUint64(1))
}

func TestComplaints(t *testing.T) {
	const bad, victim = 2, 4
	p := Params{N: 5, T: 3}
	badShare := func(t testing.TB, r *run, ds []Dealing) []Dealing {
		resealTo(t, r, ds, bad, victim, wrongShare(r, bad, victim).Encode(nil))
		return ds
	}
	noResponse := func(r *run, i int, rs []Response) []Response {
		if i == bad {
			return nil
		}
		return rs
	}
	wrongResponse := func(r *run, i int, rs []Response) []Response {
		if i == bad {
			rs[0].Share = wrongShare(r, bad, victim)
		}
		return rs
	}
	tests := []struct {
		name         string
		hooks        hooks
		reason       string // the victim's complaint
		disqualified string // "" if the bad dealer stays in QUAL
	}{
		{
			name:   "wrong share, right response",
			hooks:  hooks{dealings: badShare},
			reason: "share does not match the commitments",
		},
		{
			name:   "wrong share, no response",
			hooks:  hooks{dealings: badShare, responses: noResponse},
			reason: "share does not match the commitments", disqualified: "no response to the complaint of trustee 4",
		},
		{
			name:   "wrong share, wrong response",
			hooks:  hooks{dealings: badShare, responses: wrongResponse},
			reason: "share does not match the commitments", disqualified: "response to trustee 4 does not match the commitments",
		},
		{
			name: "garbage ciphertext",
			hooks: hooks{dealings: func(t testing.TB, r *run, ds []Dealing) []Dealing {
				ct := make([]byte, ShareCiphertextSize)
				rand.Read(ct)
				setCiphertext(ds, bad, victim, ct)
				return ds
			}},
			reason: "share does not decrypt",
		},
		{
			name: "share sealed to another recipient",
			hooks: hooks{dealings: func(t testing.TB, r *run, ds []Dealing) []Dealing {
				for _, s := range ds[bad-1].Shares {
					if s.To == 1 {
						setCiphertext(ds, bad, victim, s.Ciphertext)
					}
				}
				return ds
			}},
			reason: "share does not decrypt",
		},
		{
			name: "non-canonical scalar",
			hooks: hooks{dealings: func(t testing.TB, r *run, ds []Dealing) []Dealing {
				resealTo(t, r, ds, bad, victim, bytes.Repeat([]byte{0xff}, 32))
				return ds
			}},
			reason: "share is not a canonical scalar",
		},
		{
			// The victim does not see the dealing in time, but it reaches
			// the transcript; the dealer answers the complaint.
			name: "dealing not seen",
			hooks: hooks{seen: func(j int, ds []Dealing) []Dealing {
				if j != victim {
					return ds
				}
				return append(append([]Dealing{}, ds[:bad-1]...), ds[bad:]...)
			}},
			reason: "no dealing",
		},
		{
			name: "dealing not seen, no response",
			hooks: hooks{seen: func(j int, ds []Dealing) []Dealing {
				if j != victim {
					return ds
				}
				return append(append([]Dealing{}, ds[:bad-1]...), ds[bad:]...)
			}, responses: noResponse},
			reason: "no dealing", disqualified: "no response to the complaint of trustee 4",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCeremony(t, p, tt.hooks)
			var complaints []Complaint
			for _, v := range r.tr.Verdicts {
				if v.From == victim {
					complaints = v.Complaints
				} else if len(v.Complaints) != 0 {
					t.Fatalf("trustee %d complained: %v", v.From, v.Complaints)
				}
			}
			if len(complaints) != 1 || complaints[0].Against != bad || complaints[0].Reason != tt.reason {
				t.Fatalf("complaints of trustee %d = %v, want one against %d: %q", victim, complaints, bad, tt.reason)
			}
			res, err := r.tr.Verify(testContext)
			if err != nil {
				t.Fatal(err)
			}
			if tt.disqualified == "" {
				if len(res.Qual) != p.N {
					t.Fatalf("QUAL = %v, disqualified %v", res.Qual, res.Disqualified)
				}
			} else {
				want := []Disqualification{{Trustee: bad, Reason: tt.disqualified}}
				if fmt.Sprint(res.Disqualified) != fmt.Sprint(want) || containsInt(res.Qual, bad) || len(res.Qual) != p.N-1 {
					t.Fatalf("QUAL = %v, disqualified %v, want %v", res.Qual, res.Disqualified, want)
				}
			}
			if tt.disqualified == "" && tt.hooks.dealings != nil {
				// The victim will use the revealed share, not the one it was sent.
				if r.trustee(victim).received[bad] != nil {
					t.Fatal("victim kept the bad share")
				}
			}
			checkInterpolation(t, res, p.T, finishAll(t, r, res))
		})
	}
}

func TestTooFewQualified(t *testing.T) {
	p := Params{N: 3, T: 3}
	r := runCeremony(t, p, hooks{
		dealings: func(t testing.TB, r *run, ds []Dealing) []Dealing {
			resealTo(t, r, ds, 1, 2, wrongShare(r, 1, 2).Encode(nil))
			return ds
		},
		responses: func(r *run, i int, rs []Response) []Response {
			if i == 1 {
				return nil
			}
			return rs
		},
	})
	_, err := r.tr.Verify(testContext)
	if !errors.Is(err, ErrTooFewQualified) || !strings.Contains(err.Error(), "trustee 1 disqualified") {
		t.Fatalf("got %v, want ErrTooFewQualified naming trustee 1", err)
	}
	if _, err := r.trustee(2).Finish(testContext, r.tr); !errors.Is(err, ErrTooFewQualified) {
		t.Fatalf("Finish: %v", err)
	}
}

// cloneTranscript deep-copies tr through JSON.
func cloneTranscript(t *testing.T, tr *Transcript) *Transcript {
	t.Helper()
	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeTranscript(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	honestOnce *run
)

func honest(t *testing.T) *run {
	t.Helper()
	if honestOnce == nil {
		honestOnce = runCeremony(t, Params{N: 4, T: 3}, hooks{})
	}
	return honestOnce
}

func TestVerifyRejects(t *testing.T) {
	r := honest(t)
	tests := []struct {
		name    string
		edit    func(tr *Transcript)
		context []byte
		want    string
	}{
		{"tampered proof", func(tr *Transcript) {
			p := tr.Announcements[2].Proofs[1]
			p.S = group.NewScalar().Add(p.S, group.ScalarFromUint64(1))
		}, nil, "announcement of trustee 3: proof of coefficient 1"},
		{"swapped proofs", func(tr *Transcript) {
			a := &tr.Announcements[1]
			a.Proofs[0], a.Proofs[1] = a.Proofs[1], a.Proofs[0]
		}, nil, "announcement of trustee 2: proof of coefficient 0"},
		{"proof under another trustee's index", func(tr *Transcript) {
			tr.Announcements[0].Commitments, tr.Announcements[1].Commitments = tr.Announcements[1].Commitments, tr.Announcements[0].Commitments
			tr.Announcements[0].Proofs, tr.Announcements[1].Proofs = tr.Announcements[1].Proofs, tr.Announcements[0].Proofs
		}, nil, "announcement of trustee 1: proof of coefficient 0"},
		{"wrong context", func(tr *Transcript) {}, bytes.Repeat([]byte{1}, 32), "announcement of trustee 1: proof"},
		{"short context", func(tr *Transcript) {}, []byte("short"), "context is 5 bytes"},
		{"too few commitments", func(tr *Transcript) {
			a := &tr.Announcements[3]
			a.Commitments, a.Proofs = a.Commitments[:2], a.Proofs[:2]
		}, nil, "announcement of trustee 4: 2 commitments, want t = 3"},
		{"too many commitments", func(tr *Transcript) {
			a := &tr.Announcements[3]
			a.Commitments = append(a.Commitments, group.Generator())
			a.Proofs = append(a.Proofs, a.Proofs[0])
		}, nil, "announcement of trustee 4: 4 commitments, want t = 3"},
		{"proof missing", func(tr *Transcript) {
			tr.Announcements[1].Proofs = tr.Announcements[1].Proofs[:2]
		}, nil, "announcement of trustee 2: 2 proofs for 3 commitments"},
		{"duplicate index", func(tr *Transcript) {
			tr.Announcements[2].Index = 2
		}, nil, "trustee 2 announced twice"},
		{"missing announcement", func(tr *Transcript) {
			tr.Announcements = tr.Announcements[:3]
		}, nil, "trustee 4 published no announcement"},
		{"index out of range", func(tr *Transcript) {
			tr.Announcements[3].Index = 5
		}, nil, "announcement of trustee 5: index 5 outside 1..4"},
		{"bad HPKE key", func(tr *Transcript) {
			k := bytes.Clone(tr.Announcements[1].HPKEPublicKey)
			for i := range 384 {
				k[i] = 0xff // ML-KEM coefficients ≥ q
			}
			tr.Announcements[1].HPKEPublicKey = k
		}, nil, "announcement of trustee 2: invalid HPKE public key"},
		{"empty name", func(tr *Transcript) {
			tr.Announcements[1].Name = ""
		}, nil, "announcement of trustee 2: name"},
		{"missing dealing", func(tr *Transcript) {
			tr.Dealings = append(tr.Dealings[:1], tr.Dealings[2:]...)
		}, nil, "trustee 2 published no dealing"},
		{"duplicate dealing", func(tr *Transcript) {
			tr.Dealings[1] = tr.Dealings[0]
		}, nil, "trustee 1 published two dealings"},
		{"share missing from dealing", func(tr *Transcript) {
			tr.Dealings[2].Shares = tr.Dealings[2].Shares[1:]
		}, nil, "dealing of trustee 3 has no share for trustee 1"},
		{"share to self", func(tr *Transcript) {
			tr.Dealings[2].Shares[0].To = 3
		}, nil, "dealing of trustee 3: share addressed to the dealer itself"},
		{"short ciphertext", func(tr *Transcript) {
			tr.Dealings[2].Shares[0].Ciphertext = tr.Dealings[2].Shares[0].Ciphertext[1:]
		}, nil, "dealing of trustee 3: share for trustee 1 is 1167 bytes"},
		{"missing verdict", func(tr *Transcript) {
			tr.Verdicts = tr.Verdicts[:3]
		}, nil, "trustee 4 published no verdict"},
		{"complaint against self", func(tr *Transcript) {
			tr.Verdicts[0].Complaints = []Complaint{{Against: 1, Reason: "x"}}
		}, nil, "verdict of trustee 1: complaint against itself"},
		{"unsolicited response", func(tr *Transcript) {
			tr.Responses = []Response{{Dealer: 1, To: 2, Share: group.ScalarFromUint64(1), Signature: tr.Dealings[0].Signature}}
		}, nil, "trustee 1 responded to trustee 2, who made no complaint against it"},
		{"substituted ciphertext (M1)", func(tr *Transcript) {
			tr.Dealings[1].Shares[0].Ciphertext[40] ^= 1
		}, nil, "verdict of trustee 1 was given on other dealings"},
		{"dealing signed by another trustee", func(tr *Transcript) {
			tr.Dealings[1].Signature = tr.Dealings[0].Signature
		}, nil, "signature of the dealing of trustee 2"},
		{"dealing made on other announcements", func(tr *Transcript) {
			tr.Dealings[2].AnnouncementsHash[0] ^= 1
		}, nil, "dealing of trustee 3 was made on other announcements"},
		{"verdict given on other announcements", func(tr *Transcript) {
			tr.Verdicts[0].AnnouncementsHash[0] ^= 1
		}, nil, "verdict of trustee 1 was given on other announcements"},
		{"verdict given on other dealings", func(tr *Transcript) {
			tr.Verdicts[3].DealingsHash[0] ^= 1
		}, nil, "verdict of trustee 4 was given on other dealings"},
		{"substituted verdict", func(tr *Transcript) {
			tr.Verdicts[1].Complaints = []Complaint{{Against: 1, Reason: "forged"}}
			tr.Responses = nil
		}, nil, "verdict of trustee 2 was given on other dealings"},
		{"verdict signed by another trustee", func(tr *Transcript) {
			tr.Verdicts[1].Signature = tr.Verdicts[2].Signature
		}, nil, "signature of the verdict of trustee 2"},
		{"bad params", func(tr *Transcript) {
			tr.T = 5
		}, nil, "invalid parameters n=4 t=5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := cloneTranscript(t, r.tr)
			tt.edit(tr)
			ctx := testContext
			if tt.context != nil {
				ctx = tt.context
			}
			_, err := tr.Verify(ctx)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
	if _, err := r.tr.Verify(testContext); err != nil {
		t.Fatalf("edits leaked into the original: %v", err)
	}
}

func TestTrusteeRejects(t *testing.T) {
	r := honest(t)
	tr := r.trustee(1)
	other := bytes.Repeat([]byte{7}, 32)
	if _, err := tr.Deal(rand.Reader, other, r.anns); err == nil || !strings.Contains(err.Error(), "another election") {
		t.Errorf("Deal with another context: %v", err)
	}
	anns := cloneTranscript(t, r.tr).Announcements
	anns[0].Name = "Mallory"
	if _, err := tr.Deal(rand.Reader, testContext, anns); err == nil || !strings.Contains(err.Error(), "announcement of trustee 1") {
		t.Errorf("Deal with a substituted own announcement: %v", err)
	}
	fresh, _, err := NewTrustee(rand.Reader, r.p, testContext, 1, "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Finish(testContext, r.tr); err == nil {
		t.Error("Finish before Receive accepted")
	}
	for _, bad := range []struct {
		p     Params
		ctx   []byte
		index int
		name  string
	}{
		{Params{3, 0}, testContext, 1, "x"},
		{Params{3, 4}, testContext, 1, "x"},
		{Params{65, 2}, testContext, 1, "x"},
		{Params{3, 2}, testContext[:31], 1, "x"},
		{Params{3, 2}, testContext, 0, "x"},
		{Params{3, 2}, testContext, 4, "x"},
		{Params{3, 2}, testContext, 1, ""},
		{Params{3, 2}, testContext, 1, "a\nb"},
	} {
		if _, _, err := NewTrustee(rand.Reader, bad.p, bad.ctx, bad.index, bad.name); err == nil {
			t.Errorf("NewTrustee(%v, %d bytes, %d, %q) accepted", bad.p, len(bad.ctx), bad.index, bad.name)
		}
	}
}

func TestLagrange(t *testing.T) {
	tests := []struct {
		set  []int
		i    int
		want int64
	}{
		{[]int{1}, 1, 1},
		{[]int{1, 2}, 1, 2},
		{[]int{1, 2}, 2, -1},
		{[]int{1, 2, 3}, 1, 3},
		{[]int{1, 2, 3}, 2, -3},
		{[]int{1, 2, 3}, 3, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.set, tt.i), func(t *testing.T) {
			if got := Lagrange(tt.set, tt.i); got.Equal(group.ScalarFromInt64(tt.want)) != 1 {
				t.Fatalf("got %x, want %d", got.Encode(nil), tt.want)
			}
		})
	}
	for _, bad := range []struct {
		set []int
		i   int
	}{{[]int{1, 2}, 3}, {[]int{1, 1, 2}, 1}, {[]int{0, 1}, 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Lagrange(%v, %d) did not panic", bad.set, bad.i)
				}
			}()
			Lagrange(bad.set, bad.i)
		}()
	}
}

func TestTrusteeSerialization(t *testing.T) {
	p := Params{N: 3, T: 2}
	r := runCeremony(t, p, hooks{})
	// Restore every trustee from its serialized state after Receive and
	// finish the ceremony with the restored copies.
	for k, tt := range r.trustees {
		b, err := tt.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var restored Trustee
		if err := restored.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		b2, err := restored.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, b2) {
			t.Fatalf("trustee %d does not round-trip:\n%s\n%s", tt.Index, b, b2)
		}
		r.trustees[k] = &restored
	}
	res, err := r.tr.Verify(testContext)
	if err != nil {
		t.Fatal(err)
	}
	tt := r.trustee(2)
	secrets := []string{fmt.Sprintf("%x", tt.hpkeSeed)}
	for _, a := range tt.coeffs {
		secrets = append(secrets, fmt.Sprintf("%x", a.Encode(nil)))
	}
	for _, s := range tt.received {
		secrets = append(secrets, fmt.Sprintf("%x", s.Encode(nil)))
	}
	shares := finishAll(t, r, res)
	checkInterpolation(t, res, p.T, shares)
	b, err := tt.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var restored Trustee
	if err := restored.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if restored.Share().Equal(tt.Share()) != 1 || restored.Index != 2 || restored.Name != tt.Name {
		t.Fatal("finished trustee does not round-trip")
	}
	if b2, _ := restored.MarshalBinary(); !bytes.Equal(b, b2) {
		t.Fatalf("finished trustee does not round-trip:\n%s\n%s", b, b2)
	}
	// After the ceremony the state holds the share and public values only
	// (crypto audit L2): no coefficient, received share or HPKE seed.
	for _, s := range secrets {
		if strings.Contains(string(b), s) {
			t.Fatalf("finished trustee state still holds a secret of the rounds: %s", b)
		}
	}
	for _, key := range []string{"coefficients", "hpkeSeed", "received"} {
		if strings.Contains(string(b), `"`+key+`"`) {
			t.Fatalf("finished trustee state has %q: %s", key, b)
		}
	}
	// The restored trustee still serves decryption: Finish on the
	// transcript checks its share against Yⱼ, and the rounds are refused.
	res2, err := restored.Finish(testContext, r.tr)
	if err != nil {
		t.Fatal(err)
	}
	if !group.Equal(group.BaseMul(restored.Share()), res2.VerificationKeys[2]) {
		t.Fatal("restored share does not match Y_2")
	}
	if _, err := restored.Deal(rand.Reader, testContext, r.anns); err == nil || !strings.Contains(err.Error(), "after Finish") {
		t.Fatalf("Deal after Finish: %v", err)
	}
	if _, err := restored.Respond(testContext, r.anns, r.tr.Verdicts); err == nil {
		t.Fatal("Respond after Finish accepted")
	}
	other := cloneTranscript(t, r.tr)
	other.Announcements[1].Name = "Someone else"
	if _, err := restored.Finish(testContext, other); err == nil {
		t.Fatal("Finish accepted a transcript with another announcement of the trustee")
	}

	// Printing a trustee never shows its secrets.
	secret := tt.Share().Encode(nil)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, tt); strings.Contains(s, fmt.Sprintf("%x", secret)) || strings.Contains(s, "share") {
			t.Errorf("%s prints secrets: %s", verb, s)
		}
	}

	var w map[string]any
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	edit := func(k string, v any) []byte {
		m := make(map[string]any)
		for k, v := range w {
			m[k] = v
		}
		m[k] = v
		out, _ := json.Marshal(m)
		return out
	}
	// The state after Receive, to tamper with too.
	r2 := runCeremony(t, p, hooks{})
	rb, err := r2.trustee(1).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var rw map[string]any
	if err := json.Unmarshal(rb, &rw); err != nil {
		t.Fatal(err)
	}
	editR := func(k string, v any) []byte {
		m := make(map[string]any)
		for k, v := range rw {
			m[k] = v
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		out, _ := json.Marshal(m)
		return out
	}
	without := func(k string) []byte {
		m := make(map[string]any)
		for k, v := range w {
			m[k] = v
		}
		delete(m, k)
		out, _ := json.Marshal(m)
		return out
	}
	for name, bad := range map[string][]byte{
		"unknown field":             edit("extra", 1),
		"bad stage":                 edit("stage", "done"),
		"share too early":           edit("stage", "received"),
		"finished with coeffs":      edit("coefficients", rw["coefficients"]),
		"finished with seed":        edit("hpkeSeed", rw["hpkeSeed"]),
		"finished with received":    edit("received", rw["received"]),
		"finished without share":    without("share"),
		"finished without key":      without("hpkePublicKey"),
		"too few commitments":       edit("commitments", w["commitments"].([]any)[:1]),
		"identity commitment":       edit("commitments", []any{strings.Repeat("00", 32), w["commitments"].([]any)[1]}),
		"short HPKE public key":     edit("hpkePublicKey", w["hpkePublicKey"].(string)[2:]),
		"uppercase share":           edit("share", strings.ToUpper(w["share"].(string))),
		"short context":             edit("context", w["context"].(string)[2:]),
		"index out of range":        edit("index", 4),
		"trailing data":             append(bytes.Clone(b), '1'),
		"null share":                edit("share", nil),
		"too few coeffs":            editR("coefficients", rw["coefficients"].([]any)[:1]),
		"uppercase seed":            editR("hpkeSeed", strings.ToUpper(rw["hpkeSeed"].(string))),
		"received without received": editR("received", nil),
		"received with share":       editR("share", w["share"]),
		"received with commitments": editR("commitments", w["commitments"]),
		"received marked finished":  editR("stage", "finished"),
	} {
		t.Run(name, func(t *testing.T) {
			var x Trustee
			if err := x.UnmarshalBinary(bad); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
