package zkp

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"github.com/koe-vote/koe/internal/group"
)

// Encodings that every strict decoder must reject.
var (
	// ℓ itself, little-endian: the smallest non-canonical scalar.
	scalarL = mustHex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
	// 2^256 − 1.
	scalarFF = bytes.Repeat([]byte{0xff}, 32)
	// The field element 1 is "negative" in RFC 9496 §4.3.1, so not canonical.
	elementNeg = append([]byte{1}, make([]byte, 31)...)
	// p = 2^255 − 19 is not reduced.
	elementP = mustHex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func randScalar(t testing.TB) *group.Scalar {
	t.Helper()
	s, err := group.RandomScalar(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func flipBit(b []byte, byteIndex int, mask byte) []byte {
	out := bytes.Clone(b)
	out[byteIndex] ^= mask
	return out
}

// verifier checks one encoded proof both on its own and through a batch.
// It returns nil only if both accept, and an error only if both reject;
// a disagreement fails the test.
type verifier func(t *testing.T, enc []byte) error

func bothWays(t *testing.T, single error, addErr error, batch *group.Batch) error {
	t.Helper()
	batchOK := addErr == nil && batch.Verify()
	if (single == nil) != batchOK {
		t.Fatalf("Verify says %v but batch says ok=%v (AddTo: %v)", single, batchOK, addErr)
	}
	return single
}

// tamperings returns, for each field of an encoding laid out as fields,
// the encoding with one bit of that field flipped. Element fields flip a bit
// of their last significant byte (the result may or may not decode);
// scalar fields flip their lowest bit (the result stays canonical).
type field struct {
	name    string
	off     int
	element bool
}

func tamperings(enc []byte, fields []field) map[string][]byte {
	out := map[string][]byte{}
	for _, f := range fields {
		if f.element {
			out[f.name+" bit 1"] = flipBit(enc, f.off, 0x02)
			out[f.name+" bit 200"] = flipBit(enc, f.off+25, 0x01)
		} else {
			out[f.name+" bit 0"] = flipBit(enc, f.off, 0x01)
			out[f.name+" bit 100"] = flipBit(enc, f.off+12, 0x10)
		}
	}
	return out
}

func TestSchnorr(t *testing.T) {
	x := randScalar(t)
	X := group.BaseMul(x)
	ctx := []byte("koe/v2/test schnorr")
	p, err := ProveSchnorr(rand.Reader, ctx, x, X)
	if err != nil {
		t.Fatal(err)
	}
	enc := p.Bytes()
	if len(enc) != SchnorrSize {
		t.Fatalf("encoded length %d, want %d", len(enc), SchnorrSize)
	}
	check := func(t *testing.T, enc, ctx []byte, X *group.Element) error {
		t.Helper()
		q, err := DecodeSchnorr(enc)
		if err != nil {
			return err
		}
		if !bytes.Equal(q.Bytes(), enc) {
			t.Fatal("decode and encode disagree")
		}
		b := group.NewBatch()
		q.AddTo(b, ctx, X)
		return bothWays(t, q.Verify(ctx, X), nil, b)
	}
	t.Run("honest", func(t *testing.T) {
		if err := check(t, enc, ctx, X); err != nil {
			t.Fatal(err)
		}
	})
	otherX := group.BaseMul(randScalar(t))
	negatives := []struct {
		name string
		enc  []byte
		ctx  []byte
		X    *group.Element
	}{
		{"wrong context", enc, []byte("koe/v2/test schnorr 2"), X},
		{"empty context", enc, nil, X},
		{"other public key", enc, ctx, otherX},
		{"identity public key", enc, ctx, group.Identity()},
		{"R replaced by R+G", append(group.NewElement().Add(p.R, group.Generator()).Bytes(), enc[32:]...), ctx, X},
		{"s replaced by s+1", append(bytes.Clone(enc[:32]), group.NewScalar().Add(p.S, one).Bytes()...), ctx, X},
		{"proof for the other key", func() []byte {
			y := randScalar(t)
			q, _ := ProveSchnorr(rand.Reader, ctx, y, otherX)
			return q.Bytes()
		}(), ctx, X},
	}
	for name, e := range tamperings(enc, []field{{"R", 0, true}, {"s", 32, false}}) {
		negatives = append(negatives, struct {
			name string
			enc  []byte
			ctx  []byte
			X    *group.Element
		}{"flip " + name, e, ctx, X})
	}
	for _, tc := range negatives {
		t.Run(tc.name, func(t *testing.T) {
			if err := check(t, tc.enc, tc.ctx, tc.X); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	t.Run("verify error wraps ErrInvalidProof", func(t *testing.T) {
		if err := p.Verify(nil, X); !errors.Is(err, ErrInvalidProof) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("mixed batch", func(t *testing.T) {
		b := group.NewBatch()
		p.AddTo(b, ctx, X)
		p.AddTo(b, ctx, otherX)
		if b.Verify() {
			t.Fatal("batch with one bad proof verifies")
		}
	})
}

func TestDecodeSchnorr(t *testing.T) {
	p, _ := ProveSchnorr(rand.Reader, nil, one, group.Generator())
	enc := p.Bytes()
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short", enc[:SchnorrSize-1]},
		{"long", append(bytes.Clone(enc), 0)},
		{"R negative", append(bytes.Clone(elementNeg), enc[32:]...)},
		{"R not reduced", append(bytes.Clone(elementP), enc[32:]...)},
		{"s = ℓ", append(bytes.Clone(enc[:32]), scalarL...)},
		{"s = 2^256-1", append(bytes.Clone(enc[:32]), scalarFF...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if q, err := DecodeSchnorr(tc.b); err == nil || q != nil {
				t.Fatalf("decoded %x", tc.b)
			}
		})
	}
}

func TestDLEQ(t *testing.T) {
	x := randScalar(t)
	Y := group.BaseMul(x)
	A := group.BaseMul(randScalar(t))
	D := group.Mul(x, A)
	ctx := []byte("koe/v2/test dleq")
	p, err := ProveDLEQ(rand.Reader, ctx, x, Y, A, D)
	if err != nil {
		t.Fatal(err)
	}
	enc := p.Bytes()
	if len(enc) != DLEQSize {
		t.Fatalf("encoded length %d, want %d", len(enc), DLEQSize)
	}
	check := func(t *testing.T, enc, ctx []byte, Y, A, D *group.Element) error {
		t.Helper()
		q, err := DecodeDLEQ(enc)
		if err != nil {
			return err
		}
		if !bytes.Equal(q.Bytes(), enc) {
			t.Fatal("decode and encode disagree")
		}
		b := group.NewBatch()
		q.AddTo(b, ctx, Y, A, D)
		return bothWays(t, q.Verify(ctx, Y, A, D), nil, b)
	}
	t.Run("honest", func(t *testing.T) {
		if err := check(t, enc, ctx, Y, A, D); err != nil {
			t.Fatal(err)
		}
	})
	G := group.Generator()
	plusG := func(e *group.Element) []byte { return group.NewElement().Add(e, G).Bytes() }
	other := group.BaseMul(randScalar(t))
	type tcase struct {
		name       string
		enc        []byte
		ctx        []byte
		Y, A, D    *group.Element
		wantSecond bool // the failure is in the second equation
	}
	negatives := []tcase{
		{name: "wrong context", enc: enc, ctx: []byte("koe/v2/test dleq 2"), Y: Y, A: A, D: D},
		{name: "other trustee key", enc: enc, ctx: ctx, Y: other, A: A, D: D},
		{name: "other ciphertext", enc: enc, ctx: ctx, Y: Y, A: other, D: D},
		{name: "D + G", enc: enc, ctx: ctx, Y: Y, A: A, D: group.NewElement().Add(D, G)},
		{name: "D for another x", enc: enc, ctx: ctx, Y: Y, A: A, D: group.Mul(randScalar(t), A)},
		{name: "U + G", enc: append(plusG(p.U), enc[32:]...), ctx: ctx, Y: Y, A: A, D: D},
		{name: "V + G", enc: append(append(bytes.Clone(enc[:32]), plusG(p.V)...), enc[64:]...), ctx: ctx, Y: Y, A: A, D: D},
		{name: "s + 1", enc: append(bytes.Clone(enc[:64]), group.NewScalar().Add(p.S, one).Bytes()...), ctx: ctx, Y: Y, A: A, D: D},
		{name: "swapped Y and D", enc: enc, ctx: ctx, Y: D, A: A, D: Y},
	}
	// An honest-looking proof for a false statement: D = x'·A with a
	// different x'. The prover knows x, so it runs the protocol with x.
	badD := group.Mul(randScalar(t), A)
	if q, err := ProveDLEQ(rand.Reader, ctx, x, Y, A, badD); err == nil {
		negatives = append(negatives, tcase{name: "proof of a false statement", enc: q.Bytes(), ctx: ctx, Y: Y, A: A, D: badD, wantSecond: true})
	}
	for name, e := range tamperings(enc, []field{{"U", 0, true}, {"V", 32, true}, {"s", 64, false}}) {
		negatives = append(negatives, tcase{name: "flip " + name, enc: e, ctx: ctx, Y: Y, A: A, D: D})
	}
	for _, tc := range negatives {
		t.Run(tc.name, func(t *testing.T) {
			err := check(t, tc.enc, tc.ctx, tc.Y, tc.A, tc.D)
			if err == nil {
				t.Fatal("accepted")
			}
			if tc.wantSecond && !bytes.Contains([]byte(err.Error()), []byte("second equation")) {
				t.Fatalf("error %q does not name the second equation", err)
			}
		})
	}
}

func TestDecodeDLEQ(t *testing.T) {
	p, _ := ProveDLEQ(rand.Reader, nil, one, group.Generator(), group.Generator(), group.Generator())
	enc := p.Bytes()
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short", enc[:DLEQSize-1]},
		{"long", append(bytes.Clone(enc), 0)},
		{"U negative", append(bytes.Clone(elementNeg), enc[32:]...)},
		{"V not reduced", append(append(bytes.Clone(enc[:32]), elementP...), enc[64:]...)},
		{"s = ℓ", append(bytes.Clone(enc[:64]), scalarL...)},
		{"s = 2^256-1", append(bytes.Clone(enc[:64]), scalarFF...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if q, err := DecodeDLEQ(tc.b); err == nil || q != nil {
				t.Fatalf("decoded %x", tc.b)
			}
		})
	}
}

// rangeCheck decodes enc as a proof for st and verifies it both ways.
func rangeCheck(t *testing.T, enc []byte, st *RangeStatement) error {
	t.Helper()
	n := int(st.Hi - st.Lo + 1)
	if st.Hi < st.Lo {
		n = len(enc) / BranchSize
	}
	q, err := DecodeRange(enc, n)
	if err != nil {
		return err
	}
	if !bytes.Equal(q.AppendBytes(nil), enc) {
		t.Fatal("decode and encode disagree")
	}
	b := group.NewBatch()
	return bothWays(t, q.Verify(st), q.AddTo(b, st), b)
}

func TestRange(t *testing.T) {
	K := group.BaseMul(randScalar(t))
	ranges := []struct{ lo, hi uint64 }{{0, 1}, {1, 1}, {0, 0}, {0, 2}, {1, 3}, {2, 5}, {5, 9}, {0, 10}}
	for _, rg := range ranges {
		for m := rg.lo; m <= rg.hi; m++ {
			t.Run(fmt.Sprintf("[%d,%d] m=%d", rg.lo, rg.hi, m), func(t *testing.T) {
				testRangeCase(t, K, rg.lo, rg.hi, m)
			})
		}
	}
}

func testRangeCase(t *testing.T, K *group.Element, lo, hi, m uint64) {
	r := randScalar(t)
	A := group.BaseMul(r)
	B := group.NewElement().Add(group.Mul(r, K), group.SmallBaseMul(m))
	st := &RangeStatement{Context: []byte("koe/v2/test range"), K: K, A: A, B: B, Lo: lo, Hi: hi}
	p, err := ProveRange(rand.Reader, st, m, r)
	if err != nil {
		t.Fatal(err)
	}
	enc := p.AppendBytes(nil)
	if len(enc) != RangeSize(lo, hi) {
		t.Fatalf("encoded length %d, RangeSize says %d", len(enc), RangeSize(lo, hi))
	}
	if err := rangeCheck(t, enc, st); err != nil {
		t.Fatalf("honest proof rejected: %v", err)
	}
	with := func(f func(s *RangeStatement)) *RangeStatement {
		s := *st
		f(&s)
		return &s
	}
	G := group.Generator()
	type tcase struct {
		name string
		enc  []byte
		st   *RangeStatement
	}
	negatives := []tcase{
		{"wrong context", enc, with(func(s *RangeStatement) { s.Context = []byte("koe/v2/test range 2") })},
		{"other key", enc, with(func(s *RangeStatement) { s.K = group.BaseMul(randScalar(t)) })},
		{"other A", enc, with(func(s *RangeStatement) { s.A = group.NewElement().Add(A, G) })},
		{"B + G", enc, with(func(s *RangeStatement) { s.B = group.NewElement().Add(B, G) })},
		{"other ciphertext", enc, with(func(s *RangeStatement) {
			c := randScalar(t)
			s.A, s.B = group.BaseMul(c), group.NewElement().Add(group.Mul(c, K), group.SmallBaseMul(m))
		})},
		{"range shifted", enc, with(func(s *RangeStatement) { s.Lo, s.Hi = lo+1, hi+1 })},
		{"one branch more", enc, with(func(s *RangeStatement) { s.Hi = hi + 1 })},
	}
	if hi > lo {
		negatives = append(negatives, tcase{"one branch fewer", enc, with(func(s *RangeStatement) { s.Hi = hi - 1 })})
		negatives = append(negatives, tcase{"branches swapped", append(bytes.Clone(enc[BranchSize:2*BranchSize]), append(bytes.Clone(enc[:BranchSize]), enc[2*BranchSize:]...)...), st})
	}
	negatives = append(negatives, tcase{"inverted range", enc, with(func(s *RangeStatement) { s.Lo, s.Hi = hi+1, lo })})
	for i := 0; i < len(p.Branches); i++ {
		off := i * BranchSize
		fields := []field{
			{fmt.Sprintf("branch %d U", i), off, true},
			{fmt.Sprintf("branch %d V", i), off + 32, true},
			{fmt.Sprintf("branch %d c", i), off + 64, false},
			{fmt.Sprintf("branch %d s", i), off + 96, false},
		}
		for name, e := range tamperings(enc, fields) {
			negatives = append(negatives, tcase{"flip " + name, e, st})
		}
		// Moving weight between two challenges keeps their sum: only
		// the group equations can catch it.
		if len(p.Branches) > 1 {
			q := cloneRange(p)
			j := (i + 1) % len(q.Branches)
			q.Branches[i].C = group.NewScalar().Add(q.Branches[i].C, one)
			q.Branches[j].C = group.NewScalar().Subtract(q.Branches[j].C, one)
			negatives = append(negatives, tcase{fmt.Sprintf("challenge moved from branch %d", j), q.AppendBytes(nil), st})
		}
	}
	for _, tc := range negatives {
		t.Run(tc.name, func(t *testing.T) {
			if err := rangeCheck(t, tc.enc, tc.st); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	t.Run("branch count does not match the statement", func(t *testing.T) {
		for _, st := range []*RangeStatement{with(func(s *RangeStatement) { s.Hi = hi + 1 }), with(func(s *RangeStatement) { s.Lo = lo + 1; s.Hi = hi + 2 })} {
			if err := p.Verify(st); err == nil {
				t.Fatalf("Verify accepted %d branches for [%d, %d]", len(p.Branches), st.Lo, st.Hi)
			}
			if err := p.AddTo(group.NewBatch(), st); err == nil {
				t.Fatalf("AddTo accepted %d branches for [%d, %d]", len(p.Branches), st.Lo, st.Hi)
			}
		}
		short := &Range{Branches: p.Branches[:len(p.Branches)-1]}
		if err := short.Verify(st); err == nil {
			t.Fatal("Verify accepted a proof with a branch missing")
		}
	})
	t.Run("value outside range", func(t *testing.T) {
		if hi+1-lo >= MaxRangeBranches {
			t.Skip()
		}
		if _, err := ProveRange(rand.Reader, with(func(s *RangeStatement) { s.Lo, s.Hi = m+1, m+2 }), m, r); err == nil {
			t.Fatal("ProveRange proved a value below the range")
		}
		if m > 0 {
			if _, err := ProveRange(rand.Reader, with(func(s *RangeStatement) { s.Lo, s.Hi = 0, m-1 }), m, r); err == nil {
				t.Fatal("ProveRange proved a value above the range")
			}
		}
	})
}

func cloneRange(p *Range) *Range {
	q, err := DecodeRange(p.AppendBytes(nil), len(p.Branches))
	if err != nil {
		panic(err)
	}
	return q
}

// TestRangeFalseStatement: 2 encrypted under K cannot be proved in [0, 1].
func TestRangeFalseStatement(t *testing.T) {
	K := group.BaseMul(randScalar(t))
	r := randScalar(t)
	A := group.BaseMul(r)
	B := group.NewElement().Add(group.Mul(r, K), group.SmallBaseMul(2))
	st := &RangeStatement{Context: []byte("koe/v2/test"), K: K, A: A, B: B, Lo: 0, Hi: 1}
	if _, err := ProveRange(rand.Reader, st, 2, r); err == nil {
		t.Fatal("ProveRange proved 2 in [0, 1]")
	}
	for _, claim := range []uint64{0, 1} {
		t.Run(fmt.Sprintf("claim %d", claim), func(t *testing.T) {
			p, err := ProveRange(rand.Reader, st, claim, r)
			if err != nil {
				t.Fatal(err)
			}
			if err := rangeCheck(t, p.AppendBytes(nil), st); !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("proof that 2 is %d: got %v, want ErrInvalidProof", claim, err)
			}
		})
	}
	t.Run("proof for another ciphertext of 1", func(t *testing.T) {
		r1 := randScalar(t)
		st1 := *st
		st1.A = group.BaseMul(r1)
		st1.B = group.NewElement().Add(group.Mul(r1, K), group.SmallBaseMul(1))
		p, err := ProveRange(rand.Reader, &st1, 1, r1)
		if err != nil {
			t.Fatal(err)
		}
		if err := rangeCheck(t, p.AppendBytes(nil), &st1); err != nil {
			t.Fatal(err)
		}
		if err := rangeCheck(t, p.AppendBytes(nil), st); err == nil {
			t.Fatal("proof for a ciphertext of 1 verifies for a ciphertext of 2")
		}
	})
	t.Run("wider range does not verify as narrower", func(t *testing.T) {
		wide := *st
		wide.Hi = 2
		p, err := ProveRange(rand.Reader, &wide, 2, r)
		if err != nil {
			t.Fatal(err)
		}
		if err := rangeCheck(t, p.AppendBytes(nil), &wide); err != nil {
			t.Fatal(err)
		}
		// Drop the last branch so the shape fits [0, 1].
		if err := rangeCheck(t, p.AppendBytes(nil)[:2*BranchSize], st); err == nil {
			t.Fatal("truncated proof accepted")
		}
	})
}

func TestRangeBadStatement(t *testing.T) {
	K := group.Generator()
	for _, tc := range []struct{ lo, hi uint64 }{{1, 0}, {0, MaxRangeBranches}, {10, 10 + MaxRangeBranches}, {0, ^uint64(0)}} {
		t.Run(fmt.Sprintf("[%d,%d]", tc.lo, tc.hi), func(t *testing.T) {
			st := &RangeStatement{K: K, A: K, B: K, Lo: tc.lo, Hi: tc.hi}
			if _, err := ProveRange(rand.Reader, st, tc.lo, one); err == nil {
				t.Fatal("ProveRange accepted a bad range")
			}
			p := &Range{Branches: make([]Branch, 1)}
			if err := p.Verify(st); err == nil {
				t.Fatal("Verify accepted a bad range")
			}
			if err := p.AddTo(group.NewBatch(), st); err == nil {
				t.Fatal("AddTo accepted a bad range")
			}
		})
	}
	t.Run("largest range", func(t *testing.T) {
		st := &RangeStatement{K: K, A: group.Identity(), B: group.SmallBaseMul(7), Lo: 0, Hi: MaxRangeBranches - 1}
		p, err := ProveRange(rand.Reader, st, 7, group.NewScalar())
		if err != nil {
			t.Fatal(err)
		}
		if err := rangeCheck(t, p.AppendBytes(nil), st); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDecodeRange(t *testing.T) {
	K := group.BaseMul(randScalar(t))
	st := &RangeStatement{K: K, A: group.Identity(), B: group.SmallBaseMul(1), Lo: 0, Hi: 2}
	p, err := ProveRange(rand.Reader, st, 1, group.NewScalar())
	if err != nil {
		t.Fatal(err)
	}
	enc := p.AppendBytes(nil)
	replace := func(off int, with []byte) []byte {
		out := bytes.Clone(enc)
		copy(out[off:], with)
		return out
	}
	for _, tc := range []struct {
		name string
		b    []byte
		n    int
	}{
		{"empty", nil, 3},
		{"zero branches", nil, 0},
		{"negative branches", nil, -1},
		{"too many branches", make([]byte, (MaxRangeBranches+1)*BranchSize), MaxRangeBranches + 1},
		{"short", enc[:len(enc)-1], 3},
		{"long", append(bytes.Clone(enc), 0), 3},
		{"fewer branches than bytes", enc, 2},
		{"more branches than bytes", enc, 4},
		{"branch 0 U negative", replace(0, elementNeg), 3},
		{"branch 1 V not reduced", replace(BranchSize+32, elementP), 3},
		{"branch 2 c = ℓ", replace(2*BranchSize+64, scalarL), 3},
		{"branch 2 s = 2^256-1", replace(2*BranchSize+96, scalarFF), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if q, err := DecodeRange(tc.b, tc.n); err == nil || q != nil {
				t.Fatalf("decoded %d bytes as %d branches", len(tc.b), tc.n)
			}
		})
	}
}

func TestRangeErrorRandomness(t *testing.T) {
	st := &RangeStatement{K: group.Generator(), A: group.Identity(), B: group.Identity(), Lo: 0, Hi: 1}
	if _, err := ProveRange(bytes.NewReader(make([]byte, 64)), st, 0, one); err == nil {
		t.Fatal("ProveRange succeeded with too little randomness")
	}
	if _, err := ProveSchnorr(bytes.NewReader(nil), nil, one, group.Generator()); err == nil {
		t.Fatal("ProveSchnorr succeeded without randomness")
	}
	if _, err := ProveDLEQ(bytes.NewReader(nil), nil, one, group.Generator(), group.Generator(), group.Generator()); err == nil {
		t.Fatal("ProveDLEQ succeeded without randomness")
	}
}
