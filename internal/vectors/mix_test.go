package vectors

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"github.com/koe-vote/koe/internal/zkp"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/mixnet"
	"github.com/koe-vote/koe/internal/shuffle"
	"github.com/koe-vote/koe/internal/tally"
	"github.com/koe-vote/koe/internal/textenc"
)

// Vectors of SPEC.md §16.6: mix.json, a whole small mix of one text
// question — its input, two rounds by distinct trustees of a 2-of-3 key
// with their contexts and messages (and the entry bodies that post them),
// the decryption shares of the final list and the texts — and rounds and
// part splits to refuse.

type mixRoundVector struct {
	Round   int      `json:"round"`   // r
	Trustee int      `json:"trustee"` // j
	Context string   `json:"context"` // ctx_{q,r,j}
	Message string   `json:"message"` // enc(L_r) ‖ proof ‖ attestation
	Entries []string `json:"entries"` // the exact bodies of its mix entries, in order
}

type badMixRoundVector struct {
	Name    string `json:"name"`
	Round   int    `json:"round"`   // checked against the list of round-1 (round 0: input)
	Trustee int    `json:"trustee"` // the trustee it is checked as (its context)
	Message string `json:"message"`
}

type badPartsVector struct {
	Name    string   `json:"name"`
	Size    int      `json:"size"` // the exact size of the message (§16.6)
	Entries []string `json:"entries"`
}

type mixFile struct {
	Comment       string               `json:"comment"`
	Seed          string               `json:"seed"`
	Context       string               `json:"context"`  // ctx, the election context
	Question      int                  `json:"question"` // q, 1-based
	QuestionID    string               `json:"questionId"`
	Threshold     int                  `json:"threshold"`
	Key           string               `json:"key"`              // K
	KeyShares     []string             `json:"keyShares"`        // x_1..x_3
	Keys          []string             `json:"verificationKeys"` // Y_1..Y_3
	MaxChars      int                  `json:"maxChars"`
	Count         int                  `json:"count"` // N
	Width         int                  `json:"width"` // w
	InputTexts    []string             `json:"inputTexts"`
	Input         string               `json:"input"` // L_0, enc of the input list
	Rounds        []mixRoundVector     `json:"rounds"`
	ListHash      string               `json:"listHash"` // h_L of L_t
	Shares        []listShareVector    `json:"shares"`
	ShareEntries  [][]string           `json:"shareEntries"` // the mix-decryption bodies of each share
	Plaintexts    [][]string           `json:"plaintexts"`
	Texts         []string             `json:"texts"`
	InvalidRounds []badMixRoundVector  `json:"invalidRounds"`
	InvalidParts  []badPartsVector     `json:"invalidParts"`
	InvalidShares []badListShareVector `json:"invalidShares"`
}

func compactJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	must(t, err)
	return string(b)
}

func partBodies(t *testing.T, j int, q string, msg []byte) []string {
	var out []string
	for _, p := range board.SplitParts(j, q, msg) {
		out = append(out, compactJSON(t, p))
	}
	return out
}

