package strictjson

import (
	"bytes"
	"encoding/json"
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
		{"trailing data", `{"id":"a"} {}`, "trailing data"},
		{"trailing garbage", `{"id":"a"}x`, "trailing data"},
		{"field excluded by a dash", `{"Skip":"a"}`, `unknown field "Skip"`},
		{"too deep", strings.Repeat("[", 40) + strings.Repeat("]", 40), "nested too deeply"},
		{"wrong type", `{"count":"2"}`, "cannot unmarshal"},
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
	if err := Decode([]byte(`{"data":"AAECAw=="}`), &v); err != nil || string(v.Data) != "\x00\x01\x02\x03" {
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

func TestDecodeKeysStrict(t *testing.T) {
	allowed := map[string]bool{"id": true, "count": true}
	var v outer
	for _, in := range []string{`{"id":null}`, `{"count":1,"id":[null]}`, "{\"id\":\"\xfe\"}"} {
		if err := DecodeKeys([]byte(in), &v, allowed); err == nil {
			t.Errorf("DecodeKeys(%q) accepted", in)
		}
	}
	if err := DecodeKeys([]byte(`{"id":"a","count":1}`), &v, allowed); err != nil {
		t.Fatal(err)
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
