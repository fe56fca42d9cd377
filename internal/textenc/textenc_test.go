package textenc

import (
	"bytes"
	"crypto/sha3"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/group"
)

func blocks(seed string, n int) [][]byte {
	h := sha3.NewSHAKE256()
	h.Write([]byte(seed))
	out := make([][]byte, n)
	for i := range out {
		out[i] = make([]byte, BlockSize)
		h.Read(out[i])
	}
	return out
}

func TestEmbedExtractRoundTrip(t *testing.T) {
	special := [][]byte{make([]byte, BlockSize), bytes.Repeat([]byte{0xff}, BlockSize), bytes.Repeat([]byte{0x80}, BlockSize)}
	for i, d := range append(special, blocks("textenc/roundtrip", 500)...) {
		e, err := Embed(d)
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		got, err := Extract(e)
		if err != nil {
			t.Fatalf("block %d: Extract: %v", i, err)
		}
		if !bytes.Equal(got, d) {
			t.Fatalf("block %d: Extract(Embed(d)) = %x, want %x", i, got, d)
		}
		// The element's canonical encoding is the embedding's b itself.
		enc := e.Bytes()
		if !bytes.Equal(enc[1:31], d) || enc[0]&1 != 0 || enc[31] >= 64 {
			t.Fatalf("block %d: encoding %x does not carry the block", i, enc)
		}
	}
}

func TestEmbedZeroBlockIsIdentity(t *testing.T) {
	e, err := Embed(make([]byte, BlockSize))
	if err != nil {
		t.Fatal(err)
	}
	if !group.IsIdentity(e) {
		t.Fatalf("Embed(0^30) = %x, want the identity (counter 0)", e.Bytes())
	}
}

func TestEmbedInjective(t *testing.T) {
	seen := map[string]int{}
	for i, d := range blocks("textenc/injective", 300) {
		e, err := Embed(d)
		if err != nil {
			t.Fatal(err)
		}
		k := string(e.Bytes())
		if j, ok := seen[k]; ok {
			t.Fatalf("blocks %d and %d embed to the same element", j, i)
		}
		seen[k] = i
	}
}

func TestExtractRejectsHighCounter(t *testing.T) {
	// A hashed element has b[31] ≥ 64 about half the time.
	found := 0
	for i := range 64 {
		e := group.NewElement().FromUniformBytes(bytes.Repeat([]byte{byte(i)}, 64))
		if e.Bytes()[31] < 64 {
			continue
		}
		found++
		if _, err := Extract(e); !errors.Is(err, ErrNotEmbedded) {
			t.Fatalf("Extract(%x) = %v, want ErrNotEmbedded", e.Bytes(), err)
		}
	}
	if found == 0 {
		t.Fatal("no test element with b[31] ≥ 64")
	}
}

// TestExtractRejectsNonMinimalCounter finds a block for which two counters
// decode and checks that only the smaller is accepted.
func TestExtractRejectsNonMinimalCounter(t *testing.T) {
	for _, d := range blocks("textenc/nonminimal", 20) {
		e, err := Embed(d)
		if err != nil {
			t.Fatal(err)
		}
		var b [32]byte
		copy(b[:], e.Bytes())
		k0 := int(b[0]>>1) + 128*int(b[31])
		for k := k0 + 1; k < MaxCounter; k++ {
			setCounter(&b, k)
			other, err := group.DecodeElement(b[:])
			if err != nil {
				continue
			}
			if _, err := Extract(other); !errors.Is(err, ErrNotEmbedded) {
				t.Fatalf("counter %d (smallest %d) accepted: %v", k, k0, err)
			}
			return
		}
	}
	t.Fatal("no block with a second decoding counter")
}

func TestEmbedPanicsOnWrongLength(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Embed of 29 bytes did not panic")
		}
	}()
	Embed(make([]byte, 29))
}

func TestWidth(t *testing.T) {
	for _, c := range []struct{ chars, want int }{{1, 1}, {7, 1}, {8, 2}, {200, 27}, {MaxChars, 2185}} {
		got, err := Width(c.chars)
		if err != nil || got != c.want {
			t.Errorf("Width(%d) = %d, %v; want %d", c.chars, got, err, c.want)
		}
	}
	for _, bad := range []int{0, -1, MaxChars + 1} {
		if _, err := Width(bad); !errors.Is(err, ErrText) {
			t.Errorf("Width(%d) = %v, want ErrText", bad, err)
		}
	}
}

