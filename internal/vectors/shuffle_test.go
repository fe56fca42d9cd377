package vectors

import (
	"bytes"
	"errors"
	"testing"

	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/shuffle"
	"github.com/koe-vote/koe/internal/textenc"
)

// Vectors of SPEC.md §16: textenc.json (§1) and shuffle.json (§2).

type blockVector struct {
	Data    string `json:"data"`    // 30 bytes
	Element string `json:"element"` // Embed(data)
}

type textVector struct {
	Text     string   `json:"text"`
	MaxChars int      `json:"maxChars"`
	Elements []string `json:"elements"`
}

type badTextVector struct {
	Name     string   `json:"name"`
	MaxChars int      `json:"maxChars"`
	Elements []string `json:"elements"`
}

type textencFile struct {
	Comment string          `json:"comment"`
	Blocks  []blockVector   `json:"blocks"`
	Texts   []textVector    `json:"texts"`
	Invalid []badTextVector `json:"invalid"`
}

type shuffleCase struct {
	Name       string     `json:"name"`
	Context    string     `json:"context"`
	Key        string     `json:"key"`
	Secret     string     `json:"secretKey"` // x with K = x·G, to check the decryption
	Input      [][]string `json:"input"`     // ciphertexts A ‖ B
	Output     [][]string `json:"output"`
	Plaintexts [][]string `json:"plaintexts"` // of the input, in input order
	Texts      []string   `json:"texts,omitempty"`
	MaxChars   int        `json:"maxChars,omitempty"`
	Generators []string   `json:"generators"` // H_0..H_N
	Statement  string     `json:"statement"`  // ρ
	U          []string   `json:"u"`
	Challenge  string     `json:"challenge"`
	Proof      string     `json:"proof"`
}

type badShuffleVector struct {
	Name    string     `json:"name"`
	Context string     `json:"context"`
	Key     string     `json:"key"`
	Input   [][]string `json:"input"`
	Output  [][]string `json:"output"`
	Proof   string     `json:"proof"`
}

type shuffleFile struct {
	Comment string             `json:"comment"`
	Valid   []shuffleCase      `json:"valid"`
	Invalid []badShuffleVector `json:"invalid"`
}

func TestGenerateShuffleVectors(t *testing.T) {
	if !*update {
		t.Skip("run with -args -update to regenerate testdata/vectors")
	}
	writeJSON(t, "textenc.json", genTextenc(t))
	writeJSON(t, "shuffle.json", genShuffle(t))
}

func hexElements(es []*group.Element) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = hx(e.Bytes())
	}
	return out
}

func genTextenc(t *testing.T) *textencFile {
	f := &textencFile{Comment: "SPEC.md §16.1–16.2: Embed of 30-byte blocks, text answers of at most maxChars characters, and element sequences DecodeText must reject."}
	r := shake(seedPrefix + "textenc/blocks")
	datas := [][]byte{make([]byte, 30), bytes.Repeat([]byte{0xff}, 30), []byte("koe/v2 text embedding vector!!")}
	for range 5 {
		d := make([]byte, 30)
		r.Read(d)
		datas = append(datas, d)
	}
	for _, d := range datas {
		e, err := textenc.Embed(d)
		if err != nil {
			t.Fatal(err)
		}
		f.Blocks = append(f.Blocks, blockVector{Data: hx(d), Element: hx(e.Bytes())})
	}
	for _, c := range []struct {
		s string
		n int
	}{{"", 1}, {"", 8}, {"a", 1}, {"yes", 8}, {"\U0001F5F3", 1}, {"その他、ご意見をご自由にお書きください", 20}} {
		es, err := textenc.EncodeText(c.s, c.n)
		if err != nil {
			t.Fatal(err)
		}
		f.Texts = append(f.Texts, textVector{Text: c.s, MaxChars: c.n, Elements: hexElements(es)})
	}
	payload := func(p []byte) []string { // embeds an arbitrary 60-byte payload (maxChars 8)
		var es []*group.Element
		for i := 0; i < len(p); i += 30 {
			e, err := textenc.Embed(p[i : i+30])
			if err != nil {
				t.Fatal(err)
			}
			es = append(es, e)
		}
		return hexElements(es)
	}
	pad := make([]byte, 60)
	copy(pad, "\x00\x03abc")
	pad[59] = 1
	long := make([]byte, 60)
	copy(long, "\x00\x21")
	bad := make([]byte, 60)
	copy(bad, "\x00\x02\xc3\x28")
	many := make([]byte, 60)
	copy(many, "\x00\x09123456789")
	good, _ := textenc.EncodeText("abc", 8)
	high := group.NewElement().FromUniformBytes(bytes.Repeat([]byte{7}, 64))
	for high.Bytes()[31] < 64 {
		high.Add(high, group.Generator())
	}
	f.Invalid = []badTextVector{
		{"non-zero padding", 8, payload(pad)},
		{"length prefix beyond 4·maxChars", 8, payload(long)},
		{"invalid UTF-8", 8, payload(bad)},
		{"more than maxChars characters", 8, payload(many)},
		{"one element short", 8, hexElements(good[:1])},
		{"element not an embedding (b[31] ≥ 64)", 8, hexElements([]*group.Element{good[0], high})},
		{"element with a non-minimal counter", 8, []string{hexElements(good[:1])[0], nonMinimal(t)}},
	}
	return f
}

