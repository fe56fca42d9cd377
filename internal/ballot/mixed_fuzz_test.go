package ballot

import (
	"bytes"
	"crypto/rand"
	"reflect"
	"testing"

	"github.com/koe-vote/koe/internal/group"
)

// FuzzDecodeCitySurvey decodes arbitrary bytes as a ballot of a manifest
// with text and rank questions: no panic, exact re-encoding, Verify and
// the batch agree.
func FuzzDecodeCitySurvey(f *testing.F) {
	e, _ := testElection(f, "city-survey")
	pt, err := e.Manifest.Plaintext(cityAnswers)
	if err != nil {
		f.Fatal(err)
	}
	b, _, err := Encrypt(rand.Reader, e, [32]byte{3}, pt)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	bad := bytes.Clone(b.Bytes())
	bad[len(bad)-1] ^= 0x80 // the last component's Schnorr s
	f.Add(bad)
	bad = bytes.Clone(b.Bytes())
	bad[len(bad)-100] ^= 1 // the last component's ciphertext
	f.Add(bad)
	f.Add(make([]byte, e.Style.Size()))
	f.Fuzz(func(t *testing.T, raw []byte) {
		in := bytes.Clone(raw)
		b, err := Decode(e, raw)
		if err != nil {
			return
		}
		if !bytes.Equal(b.encode(), in) {
			t.Fatal("decoded ballot does not re-encode to its input")
		}
		err = b.Verify(e)
		batch := group.NewBatch()
		ok := b.AddTo(batch, e) == nil && batch.Verify()
		if (err == nil) != ok {
			t.Fatalf("Verify: %v, batch ok=%v", err, ok)
		}
		for _, qi := range e.Manifest.Mixed() {
			if len(b.MixVector(qi)) != e.Style.Questions[qi].Selections {
				t.Fatal("MixVector has the wrong width")
			}
		}
		if cts, err := DecodeCiphertexts(e, raw); err != nil || len(cts) != e.Style.Selections() {
			t.Fatalf("DecodeCiphertexts: %d, %v", len(cts), err)
		}
	})
}

// FuzzDecodeMixed decodes arbitrary decrypted vectors (32-byte elements)
// of the city survey's rank and text questions: no panic, and an accepted
// answer encodes back to the same elements.
func FuzzDecodeMixed(f *testing.F) {
	e, _ := testElection(f, "city-survey")
	pt, err := e.Manifest.Plaintext(cityAnswers)
	if err != nil {
		f.Fatal(err)
	}
	for _, qi := range e.Manifest.Mixed() {
		ms, err := e.componentElements(qi, pt[qi])
		if err != nil {
			f.Fatal(err)
		}
		var raw []byte
		for _, m := range ms {
			raw = m.Encode(raw)
		}
		f.Add(uint8(qi), raw)
		f.Add(uint8(qi), raw[:len(raw)-32])
	}
	f.Fuzz(func(t *testing.T, q uint8, raw []byte) {
		qi := 2 + int(q%2)
		if len(raw)%32 != 0 {
			return
		}
		var elems []*group.Element
		for i := 0; i < len(raw); i += 32 {
			el, err := group.DecodeElement(raw[i : i+32])
			if err != nil {
				return
			}
			elems = append(elems, el)
		}
		ans, err := e.Manifest.DecodeMixed(qi, elems)
		if err != nil {
			return
		}
		a := Answers{"science-city": 3.0, "priorities": []any{"shelters"}}
		switch v := ans.(type) {
		case string:
			a["opinion"] = v
		case []string:
			list := []any{}
			for _, id := range v {
				list = append(list, id)
			}
			a["priorities"] = list
		}
		pt, err := e.Manifest.Plaintext(a)
		if err != nil {
			t.Fatalf("decoded answer %v is refused: %v", ans, err)
		}
		ms, err := e.componentElements(qi, pt[qi])
		if err != nil {
			t.Fatal(err)
		}
		var back []byte
		for _, m := range ms {
			back = m.Encode(back)
		}
		if !bytes.Equal(back, raw) {
			t.Fatalf("answer %v does not encode back to its elements", ans)
		}
	})
}

// FuzzParseAnswersCitySurvey: whatever answers to text and rank questions
// Plaintext accepts round-trip through Answers.
func FuzzParseAnswersCitySurvey(f *testing.F) {
	e, _ := testElection(f, "city-survey")
	f.Add([]byte(`{"science-city":4,"priorities":["shelters","bus-stops"],"opinion":"ご意見"}`))
	f.Add([]byte(`{"science-city":4,"priorities":["shelters","shelters"],"opinion":3}`))
	f.Add([]byte(`{"science-city":4,"priorities":"shelters","opinion":""}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAnswers(data)
		if err != nil {
			return
		}
		pt, err := e.Manifest.Plaintext(a)
		if err != nil {
			return
		}
		if err := e.checkPlaintext(pt); err != nil {
			t.Fatalf("Plaintext gave an invalid plaintext: %v", err)
		}
		pt2, err := e.Manifest.Plaintext(e.Manifest.Answers(pt))
		if err != nil || !reflect.DeepEqual(pt, pt2) {
			t.Fatalf("Answers/Plaintext round trip: %v", err)
		}
	})
}