func TestTextRoundTrip(t *testing.T) {
	for _, c := range []struct {
		s     string
		chars int
	}{
		{"", 1},
		{"", 200},
		{"a", 1},
		{"\U0001F5F3", 1}, // four bytes, one character
		{"その他、ご意見をご自由にお書きください", 200},
		{strings.Repeat("語", 200), 200},
		{strings.Repeat("\U0001F600", 50), 50},
		{"nul\x00inside", 20},
	} {
		elems, err := EncodeText(c.s, c.chars)
		if err != nil {
			t.Fatalf("EncodeText(%q, %d): %v", c.s, c.chars, err)
		}
		w, _ := Width(c.chars)
		if len(elems) != w {
			t.Fatalf("EncodeText(%q, %d): %d elements, want %d", c.s, c.chars, len(elems), w)
		}
		got, err := DecodeText(elems, c.chars)
		if err != nil || got != c.s {
			t.Fatalf("DecodeText(EncodeText(%q, %d)) = %q, %v", c.s, c.chars, got, err)
		}
	}
}

func TestEncodeTextRejects(t *testing.T) {
	for _, c := range []struct {
		name  string
		s     string
		chars int
	}{
		{"too long", "ab", 1},
		{"too long, multibyte", "語語語", 2},
		{"invalid UTF-8", "a\xffb", 5},
		{"surrogate", "\xed\xa0\x80", 5},
		{"overlong", "\xc0\xaf", 5},
		{"zero maximum", "", 0},
		{"maximum too large", "", MaxChars + 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := EncodeText(c.s, c.chars); !errors.Is(err, ErrText) {
				t.Fatalf("EncodeText(%q, %d) = %v, want ErrText", c.s, c.chars, err)
			}
		})
	}
}

// embedPayload embeds an arbitrary payload, bypassing EncodeText's checks.
func embedPayload(t *testing.T, payload []byte) []*group.Element {
	t.Helper()
	var out []*group.Element
	for i := 0; i < len(payload); i += BlockSize {
		e, err := Embed(payload[i : i+BlockSize])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func payloadOf(n int, text []byte, blocks int) []byte {
	p := make([]byte, blocks*BlockSize)
	binary.BigEndian.PutUint16(p, uint16(n))
	copy(p[2:], text)
	return p
}

func TestDecodeTextRejects(t *testing.T) {
	const chars = 8 // width 2: 60 bytes of payload
	good := payloadOf(3, []byte("abc"), 2)
	padded := append([]byte(nil), good...)
	padded[59] = 1
	highElem := group.NewElement().FromUniformBytes(bytes.Repeat([]byte{7}, 64))
	for highElem.Bytes()[31] < 64 {
		highElem.Add(highElem, group.Generator())
	}
	for _, c := range []struct {
		name  string
		elems []*group.Element
		chars int
	}{
		{"non-zero padding", embedPayload(t, padded), chars},
		{"length beyond 4·L", embedPayload(t, payloadOf(33, nil, 2)), chars},
		{"length beyond payload", embedPayload(t, payloadOf(0xffff, nil, 2)), chars},
		{"invalid UTF-8", embedPayload(t, payloadOf(2, []byte{0xc3, 0x28}, 2)), chars},
		{"surrogate", embedPayload(t, payloadOf(3, []byte{0xed, 0xa0, 0x80}, 2)), chars},
		{"too many characters", embedPayload(t, payloadOf(9, []byte("123456789"), 2)), chars},
		{"too few elements", embedPayload(t, good[:30]), chars},
		{"too many elements", embedPayload(t, append(good, make([]byte, 30)...)), chars},
		{"not an embedded element", append(embedPayload(t, good[:30]), highElem), chars},
		{"bad maximum", embedPayload(t, good), 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if s, err := DecodeText(c.elems, c.chars); !errors.Is(err, ErrText) {
				t.Fatalf("DecodeText = %q, %v; want ErrText", s, err)
			}
		})
	}
	// The good payload itself decodes, so each case above fails for its own reason.
	if s, err := DecodeText(embedPayload(t, good), chars); err != nil || s != "abc" {
		t.Fatalf("DecodeText(good) = %q, %v", s, err)
	}
}
