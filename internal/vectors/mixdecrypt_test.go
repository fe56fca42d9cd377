package vectors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/shuffle"
	"github.com/koe-vote/koe/internal/tally"
	"github.com/koe-vote/koe/internal/textenc"
)

// Vectors of SPEC.md §16.5: mixdecrypt.json, the decryption of a mixed
// list of text answers by 2 of 3 trustees.

type listShareVector struct {
	Trustee int    `json:"trustee"`
	Share   string `json:"share"` // u32be(j) ‖ h_L ‖ (D ‖ U ‖ V ‖ s) per component
}

type badListShareVector struct {
	Name  string `json:"name"`
	Key   string `json:"verificationKey"` // Y_j of the trustee the share is checked against
	Share string `json:"share"`
}

type mixDecryptFile struct {
	Comment       string               `json:"comment"`
	Context       string               `json:"context"`
	Threshold     int                  `json:"threshold"`
	Key           string               `json:"key"`              // K
	KeyShares     []string             `json:"keyShares"`        // x_1..x_3, so the shares can be recomputed
	Keys          []string             `json:"verificationKeys"` // Y_1..Y_3
	Count         int                  `json:"count"`            // N
	Width         int                  `json:"width"`            // w
	MaxChars      int                  `json:"maxChars"`
	List          string               `json:"list"` // the 64·N·w-byte encoding (§16.3)
	ListHash      string               `json:"listHash"`
	Shares        []listShareVector    `json:"shares"`
	Plaintexts    [][]string           `json:"plaintexts"` // M per component, vector by vector
	Texts         []string             `json:"texts"`      // the vectors decoded by §16.2
	InvalidShares []badListShareVector `json:"invalidShares"`
}

func genMixDecrypt(t *testing.T) *mixDecryptFile {
	r := shake(seedPrefix + "mixdecrypt")
	a, _ := group.RandomScalar(r)
	b, _ := group.RandomScalar(r)
	K := group.BaseMul(a)
	f := &mixDecryptFile{
		Comment:   "SPEC.md §16.5: a mixed list of four text answers (at most 8 characters, width 2) decrypted by trustees 1 and 3 of a 2-of-3 key f(z) = a + b·z; every valid share verifies and the combination gives the plaintexts, every invalid share is refused.",
		Context:   hx(ctx32("mixdecrypt")),
		Threshold: 2, Key: hx(K.Bytes()), MaxChars: 8,
	}
	shares := make([]*group.Scalar, 4)
	for j := 1; j <= 3; j++ {
		x := group.NewScalar().Multiply(b, group.ScalarFromUint64(uint64(j)))
		shares[j] = x.Add(x, a)
		f.KeyShares = append(f.KeyShares, hx(shares[j].Bytes()))
		f.Keys = append(f.Keys, hx(group.BaseMul(shares[j]).Bytes()))
	}
	var in []shuffle.Vector
	for _, s := range []string{"賛成", "", "道路を直して", "no!"} {
		ms, err := textenc.EncodeText(s, f.MaxChars)
		must(t, err)
		v, err := shuffle.Encrypt(r, K, ms)
		must(t, err)
		in = append(in, v)
	}
	// One mix, so that the list is a mix's output (the texts come out in
	// its order).
	out, _, err := shuffle.Shuffle(r, unhexT(f.Context), K, in)
	must(t, err)
	l, err := shuffle.NewList(out)
	must(t, err)
	f.Count, f.Width, f.List = l.Len(), l.Width(), hx(l.Bytes())
	h := tally.ListHash(unhexT(f.Context), l)
	f.ListHash = hx(h[:])
	for _, j := range []int{1, 3} {
		share, err := tally.DecryptList(r, unhexT(f.Context), l, j, shares[j])
		must(t, err)
		f.Shares = append(f.Shares, listShareVector{Trustee: j, Share: hx(share)})
	}
	// The plaintexts and texts in list order.
	ms, err := tally.CombineList(l, partialsOf(t, f, l), f.Threshold)
	must(t, err)
	for _, v := range ms {
		f.Plaintexts = append(f.Plaintexts, hexElements(v))
		s, err := textenc.DecodeText(v, f.MaxChars)
		must(t, err)
		f.Texts = append(f.Texts, s)
	}
	good := unhexT(f.Shares[0].Share)
	edit := func(name, key string, change func(s []byte) []byte) badListShareVector {
		return badListShareVector{Name: name, Key: key, Share: hx(change(bytes.Clone(good)))}
	}
	const per = group.ElementSize + 96
	f.InvalidShares = []badListShareVector{
		edit("D of the first component replaced by D + G", f.Keys[0], func(s []byte) []byte {
			D, _ := group.DecodeElement(s[36:68])
			copy(s[36:68], plusG(D))
			return s
		}),
		edit("the last proof's response changed", f.Keys[0], func(s []byte) []byte { s[len(s)-32] ^= 1; return s }),
		edit("checked against trustee 2's key", f.Keys[1], func(s []byte) []byte { return s }),
		edit("trustee index 2 written over 1", f.Keys[1], func(s []byte) []byte { binary.BigEndian.PutUint32(s, 2); return s }),
		edit("trustee index 0", f.Keys[0], func(s []byte) []byte { binary.BigEndian.PutUint32(s, 0); return s }),
		edit("another list's digest", f.Keys[0], func(s []byte) []byte { s[4] ^= 1; return s }),
		edit("the last component dropped", f.Keys[0], func(s []byte) []byte { return s[:len(s)-per] }),
		edit("a trailing byte", f.Keys[0], func(s []byte) []byte { return append(s, 0) }),
		edit("two components' D and proofs swapped", f.Keys[0], func(s []byte) []byte {
			x := bytes.Clone(s[36 : 36+per])
			copy(s[36:36+per], s[36+per:36+2*per])
			copy(s[36+per:36+2*per], x)
			return s
		}),
	}
	return f
}

