package group

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"math/big"
	"testing"
	"testing/iotest"

	"github.com/gtank/ristretto255"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// smallMultiples are the encodings of i·G for i = 0..15, from RFC 9496,
// Appendix A.1.
var smallMultiples = []string{
	"0000000000000000000000000000000000000000000000000000000000000000",
	"e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76",
	"6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919",
	"94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259",
	"da80862773358b466ffadfe0b3293ab3d9fd53c5ea6c955358f568322daf6a57",
	"e882b131016b52c1d3337080187cf768423efccbb517bb495ab812c4160ff44e",
	"f64746d3c92b13050ed8d80236a7f0007c3b3f962f5ba793d19a601ebb1df403",
	"44f53520926ec81fbd5a387845beb7df85a96a24ece18738bdcfa6a7822a176d",
	"903293d8f2287ebe10e2374dc1a53e0bc887e592699f02d077d5263cdd55601c",
	"02622ace8f7303a31cafc63f8fc48fdc16e1c8c8d234b2f0d6685282a9076031",
	"20706fd788b2720a1ed2a5dad4952b01f413bcf0e7564de8cdc816689e2db95f",
	"bce83f8ba5dd2fa572864c24ba1810f9522bc6004afe95877ac73241cafdab42",
	"e4549ee16b9aa03099ca208c67adafcafa4c3f3e4e5303de6026e3ca8ff84460",
	"aa52e000df2e16f55fb1032fc33bc42742dad6bd5a8fc0be0167436c5948501f",
	"46376b80f409b29dc2b5f6f0c52591990896e5716f41477cd30085ab7f10301e",
	"e0c418f7c8d9c4cdd7395b93ea124f3ad99021bb681dfc3302a9d99a2e53e64e",
}

