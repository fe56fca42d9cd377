package vectors

import (
	"bytes"
	"crypto/hpke"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/zkp"
)

// ceremony.json (SPEC.md §6, README.md): a 2-of-3 key ceremony in which
// dealer 2 sends trustee 3 a bad share, trustee 3 complains and dealer 2
// answers; every message with the digests and hashes computed from it, the
// secrets that let a reimplementation open the shares and re-derive the
// commitments, the transcript, its result, and cases that replace messages
// of the transcript and say whether it must verify and with which QUAL.

type ceremonyFile struct {
	Comment           string            `json:"comment"`
	Context           string            `json:"context"` // h_M
	N                 int               `json:"n"`
	T                 int               `json:"t"`
	Trustees          []ceremonyTrustee `json:"trustees"`
	AnnouncementsHash string            `json:"announcementsHash"` // h_A
	Announcements     []annVector       `json:"announcements"`
	Dealings          []dealVector      `json:"dealings"`
	Verdicts          []verdictVector   `json:"verdicts"`
	Responses         []responseVector  `json:"responses"`
	Transcript        json.RawMessage   `json:"transcript"` // §6.4
	Result            json.RawMessage   `json:"result"`     // §6.4
	Cases             []ceremonyCase    `json:"cases"`
}

type ceremonyTrustee struct {
	Index        int      `json:"index"`
	Name         string   `json:"name"`
	Seed         string   `json:"seed"`         // NewTrustee's randomness is shake(seed)
	Coefficients []string `json:"coefficients"` // a_{i,k}: the first t scalars of shake(seed)
	HPKEIKM      string   `json:"hpkeIKM"`      // the next 32 bytes of shake(seed): DeriveKeyPair's ikm
	HPKESeed     string   `json:"hpkeSeed"`     // the derived private key (the KEM seed)
}

type annVector struct {
	Message             json.RawMessage `json:"message"`
	CoefficientContexts []string        `json:"coefficientContexts"` // ctx_coef(i, k)
}

type dealVector struct {
	Message json.RawMessage `json:"message"`
	Digest  string          `json:"digest"` // d_D(i)
	Shares  []shareVector   `json:"shares"`
}

type shareVector struct {
	To        int    `json:"to"`
	Info      string `json:"info"`      // info_{i,j}
	Plaintext string `json:"plaintext"` // what the ciphertext opens to, enc(s_{i,j}) or a bad share
	Matches   bool   `json:"matches"`   // s_{i,j}·G = Σ_k j^k·C_{i,k}
}

type verdictVector struct {
	Message      json.RawMessage `json:"message"`
	DealingsHash string          `json:"dealingsHash"` // h_D(j), recomputed from the dealings
	Digest       string          `json:"digest"`       // d_V(j)
}

type responseVector struct {
	Message json.RawMessage `json:"message"`
	Digest  string          `json:"digest"` // d_R(i, j)
}

// A ceremonyCase replaces messages of the transcript (each by its position
// in its list) and, if responses is present, the whole list of responses.
type ceremonyCase struct {
	Name         string             `json:"name"`
	Reason       string             `json:"reason"`
	Replace      []ceremonyReplace  `json:"replace"`
	Responses    *[]json.RawMessage `json:"responses,omitempty"`
	Valid        bool               `json:"valid"`
	Qual         []int              `json:"qual"`         // if valid
	Disqualified []int              `json:"disqualified"` // if valid
}

type ceremonyReplace struct {
	Round   string          `json:"round"` // "announcements", "dealings" or "verdicts"
	Index   int             `json:"index"`
	Message json.RawMessage `json:"message"`
}

// vectorTrustee is a trustee of the vectors with its secrets re-derived
// from its seed as NewTrustee draws them.
type vectorTrustee struct {
	*ceremony.Trustee
	seed   string
	coeffs []*group.Scalar
	ikm    []byte
	sk     hpke.PrivateKey
	ann    *ceremony.Announcement
}

func (v *vectorTrustee) eval(j int) *group.Scalar {
	x := group.ScalarFromUint64(uint64(j))
	s := group.NewScalar().Set(v.coeffs[len(v.coeffs)-1])
	for k := len(v.coeffs) - 2; k >= 0; k-- {
		s.Multiply(s, x)
		s.Add(s, v.coeffs[k])
	}
	return s
}