// partialsOf checks the file's valid shares against the list and returns
// their partial decryptions.
func partialsOf(t *testing.T, f *mixDecryptFile, l *shuffle.List) map[int][]*group.Element {
	t.Helper()
	partials := map[int][]*group.Element{}
	for _, s := range f.Shares {
		j, Ds, err := tally.CheckListShare(unhexT(f.Context), l, unhexT(s.Share), unhexElement(f.Keys[s.Trustee-1]))
		if err != nil || j != s.Trustee {
			t.Fatalf("trustee %d's share: trustee %d, %v", s.Trustee, j, err)
		}
		partials[j] = Ds
	}
	return partials
}

func TestGenerateMixDecryptVectors(t *testing.T) {
	if !*update {
		t.Skip("run with -args -update to regenerate testdata/vectors")
	}
	writeJSON(t, "mixdecrypt.json", genMixDecrypt(t))
}

// TestMixDecryptVectors checks mixdecrypt.json against package tally: the
// list's digest, every valid share, the combination and the texts, the
// refusal of every invalid share, and that the file is what the generator
// writes.
func TestMixDecryptVectors(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(dir, "mixdecrypt.json"))
	must(t, err)
	var f mixDecryptFile
	must(t, json.Unmarshal(data, &f))
	want, err := json.MarshalIndent(genMixDecrypt(t), "", "  ")
	must(t, err)
	if !bytes.Equal(append(want, '\n'), data) {
		t.Error("mixdecrypt.json is not what the generator writes: regenerate with -run TestGenerateMixDecryptVectors -args -update")
	}
	l, err := shuffle.DecodeList(unhexT(f.List), f.Count, f.Width)
	must(t, err)
	if h := tally.ListHash(unhexT(f.Context), l); hx(h[:]) != f.ListHash {
		t.Fatalf("list digest %x, want %s", h, f.ListHash)
	}
	ms, err := tally.CombineList(l, partialsOf(t, &f, l), f.Threshold)
	must(t, err)
	if len(ms) != len(f.Plaintexts) || len(f.InvalidShares) == 0 {
		t.Fatalf("%d vectors decrypted, %d in the file", len(ms), len(f.Plaintexts))
	}
	for i, v := range ms {
		for k, m := range v {
			if hx(m.Bytes()) != f.Plaintexts[i][k] {
				t.Fatalf("vector %d component %d: %x, want %s", i, k, m.Bytes(), f.Plaintexts[i][k])
			}
		}
		if s, err := textenc.DecodeText(v, f.MaxChars); err != nil || s != f.Texts[i] {
			t.Fatalf("vector %d: %q, %v; want %q", i, s, err, f.Texts[i])
		}
	}
	for _, b := range f.InvalidShares {
		if _, _, err := tally.CheckListShare(unhexT(f.Context), l, unhexT(b.Share), unhexElement(b.Key)); !errors.Is(err, tally.ErrShare) {
			t.Errorf("%s: %v, want ErrShare", b.Name, err)
		}
	}
}