// badEncodings are the invalid encodings of RFC 9496, Appendix A.2.
var badEncodings = []struct{ why, hex string }{
	{"non-canonical field encoding", "00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
	{"non-canonical field encoding", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
	{"non-canonical field encoding", "f3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
	{"non-canonical field encoding", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
	{"negative field element", "0100000000000000000000000000000000000000000000000000000000000000"},
	{"negative field element", "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
	{"negative field element", "ed57ffd8c914fb201471d1c3d245ce3c746fcbe63a3679d51b6a516ebebe0e20"},
	{"negative field element", "c34c4e1826e5d403b78e246e88aa051c36ccf0aafebffe137d148a2bf9104562"},
	{"negative field element", "c940e5a4404157cfb1628b108db051a8d439e1a421394ec4ebccb9ec92a8ac78"},
	{"negative field element", "47cfc5497c53dc8e61c91d17fd626ffb1c49e2bca94eed052281b510b1117a24"},
	{"negative field element", "f1c6165d33367351b0da8f6e4511010c68174a03b6581212c71c0e1d026c3c72"},
	{"negative field element", "87260f7a2f12495118360f02c26a470f450dadf34a413d21042b43b9d93e1309"},
	{"nonsquare x²", "26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371"},
	{"nonsquare x²", "4eac077a713c57b4f4397629a4145982c661f48044dd3f96427d40b147d9742f"},
	{"nonsquare x²", "de6a7b00deadc788eb6b6c8d20c0ae96c2f2019078fa604fee5b87d6e989ad7b"},
	{"nonsquare x²", "bcab477be20861e01e4a0e295284146a510150d9817763caf1a6f4b422d67042"},
	{"nonsquare x²", "2a292df7e32cababbd9de088d1d1abec9fc0440f637ed2fba145094dc14bea08"},
	{"nonsquare x²", "f4a9e534fc0d216c44b218fa0c42d99635a0127ee2e53c712f70609649fdff22"},
	{"nonsquare x²", "8268436f8c4126196cf64b3c7ddbda90746a378625f9813dd9b8457077256731"},
	{"nonsquare x²", "2810e5cbc2cc4d4eece54f61c6f69758e289aa7ab440b3cbeaa21995c2f4232b"},
	{"negative xy", "3eb858e78f5a7254d8c9731174a94f76755fd3941c0ac93735c07ba14579630e"},
	{"negative xy", "a45fdc55c76448c049a1ab33f17023edfb2be3581e9c7aade8a6125215e04220"},
	{"negative xy", "d483fe813c6ba647ebbfd3ec41adca1c6130c2beeee9d9bf065c8d151c5f396e"},
	{"negative xy", "8a2e1d30050198c65a54483123960ccc38aef6848e1ec8f5f780e8523769ba32"},
	{"negative xy", "32888462f8b486c68ad7dd9610be5192bbeaf3b443951ac1a8118419d9fa097b"},
	{"negative xy", "227142501b9d4355ccba290404bde41575b037693cef1f438c47f8fbf35d1165"},
	{"negative xy", "5c37cc491da847cfeb9281d407efc41e15144c876e0170b499a96a22ed31e01e"},
	{"negative xy", "445425117cb8c90edcbc7c1cc0e74f747f2c1efa5630a967c64f287792a48a4b"},
	{"s = -1, y = 0", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
}

// fieldP is the field modulus p = 2^255 - 19.
var fieldP = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))

// leBytes returns v as 32 little-endian bytes; v must be below 2^256.
func leBytes(v *big.Int) []byte {
	b := make([]byte, 32)
	v.FillBytes(b)
	for i := range 16 {
		b[i], b[31-i] = b[31-i], b[i]
	}
	return b
}

func leInt(b []byte) *big.Int {
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	return new(big.Int).SetBytes(be)
}

func TestDecodeElementSmallMultiples(t *testing.T) {
	want := Identity()
	for i, h := range smallMultiples {
		enc := mustHex(t, h)
		e, err := DecodeElement(enc)
		if err != nil {
			t.Fatalf("%d·G: %v", i, err)
		}
		if !Equal(e, want) || !Equal(e, SmallBaseMul(uint64(i))) {
			t.Errorf("%d·G: decodes to the wrong element", i)
		}
		if got := e.Encode(nil); !bytes.Equal(got, enc) {
			t.Errorf("%d·G: re-encodes to %x", i, got)
		}

		_, err = DecodePublicKey(enc)
		switch {
		case i == 0 && !errors.Is(err, ErrIdentity):
			t.Errorf("DecodePublicKey(identity): got %v, want ErrIdentity", err)
		case i != 0 && err != nil:
			t.Errorf("DecodePublicKey(%d·G): %v", i, err)
		}
		want.Add(want, Generator())
	}
}

func TestDecodeElementRejects(t *testing.T) {
	type bad struct{ name, hex string }
	var cases []bad
	for _, v := range badEncodings {
		cases = append(cases, bad{"RFC 9496 A.2 " + v.why, v.hex})
	}
	// Constructed: values ≥ p, the top bit set on a valid encoding, and the
	// negative p - s of valid encodings s (odd, hence "negative").
	one := big.NewInt(1)
	for _, v := range []*big.Int{
		fieldP,
		new(big.Int).Add(fieldP, one),
		new(big.Int).Add(fieldP, big.NewInt(18)),
		new(big.Int).Sub(new(big.Int).Lsh(one, 256), one),
	} {
		cases = append(cases, bad{"value ≥ p", hex.EncodeToString(leBytes(v))})
	}
	for i, h := range smallMultiples[1:] {
		enc := mustHex(t, h)
		hi := bytes.Clone(enc)
		hi[31] |= 0x80
		cases = append(cases, bad{"top bit set on a valid encoding", hex.EncodeToString(hi)})
		neg := new(big.Int).Sub(fieldP, leInt(enc))
		if neg.Bit(0) != 1 {
			t.Fatalf("%d·G: p - s is even", i+1)
		}
		cases = append(cases, bad{"negative s", hex.EncodeToString(leBytes(neg))})
	}

	for _, tc := range cases {
		t.Run(tc.name+"/"+tc.hex[:8], func(t *testing.T) {
			enc := mustHex(t, tc.hex)
			if _, err := DecodeElement(enc); !errors.Is(err, ErrEncoding) {
				t.Errorf("DecodeElement: got %v, want ErrEncoding", err)
			}
			if _, err := DecodePublicKey(enc); !errors.Is(err, ErrEncoding) {
				t.Errorf("DecodePublicKey: got %v, want ErrEncoding", err)
			}
		})
	}
}

func TestDecodeLengths(t *testing.T) {
	g := Generator().Encode(nil)
	s := ScalarFromUint64(7).Encode(nil)
	for _, n := range []int{0, 1, 31, 33, 64} {
		el := make([]byte, n)
		copy(el, g)
		sc := make([]byte, n)
		copy(sc, s)
		if _, err := DecodeElement(el); !errors.Is(err, ErrEncoding) {
			t.Errorf("DecodeElement(len %d): got %v, want ErrEncoding", n, err)
		}
		if _, err := DecodePublicKey(el); !errors.Is(err, ErrEncoding) {
			t.Errorf("DecodePublicKey(len %d): got %v, want ErrEncoding", n, err)
		}
		if _, err := DecodeScalar(sc); !errors.Is(err, ErrEncoding) {
			t.Errorf("DecodeScalar(len %d): got %v, want ErrEncoding", n, err)
		}
	}
	if _, err := DecodeElement(nil); !errors.Is(err, ErrEncoding) {
		t.Errorf("DecodeElement(nil): got %v", err)
	}
	if _, err := DecodeScalar(nil); !errors.Is(err, ErrEncoding) {
		t.Errorf("DecodeScalar(nil): got %v", err)
	}
}

func TestDecodeElementRoundTrip(t *testing.T) {
	for range 32 {
		P := randPoint(t)
		enc := P.Encode(nil)
		got, err := DecodeElement(enc)
		if err != nil {
			t.Fatal(err)
		}
		if !Equal(got, P) {
			t.Fatal("round trip changed the element")
		}
		if _, err := DecodePublicKey(enc); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDecodeScalar(t *testing.T) {
	one := big.NewInt(1)
	accept := []*big.Int{
		big.NewInt(0), one, big.NewInt(1 << 62),
		new(big.Int).Sub(orderL, one),
		new(big.Int).Sub(orderL, big.NewInt(2)),
		new(big.Int).Sub(new(big.Int).Lsh(one, 252), one),
		new(big.Int).Lsh(one, 252),
	}
	for _, v := range accept {
		enc := leBytes(v)
		s, err := DecodeScalar(enc)
		if err != nil {
			t.Errorf("DecodeScalar(%x): %v", enc, err)
			continue
		}
		if got := s.Encode(nil); !bytes.Equal(got, enc) {
			t.Errorf("DecodeScalar(%x) re-encodes to %x", enc, got)
		}
	}

	reject := map[string]*big.Int{
		"ℓ":         orderL,
		"ℓ+1":       new(big.Int).Add(orderL, one),
		"2ℓ":        new(big.Int).Lsh(orderL, 1),
		"2^253":     new(big.Int).Lsh(one, 253),
		"2^255-1":   new(big.Int).Sub(new(big.Int).Lsh(one, 255), one),
		"2^255":     new(big.Int).Lsh(one, 255),
		"2^256-1":   new(big.Int).Sub(new(big.Int).Lsh(one, 256), one),
		"ℓ + 2^255": new(big.Int).Add(orderL, new(big.Int).Lsh(one, 255)),
	}
	for name, v := range reject {
		if _, err := DecodeScalar(leBytes(v)); !errors.Is(err, ErrEncoding) {
			t.Errorf("DecodeScalar(%s): got %v, want ErrEncoding", name, err)
		}
	}
}

func TestScalarFromInt(t *testing.T) {
	tests := []struct {
		v    int64
		want *big.Int
	}{
		{0, big.NewInt(0)},
		{1, big.NewInt(1)},
		{-1, new(big.Int).Sub(orderL, big.NewInt(1))},
		{-2, new(big.Int).Sub(orderL, big.NewInt(2))},
		{math.MaxInt64, big.NewInt(math.MaxInt64)},
		{math.MinInt64, new(big.Int).Sub(orderL, new(big.Int).Lsh(big.NewInt(1), 63))},
		{math.MinInt64 + 1, new(big.Int).Sub(orderL, big.NewInt(math.MaxInt64))},
	}
	for _, tc := range tests {
		got := ScalarFromInt64(tc.v)
		if !bytes.Equal(got.Encode(nil), leBytes(tc.want)) {
			t.Errorf("ScalarFromInt64(%d) = %x, want %v", tc.v, got.Encode(nil), tc.want)
		}
		sum := NewScalar().Add(got, ScalarFromInt64(-tc.v))
		if tc.v != math.MinInt64 && sum.Equal(NewScalar()) != 1 {
			t.Errorf("ScalarFromInt64(%d) + ScalarFromInt64(%d) ≠ 0", tc.v, -tc.v)
		}
	}
	if got, want := ScalarFromUint64(math.MaxUint64).Encode(nil), leBytes(new(big.Int).SetUint64(math.MaxUint64)); !bytes.Equal(got, want) {
		t.Errorf("ScalarFromUint64(MaxUint64) = %x", got)
	}
}

func TestRandomScalar(t *testing.T) {
	for _, n := range []int{0, 1, 32, 63} {
		if _, err := RandomScalar(bytes.NewReader(make([]byte, n))); err == nil {
			t.Errorf("RandomScalar from a %d-byte reader: no error", n)
		}
	}
	failing := iotest.ErrReader(errors.New("entropy source broken"))
	if _, err := RandomScalar(failing); err == nil {
		t.Error("RandomScalar from a failing reader: no error")
	}

	// With 64 bytes it is the wide reduction of RFC 9496 §4.4 (SetUniformBytes).
	seed := bytes.Repeat([]byte{0xa5}, 64)
	got, err := RandomScalar(bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	want := new(big.Int).Mod(leInt(seed), orderL)
	if !bytes.Equal(got.Encode(nil), leBytes(want)) {
		t.Errorf("RandomScalar = %x, want %x", got.Encode(nil), leBytes(want))
	}

	a, b := randScalar(t), randScalar(t)
	if a.Equal(b) == 1 {
		t.Error("two random scalars are equal")
	}
}

func TestMultiplications(t *testing.T) {
	a, b := randScalar(t), randScalar(t)
	P := randPoint(t)
	aP := Mul(a, P)
	if !Equal(VarTimeMul(a, P), aP) {
		t.Error("VarTimeMul ≠ Mul")
	}
	if !Equal(BaseMul(a), Mul(a, Generator())) {
		t.Error("BaseMul ≠ Mul(·, G)")
	}
	want := NewElement().Add(aP, BaseMul(b))
	if !Equal(VarTimeDoubleBaseMul(a, P, b), want) {
		t.Error("VarTimeDoubleBaseMul wrong")
	}
	if !Equal(SmallBaseMul(3), NewElement().Add(Generator(), NewElement().Add(Generator(), Generator()))) {
		t.Error("SmallBaseMul(3) ≠ G+G+G")
	}
	if !IsIdentity(SmallBaseMul(0)) || !IsIdentity(Mul(NewScalar(), P)) || !IsIdentity(NewElement()) {
		t.Error("0·P is not the identity")
	}
	if IsIdentity(Generator()) {
		t.Error("G is the identity")
	}
	// ℓ·P = 0: (ℓ-1)·P + P.
	if !IsIdentity(NewElement().Add(Mul(ScalarFromInt64(-1), P), P)) {
		t.Error("(ℓ-1)·P + P ≠ 0")
	}
}

func TestConstructorsReturnCopies(t *testing.T) {
	g := Generator()
	g.Add(g, g)
	id := Identity()
	id.Add(id, g)
	if !Equal(Generator(), ristretto255.NewGeneratorElement()) || !Equal(generator, ristretto255.NewGeneratorElement()) {
		t.Error("modifying Generator() changed the generator")
	}
	if !IsIdentity(Identity()) || !IsIdentity(identity) {
		t.Error("modifying Identity() changed the identity")
	}
	if NewScalar().Equal(ristretto255.NewScalar()) != 1 {
		t.Error("NewScalar is not zero")
	}
}
