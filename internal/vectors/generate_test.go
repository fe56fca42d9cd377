package vectors

import (
	"bytes"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gtank/ristretto255"
	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/textenc"
	"github.com/koe-vote/koe/internal/zkp"
)

var update = flag.Bool("update", false, "regenerate testdata/vectors")

// seedPrefix starts every seed string of the vectors.
const seedPrefix = "koe/v2/test-vectors/"

// TestGenerate regenerates every vector file, and the election record, from
// the implementation. It runs only with -update.
func TestGenerate(t *testing.T) {
	if !*update {
		t.Skip("run with -args -update to regenerate testdata/vectors")
	}
	writeJSON(t, "transcript.json", genTranscripts(t))
	writeJSON(t, "schnorr.json", genSchnorr(t))
	writeJSON(t, "dleq.json", genDLEQ(t))
	writeJSON(t, "range.json", genRange(t))
	writeJSON(t, "elgamal.json", genElGamal(t))
	writeJSON(t, "ballot.json", genBallots(t))
	writeJSON(t, "roll.json", genRoll(t))
	genRecord(t)
	genServerRecord(t)
	writeJSON(t, "receipts.json", genReceipts(t))
	writeJSON(t, "manifests.json", genManifests(t))
	writeJSON(t, "answers.json", genAnswers(t))
	writeJSON(t, "ceremony.json", genCeremony(t))
}