// sign is a Schnorr signature under C_{i,0} (SPEC.md §6.2) with the
// randomness shake(seed + "/" + what).
func (v *vectorTrustee) sign(t *testing.T, what string, digest [32]byte) *zkp.Schnorr {
	sig, err := zkp.ProveSchnorr(shake(v.seed+"/"+what), digest[:], v.coeffs[0], v.ann.Commitments[0])
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func genCeremony(t *testing.T) *ceremonyFile {
	p := ceremony.Params{N: 3, T: 2}
	hM := ctx32(seedPrefix + "ceremony")
	hctx := func() []byte { return hM }
	f := &ceremonyFile{
		Comment: "SPEC.md §6: a 2-of-3 key ceremony in which dealer 2 sends trustee 3 a bad share, trustee 3 complains and dealer 2 answers; " +
			"digests, hashes and secrets to check each step; cases that replace messages and must (not) verify. See README.md.",
		Context: hx(hM), N: p.N, T: p.T,
	}
	ts := make([]*vectorTrustee, p.N)
	var anns []ceremony.Announcement
	for i := 1; i <= p.N; i++ {
		seed := fmt.Sprintf("%sceremony/trustee/%d", seedPrefix, i)
		name := fmt.Sprintf("受託者 %d (trustee %d)", i, i)
		tr, ann, err := ceremony.NewTrustee(shake(seed), p, hctx(), i, name)
		if err != nil {
			t.Fatal(err)
		}
		v := &vectorTrustee{Trustee: tr, seed: seed, ann: ann}
		r := shake(seed)
		for range p.T {
			a, _ := group.RandomScalar(r)
			v.coeffs = append(v.coeffs, a)
		}
		v.ikm = make([]byte, 32)
		io.ReadFull(r, v.ikm)
		if v.sk, err = hpke.MLKEM768X25519().DeriveKeyPair(v.ikm); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(v.sk.PublicKey().Bytes(), ann.HPKEPublicKey) || !group.Equal(group.BaseMul(v.coeffs[0]), ann.Commitments[0]) {
			t.Fatal("re-derived trustee secrets do not match the announcement")
		}
		skBytes, _ := v.sk.Bytes()
		ct := ceremonyTrustee{Index: i, Name: name, Seed: seed, HPKEIKM: hx(v.ikm), HPKESeed: hx(skBytes)}
		for _, a := range v.coeffs {
			ct.Coefficients = append(ct.Coefficients, hx(a.Bytes()))
		}
		f.Trustees = append(f.Trustees, ct)
		ts[i-1] = v
		anns = append(anns, *ann)
	}
	for i, a := range anns {
		av := annVector{Message: mustJSON(t, a)}
		for k := range a.Commitments {
			c := ceremony.CoefficientContext(hM, i+1, k, a.Name, a.HPKEPublicKey)
			av.CoefficientContexts = append(av.CoefficientContexts, hx(c[:]))
		}
		f.Announcements = append(f.Announcements, av)
	}
	hA := ceremony.AnnouncementsHash(hM, anns)
	f.AnnouncementsHash = hx(hA[:])

	// Round 2; dealer 2 then re-seals a bad share for trustee 3 and signs again.
	bad := group.NewScalar().Add(ts[1].eval(3), group.ScalarFromUint64(1))
	plain := map[[2]int][]byte{}
	var ds []ceremony.Dealing
	for _, v := range ts {
		d, err := v.Deal(shake(v.seed+"/deal"), hM, anns)
		if err != nil {
			t.Fatal(err)
		}
		for j := 1; j <= p.N; j++ {
			if j != v.Index {
				plain[[2]int{v.Index, j}] = v.eval(j).Bytes()
			}
		}
		ds = append(ds, *d)
	}
	{
		pk, _ := hpke.MLKEM768X25519().NewPublicKey(anns[2].HPKEPublicKey)
		info := ceremony.ShareInfo(hM, 2, 3)
		ct, err := hpke.Seal(pk, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), info[:], bad.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		for k := range ds[1].Shares {
			if ds[1].Shares[k].To == 3 {
				ds[1].Shares[k].Ciphertext = ct
			}
		}
		ds[1].Signature = ts[1].sign(t, "deal/bad", ceremony.DealingDigest(hM, &ds[1]))
		plain[[2]int{2, 3}] = bad.Bytes()
	}
	for k := range ds {
		d := &ds[k]
		h := ceremony.DealingDigest(hM, d)
		dv := dealVector{Message: mustJSON(t, d), Digest: hx(h[:])}
		for _, s := range d.Shares {
			info := ceremony.ShareInfo(hM, d.From, s.To)
			pt := plain[[2]int{d.From, s.To}]
			ok := bytes.Equal(pt, ts[d.From-1].eval(s.To).Bytes())
			dv.Shares = append(dv.Shares, shareVector{To: s.To, Info: hx(info[:]), Plaintext: hx(pt), Matches: ok})
		}
		f.Dealings = append(f.Dealings, dv)
	}

	// Rounds 3 and 4.
	var vs []ceremony.Verdict
	for _, v := range ts {
		vd, err := v.Receive(hM, anns, ds)
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, *vd)
		f.Verdicts = append(f.Verdicts, verdictVectorOf(t, hM, p, ds, vd))
	}
	var rs []ceremony.Response
	for _, v := range ts {
		out, err := v.Respond(hM, anns, vs)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, out...)
	}
	for k := range rs {
		h := ceremony.ResponseDigest(hM, &rs[k], ceremony.VerdictDigest(hM, &vs[rs[k].To-1]))
		f.Responses = append(f.Responses, responseVector{Message: mustJSON(t, rs[k]), Digest: hx(h[:])})
	}
	tr := &ceremony.Transcript{Params: p, Announcements: anns, Dealings: ds, Verdicts: vs, Responses: rs}
	res, err := tr.Verify(hM)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || fmt.Sprint(res.Qual) != "[1 2 3]" {
		t.Fatalf("the vectors' ceremony has %d responses and QUAL %v", len(rs), res.Qual)
	}
	f.Transcript, f.Result = mustJSON(t, tr), mustJSON(t, res)

	// Cases.
	verdict := func(v *vectorTrustee, what string, against ...int) json.RawMessage {
		vd := ceremony.Verdict{From: v.Index, AnnouncementsHash: hA, Complaints: []ceremony.Complaint{}}
		digests := map[int][]byte{}
		for k := range ds {
			if i := ds[k].From; i != v.Index && !slices.Contains(against, i) {
				h := ceremony.DealingDigest(hM, &ds[k])
				digests[i] = h[:]
			}
		}
		for _, i := range against {
			vd.Complaints = append(vd.Complaints, ceremony.Complaint{Against: i, Reason: "share does not match the commitments"})
		}
		vd.DealingsHash = ceremony.DealingsHash(hM, p.N, v.Index, digests)
		vd.Signature = v.sign(t, "verdict/"+what, ceremony.VerdictDigest(hM, &vd))
		return mustJSON(t, vd)
	}
	response := func(v *vectorTrustee, what string, to int, share *group.Scalar, verdictJSON json.RawMessage) json.RawMessage {
		vd, err := ceremony.DecodeVerdict(p, verdictJSON)
		if err != nil {
			t.Fatal(err)
		}
		r := ceremony.Response{Dealer: v.Index, To: to, Share: share}
		r.Signature = v.sign(t, "response/"+what, ceremony.ResponseDigest(hM, &r, ceremony.VerdictDigest(hM, vd)))
		return mustJSON(t, r)
	}
	dealing := func(mod func(d *ceremony.Dealing), resign string) json.RawMessage {
		d := ds[0]
		d.Shares = slices.Clone(d.Shares)
		mod(&d)
		if resign != "" {
			d.Signature = ts[0].sign(t, "deal/"+resign, ceremony.DealingDigest(hM, &d))
		}
		return mustJSON(t, d)
	}
	swapCT := func(d *ceremony.Dealing) {
		d.Shares[0].Ciphertext, d.Shares[1].Ciphertext = d.Shares[1].Ciphertext, d.Shares[0].Ciphertext
	}
	swappedKey := anns[1]
	swappedKey.HPKEPublicKey = anns[2].HPKEPublicKey
	quiet := vs[2]
	quiet.Complaints = []ceremony.Complaint{}
	v3 := mustJSON(t, vs[2])
	stormV := []json.RawMessage{verdict(ts[0], "storm", 2, 3), verdict(ts[1], "storm", 1, 3), verdict(ts[2], "storm", 1, 2)}
	v1Against2 := verdict(ts[0], "against-2", 2)
	wrong := group.NewScalar().Add(ts[1].eval(3), group.ScalarFromUint64(2))
	f.Cases = []ceremonyCase{
		{Name: "the transcript as published", Reason: "dealer 2's bad share is answered by a matching response", Valid: true, Qual: []int{1, 2, 3}, Disqualified: []int{}},
		{Name: "share ciphertexts swapped", Reason: "the verdicts attest another dealing of trustee 1 (h_D), and its signature no longer verifies",
			Replace: []ceremonyReplace{{"dealings", 0, dealing(swapCT, "")}}},
		{Name: "share ciphertexts swapped, dealing signed again", Reason: "the verdicts attest another dealing of trustee 1 (h_D)",
			Replace: []ceremonyReplace{{"dealings", 0, dealing(swapCT, "swapped")}}},
		{Name: "HPKE key of trustee 2 replaced by trustee 3's", Reason: "the coefficient proofs bind the HPKE key",
			Replace: []ceremonyReplace{{"announcements", 1, mustJSON(t, swappedKey)}}},
		{Name: "complaint removed from trustee 3's verdict", Reason: "the response answers no complaint, and the verdict's signature no longer verifies",
			Replace: []ceremonyReplace{{"verdicts", 2, mustJSON(t, quiet)}}},
		{Name: "no response to trustee 3's complaint", Reason: "dealer 2 is disqualified (§6.3 step 5c)",
			Responses: &[]json.RawMessage{}, Valid: true, Qual: []int{1, 3}, Disqualified: []int{2}},
		{Name: "a response that does not match the commitments", Reason: "dealer 2 is disqualified (§6.3 step 5c)",
			Responses: &[]json.RawMessage{response(ts[1], "wrong", 3, wrong, v3)}, Valid: true, Qual: []int{1, 3}, Disqualified: []int{2}},
		{Name: "complaint storm: every trustee against every dealer, no responses", Reason: "every dealer faces t complaints and is disqualified (§6.3 step 5a): fewer than t qualify",
			Replace: []ceremonyReplace{{"verdicts", 0, stormV[0]}, {"verdicts", 1, stormV[1]}, {"verdicts", 2, stormV[2]}}, Responses: &[]json.RawMessage{}},
		{Name: "complaint storm answered anyway", Reason: "every dealer revealed t shares; its polynomial is public (§6.3 step 5a, 5b)",
			Replace: []ceremonyReplace{{"verdicts", 0, stormV[0]}, {"verdicts", 1, stormV[1]}, {"verdicts", 2, stormV[2]}},
			Responses: &[]json.RawMessage{
				response(ts[0], "storm-2", 2, ts[0].eval(2), stormV[1]), response(ts[0], "storm-3", 3, ts[0].eval(3), stormV[2]),
				response(ts[1], "storm-1", 1, ts[1].eval(1), stormV[0]), response(ts[1], "storm-3", 3, ts[1].eval(3), stormV[2]),
				response(ts[2], "storm-1", 1, ts[2].eval(1), stormV[0]), response(ts[2], "storm-2", 2, ts[2].eval(2), stormV[1]),
			}},
		{Name: "t complaints against dealer 2, both answered", Reason: "dealer 2 faces t complaints: disqualified though its responses match (§6.3 step 5a)",
			Replace: []ceremonyReplace{{"verdicts", 0, v1Against2}},
			Responses: &[]json.RawMessage{
				response(ts[1], "t-1", 1, ts[1].eval(1), v1Against2), mustJSON(t, rs[0]),
			}, Valid: true, Qual: []int{1, 3}, Disqualified: []int{2}},
	}
	for k := range f.Cases {
		if f.Cases[k].Replace == nil {
			f.Cases[k].Replace = []ceremonyReplace{}
		}
		if !f.Cases[k].Valid {
			f.Cases[k].Qual, f.Cases[k].Disqualified = []int{}, []int{}
		}
	}
	return f
}

