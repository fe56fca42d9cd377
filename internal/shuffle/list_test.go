package shuffle

import (
	"bytes"
	"errors"
	"testing"

	"github.com/koe-vote/koe/internal/group"
)

// TestVerifyListAgrees checks that the encoded-input verifier accepts what
// Verify accepts and rejects the same tampering, including a change the
// decoded proof would hide if stale encodings were hashed.
func TestVerifyListAgrees(t *testing.T) {
	f := newFixture(t, 12, 3)
	inL, err := NewList(f.in)
	if err != nil {
		t.Fatal(err)
	}
	outL, err := NewList(f.out)
	if err != nil {
		t.Fatal(err)
	}
	raw := f.p.Bytes()
	if err := VerifyList(testCtx, f.K, inL, outL, raw); err != nil {
		t.Fatalf("honest mix rejected: %v", err)
	}
	// Round trip through bytes.
	in2, err := DecodeList(inL.Bytes(), 12, 3)
	if err != nil {
		t.Fatal(err)
	}
	out2, err := DecodeList(outL.Bytes(), 12, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyList(testCtx, f.K, in2, out2, raw); err != nil {
		t.Fatalf("decoded honest mix rejected: %v", err)
	}

	// Two outputs swapped after the proof, a vector dropped, one duplicated.
	swapped := clone(f.out)
	swapped[2], swapped[9] = swapped[9], swapped[2]
	dup := clone(f.out)
	dup[4] = dup[7]
	for name, out := range map[string][]Vector{"swapped": swapped, "duplicated": dup} {
		l, err := NewList(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyList(testCtx, f.K, inL, l, raw); !errors.Is(err, ErrInvalidProof) {
			t.Fatalf("%s: %v, want ErrInvalidProof", name, err)
		}
	}
	dropped, err := NewList(clone(f.out)[1:])
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyList(testCtx, f.K, inL, dropped, raw); err == nil {
		t.Fatal("a mix that drops a vector verified")
	}
	// Every byte of the proof's hashed sections matters: flip a commitment,
	// a chain element and a t̂ (each to another valid element).
	for _, off := range []int{8, 8 + 32*12, 8 + 32*(2*12+3+2*3)} {
		bad := append([]byte(nil), raw...)
		e, err := group.DecodeElement(bad[off : off+32])
		if err != nil {
			t.Fatal(err)
		}
		copy(bad[off:off+32], group.NewElement().Add(e, group.Generator()).Bytes())
		if err := VerifyList(testCtx, f.K, inL, outL, bad); !errors.Is(err, ErrInvalidProof) {
			t.Fatalf("proof element at %d altered: %v, want ErrInvalidProof", off, err)
		}
	}
	if err := VerifyList(testCtx, f.K, inL, outL, raw[:len(raw)-1]); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("truncated proof: %v", err)
	}
}

func TestDecodeListRejects(t *testing.T) {
	f := newFixture(t, 3, 2)
	l, err := NewList(f.in)
	if err != nil {
		t.Fatal(err)
	}
	good := l.Bytes()
	nonCanonical := append([]byte(nil), good...)
	copy(nonCanonical[64:96], bytes.Repeat([]byte{0xff}, 32))
	for _, c := range []struct {
		name string
		raw  []byte
		n, w int
	}{
		{"short", good[:len(good)-1], 3, 2},
		{"long", append(append([]byte(nil), good...), 0), 3, 2},
		{"wrong shape", good, 2, 2},
		{"zero vectors", nil, 0, 2},
		{"zero width", nil, 3, 0},
		{"width too large", good, 1, MaxWidth + 1},
		{"non-canonical element", nonCanonical, 3, 2},
	} {
		if _, err := DecodeList(c.raw, c.n, c.w); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	if _, err := NewList([]Vector{f.in[0], f.in[1][:1]}); err == nil {
		t.Error("ragged list accepted")
	}
}
