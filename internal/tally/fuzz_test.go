package tally

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/koe-vote/koe/internal/strictjson"
	"testing"
)

func FuzzParseShare(f *testing.F) {
	f.Add([]byte(`{"trustee":1,"tally":"00","partials":[{"d":"00","proof":"00"}]}`))
	f.Add([]byte(`{"trustee":1,"tally":"","partials":[]}}`))
	f.Add([]byte(`{"Trustee":1}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseShare(data)
		if err != nil {
			if s != nil {
				t.Fatal("share returned with an error")
			}
			return
		}
		// What decodes re-encodes to something that decodes the same.
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := ParseShare(again)
		if err != nil {
			if errors.Is(err, strictjson.ErrNull) {
				return // encoding/json writes a missing list as null, which no decoder takes
			}
			t.Fatalf("re-encoded share %s does not parse: %v", again, err)
		}
		if again2, _ := json.Marshal(s2); !bytes.Equal(again, again2) {
			t.Fatalf("round trip changed %s to %s", again, again2)
		}
	})
}

func FuzzParseResults(f *testing.F) {
	f.Add([]byte(`{"election":"x","ballots":3,"questions":[{"id":"q","kind":"single","options":[{"id":"a","count":2}]}]}`))
	f.Add([]byte(`{"election":"x","ballots":3,"questions":[{"id":"r","kind":"rating","values":[{"value":3,"count":1},{"value":4,"count":0},{"value":5,"count":2}],"total":13}]}`))
	f.Add([]byte(`{"election":"x","ballots":3,"questions":[{"id":"r","kind":"rating","values":[{"value":-1,"count":1}],"total":12}]}`))
	f.Add([]byte(`{"election":"x","ballots":3,"questions":[{"id":"r","kind":"rating","values":[{"value":1}],"total":1}]}`))
	f.Add([]byte(`{"election":"x","ballots":1,"questions":[]} {}`))
	f.Add([]byte(`{"election":"x","ballots":-1}`))
	f.Add([]byte(`{"election":"0","ballots":0,"questions":[{"id":"0","kind":"000000","options":[]}]}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseResults(data)
		if err != nil {
			if r != nil {
				t.Fatal("results returned with an error")
			}
			return
		}
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := ParseResults(again)
		if err != nil {
			if errors.Is(err, strictjson.ErrNull) {
				return // encoding/json writes a missing list as null, which no decoder takes
			}
			t.Fatalf("re-encoded results %s do not parse: %v", again, err)
		}
		// Compare encodings: an empty list and a missing one (omitempty)
		// are the same results.
		if again2, _ := json.Marshal(r2); !bytes.Equal(again, again2) {
			t.Fatalf("round trip changed %s to %s", again, again2)
		}
	})
}