// nonMinimal returns an element whose encoding holds a block with a counter
// larger than the smallest that decodes.
func nonMinimal(t *testing.T) string {
	e, _ := textenc.Embed(make([]byte, 30)) // counter 0 decodes (the identity)
	b := e.Bytes()
	for k := 1; k < textenc.MaxCounter; k++ {
		b[0], b[31] = byte(k%128)<<1, byte(k/128)
		if _, err := group.DecodeElement(b); err == nil {
			return hx(b)
		}
	}
	t.Fatal("no second counter")
	return ""
}

func encodeList(list []shuffle.Vector) [][]string {
	out := make([][]string, len(list))
	for i, v := range list {
		for _, c := range v {
			out[i] = append(out[i], hx(c.Bytes()))
		}
	}
	return out
}

func genShuffle(t *testing.T) *shuffleFile {
	f := &shuffleFile{Comment: "SPEC.md §16.3: proofs of shuffle of ciphertext vectors; every valid case verifies, every invalid one is rejected."}
	type spec struct {
		name     string
		n, w     int
		texts    []string
		maxChars int
	}
	for _, s := range []spec{
		{name: "three ciphertexts", n: 3, w: 1},
		{name: "four text answers of at most 8 characters (width 2)", n: 4, w: 2, texts: []string{"yes", "", "その他", "no!"}, maxChars: 8},
	} {
		seed := seedPrefix + "shuffle/" + s.name
		r := shake(seed)
		x, _ := group.RandomScalar(r)
		K := group.BaseMul(x)
		ctx := ctx32("shuffle/" + s.name)
		var in []shuffle.Vector
		var plain [][]string
		for i := range s.n {
			var ms []*group.Element
			if s.texts != nil {
				var err error
				if ms, err = textenc.EncodeText(s.texts[i], s.maxChars); err != nil {
					t.Fatal(err)
				}
			} else {
				ms = []*group.Element{group.SmallBaseMul(uint64(i + 1))}
			}
			v, err := shuffle.Encrypt(r, K, ms)
			if err != nil {
				t.Fatal(err)
			}
			in = append(in, v)
			plain = append(plain, hexElements(ms))
		}
		out, p, err := shuffle.Shuffle(r, ctx, K, in)
		if err != nil {
			t.Fatal(err)
		}
		rho, u, c, err := shuffle.Challenges(ctx, K, in, out, p)
		if err != nil {
			t.Fatal(err)
		}
		us := make([]string, len(u))
		for i := range u {
			us[i] = hx(u[i].Bytes())
		}
		f.Valid = append(f.Valid, shuffleCase{
			Name: s.name, Context: hx(ctx), Key: hx(K.Bytes()), Secret: hx(x.Bytes()),
			Input: encodeList(in), Output: encodeList(out), Plaintexts: plain, Texts: s.texts, MaxChars: s.maxChars,
			Generators: hexElements(shuffle.Generators(ctx, s.n)), Statement: hx(rho), U: us,
			Challenge: hx(c.Bytes()), Proof: hx(p.Bytes()),
		})
	}
	v := f.Valid[1]
	base := badShuffleVector{Context: v.Context, Key: v.Key, Input: v.Input, Output: v.Output, Proof: v.Proof}
	mod := func(name string, edit func(b *badShuffleVector)) badShuffleVector {
		b := base
		b.Name = name
		b.Input = cloneStrings(base.Input)
		b.Output = cloneStrings(base.Output)
		edit(&b)
		return b
	}
	first := f.Valid[0]
	f.Invalid = []badShuffleVector{
		mod("output ciphertext replaced by the input's", func(b *badShuffleVector) { b.Output[0][1] = b.Input[0][1] }),
		mod("output duplicated", func(b *badShuffleVector) { b.Output[3] = b.Output[0] }),
		mod("two outputs swapped after the proof", func(b *badShuffleVector) { b.Output[1], b.Output[2] = b.Output[2], b.Output[1] }),
		mod("output dropped", func(b *badShuffleVector) { b.Output = b.Output[:3] }),
		mod("input substituted", func(b *badShuffleVector) { b.Input[2] = b.Input[1] }),
		mod("other context", func(b *badShuffleVector) { b.Context = first.Context }),
		mod("other key", func(b *badShuffleVector) { b.Key = first.Key }),
		mod("proof's s1 changed", func(b *badShuffleVector) {
			pb := unhexT(b.Proof)
			off := shuffle.ProofSize(4, 2) - 32*(3+2+4+4)
			pb[off] ^= 1
			b.Proof = hx(pb)
		}),
		mod("proof's first commitment changed", func(b *badShuffleVector) {
			pb := unhexT(b.Proof)
			c0, _ := group.DecodeElement(pb[8:40])
			copy(pb[8:40], plusG(c0))
			b.Proof = hx(pb)
		}),
	}
	return f
}

