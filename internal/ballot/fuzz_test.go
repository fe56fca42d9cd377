package ballot

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"github.com/koe-vote/koe/internal/strictjson"
	"os"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/koe-vote/koe/internal/group"
)

func FuzzParseManifest(f *testing.F) {
	for _, name := range []string{"referendum", "survey", "budget", "city-survey"} {
		data, err := os.ReadFile("../../examples/" + name + ".json")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"spec":"koe/v2","id":"x","kind":"vote","title":{"ja":"t"},"trustees":1,"threshold":1,"questions":[{"id":"q","kind":"rating","label":{"ja":"q"},"min":0,"max":1}]}`))
	f.Add([]byte(`{"spec":"koe/v2","id":"x","kind":"survey","title":{"ja":"t"},"trustees":1,"threshold":1,"privacyThreshold":3,"questions":[{"id":"q","kind":"rating","label":{"ja":"q"},"min":0,"max":1}]}`))
	f.Add([]byte(`{"spec":"koe/v2"}}`))
	f.Add([]byte(`{"spec":"koe/v2","id":"x","kind":"vote","title":{"ja":"t"},"trustees":1,"threshold":1,"questions":[{"id":"q","kind":"rating","label":{"ja":"q"},"min":0,"max":1,"options":[]}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			if m != nil {
				t.Fatal("manifest returned with an error")
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("parsed manifest does not validate: %v", err)
		}
		st := StyleOf(m)
		if st.Selections() < 1 || st.Selections() > MaxSelections || st.Size() <= HeaderSize {
			t.Fatalf("style: %d selections, %d bytes", st.Selections(), st.Size())
		}
		// A valid manifest re-encodes to a valid manifest with the same content.
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := ParseManifest(again)
		if err != nil {
			t.Fatalf("re-encoded manifest %s does not parse: %v", again, err)
		}
		// Compare encodings: an empty list and a missing one (omitempty)
		// are the same manifest.
		if again2, _ := json.Marshal(m2); !bytes.Equal(again, again2) {
			t.Fatalf("round trip changed %s to %s", again, again2)
		}
	})
}

func FuzzDecode(f *testing.F) {
	data, err := os.ReadFile("../../examples/referendum.json")
	if err != nil {
		f.Fatal(err)
	}
	x, _ := group.RandomScalar(rand.Reader)
	e, err := NewElection(data, group.BaseMul(x), NoRegistrar)
	if err != nil {
		f.Fatal(err)
	}
	for _, choice := range []string{"yes", "no"} {
		pt, _ := e.Manifest.Plaintext(Answers{"plan": choice})
		b, _, err := Encrypt(rand.Reader, e, [32]byte{1}, pt)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
		bad := bytes.Clone(b.Bytes())
		bad[len(bad)-1] ^= 0x80
		f.Add(bad)
	}
	f.Add([]byte(Magic))
	f.Add(make([]byte, e.Style.Size()))
	f.Fuzz(func(t *testing.T, raw []byte) {
		in := bytes.Clone(raw)
		b, err := Decode(e, raw)
		if err != nil {
			if b != nil {
				t.Fatal("ballot returned with an error")
			}
			return
		}
		if !bytes.Equal(b.encode(), in) || !bytes.Equal(b.Bytes(), in) {
			t.Fatal("decoded ballot does not re-encode to its input")
		}
		if b.TrackingCode() != TrackingCode(in) {
			t.Fatal("tracking code differs")
		}
		// Verification of arbitrary input must not panic and must agree
		// with the batch.
		err = b.Verify(e)
		batch := group.NewBatch()
		ok := b.AddTo(batch, e) == nil && batch.Verify()
		if (err == nil) != ok {
			t.Fatalf("Verify: %v, batch ok=%v", err, ok)
		}
		if _, err := DecodeCiphertexts(e, raw); err != nil {
			t.Fatalf("Decode accepts but DecodeCiphertexts rejects: %v", err)
		}
	})
}

func FuzzParseSpoiled(f *testing.F) {
	data, err := os.ReadFile("../../examples/referendum.json")
	if err != nil {
		f.Fatal(err)
	}
	x, _ := group.RandomScalar(rand.Reader)
	e, err := NewElection(data, group.BaseMul(x), NoRegistrar)
	if err != nil {
		f.Fatal(err)
	}
	pt := Plaintext{{0, 1}}
	b, nonces, err := Encrypt(rand.Reader, e, [32]byte{}, pt)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := json.Marshal(Spoil(b, pt, nonces))
	f.Add(good)
	f.Add(append(bytes.Clone(good), '}'))
	f.Add([]byte(`{"ballot":"a29lMQ==","values":[[1,0]],"nonces":[["00"]]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSpoiled(data)
		if err != nil {
			if s != nil {
				t.Fatal("spoiled ballot returned with an error")
			}
			return
		}
		// Checking arbitrary input must not panic.
		_, _ = s.Check(e)
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := ParseSpoiled(again)
		if err != nil {
			if errors.Is(err, strictjson.ErrNull) {
				return // encoding/json writes a missing list as null, which no decoder takes
			}
			t.Fatalf("re-encoded %s does not parse: %v", again, err)
		}
		if again2, _ := json.Marshal(s2); !bytes.Equal(again, again2) {
			t.Fatalf("round trip changed %s to %s", again, again2)
		}
	})
}

func FuzzParseAnswers(f *testing.F) {
	data, err := os.ReadFile("../../examples/survey.json")
	if err != nil {
		f.Fatal(err)
	}
	m, err := ParseManifest(data)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"age":"30s","fields":["health","digital"],"science-city":4,"internet-voting":"rather-for"}`))
	f.Add([]byte(`{"age":"30s","fields":"health","science-city":4.5,"internet-voting":null}`))
	f.Add([]byte(`{"science-city":1e300}`))
	f.Add([]byte(`{"age":"30s"}}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAnswers(data)
		if err != nil {
			return
		}
		// What ParseAnswers accepts is strict JSON (SPEC §8.1, §2.3).
		if !utf8.Valid(data) || bytes.Contains(data, []byte("null")) && !bytes.Contains(data, []byte(`"`)) {
			t.Fatalf("accepted %q", data)
		}
		for id, v := range a {
			if v == nil {
				t.Fatalf("question %q: a nil answer accepted", id)
			}
			if integersOnly(v) != nil {
				t.Fatalf("question %q: a non-integer number accepted", id)
			}
		}
		pt, err := m.Plaintext(a)
		if err != nil {
			return
		}
		// Whatever Plaintext accepts is a valid plaintext that maps back
		// to answers giving the same plaintext.
		st := StyleOf(m)
		if len(pt) != len(st.Questions) {
			t.Fatalf("%d questions", len(pt))
		}
		for qi, qs := range st.Questions {
			var total uint64
			for _, v := range pt[qi] {
				if v > qs.Max {
					t.Fatalf("question %d: value %d above %d", qi, v, qs.Max)
				}
				total += v
			}
			if len(pt[qi]) != qs.Selections || (qs.HasTotal && (total < qs.TotalLo || total > qs.TotalHi)) {
				t.Fatalf("question %d: %v does not fit the style %+v", qi, pt[qi], qs)
			}
		}
		pt2, err := m.Plaintext(m.Answers(pt))
		if err != nil || !reflect.DeepEqual(pt, pt2) {
			t.Fatalf("Answers/Plaintext round trip: %v, %v != %v", err, pt2, pt)
		}
	})
}