func genMix(t *testing.T) *mixFile {
	seed := seedPrefix + "mix"
	r := shake(seed)
	a, _ := group.RandomScalar(r)
	b, _ := group.RandomScalar(r)
	K := group.BaseMul(a)
	var ctx [32]byte
	copy(ctx[:], ctx32("mix"))
	f := &mixFile{
		Comment: "SPEC.md §16.6: question 2 (\"opinion\", a text question of at most 8 characters, width 2) of an election with context `context` and the 2-of-3 key f(z) = a + b·z, mixed by trustee 3 (round 1) then trustee 1 (round 2), its final list decrypted by trustees 1 and 2. " +
			"Randomness: SHAKE256(seed) gives a, b, then each input vector's component nonces in order (shuffle.Encrypt), then round 1 and round 2 (the permutation, then the proof's scalars, as in shuffle.json, then the attestation's Schnorr nonce), then each share's DLEQ nonces (64 bytes per component, as in mixdecrypt.json). " +
			"Every round verifies against the list before it under its context, each share against the final list; invalidRounds, invalidParts and invalidShares must be refused.",
		Seed:    seed,
		Context: hx(ctx[:]), Question: 2, QuestionID: "opinion", Threshold: 2, Key: hx(K.Bytes()), MaxChars: 8,
	}
	keyShares := make([]*group.Scalar, 4)
	for j := 1; j <= 3; j++ {
		x := group.NewScalar().Multiply(b, group.ScalarFromUint64(uint64(j)))
		keyShares[j] = x.Add(x, a)
		f.KeyShares = append(f.KeyShares, hx(keyShares[j].Bytes()))
		f.Keys = append(f.Keys, hx(group.BaseMul(keyShares[j]).Bytes()))
	}
	var in []shuffle.Vector
	f.InputTexts = []string{"図書館", "", "bus!", "夜道が暗い"}
	for _, s := range f.InputTexts {
		ms, err := textenc.EncodeText(s, f.MaxChars)
		must(t, err)
		v, err := shuffle.Encrypt(r, K, ms)
		must(t, err)
		in = append(in, v)
	}
	l0, err := shuffle.NewList(in)
	must(t, err)
	f.Count, f.Width, f.Input = l0.Len(), l0.Width(), hx(l0.Bytes())
	lists := []*shuffle.List{l0}
	for k, j := range []int{3, 1} {
		round := k + 1
		rc := mixnet.RoundContext(ctx, f.Question-1, round, j)
		out, proof, err := shuffle.ShuffleList(r, rc, K, lists[k])
		must(t, err)
		msg := append(bytes.Clone(out.Bytes()), proof.Bytes()...)
		att, err := zkp.ProveSchnorr(r, mixnet.AttestationContext(rc, msg), keyShares[j], group.BaseMul(keyShares[j]))
		must(t, err)
		msg = append(msg, att.Bytes()...)
		if len(msg) != mixnet.RoundSize(f.Count, f.Width) {
			t.Fatalf("round %d: %d bytes", round, len(msg))
		}
		f.Rounds = append(f.Rounds, mixRoundVector{Round: round, Trustee: j, Context: hx(rc), Message: hx(msg), Entries: partBodies(t, j, f.QuestionID, msg)})
		lists = append(lists, out)
	}
	final := lists[len(lists)-1]
	h := tally.ListHash(ctx[:], final)
	f.ListHash = hx(h[:])
	for _, j := range []int{1, 2} {
		share, err := tally.DecryptList(r, ctx[:], final, j, keyShares[j])
		must(t, err)
		f.Shares = append(f.Shares, listShareVector{Trustee: j, Share: hx(share)})
		f.ShareEntries = append(f.ShareEntries, partBodies(t, j, f.QuestionID, share))
	}
	partials := map[int][]*group.Element{}
	for _, s := range f.Shares {
		_, Ds, err := tally.CheckListShare(ctx[:], final, unhexT(s.Share), unhexElement(f.Keys[s.Trustee-1]))
		must(t, err)
		partials[s.Trustee] = Ds
	}
	ms, err := tally.CombineList(final, partials, f.Threshold)
	must(t, err)
	for _, v := range ms {
		f.Plaintexts = append(f.Plaintexts, hexElements(v))
		s, err := textenc.DecodeText(v, f.MaxChars)
		must(t, err)
		f.Texts = append(f.Texts, s)
	}

	// Rounds to refuse.
	m1, m2 := unhexT(f.Rounds[0].Message), unhexT(f.Rounds[1].Message)
	vec := 64 * f.Width
	bad := func(name string, round, trustee int, msg []byte) badMixRoundVector {
		return badMixRoundVector{Name: name, Round: round, Trustee: trustee, Message: hx(msg)}
	}
	other, _, err := shuffle.Shuffle(r, mixnet.RoundContext(ctx, f.Question-1, 1, 3), K, in)
	must(t, err)
	otherList, _ := shuffle.NewList(other)
	f.InvalidRounds = []badMixRoundVector{
		bad("round 1 with the B of its first output ciphertext replaced by B + G", 1, 3, func() []byte {
			m := bytes.Clone(m1)
			B, _ := group.DecodeElement(m[32:64])
			copy(m[32:64], plusG(B))
			return m
		}()),
		bad("round 2 with two output vectors swapped after the proof", 2, 1, func() []byte {
			m := bytes.Clone(m2)
			x := bytes.Clone(m[:vec])
			copy(m[:vec], m[vec:2*vec])
			copy(m[vec:2*vec], x)
			return m
		}()),
		bad("round 1 checked as trustee 2's (another context)", 1, 2, m1),
		bad("round 1 posted as round 2 (the context of round 2)", 2, 3, m1),
		bad("round 2 checked against the input instead of round 1's list", 1, 1, m2),
		bad("round 1 with another mix's output list and its own proof", 1, 3, append(bytes.Clone(otherList.Bytes()), m1[f.Count*vec:]...)),
		bad("round 1 with its last vector dropped", 1, 3, append(bytes.Clone(m1[:(f.Count-1)*vec]), m1[f.Count*vec:]...)),
		bad("round 1 with a trailing byte", 1, 3, append(bytes.Clone(m1), 0)),
	}

	// Part splits to refuse, of round 1's message (one part of 1608 bytes).
	part := func(p, parts int, data []byte) string {
		return compactJSON(t, board.PartBody{Trustee: 3, Question: f.QuestionID, Part: p, Parts: parts, Data: base64.StdEncoding.EncodeToString(data)})
	}
	size := len(m1)
	half := size / 2
	raw := func(s string) string { return s }
	f.InvalidParts = []badPartsVector{
		{Name: "split in two halves (a part before the last must hold 45000 bytes)", Size: size, Entries: []string{part(1, 2, m1[:half]), part(2, 2, m1[half:])}},
		{Name: "one part announcing two", Size: size, Entries: []string{part(1, 2, m1)}},
		{Name: "the last byte missing", Size: size, Entries: []string{part(1, 1, m1[:size-1])}},
		{Name: "part 0", Size: size, Entries: []string{part(0, 1, m1)}},
		{Name: "data with non-canonical base64 (a line break after 76 characters)", Size: size, Entries: []string{raw(`{"trustee":3,"question":"opinion","part":1,"parts":1,"data":"` +
			base64.StdEncoding.EncodeToString(m1)[:76] + `\n` + base64.StdEncoding.EncodeToString(m1)[76:] + `"}`)}},
		{Name: "keys in another order", Size: size, Entries: []string{raw(`{"question":"opinion","trustee":3,"part":1,"parts":1,"data":"` +
			base64.StdEncoding.EncodeToString(m1) + `"}`)}},
		{Name: "trustee 65", Size: size, Entries: []string{compactJSON(t, board.PartBody{Trustee: 65, Question: f.QuestionID, Part: 1, Parts: 1, Data: base64.StdEncoding.EncodeToString(m1)})}},
	}
	good := unhexT(f.Shares[0].Share)
	f.InvalidShares = []badListShareVector{
		{Name: "trustee 1's share of round 1's list instead of the final one", Key: f.Keys[0], Share: func() string {
			s, err := tally.DecryptList(r, ctx[:], lists[1], 1, keyShares[1])
			must(t, err)
			return hx(s)
		}()},
		{Name: "trustee 1's share checked against trustee 3's key", Key: f.Keys[2], Share: hx(good)},
		{Name: "the D of component 3 replaced by D + G", Key: f.Keys[0], Share: func() string {
			s := bytes.Clone(good)
			off := 36 + 2*(32+96)
			D, _ := group.DecodeElement(s[off : off+32])
			copy(s[off:off+32], plusG(D))
			return hx(s)
		}()},
	}
	return f
}

