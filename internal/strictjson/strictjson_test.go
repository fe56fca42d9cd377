package strictjson

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

type inner struct {
	Ja string `json:"ja"`
	En string `json:"en,omitempty"`
}

type outer struct {
	ID    string  `json:"id"`
	Count int     `json:"count"`
	Label inner   `json:"label"`
	Items []inner `json:"items"`
	Skip  string  `json:"-"`
}

func TestDecode(t *testing.T) {
	var v outer
	if err := Decode([]byte(`{"id":"a","count":2,"label":{"ja":"声"},"items":[{"ja":"x","en":"y"}]}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.ID != "a" || v.Count != 2 || v.Label.Ja != "声" || v.Items[0].En != "y" {
		t.Fatalf("decoded %+v", v)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"unknown field", `{"id":"a","extra":1}`, `unknown field "extra"`},
		{"unknown nested field", `{"label":{"ja":"x","fr":"y"}}`, `unknown field "fr"`},
		{"key in the wrong case", `{"ID":"a"}`, `unknown field "ID"`},
		{"duplicate key", `{"id":"a","id":"b"}`, `duplicate field "id"`},
		{"trailing data", `{"id":"a"} {}`, "trailing data"},
		{"trailing garbage", `{"id":"a"}x`, "trailing data"},
		{"field excluded by a dash", `{"Skip":"a"}`, `unknown field "Skip"`},
		{"too deep", strings.Repeat("[", 40) + strings.Repeat("]", 40), "nested too deeply"},
		{"wrong type", `{"count":"2"}`, "cannot unmarshal"},
		{"empty", ``, "EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v outer
			err := Decode([]byte(tc.in), &v)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Decode(%s) = %v, want an error containing %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestRawMessagesAndMaps(t *testing.T) {
	var v struct {
		Raw json.RawMessage  `json:"raw"`
		M   map[string]inner `json:"m"`
	}
	if err := Decode([]byte(`{"raw":{"anything":[1,{"goes":true}]},"m":{"x":{"ja":"声"}}}`), &v); err != nil {
		t.Fatal(err)
	}
	if string(v.Raw) != `{"anything":[1,{"goes":true}]}` || v.M["x"].Ja != "声" {
		t.Fatalf("decoded %+v", v)
	}
	for _, in := range []string{`{"m":{"x":{"JA":"a"}}}`, `{"m":{"x":{"ja":"a","fr":"b"}}}`, `{"m":{"x":{},"x":{}}}`, `{"Raw":{}}`} {
		if err := Decode([]byte(in), &v); err == nil {
			t.Errorf("Decode(%s) accepted", in)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"id":"a","count":2,"label":{"ja":"声"},"items":[{"ja":"x"}]}`))
	f.Add([]byte(`{"id":"a","id":"a"}`))
	f.Add([]byte(`[[[]]]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v outer
		if Decode(data, &v) != nil {
			return
		}
		// What decodes strictly re-encodes to JSON that decodes to the same value.
		out, err := json.Marshal(&v)
		if err != nil {
			t.Fatal(err)
		}
		var w outer
		if err := Decode(out, &w); err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", out, err)
		}
		if !reflect.DeepEqual(v, w) && !(len(v.Items) == 0 && len(w.Items) == 0) {
			t.Fatalf("round trip changed %+v into %+v", v, w)
		}
	})
}
