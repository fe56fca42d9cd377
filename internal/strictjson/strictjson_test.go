package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

type inner struct {
	Ja string `json:"ja"`
	En string `json:"en,omitempty"`
}

type outer struct {
	ID    string  `json:"id"`
	Count int     `json:"count"`
	Label inner   `json:"label"`
	Items []inner `json:"items,omitempty"`
	Data  []byte  `json:"data,omitempty"`
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
		{"trailing data", `{"id":"a","count":1,"label":{"ja":""}} {}`, "trailing data"},
		{"trailing garbage", `{"id":"a","count":1,"label":{"ja":""}}x`, "trailing data"},
		{"field excluded by a dash", `{"Skip":"a"}`, `unknown field "Skip"`},
		{"too deep", strings.Repeat("[", 40) + strings.Repeat("]", 40), "nested too deeply"},
		{"wrong type", `{"id":"a","count":"2","label":{"ja":""}}`, "cannot unmarshal"},
		{"missing field", `{"id":"a","label":{"ja":""}}`, `missing required field "count"`},
		{"missing nested field", `{"id":"a","count":1,"label":{"en":"x"}}`, `missing required field "ja"`},
		{"missing field in an array", `{"id":"a","count":1,"label":{"ja":""},"items":[{"en":"x"}]}`, `missing required field "ja"`},
		{"empty object", `{}`, `missing required field "id"`},
		{"empty", ``, "EOF"},
		{"null field", `{"id":null}`, "null is not allowed"},
		{"null object", `{"label":null}`, "null is not allowed"},
		{"null in an array", `{"items":[null]}`, "null is not allowed"},
		{"null document", `null`, "null is not allowed"},
		{"invalid UTF-8 in a string", "{\"id\":\"\xff\"}", "not valid UTF-8"},
		{"invalid UTF-8 outside strings", "{\"id\":\"a\"}\xc3", "not valid UTF-8"},
		{"overlong UTF-8", "{\"id\":\"\xc0\xaf\"}", "not valid UTF-8"},
		{"base64 with a newline", `{"data":"AAEC\nAw=="}`, "base64 is not canonical"},
		{"base64 with a CR", `{"data":"AAEC\rAw=="}`, "base64 is not canonical"},
		{"base64 with nonzero trailing bits", `{"data":"AAECAx=="}`, "base64 is not canonical"},
		{"base64 without padding", `{"data":"AAECAw"}`, "base64 is not canonical"},
		{"base64url", `{"data":"-_8="}`, "base64 is not canonical"},
		{"base64 with a space", `{"data":"AAEC Aw=="}`, "base64 is not canonical"},
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

func TestBase64(t *testing.T) {
	var v outer
	if err := Decode([]byte(`{"id":"","count":0,"label":{"ja":""},"data":"AAECAw=="}`), &v); err != nil || string(v.Data) != "\x00\x01\x02\x03" {
		t.Fatalf("canonical base64: %v, %q", err, v.Data)
	}
	if b, err := Base64("AAECAw=="); err != nil || len(b) != 4 {
		t.Fatalf("Base64 canonical: %v", err)
	}
	for _, s := range []string{"AAECAw", "AAECAx==", "AAEC\nAw==", "AAEC\r\nAw==", " AAECAw==", "AAECAw== ", "-_8=", "AAECAw==="} {
		if _, err := Base64(s); err != ErrBase64 {
			t.Errorf("Base64(%q) = %v, want ErrBase64", s, err)
		}
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
	for _, in := range []string{`{"raw":{},"m":{"x":{}}}`, `{"m":{}}`, `{"m":{"x":{"JA":"a"}}}`, `{"m":{"x":{"ja":"a","fr":"b"}}}`, `{"m":{"x":{},"x":{}}}`, `{"Raw":{}}`} {
		if err := Decode([]byte(in), &v); err == nil {
			t.Errorf("Decode(%s) accepted", in)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"id":"a","count":2,"label":{"ja":"声"},"items":[{"ja":"x"}]}`))
	f.Add([]byte(`{"id":"a","count":2,"label":{"ja":"声","en":"v"},"data":"AAECAw=="}`))
	f.Add([]byte(`{"id":"a","label":{"ja":"声"}}`))
	f.Add([]byte(`{"id":"a","id":"a"}`))
	f.Add([]byte(`[[[]]]`))
	f.Add([]byte(`{"data":"AAECAw==","id":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v outer
		if Decode(data, &v) != nil {
			return
		}
		if !utf8.Valid(data) || bytes.Contains(data, []byte("null")) && !bytes.Contains(data, []byte(`"`)) {
			t.Fatalf("accepted %q", data)
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

type embedded struct {
	Kind string `json:"kind"`
	Note string `json:"note,omitzero"`
}

type withEmbedded struct {
	embedded
	Value int                 `json:"value"`
	Opt   *int                `json:"opt,omitempty"`
	Byid  map[string]embedded `json:"byId,omitempty"`
}

// A field is required unless its tag says omitempty or omitzero (SPEC
// §2.3), in embedded structs, pointers, slices and maps too.
func TestRequiredFields(t *testing.T) {
	var v withEmbedded
	if err := Decode([]byte(`{"kind":"k","value":0}`), &v); err != nil {
		t.Fatalf("all required fields present: %v", err)
	}
	if err := Decode([]byte(`{"kind":"k","note":"n","value":1,"opt":2,"byId":{"a":{"kind":"x"}}}`), &v); err != nil || *v.Opt != 2 || v.Byid["a"].Kind != "x" {
		t.Fatalf("every field present: %v, %+v", err, v)
	}
	for _, tc := range []struct{ in, field string }{
		{`{"value":0}`, "kind"},
		{`{"kind":"k"}`, "value"},
		{`{"kind":"k","value":0,"byId":{"a":{"note":"x"}}}`, "kind"},
	} {
		err := Decode([]byte(tc.in), &v)
		if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), `"`+tc.field+`"`) {
			t.Errorf("Decode(%s) = %v, want ErrMissing naming %q", tc.in, err, tc.field)
		}
	}
	var p *withEmbedded
	if err := Decode([]byte(`{"kind":"k"}`), &p); !errors.Is(err, ErrMissing) {
		t.Errorf("through a pointer: %v, want ErrMissing", err)
	}
	var s []withEmbedded
	if err := Decode([]byte(`[{"kind":"k","value":1},{"value":1}]`), &s); !errors.Is(err, ErrMissing) {
		t.Errorf("in a slice: %v, want ErrMissing", err)
	}
}

type selfDecoding struct{ got string }

func (s *selfDecoding) UnmarshalJSON(data []byte) error { s.got = string(data); return nil }

// A type with its own UnmarshalJSON is checked by it, not by its Go fields;
// null inside it is still refused.
func TestSelfDecoding(t *testing.T) {
	var v struct {
		X selfDecoding `json:"x"`
	}
	if err := Decode([]byte(`{"x":{"whatever":1}}`), &v); err != nil || v.X.got != `{"whatever":1}` {
		t.Fatalf("Decode: %v, %q", err, v.X.got)
	}
	if err := Decode([]byte(`{"x":{"whatever":null}}`), &v); !errors.Is(err, ErrNull) {
		t.Fatalf("null inside: %v, want ErrNull", err)
	}
}