func TestGenerateMixVectors(t *testing.T) {
	if !*update {
		t.Skip("run with -args -update to regenerate testdata/vectors")
	}
	writeJSON(t, "mix.json", genMix(t))
}

// joinChecked joins the bodies as consecutive mix entries, with the parts
// the exact size gives (board.Assembler with Size), and decodes each body
// as an entry's body must be (compact, keys in order: §13.1's re-encoding).
func joinChecked(bodies []string, size int) ([]byte, error) {
	a := board.Assembler{Size: func(string, int, string) (int, error) { return size, nil }}
	var out []byte
	for i, body := range bodies {
		e := board.Entry{Type: board.TypeMix, Election: "e", Time: time.Unix(1e9, 0), Body: []byte(body)}
		enc, err := e.Encode()
		if err != nil {
			return nil, err
		}
		if _, err := board.DecodeEntry(enc); err != nil {
			return nil, err
		}
		m, err := a.Feed(int64(i), e)
		if err != nil {
			return nil, err
		}
		if m != nil {
			if i != len(bodies)-1 {
				return nil, errors.New("entries after the message's last part")
			}
			out = m.Data
		}
	}
	if a.Pending() || out == nil {
		return nil, errors.New("the message's last part is missing")
	}
	return out, nil
}

// TestMixVectors checks mix.json against packages shuffle, mixnet, board
// and tally: every round's context, its entries joining to its message,
// its proof against the list before it; the final list's digest, the
// shares, the plaintexts and texts; the refusal of every invalid round,
// part split and share; and that the file is what the generator writes.
func TestMixVectors(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(dir, "mix.json"))
	must(t, err)
	var f mixFile
	must(t, json.Unmarshal(data, &f))
	want, err := json.MarshalIndent(genMix(t), "", "  ")
	must(t, err)
	if !bytes.Equal(append(want, '\n'), data) {
		t.Error("mix.json is not what the generator writes: regenerate with -run TestGenerateMixVectors -args -update")
	}
	var ctx [32]byte
	copy(ctx[:], unhexT(f.Context))
	K := unhexElement(f.Key)
	l0, err := shuffle.DecodeList(unhexT(f.Input), f.Count, f.Width)
	must(t, err)
	lists := []*shuffle.List{l0}
	size := mixnet.RoundSize(f.Count, f.Width)
	for k, rv := range f.Rounds {
		if rv.Round != k+1 {
			t.Fatalf("round %d listed as %d", k+1, rv.Round)
		}
		rc := mixnet.RoundContext(ctx, f.Question-1, rv.Round, rv.Trustee)
		if hx(rc) != rv.Context {
			t.Fatalf("round %d: context %x, want %s", rv.Round, rc, rv.Context)
		}
		msg := unhexT(rv.Message)
		joined, err := joinChecked(rv.Entries, size)
		if err != nil || !bytes.Equal(joined, msg) {
			t.Fatalf("round %d: entries join to %d bytes, %v", rv.Round, len(joined), err)
		}
		out, err := checkMixRound(rc, K, unhexElement(f.Keys[rv.Trustee-1]), lists[k], msg, f.Count, f.Width)
		if err != nil {
			t.Fatalf("round %d: %v", rv.Round, err)
		}
		lists = append(lists, out)
	}
	if len(f.Rounds) != f.Threshold || f.Rounds[0].Trustee == f.Rounds[1].Trustee {
		t.Fatal("the mix is not t rounds by distinct trustees")
	}
	final := lists[len(lists)-1]
	if h := tally.ListHash(ctx[:], final); hx(h[:]) != f.ListHash {
		t.Fatalf("final list digest %x, want %s", h, f.ListHash)
	}
	partials := map[int][]*group.Element{}
	for i, s := range f.Shares {
		joined, err := joinChecked(f.ShareEntries[i], tally.ListShareSize(f.Count*f.Width))
		if err != nil || !bytes.Equal(joined, unhexT(s.Share)) {
			t.Fatalf("trustee %d's share: entries join to %d bytes, %v", s.Trustee, len(joined), err)
		}
		j, Ds, err := tally.CheckListShare(ctx[:], final, unhexT(s.Share), unhexElement(f.Keys[s.Trustee-1]))
		if err != nil || j != s.Trustee {
			t.Fatalf("trustee %d's share: %d, %v", s.Trustee, j, err)
		}
		partials[j] = Ds
	}
	ms, err := tally.CombineList(final, partials, f.Threshold)
	must(t, err)
	if len(ms) != len(f.Texts) {
		t.Fatalf("%d texts, want %d", len(ms), len(f.Texts))
	}
	seen := map[string]int{}
	for i, v := range ms {
		for k, m := range v {
			if hx(m.Bytes()) != f.Plaintexts[i][k] {
				t.Fatalf("vector %d component %d: %x, want %s", i, k, m.Bytes(), f.Plaintexts[i][k])
			}
		}
		s, err := textenc.DecodeText(v, f.MaxChars)
		if err != nil || s != f.Texts[i] {
			t.Fatalf("vector %d: %q, %v; want %q", i, s, err, f.Texts[i])
		}
		seen[s]++
	}
	for _, s := range f.InputTexts {
		seen[s]--
	}
	for s, n := range seen {
		if n != 0 {
			t.Fatalf("the texts are not a permutation of the input: %q", s)
		}
	}
	if len(f.InvalidRounds) == 0 || len(f.InvalidParts) == 0 || len(f.InvalidShares) == 0 {
		t.Fatal("no invalid cases")
	}
	for _, b := range f.InvalidRounds {
		msg := unhexT(b.Message)
		err := errors.New("wrong length")
		if len(msg) == size {
			_, err = checkMixRound(mixnet.RoundContext(ctx, f.Question-1, b.Round, b.Trustee), K, unhexElement(f.Keys[b.Trustee-1]), lists[b.Round-1], msg, f.Count, f.Width)
		}
		if err == nil {
			t.Errorf("%s: accepted", b.Name)
		}
	}
	for _, b := range f.InvalidParts {
		if _, err := joinChecked(b.Entries, b.Size); err == nil {
			t.Errorf("%s: accepted", b.Name)
		}
	}
	for _, b := range f.InvalidShares {
		if _, _, err := tally.CheckListShare(ctx[:], final, unhexT(b.Share), unhexElement(b.Key)); !errors.Is(err, tally.ErrShare) {
			t.Errorf("%s: %v, want ErrShare", b.Name, err)
		}
	}
}

// checkMixRound checks a round's message as SPEC §16.6 says: its
// attestation under the trustee's verification key Y, then its proof of
// shuffle from in; it returns the output list.
func checkMixRound(rc []byte, K, Y *group.Element, in *shuffle.List, msg []byte, n, w int) (*shuffle.List, error) {
	if len(msg) != mixnet.RoundSize(n, w) {
		return nil, errors.New("wrong length")
	}
	body, att := msg[:len(msg)-zkp.SchnorrSize], msg[len(msg)-zkp.SchnorrSize:]
	p, err := zkp.DecodeSchnorr(att)
	if err != nil {
		return nil, err
	}
	if err := p.Verify(mixnet.AttestationContext(rc, body), Y); err != nil {
		return nil, err
	}
	out, err := shuffle.DecodeList(body[:64*n*w], n, w)
	if err != nil {
		return nil, err
	}
	return out, shuffle.VerifyList(rc, K, in, out, body[64*n*w:])
}