func verdictVectorOf(t *testing.T, hM []byte, p ceremony.Params, ds []ceremony.Dealing, v *ceremony.Verdict) verdictVector {
	digests := map[int][]byte{}
	for k := range ds {
		if i := ds[k].From; i != v.From && !slices.ContainsFunc(v.Complaints, func(c ceremony.Complaint) bool { return c.Against == i }) {
			h := ceremony.DealingDigest(hM, &ds[k])
			digests[i] = h[:]
		}
	}
	hD := ceremony.DealingsHash(hM, p.N, v.From, digests)
	d := ceremony.VerdictDigest(hM, v)
	return verdictVector{Message: mustJSON(t, v), DealingsHash: hx(hD[:]), Digest: hx(d[:])}
}

// applyCase returns the transcript of f with c's replacements.
func applyCase(t *testing.T, f *ceremonyFile, c *ceremonyCase) *ceremony.Transcript {
	t.Helper()
	tr, err := ceremony.DecodeTranscript(f.Transcript)
	if err != nil {
		t.Fatal(err)
	}
	p := tr.Params
	for _, r := range c.Replace {
		var err error
		switch r.Round {
		case "announcements":
			var a *ceremony.Announcement
			if a, err = ceremony.DecodeAnnouncement(p, r.Message); err == nil {
				tr.Announcements[r.Index] = *a
			}
		case "dealings":
			var d *ceremony.Dealing
			if d, err = ceremony.DecodeDealing(p, r.Message); err == nil {
				tr.Dealings[r.Index] = *d
			}
		case "verdicts":
			var v *ceremony.Verdict
			if v, err = ceremony.DecodeVerdict(p, r.Message); err == nil {
				tr.Verdicts[r.Index] = *v
			}
		default:
			t.Fatalf("case %q: unknown round %q", c.Name, r.Round)
		}
		if err != nil {
			t.Fatalf("case %q: %v", c.Name, err)
		}
	}
	if c.Responses != nil {
		tr.Responses = []ceremony.Response{}
		for _, m := range *c.Responses {
			r, err := ceremony.DecodeResponse(p, m)
			if err != nil {
				t.Fatalf("case %q: %v", c.Name, err)
			}
			tr.Responses = append(tr.Responses, *r)
		}
	}
	return tr
}