func writeJSON(t *testing.T, name string, v any) {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func hx(b []byte) string { return hex.EncodeToString(b) }

// secret draws the i-th secret input of a vector from the stream
// seed + "/inputs". The vectors state every input, so other implementations
// need not derive them.
func secrets(seed string, n int) []*group.Scalar {
	r := shake(seed + "/inputs")
	out := make([]*group.Scalar, n)
	for i := range out {
		out[i], _ = group.RandomScalar(r)
	}
	return out
}

// ctx32 is a 32-byte proof context, as the protocol's are: H256 of a name.
func ctx32(name string) []byte {
	d := group.NewDigest("koe/v2/test-vectors").String("name", name).Digest32()
	return d[:]
}

// flip returns b with bit `bit` of byte i flipped.
func flip(b []byte, i int, bit uint) []byte {
	out := bytes.Clone(b)
	out[i] ^= 1 << bit
	return out
}

func replace(b []byte, off int, with []byte) []byte {
	out := bytes.Clone(b)
	copy(out[off:], with)
	return out
}

func plusG(e *group.Element) []byte { return group.NewElement().Add(e, group.Generator()).Bytes() }

func plusOne(s *group.Scalar) []byte {
	return group.NewScalar().Add(s, group.ScalarFromUint64(1)).Bytes()
}

var (
	scalarL, _  = hex.DecodeString("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
	elementNeg  = append([]byte{1}, make([]byte, 31)...)
	elementP, _ = hex.DecodeString("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")
	allOnes32   = bytes.Repeat([]byte{0xff}, 32)
	u64         = func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
)

func genTranscripts(t *testing.T) *transcriptFile {
	f := &transcriptFile{Comment: "SPEC.md §3: framed transcripts hashed with SHA-512 (challenge) and SHA-256 (digest). See README.md."}
	manifest, err := examples.Manifest("referendum")
	if err != nil {
		t.Fatal(err)
	}
	G := group.Generator()
	seven := group.SmallBaseMul(7)
	cases := []struct {
		name   string
		domain string
		writes []write
	}{
		{"SPEC.md §3.4 example", "koe/v2/test", []write{{"a", "bytes", hx([]byte("bc"))}, {"n", "uint64", hx(u64(7))}}},
		{"no writes", "koe/v2/test", nil},
		{"framing: label a, value bc", "koe/v2/test", []write{{"a", "bytes", hx([]byte("bc"))}}},
		{"framing: label ab, value c", "koe/v2/test", []write{{"ab", "bytes", hx([]byte("c"))}}},
		{"empty label and value", "koe/v2/test", []write{{"", "bytes", ""}, {"", "bytes", ""}}},
		{"typed writes", "koe/v2/test/typed", []write{
			{"s", "string", hx([]byte("住民投票"))},
			{"G", "element", hx(G.Bytes())},
			{"7G", "element", hx(seven.Bytes())},
			{"identity", "element", hx(group.Identity().Bytes())},
			{"one", "scalar", hx(group.ScalarFromUint64(1).Bytes())},
			{"minus one", "scalar", hx(group.NewScalar().Negate(group.ScalarFromUint64(1)).Bytes())},
			{"zero", "uint64", hx(u64(0))},
			{"max", "uint64", hx(u64(^uint64(0)))},
		}},
		{"repeated labels", "koe/v2/proof/range", []write{
			{"U", "element", hx(G.Bytes())}, {"V", "element", hx(seven.Bytes())},
			{"U", "element", hx(seven.Bytes())}, {"V", "element", hx(G.Bytes())},
		}},
		{"manifest hash of examples/referendum.json", "koe/v2/manifest", []write{{"manifest", "bytes", hx(manifest)}}},
		{"schnorr challenge shape", "koe/v2/proof/schnorr", []write{
			{"context", "bytes", hx(ctx32("schnorr"))}, {"X", "element", hx(seven.Bytes())}, {"R", "element", hx(G.Bytes())},
		}},
	}
	for _, c := range cases {
		input := framed(c.domain, nil)
		long, short := group.NewTranscript(c.domain), group.NewDigest(c.domain)
		for _, w := range c.writes {
			v, _ := hex.DecodeString(w.Value)
			input = framed(string(v), framed(w.Label, input))
			long.Bytes(w.Label, v)
			short.Bytes(w.Label, v)
		}
		sum := sha512Sum(input)
		f.Transcripts = append(f.Transcripts, transcriptVector{
			Name: c.name, Domain: c.domain, Writes: c.writes, Input: hx(input),
			SHA512: hx(sum), Challenge: hx(long.Challenge().Bytes()), Digest: hx(short.Sum()),
		})
	}
	if f.Transcripts[0].Challenge != "bc9318da6aca0fa7b2ad647154d8751b818079edc8bc1d4f0879b37de5f8380c" {
		t.Fatalf("the §3.4 example disagrees with SPEC.md: %s", f.Transcripts[0].Challenge)
	}
	lMinus1 := bytes.Clone(scalarL)
	lMinus1[0]--
	inputs := [][]byte{
		make([]byte, 64),
		bytes.Repeat([]byte{0xff}, 64),
		append(bytes.Clone(scalarL), make([]byte, 32)...),
		append(lMinus1, make([]byte, 32)...),
		append(make([]byte, 32), append([]byte{1}, make([]byte, 31)...)...), // 2^256
	}
	r := shake(seedPrefix + "hash_to_scalar")
	for range 3 {
		b := make([]byte, 64)
		r.Read(b)
		inputs = append(inputs, b)
	}
	for _, in := range inputs {
		s, err := ristretto255.NewScalar().SetUniformBytes(in)
		if err != nil {
			t.Fatal(err)
		}
		f.HashToScalar = append(f.HashToScalar, hashToScalarVector{Input: hx(in), Scalar: hx(s.Bytes())})
	}
	return f
}

func genSchnorr(t *testing.T) *proofFile[schnorrVector] {
	f := &proofFile[schnorrVector]{Comment: "SPEC.md §4.1. Valid vectors are proved with the randomness shake(seed); see README.md."}
	var first schnorrVector
	var firstX *group.Scalar
	for i := 1; i <= 3; i++ {
		seed := fmt.Sprintf("%sschnorr/%d", seedPrefix, i)
		x := secrets(seed, 1)[0]
		X := group.BaseMul(x)
		ctx := ctx32(seed)
		p, err := zkp.ProveSchnorr(shake(seed), ctx, x, X)
		if err != nil {
			t.Fatal(err)
		}
		v := schnorrVector{Name: fmt.Sprintf("valid %d", i), Seed: seed, Randomness: scalarsFrom(seed, 1), Secret: hx(x.Bytes()),
			Context: hx(ctx), X: hx(X.Bytes()), Proof: hx(p.Bytes()), Valid: true}
		f.Vectors = append(f.Vectors, v)
		if i == 1 {
			first, firstX = v, x
		}
	}
	p, _ := zkp.DecodeSchnorr(unhexT(first.Proof))
	enc := p.Bytes()
	otherX := group.BaseMul(secrets(seedPrefix+"schnorr/other", 1)[0])
	bad := func(name, reason string, proof []byte, mod func(v *schnorrVector)) {
		v := schnorrVector{Name: name, Context: first.Context, X: first.X, Proof: hx(proof), Reason: reason}
		if mod != nil {
			mod(&v)
		}
		f.Vectors = append(f.Vectors, v)
	}
	bad("R bit 8 flipped", "the proof was changed", flip(enc, 1, 0), nil)
	bad("R bit 201 flipped", "the proof was changed", flip(enc, 25, 1), nil)
	bad("s bit 0 flipped", "the proof was changed", flip(enc, 32, 0), nil)
	bad("s bit 130 flipped", "the proof was changed", flip(enc, 48, 2), nil)
	bad("R + G", "the verification equation fails", replace(enc, 0, plusG(p.R)), nil)
	bad("s + 1", "the verification equation fails", replace(enc, 32, plusOne(p.S)), nil)
	bad("wrong context", "the challenge is bound to the context", enc, func(v *schnorrVector) { v.Context = hx(ctx32("another")) })
	bad("other public key", "the proof is for another X", enc, func(v *schnorrVector) { v.X = hx(otherX.Bytes()) })
	bad("s = ℓ", "non-canonical scalar", replace(enc, 32, scalarL), nil)
	bad("R negative", "non-canonical element", replace(enc, 0, elementNeg), nil)
	bad("R = p", "non-canonical element", replace(enc, 0, elementP), nil)
	bad("63 bytes", "wrong length", enc[:63], nil)
	bad("65 bytes", "wrong length", append(bytes.Clone(enc), 0), nil)
	_ = firstX
	return f
}

func unhexT(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func genDLEQ(t *testing.T) *proofFile[dleqVector] {
	f := &proofFile[dleqVector]{Comment: "SPEC.md §4.2. Valid vectors are proved with the randomness shake(seed); see README.md."}
	var first dleqVector
	var firstX *group.Scalar
	for i := 1; i <= 3; i++ {
		seed := fmt.Sprintf("%sdleq/%d", seedPrefix, i)
		in := secrets(seed, 2)
		x := in[0]
		Y, A := group.BaseMul(x), group.BaseMul(in[1])
		D := group.Mul(x, A)
		ctx := ctx32(seed)
		p, err := zkp.ProveDLEQ(shake(seed), ctx, x, Y, A, D)
		if err != nil {
			t.Fatal(err)
		}
		v := dleqVector{Name: fmt.Sprintf("valid %d", i), Seed: seed, Randomness: scalarsFrom(seed, 1), Secret: hx(x.Bytes()),
			Context: hx(ctx), Y: hx(Y.Bytes()), A: hx(A.Bytes()), D: hx(D.Bytes()), Proof: hx(p.Bytes()), Valid: true}
		f.Vectors = append(f.Vectors, v)
		if i == 1 {
			first, firstX = v, x
		}
	}
	p, _ := zkp.DecodeDLEQ(unhexT(first.Proof))
	enc := p.Bytes()
	other := group.BaseMul(secrets(seedPrefix+"dleq/other", 1)[0])
	bad := func(name, reason string, proof []byte, mod func(v *dleqVector)) {
		v := first
		v.Name, v.Reason, v.Proof, v.Valid, v.Seed, v.Randomness, v.Secret = name, reason, hx(proof), false, "", nil, ""
		if mod != nil {
			mod(&v)
		}
		f.Vectors = append(f.Vectors, v)
	}
	bad("U bit 8 flipped", "the proof was changed", flip(enc, 1, 0), nil)
	bad("V bit 201 flipped", "the proof was changed", flip(enc, 32+25, 1), nil)
	bad("s bit 0 flipped", "the proof was changed", flip(enc, 64, 0), nil)
	bad("U + G", "the first equation fails", replace(enc, 0, plusG(p.U)), nil)
	bad("V + G", "the second equation fails", replace(enc, 32, plusG(p.V)), nil)
	bad("s + 1", "both equations fail", replace(enc, 64, plusOne(p.S)), nil)
	bad("wrong context", "the challenge is bound to the context", enc, func(v *dleqVector) { v.Context = hx(ctx32("another")) })
	bad("other trustee key", "the proof is for another Y", enc, func(v *dleqVector) { v.Y = hx(other.Bytes()) })
	bad("other ciphertext", "the proof is for another A", enc, func(v *dleqVector) { v.A = hx(other.Bytes()) })
	bad("D + G", "the share was changed", enc, func(v *dleqVector) { v.D = hx(plusG(unhexElement(v.D))) })
	// A false statement proved by running the prover anyway.
	A := unhexElement(first.A)
	badD := group.Mul(other2(), A)
	q, _ := zkp.ProveDLEQ(shake(seedPrefix+"dleq/false"), unhexT(first.Context), firstX, unhexElement(first.Y), A, badD)
	bad("false statement", "D is not x·A: the prover ran with the right x but a wrong D", q.Bytes(), func(v *dleqVector) { v.D = hx(badD.Bytes()) })
	bad("s = ℓ", "non-canonical scalar", replace(enc, 64, scalarL), nil)
	bad("s = 2^256 − 1", "non-canonical scalar", replace(enc, 64, allOnes32), nil)
	bad("V negative", "non-canonical element", replace(enc, 32, elementNeg), nil)
	bad("95 bytes", "wrong length", enc[:95], nil)
	bad("97 bytes", "wrong length", append(bytes.Clone(enc), 0), nil)
	return f
}

func other2() *group.Scalar { return secrets(seedPrefix+"dleq/other", 2)[1] }

func unhexElement(s string) *group.Element {
	e, err := group.DecodeElement(unhexT(s))
	if err != nil {
		panic(err)
	}
	return e
}

func genRange(t *testing.T) *proofFile[rangeVector] {
	f := &proofFile[rangeVector]{Comment: "SPEC.md §4.3. Valid vectors are proved with the randomness shake(seed); see README.md."}
	cases := []struct{ lo, hi, m uint64 }{{0, 1, 0}, {0, 1, 1}, {1, 1, 1}, {0, 4, 3}, {1, 4, 1}, {2, 5, 5}}
	K := group.BaseMul(secrets(seedPrefix+"range/key", 1)[0])
	var vs []rangeVector
	for i, c := range cases {
		seed := fmt.Sprintf("%srange/%d", seedPrefix, i+1)
		r := secrets(seed, 1)[0]
		ct := elgamal.Encrypt(K, c.m, r)
		ctx := ctx32(seed)
		st := &zkp.RangeStatement{Context: ctx, K: K, A: ct.A, B: ct.B, Lo: c.lo, Hi: c.hi}
		p, err := zkp.ProveRange(shake(seed), st, c.m, r)
		if err != nil {
			t.Fatal(err)
		}
		m := c.m
		vs = append(vs, rangeVector{Name: fmt.Sprintf("valid [%d,%d] m=%d", c.lo, c.hi, c.m), Seed: seed,
			Randomness: scalarsFrom(seed, 2*int(c.hi-c.lo+1)-1), M: &m, R: hx(r.Bytes()), Context: hx(ctx), K: hx(K.Bytes()),
			Ciphertext: hx(ct.Bytes()), Lo: c.lo, Hi: c.hi, Proof: hx(p.AppendBytes(nil)), Valid: true})
	}
	f.Vectors = vs
	base := vs[1] // [0,1], m = 1
	enc := unhexT(base.Proof)
	p, _ := zkp.DecodeRange(enc, 2)
	bad := func(name, reason string, proof []byte, mod func(v *rangeVector)) {
		v := base
		v.Name, v.Reason, v.Proof, v.Valid, v.Seed, v.Randomness, v.M, v.R = name, reason, hx(proof), false, "", nil, nil, ""
		if mod != nil {
			mod(&v)
		}
		f.Vectors = append(f.Vectors, v)
	}
	for i := range 2 {
		o := i * zkp.BranchSize
		br := p.Branches[i]
		bad(fmt.Sprintf("branch %d U bit 8 flipped", i), "the proof was changed", flip(enc, o+1, 0), nil)
		bad(fmt.Sprintf("branch %d V bit 201 flipped", i), "the proof was changed", flip(enc, o+32+25, 1), nil)
		bad(fmt.Sprintf("branch %d c bit 0 flipped", i), "the challenges no longer sum to the hash", flip(enc, o+64, 0), nil)
		bad(fmt.Sprintf("branch %d s bit 0 flipped", i), "the branch's equations fail", flip(enc, o+96, 0), nil)
		bad(fmt.Sprintf("branch %d U + G", i), "the challenge hash changes", replace(enc, o, plusG(br.U)), nil)
		bad(fmt.Sprintf("branch %d s + 1", i), "the branch's equations fail", replace(enc, o+96, plusOne(br.S)), nil)
	}
	moved := replace(replace(enc, 64, plusOne(p.Branches[0].C)), zkp.BranchSize+64,
		group.NewScalar().Subtract(p.Branches[1].C, group.ScalarFromUint64(1)).Bytes())
	bad("challenge moved between branches", "the challenge sum holds but the branch equations fail", moved, nil)
	swapped := append(bytes.Clone(enc[zkp.BranchSize:]), enc[:zkp.BranchSize]...)
	bad("branches swapped", "branch i is for the value lo + i", swapped, nil)
	bad("wrong context", "the challenge is bound to the context", enc, func(v *rangeVector) { v.Context = hx(ctx32("another")) })
	bad("other election key", "the proof is for another K", enc, func(v *rangeVector) {
		v.K = hx(group.BaseMul(secrets(seedPrefix+"range/other", 1)[0]).Bytes())
	})
	bad("other ciphertext", "the proof is for another ciphertext", enc, func(v *rangeVector) { v.Ciphertext = vs[0].Ciphertext })
	bad("range [1,2]", "the statement's range differs", enc, func(v *rangeVector) { v.Lo, v.Hi = 1, 2 })
	bad("range [0,2]: one branch too few", "wrong number of branches", enc, func(v *rangeVector) { v.Hi = 2 })
	bad("range [1,1]: one branch too many", "wrong number of branches", enc, func(v *rangeVector) { v.Lo = 1 })
	bad("range [1,0]", "lo > hi", enc, func(v *rangeVector) { v.Lo, v.Hi = 1, 0 })
	bad("c = ℓ", "non-canonical scalar", replace(enc, 64, scalarL), nil)
	bad("s = 2^256 − 1", "non-canonical scalar", replace(enc, zkp.BranchSize+96, allOnes32), nil)
	bad("V negative", "non-canonical element", replace(enc, 32, elementNeg), nil)
	bad("one byte short", "wrong length", enc[:len(enc)-1], nil)
	// 2 encrypted, "proved" in [0, 1] by running the prover with m = 1.
	r2 := secrets(seedPrefix+"range/two", 1)[0]
	ct2 := elgamal.Encrypt(K, 2, r2)
	st2 := &zkp.RangeStatement{Context: unhexT(base.Context), K: K, A: ct2.A, B: ct2.B, Lo: 0, Hi: 1}
	if _, err := zkp.ProveRange(shake(seedPrefix+"range/two"), st2, 2, r2); err == nil {
		t.Fatal("ProveRange proved 2 in [0, 1]")
	}
	for _, claim := range []uint64{0, 1} {
		q, err := zkp.ProveRange(shake(seedPrefix+"range/two"), st2, claim, r2)
		if err != nil {
			t.Fatal(err)
		}
		bad(fmt.Sprintf("2 in [0,1], prover claimed %d", claim), "the ciphertext encrypts 2, outside the range", q.AppendBytes(nil),
			func(v *rangeVector) { v.Ciphertext = hx(ct2.Bytes()) })
	}
	bad("2 in [0,1] with the proof of a 1", "the proof is for another ciphertext, which encrypts 1", enc,
		func(v *rangeVector) { v.Ciphertext = hx(ct2.Bytes()) })
	return f
}

func genElGamal(t *testing.T) *elgamalFile {
	f := &elgamalFile{Comment: "SPEC.md §5: (A, B) = (r·G, m·G + r·K), K = x·G. See README.md."}
	x := secrets(seedPrefix+"elgamal", 1)[0]
	K := group.BaseMul(x)
	ms := []uint64{0, 1, 2, 5, 100, 12345}
	rs := secrets(seedPrefix+"elgamal/r", len(ms))
	for i, m := range ms {
		c := elgamal.Encrypt(K, m, rs[i])
		f.Encryption = append(f.Encryption, encryptionVector{Name: fmt.Sprintf("m=%d", m), Secret: hx(x.Bytes()), K: hx(K.Bytes()), M: m, R: hx(rs[i].Bytes()), Ciphertext: hx(c.Bytes())})
	}
	zero := group.NewScalar()
	f.Encryption = append(f.Encryption, encryptionVector{Name: "r=0, m=3", Secret: hx(x.Bytes()), K: hx(K.Bytes()), M: 3, R: hx(zero.Bytes()), Ciphertext: hx(elgamal.Encrypt(K, 3, zero).Bytes())})
	enc, _ := hex.DecodeString(f.Encryption[1].Ciphertext)
	f.Decoding = []decodingVector{
		{Name: "encryption of 1", Ciphertext: hx(enc), Valid: true},
		{Name: "identity, identity", Ciphertext: hx(make([]byte, 64)), Valid: true, Reason: "the identity is a valid component (trivial encryption of 0)"},
		{Name: "63 bytes", Ciphertext: hx(enc[:63]), Reason: "wrong length"},
		{Name: "65 bytes", Ciphertext: hx(append(bytes.Clone(enc), 0)), Reason: "wrong length"},
		{Name: "A negative", Ciphertext: hx(replace(enc, 0, elementNeg)), Reason: "non-canonical element"},
		{Name: "B = p", Ciphertext: hx(replace(enc, 32, elementP)), Reason: "non-canonical element"},
		{Name: "B high bit", Ciphertext: hx(flip(enc, 63, 7)), Reason: "non-canonical element"},
		{Name: "all ones", Ciphertext: hx(bytes.Repeat([]byte{0xff}, 64)), Reason: "non-canonical element"},
	}
	return f
}

func genBallots(t *testing.T) *ballotFile {
	f := &ballotFile{Comment: "SPEC.md §8: ballots encrypted with the randomness shake(seed); see README.md."}
	cases := []struct {
		name, manifest, answers string
	}{
		{"referendum yes", "referendum", `{"plan":"yes"}`},
		{"referendum no", "referendum", `{"plan":"no"}`},
		{"survey", "survey", `{"age":"40s","fields":["disaster","childcare"],"science-city":4,"internet-voting":"rather-for"}`},
		{"city survey with a comment and a ranking", "city-survey", `{"age":"30s","science-city":2,"priorities":["school-route","shelters","bike-lanes"],"opinion":"駅前の自転車置き場を増やしてほしいです。\n研究所の一般公開日をもっと知らせてください。"}`},
		{"city survey, no comment, one ranked", "city-survey", `{"science-city":5,"priorities":["library-hours"]}`},
	}
	var first ballotVector
	var firstE *ballot.Election
	for i, c := range cases {
		seed := fmt.Sprintf("%sballot/%d", seedPrefix, i+1)
		data, err := examples.Manifest(c.manifest)
		if err != nil {
			t.Fatal(err)
		}
		x := secrets(seedPrefix+"ballot/key", 1)[0]
		var registrar [32]byte
		shake(seedPrefix + "ballot/registrar").Read(registrar[:])
		e, err := ballot.NewElection(data, group.BaseMul(x), registrar)
		if err != nil {
			t.Fatal(err)
		}
		var binding [32]byte
		shake(seed + "/binding").Read(binding[:])
		a, err := ballot.ParseAnswers([]byte(c.answers))
		if err != nil {
			t.Fatal(err)
		}
		pt, err := e.Manifest.Plaintext(a)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := ballot.Encrypt(shake(seed), e, binding, pt)
		if err != nil {
			t.Fatal(err)
		}
		code := b.TrackingCode()
		v := ballotVector{Name: c.name, Manifest: "examples/" + c.manifest + ".json", ManifestHash: hx(e.ManifestHash[:]),
			Secret: hx(x.Bytes()), Key: hx(e.Key.Bytes()), Registrar: hx(registrar[:]), Context: hx(e.Context[:]), Binding: hx(binding[:]),
			Answers: json.RawMessage(c.answers), Plaintext: pt, Seed: seed, Ballot: hx(b.Bytes()),
			Tracking: hx(code[:]), TrackingText: ballot.FormatTrackingCode(code), Valid: true}
		f.Vectors = append(f.Vectors, v)
		if i == 0 {
			first, firstE = v, e
		}
	}
	// Cortier–Smyth: the comment of the first city ballot copied into the
	// second, proofs and all; the proofs are bound to the first's binding.
	city1, city2 := f.Vectors[3], f.Vectors[4]
	c1, c2 := unhexT(city1.Ballot), unhexT(city2.Ballot)
	commentAt := len(c1) - textenc.WidthOf(400)*(elgamal.CiphertextSize+zkp.SchnorrSize)
	copied := append(bytes.Clone(c2[:commentAt]), c1[commentAt:]...)
	cv := city2
	cc := ballot.TrackingCode(copied)
	cv.Name, cv.Reason, cv.Valid, cv.Ballot = "comment copied from another ballot", "the components' proofs of knowledge are bound to the other ballot's binding (Cortier–Smyth replay)", false, hx(copied)
	cv.Secret, cv.Answers, cv.Plaintext, cv.Seed = "", nil, nil, ""
	cv.Tracking, cv.TrackingText = hx(cc[:]), ballot.FormatTrackingCode(cc)
	f.Vectors = append(f.Vectors, cv)
	// A rank component's ciphertext replaced, keeping its proof.
	// Before it: the optional age group (7 options, total [0, 1]) and the
	// rating 1..5 (5 one-hot selections, total [1, 1]).
	selSize := elgamal.CiphertextSize + zkp.RangeSize(0, 1)
	rankAt := ballot.HeaderSize + 7*selSize + zkp.RangeSize(0, 1) + 5*selSize + zkp.RangeSize(1, 1)
	other := elgamal.Encrypt(group.BaseMul(secrets(seedPrefix+"ballot/key", 1)[0]), 1, secrets(seedPrefix+"ballot/rank", 1)[0])
	rv := city2
	rb := replace(c2, rankAt, other.Bytes())
	rc := ballot.TrackingCode(rb)
	rv.Name, rv.Reason, rv.Valid, rv.Ballot = "rank component re-encrypted", "the first rank component's proof of knowledge is for another A", false, hx(rb)
	rv.Secret, rv.Answers, rv.Plaintext, rv.Seed = "", nil, nil, ""
	rv.Tracking, rv.TrackingText = hx(rc[:]), ballot.FormatTrackingCode(rc)
	f.Vectors = append(f.Vectors, rv)

	// A rating with two values chosen, or none: the survey ballot (4 on
	// science-city's 1..5) with one selection of the rating taken from a
	// ballot of the same binding that gave 2. Every selection's proof
	// holds; the rating's total proof [1, 1] fails.
	survey := f.Vectors[2]
	surveyE := ballotElection(t, "survey")
	var surveyBinding [32]byte
	copy(surveyBinding[:], unhexT(survey.Binding))
	otherPt, err := surveyE.Manifest.Plaintext(ballot.Answers{"age": "40s", "fields": []any{"disaster"}, "science-city": 2.0, "internet-voting": "for"})
	if err != nil {
		t.Fatal(err)
	}
	otherBallot, _, err := ballot.Encrypt(shake(survey.Seed+"/other"), surveyE, surveyBinding, otherPt)
	if err != nil {
		t.Fatal(err)
	}
	s1, s2 := unhexT(survey.Ballot), otherBallot.Bytes()
	// Before the rating: age (8 options, total [1, 1]) and fields (8
	// options, total [1, 3]).
	ratingAt := ballot.HeaderSize + 8*selSize + zkp.RangeSize(1, 1) + 8*selSize + zkp.RangeSize(1, 3)
	splice := func(name, reason string, sel int) {
		at := ratingAt + sel*selSize
		b := append(append(bytes.Clone(s1[:at]), s2[at:at+selSize]...), s1[at+selSize:]...)
		v := survey
		code := ballot.TrackingCode(b)
		v.Name, v.Reason, v.Valid, v.Ballot = name, reason, false, hx(b)
		v.Secret, v.Answers, v.Plaintext, v.Seed = "", nil, nil, ""
		v.Tracking, v.TrackingText = hx(code[:]), ballot.FormatTrackingCode(code)
		f.Vectors = append(f.Vectors, v)
	}
	splice("rating with two values", "science-city's selections for 2 and 4 both encrypt 1 (each proof holds); its total proof [1, 1] fails", 1)
	splice("rating with no value", "none of science-city's selections encrypts 1 (each proof holds); its total proof [1, 1] fails", 3)

	raw := unhexT(first.Ballot)
	bad := func(name, reason string, b []byte) {
		v := first
		code := ballot.TrackingCode(b)
		v.Name, v.Reason, v.Valid, v.Ballot = name, reason, false, hx(b)
		v.Secret, v.Answers, v.Plaintext, v.Seed = "", nil, nil, ""
		v.Tracking, v.TrackingText = hx(code[:]), ballot.FormatTrackingCode(code)
		if len(b) >= ballot.HeaderSize {
			v.Binding = hx(b[len(ballot.Magic)+32 : ballot.HeaderSize])
		}
		f.Vectors = append(f.Vectors, v)
	}
	n := len(raw)
	bad("last s bit 0 flipped", "the total proof's last branch fails", flip(raw, n-32, 0))
	bad("binding changed", "every proof context depends on the binding", flip(raw, len(ballot.Magic)+32, 0))
	bad("selections swapped", "each selection's proof is bound to its position",
		append(append(append(bytes.Clone(raw[:ballot.HeaderSize]), raw[ballot.HeaderSize+320:ballot.HeaderSize+640]...), raw[ballot.HeaderSize:ballot.HeaderSize+320]...), raw[ballot.HeaderSize+640:]...))
	// Selection 1 re-encrypted to 2, keeping its proof.
	two := elgamal.Encrypt(firstE.Key, 2, secrets(seedPrefix+"ballot/two", 1)[0])
	bad("selection re-encrypted to 2", "the selection encrypts 2, outside [0, 1]", replace(raw, ballot.HeaderSize, two.Bytes()))
	bad("bad magic", "does not start with koe1", replace(raw, 0, []byte("koe2")))
	bad("other election context", "made for another election", flip(raw, len(ballot.Magic), 0))
	bad("one byte short", "wrong length", raw[:n-1])
	bad("one byte long", "wrong length", append(bytes.Clone(raw), 0))
	bad("non-canonical element", "selection 1's A is not canonical", replace(raw, ballot.HeaderSize, allOnes32))
	bad("non-canonical scalar", "the total proof's last s is not canonical", replace(raw, n-32, scalarL))
	return f
}

// ballotElection is the election of ballot.json's vectors for one example
// manifest: its key and registrar drawn as genBallots draws them.
func ballotElection(t *testing.T, name string) *ballot.Election {
	t.Helper()
	data, err := examples.Manifest(name)
	if err != nil {
		t.Fatal(err)
	}
	x := secrets(seedPrefix+"ballot/key", 1)[0]
	var registrar [32]byte
	shake(seedPrefix + "ballot/registrar").Read(registrar[:])
	e, err := ballot.NewElection(data, group.BaseMul(x), registrar)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func genRecord(t *testing.T) {
	rdir := filepath.Join(dir, "record")
	if err := os.RemoveAll(rdir); err != nil {
		t.Fatal(err)
	}
	manifest, err := examples.Manifest("referendum")
	if err != nil {
		t.Fatal(err)
	}
	s, err := demo.Run(demo.Options{Dir: rdir, Manifest: manifest, Voters: 12, Trustees: 3, Threshold: 2, Absent: []int{2}, Spoil: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Report.OK() {
		t.Fatalf("the demo's record does not verify: %v", s.Report.Failures())
	}
}

func sha512Sum(b []byte) []byte {
	h := sha512.Sum512(b)
	return h[:]
}