func cloneStrings(l [][]string) [][]string {
	out := make([][]string, len(l))
	for i := range l {
		out[i] = append([]string(nil), l[i]...)
	}
	return out
}

func decodeList(t *testing.T, l [][]string) []shuffle.Vector {
	t.Helper()
	out := make([]shuffle.Vector, len(l))
	for i, v := range l {
		for _, s := range v {
			c, err := elgamal.Decode(unhex(t, s))
			if err != nil {
				t.Fatal(err)
			}
			out[i] = append(out[i], c)
		}
	}
	return out
}

func TestTextencVectors(t *testing.T) {
	var f textencFile
	readJSON(t, "textenc.json", &f)
	for i, v := range f.Blocks {
		e, err := textenc.Embed(unhex(t, v.Data))
		if err != nil || hx(e.Bytes()) != v.Element {
			t.Fatalf("block %d: Embed = %v, %v; want %s", i, e, err, v.Element)
		}
		d, err := textenc.Extract(element(t, v.Element))
		if err != nil || hx(d) != v.Data {
			t.Fatalf("block %d: Extract = %x, %v", i, d, err)
		}
	}
	for i, v := range f.Texts {
		es, err := textenc.EncodeText(v.Text, v.MaxChars)
		if err != nil || !equalStrings(hexElements(es), v.Elements) {
			t.Fatalf("text %d: EncodeText = %v, %v", i, hexElements(es), err)
		}
		var in []*group.Element
		for _, s := range v.Elements {
			in = append(in, element(t, s))
		}
		if s, err := textenc.DecodeText(in, v.MaxChars); err != nil || s != v.Text {
			t.Fatalf("text %d: DecodeText = %q, %v", i, s, err)
		}
	}
	if len(f.Invalid) == 0 {
		t.Fatal("no invalid text vectors")
	}
	for _, v := range f.Invalid {
		var in []*group.Element
		for _, s := range v.Elements {
			in = append(in, element(t, s))
		}
		if s, err := textenc.DecodeText(in, v.MaxChars); !errors.Is(err, textenc.ErrText) {
			t.Errorf("%s: DecodeText = %q, %v; want ErrText", v.Name, s, err)
		}
	}
}

func TestShuffleVectors(t *testing.T) {
	var f shuffleFile
	readJSON(t, "shuffle.json", &f)
	if len(f.Valid) == 0 || len(f.Invalid) == 0 {
		t.Fatal("missing shuffle vectors")
	}
	for _, v := range f.Valid {
		ctx, K := unhex(t, v.Context), element(t, v.Key)
		in, out := decodeList(t, v.Input), decodeList(t, v.Output)
		p, err := shuffle.DecodeProof(unhex(t, v.Proof))
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		if err := shuffle.Verify(ctx, K, in, out, p); err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		if !equalStrings(hexElements(shuffle.Generators(ctx, len(in))), v.Generators) {
			t.Fatalf("%s: generators differ", v.Name)
		}
		rho, u, c, err := shuffle.Challenges(ctx, K, in, out, p)
		if err != nil || hx(rho) != v.Statement || hx(c.Bytes()) != v.Challenge || len(u) != len(v.U) {
			t.Fatalf("%s: challenges differ (%v)", v.Name, err)
		}
		for i := range u {
			if hx(u[i].Bytes()) != v.U[i] {
				t.Fatalf("%s: u[%d] differs", v.Name, i)
			}
		}
		// The output decrypts to the input's plaintexts, as a multiset.
		x := scalar(t, v.Secret)
		want := map[string]int{}
		for _, ms := range v.Plaintexts {
			want[concat(ms)]++
		}
		var texts []string
		for i, vec := range out {
			var ms []string
			var es []*group.Element
			for _, ct := range vec {
				m := group.NewElement().Subtract(ct.B, group.Mul(x, ct.A))
				ms = append(ms, hx(m.Bytes()))
				es = append(es, m)
			}
			if want[concat(ms)] == 0 {
				t.Fatalf("%s: output %d decrypts to no input", v.Name, i)
			}
			want[concat(ms)]--
			if v.Texts != nil {
				s, err := textenc.DecodeText(es, v.MaxChars)
				if err != nil {
					t.Fatalf("%s: output %d: %v", v.Name, i, err)
				}
				texts = append(texts, s)
			}
		}
		if v.Texts != nil && !sameMultiset(texts, v.Texts) {
			t.Fatalf("%s: decrypted texts %q, want %q as a multiset", v.Name, texts, v.Texts)
		}
	}
	for _, v := range f.Invalid {
		p, err := shuffle.DecodeProof(unhex(t, v.Proof))
		if err == nil {
			err = shuffle.Verify(unhex(t, v.Context), element(t, v.Key), decodeList(t, v.Input), decodeList(t, v.Output), p)
		}
		if err == nil {
			t.Errorf("%s: accepted", v.Name)
		}
	}
}

func concat(ss []string) string {
	var b bytes.Buffer
	for _, s := range ss {
		b.WriteString(s)
	}
	return b.String()
}

func sameMultiset(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		if m[s]--; m[s] < 0 {
			return false
		}
	}
	return true
}
