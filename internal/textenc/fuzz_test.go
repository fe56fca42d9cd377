package textenc

import (
	"bytes"
	"testing"

	"github.com/koe-vote/koe/internal/group"
)

// FuzzTextRoundTrip checks DecodeText(EncodeText(s, L)) = s for every valid s.
func FuzzTextRoundTrip(f *testing.F) {
	f.Add("", uint16(1))
	f.Add("その他", uint16(3))
	f.Add("a\xffb", uint16(10))
	f.Fuzz(func(t *testing.T, s string, l uint16) {
		chars := int(l%64) + 1
		elems, err := EncodeText(s, chars)
		if err != nil {
			return
		}
		got, err := DecodeText(elems, chars)
		if err != nil || got != s {
			t.Fatalf("DecodeText(EncodeText(%q, %d)) = %q, %v", s, chars, got, err)
		}
	})
}

// FuzzExtract decodes arbitrary bytes as elements and extracts blocks: it
// must never panic, and whatever it accepts must embed back to the element.
func FuzzExtract(f *testing.F) {
	f.Add(make([]byte, 32))
	f.Add(group.Generator().Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := group.DecodeElement(b)
		if err != nil {
			return
		}
		d, err := Extract(e)
		if err != nil {
			return
		}
		back, err := Embed(d)
		if err != nil || !bytes.Equal(back.Bytes(), b) {
			t.Fatalf("Embed(Extract(%x)) = %v, %v", b, back, err)
		}
	})
}

// FuzzDecodeText decodes arbitrary element sequences as text: no panics, and
// an accepted text re-encodes to the same elements.
func FuzzDecodeText(f *testing.F) {
	f.Add(make([]byte, 64), uint8(8))
	f.Fuzz(func(t *testing.T, b []byte, l uint8) {
		chars := int(l%32) + 1
		var elems []*group.Element
		for len(b) >= 32 {
			e, err := group.DecodeElement(b[:32])
			if err != nil {
				return
			}
			elems = append(elems, e)
			b = b[32:]
		}
		s, err := DecodeText(elems, chars)
		if err != nil {
			return
		}
		again, err := EncodeText(s, chars)
		if err != nil {
			t.Fatalf("EncodeText(DecodeText) failed: %v", err)
		}
		for i := range again {
			if !group.Equal(again[i], elems[i]) {
				t.Fatalf("element %d differs after re-encoding", i)
			}
		}
	})
}