func TestCeremony(t *testing.T) {
	var f ceremonyFile
	readJSON(t, "ceremony.json", &f)
	hM := unhex(t, f.Context)
	p := ceremony.Params{N: f.N, T: f.T}
	var anns []ceremony.Announcement
	keys := map[int]hpke.PrivateKey{}
	for k, tv := range f.Trustees {
		// The secrets follow from the seed as NewTrustee draws them.
		r := shake(tv.Seed)
		for kk, c := range tv.Coefficients {
			a, _ := group.RandomScalar(r)
			if hx(a.Bytes()) != c {
				t.Fatalf("trustee %d: coefficient %d is not the %d-th scalar of shake(seed)", tv.Index, kk, kk)
			}
		}
		ikm := make([]byte, 32)
		io.ReadFull(r, ikm)
		sk, err := hpke.MLKEM768X25519().DeriveKeyPair(ikm)
		if err != nil || hx(ikm) != tv.HPKEIKM {
			t.Fatalf("trustee %d: hpkeIKM: %v", tv.Index, err)
		}
		if b, _ := sk.Bytes(); hx(b) != tv.HPKESeed {
			t.Fatalf("trustee %d: hpkeSeed is not DeriveKeyPair(hpkeIKM)", tv.Index)
		}
		keys[tv.Index] = sk
		a, err := ceremony.DecodeAnnouncement(p, f.Announcements[k].Message)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.HPKEPublicKey, sk.PublicKey().Bytes()) {
			t.Fatalf("trustee %d: the announced HPKE key is not the derived one", tv.Index)
		}
		for kk, c := range tv.Coefficients {
			if !group.Equal(group.BaseMul(scalar(t, c)), a.Commitments[kk]) {
				t.Fatalf("trustee %d: C_%d is not a_%d·G", tv.Index, kk, kk)
			}
			ctx := ceremony.CoefficientContext(hM, a.Index, kk, a.Name, a.HPKEPublicKey)
			if hx(ctx[:]) != f.Announcements[k].CoefficientContexts[kk] {
				t.Fatalf("trustee %d: ctx_coef(%d)", tv.Index, kk)
			}
			if err := a.Proofs[kk].Verify(ctx[:], a.Commitments[kk]); err != nil {
				t.Fatalf("trustee %d: proof %d: %v", tv.Index, kk, err)
			}
		}
		anns = append(anns, *a)
	}
	hA := ceremony.AnnouncementsHash(hM, anns)
	if hx(hA[:]) != f.AnnouncementsHash {
		t.Fatal("announcementsHash (h_A) differs")
	}
	var ds []ceremony.Dealing
	for _, dv := range f.Dealings {
		d, err := ceremony.DecodeDealing(p, dv.Message)
		if err != nil {
			t.Fatal(err)
		}
		h := ceremony.DealingDigest(hM, d)
		if hx(h[:]) != dv.Digest || d.AnnouncementsHash != hA {
			t.Fatalf("dealing %d: d_D or h_A differs", d.From)
		}
		if err := d.Signature.Verify(h[:], anns[d.From-1].Commitments[0]); err != nil {
			t.Fatalf("dealing %d: signature: %v", d.From, err)
		}
		for k, s := range d.Shares {
			sv := dv.Shares[k]
			info := ceremony.ShareInfo(hM, d.From, s.To)
			if sv.To != s.To || hx(info[:]) != sv.Info {
				t.Fatalf("dealing %d share %d: info differs", d.From, s.To)
			}
			pt, err := hpke.Open(keys[s.To], hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), info[:], s.Ciphertext)
			if err != nil || hx(pt) != sv.Plaintext {
				t.Fatalf("dealing %d share %d: opens to %x (%v), want %s", d.From, s.To, pt, err, sv.Plaintext)
			}
			C := anns[d.From-1].Commitments
			want := group.VarTimeMul(group.ScalarFromUint64(uint64(s.To)), C[1])
			want.Add(want, C[0]) // t = 2
			if got := group.Equal(group.BaseMul(scalar(t, sv.Plaintext)), want); got != sv.Matches {
				t.Fatalf("dealing %d share %d: matches = %v, want %v", d.From, s.To, got, sv.Matches)
			}
		}
		ds = append(ds, *d)
	}
	var vs []ceremony.Verdict
	for _, vv := range f.Verdicts {
		v, err := ceremony.DecodeVerdict(p, vv.Message)
		if err != nil {
			t.Fatal(err)
		}
		if got := verdictVectorOf(t, hM, p, ds, v); got.DealingsHash != vv.DealingsHash || hx(v.DealingsHash[:]) != vv.DealingsHash || got.Digest != vv.Digest {
			t.Fatalf("verdict %d: h_D or d_V differs", v.From)
		}
		h := ceremony.VerdictDigest(hM, v)
		if err := v.Signature.Verify(h[:], anns[v.From-1].Commitments[0]); err != nil {
			t.Fatalf("verdict %d: signature: %v", v.From, err)
		}
		vs = append(vs, *v)
	}
	for _, rv := range f.Responses {
		r, err := ceremony.DecodeResponse(p, rv.Message)
		if err != nil {
			t.Fatal(err)
		}
		h := ceremony.ResponseDigest(hM, r, ceremony.VerdictDigest(hM, &vs[r.To-1]))
		if hx(h[:]) != rv.Digest {
			t.Fatalf("response %d→%d: d_R differs", r.Dealer, r.To)
		}
		if err := r.Signature.Verify(h[:], anns[r.Dealer-1].Commitments[0]); err != nil {
			t.Fatalf("response %d→%d: signature: %v", r.Dealer, r.To, err)
		}
	}
	res, err := applyCase(t, &f, &ceremonyCase{Name: "published"}).Verify(hM)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := json.Compact(&want, f.Result); err != nil {
		t.Fatal(err)
	}
	if got := mustJSON(t, res); !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("result\n%s\nwant\n%s", got, want.Bytes())
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			res, err := applyCase(t, &f, &c).Verify(hM)
			if !c.Valid {
				if err == nil {
					t.Fatalf("verifies with QUAL %v; must not (%s)", res.Qual, c.Reason)
				}
				t.Logf("rejected: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("%v (%s)", err, c.Reason)
			}
			var dq []int
			for _, d := range res.Disqualified {
				dq = append(dq, d.Trustee)
			}
			if fmt.Sprint(res.Qual) != fmt.Sprint(c.Qual) || fmt.Sprint(dq) != fmt.Sprint(c.Disqualified) && len(dq)+len(c.Disqualified) > 0 {
				t.Fatalf("QUAL %v, disqualified %v; want %v, %v (%s)", res.Qual, res.Disqualified, c.Qual, c.Disqualified, c.Reason)
			}
		})
	}
}
