package tally

import (
	"bytes"
	"crypto/rand"
	"errors"
	"slices"
	"testing"

	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/shuffle"
	"github.com/koe-vote/koe/internal/textenc"
)

// mixFixture: a 2-of-3 key (shares f(1), f(2), f(3) of f(z) = a + b·z), a
// list of encrypted comments, and its mix.
type mixFixture struct {
	ctx      []byte
	shares   map[int]*group.Scalar
	comments []string
	mixed    *shuffle.List
}

const commentChars = 40

func newMixFixture(t testing.TB) *mixFixture {
	t.Helper()
	a, _ := group.RandomScalar(rand.Reader)
	b, _ := group.RandomScalar(rand.Reader)
	f := &mixFixture{ctx: bytes.Repeat([]byte{7}, 32), shares: map[int]*group.Scalar{}}
	for j := 1; j <= 3; j++ {
		s := group.NewScalar().Multiply(b, group.ScalarFromUint64(uint64(j)))
		f.shares[j] = s.Add(s, a)
	}
	K := group.BaseMul(a)
	f.comments = []string{"駅前の駐輪場を増やしてください。", "", "公民館の夜間開館を続けてほしい", "Wi-Fi を図書館にも", "駅前の駐輪場を増やしてください。"}
	var in []shuffle.Vector
	for _, c := range f.comments {
		ms, err := textenc.EncodeText(c, commentChars)
		if err != nil {
			t.Fatal(err)
		}
		v, err := shuffle.Encrypt(rand.Reader, K, ms)
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, v)
	}
	l, err := shuffle.NewList(in)
	if err != nil {
		t.Fatal(err)
	}
	if f.mixed, _, err = shuffle.ShuffleList(rand.Reader, f.ctx, K, l); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestDecryptMixedList(t *testing.T) {
	f := newMixFixture(t)
	partials := map[int][]*group.Element{}
	for _, j := range []int{1, 3} {
		share, err := DecryptList(rand.Reader, f.ctx, f.mixed, j, f.shares[j])
		if err != nil {
			t.Fatal(err)
		}
		got, Ds, err := CheckListShare(f.ctx, f.mixed, share, group.BaseMul(f.shares[j]))
		if err != nil || got != j {
			t.Fatalf("trustee %d: %d, %v", j, got, err)
		}
		partials[j] = Ds
	}
	ms, err := CombineList(f.mixed, partials, 2)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range ms {
		s, err := textenc.DecodeText(m, commentChars)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, s)
	}
	want := slices.Clone(f.comments)
	slices.Sort(want)
	slices.Sort(texts)
	if !slices.Equal(texts, want) {
		t.Fatalf("decrypted %q, want %q as a multiset", texts, want)
	}
	delete(partials, 3)
	if _, err := CombineList(f.mixed, partials, 2); err == nil {
		t.Fatal("one trustee's share combined under a threshold of 2")
	}
}

func TestCheckListShareRejects(t *testing.T) {
	f := newMixFixture(t)
	Y := group.BaseMul(f.shares[2])
	share, err := DecryptList(rand.Reader, f.ctx, f.mixed, 2, f.shares[2])
	if err != nil {
		t.Fatal(err)
	}
	// A wrong partial decryption: D + G at component 7, with its old proof.
	wrongD := slices.Clone(share)
	off := 36 + 6*128
	D, err := group.DecodeElement(wrongD[off : off+32])
	if err != nil {
		t.Fatal(err)
	}
	copy(wrongD[off:off+32], group.NewElement().Add(D, group.Generator()).Bytes())
	// The share of another trustee index (proof contexts differ).
	otherIndex := slices.Clone(share)
	otherIndex[3] = 1
	// A share made with another key share.
	otherKey, err := DecryptList(rand.Reader, f.ctx, f.mixed, 2, f.shares[1])
	if err != nil {
		t.Fatal(err)
	}
	other := newMixFixture(t)
	otherList, err := DecryptList(rand.Reader, f.ctx, other.mixed, 2, f.shares[2])
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string][]byte{
		"wrong D":         wrongD,
		"other trustee":   otherIndex,
		"other key share": otherKey,
		"other list":      otherList,
		"truncated":       share[:len(share)-1],
		"trustee 0":       append([]byte{0, 0, 0, 0}, share[4:]...),
		"non-canonical D": append(append(slices.Clone(share[:36]), bytes.Repeat([]byte{0xff}, 32)...), share[68:]...),
	} {
		if _, _, err := CheckListShare(f.ctx, f.mixed, s, Y); !errors.Is(err, ErrShare) {
			t.Errorf("%s: %v, want ErrShare", name, err)
		}
	}
	if _, _, err := CheckListShare(bytes.Repeat([]byte{8}, 32), f.mixed, share, Y); !errors.Is(err, ErrShare) {
		t.Errorf("other election context: %v", err)
	}
}

// FuzzCheckListShare checks arbitrary bytes as a share of a small list: no
// panics, and nothing but the honest share's bytes is accepted.
func FuzzCheckListShare(f *testing.F) {
	fx := newMixFixture(f)
	share, err := DecryptList(rand.Reader, fx.ctx, fx.mixed, 1, fx.shares[1])
	if err != nil {
		f.Fatal(err)
	}
	Y := group.BaseMul(fx.shares[1])
	f.Add(share)
	f.Add(share[:100])
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, _, err := CheckListShare(fx.ctx, fx.mixed, b, Y); err == nil && !bytes.Equal(b, share) {
			t.Fatal("a share other than the honest one was accepted")
		}
	})
}
