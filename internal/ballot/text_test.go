package ballot

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestTextEncoding: a ja/en label encodes exactly as the struct {ja, en}
// did (so drafts re-encoded by the console keep their bytes), other tags
// follow sorted, and decoding gives the same Text back.
func TestTextEncoding(t *testing.T) {
	for _, tc := range []struct {
		text Text
		json string
	}{
		{Text{Ja: "年代"}, `{"ja":"年代"}`},
		{Text{Ja: "年代", En: "Age group"}, `{"ja":"年代","en":"Age group"}`},
		{Text{Ja: "<市>&", En: "\"q\""}, `{"ja":"\u003c市\u003e\u0026","en":"\"q\""}`},
		{Text{Ja: "年代", En: "Age group", Other: map[string]string{"zh-Hans": "年龄段", "ko": "연령대", "ja-x-easy": "なんさい ですか"}},
			`{"ja":"年代","en":"Age group","ja-x-easy":"なんさい ですか","ko":"연령대","zh-Hans":"年龄段"}`},
	} {
		got, err := json.Marshal(tc.text)
		if err != nil || string(got) != tc.json {
			t.Errorf("Marshal(%v) = %s, %v; want %s", tc.text, got, err, tc.json)
			continue
		}
		// The struct this type replaced encodes ja/en labels identically.
		if tc.text.Other == nil {
			old, _ := json.Marshal(struct {
				Ja string `json:"ja"`
				En string `json:"en,omitempty"`
			}{tc.text.Ja, tc.text.En})
			if string(old) != string(got) {
				t.Errorf("%s differs from the old encoding %s", got, old)
			}
		}
		var back Text
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		again, _ := json.Marshal(back)
		if string(again) != tc.json {
			t.Errorf("round trip: %s, want %s", again, tc.json)
		}
	}
}

// TestTextHashStable: the example manifests (ja/en only) re-encode to the
// same bytes, so their manifest hashes are unchanged.
func TestTextHashStable(t *testing.T) {
	data := []byte(`{"spec":"koe/v2","id":"t","kind":"survey","title":{"ja":"市民意識調査","en":"Citizen survey"},"trustees":3,"threshold":2,"questions":[{"id":"q1","kind":"single","label":{"ja":"問1"},"options":[{"id":"a","label":{"ja":"あ","en":"A"}},{"id":"b","label":{"ja":"い"}}]}]}`)
	m, err := ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	again, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if Hash(again) != Hash(data) {
		t.Errorf("re-encoded manifest %s has another hash", again)
	}
}

func TestTextIn(t *testing.T) {
	full := Text{Ja: "年代", En: "Age group", Other: map[string]string{"zh-Hans": "年龄段", "ja-x-easy": "なんさい"}}
	jaOnly := Text{Ja: "年代"}
	for _, tc := range []struct {
		t          Text
		lang, want string
	}{
		{full, "ja", "年代"},
		{full, "en", "Age group"},
		{full, "zh-Hans", "年龄段"},
		{full, "ja-x-easy", "なんさい"},
		{full, "ko", "Age group"},
		{Text{Ja: "年代", Other: map[string]string{"ko": "연령대"}}, "ja-x-easy", "年代"},
		{jaOnly, "en", "年代"},
		{jaOnly, "ko", "年代"},
		{jaOnly, "zh-Hans", "年代"},
	} {
		if got := tc.t.In(tc.lang); got != tc.want {
			t.Errorf("%v.In(%s) = %q, want %q", tc.t, tc.lang, got, tc.want)
		}
	}
}

func TestTextValidate(t *testing.T) {
	ok := Text{Ja: "年代", Other: map[string]string{"zh-Hans": "年龄段", "ko": "연령대", "vi": "Nhóm tuổi", "pt-BR": "Faixa etária", "ja-x-easy": "なんさい"}}
	if err := checkText("title", ok); err != nil {
		t.Errorf("%v refused: %v", ok, err)
	}
	many := Text{Ja: "a", Other: map[string]string{}}
	for _, l := range strings.Fields("aa ab af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv") {
		many.Other[l] = "x"
	}
	for _, tc := range []struct {
		t    Text
		want string
	}{
		{Text{Ja: "a", Other: map[string]string{"zh-hans": "x"}}, "canonical"},
		{Text{Ja: "a", Other: map[string]string{"not a tag": "x"}}, "not a BCP 47"},
		{Text{Ja: "a", Other: map[string]string{"ko": ""}}, "empty"},
		{Text{Ja: "a", Other: map[string]string{"ja": "b"}}, "twice"},
		{Text{Ja: "a", Other: map[string]string{"ko": strings.Repeat("가", maxLabel)}}, "longer"},
		{many, "languages"},
	} {
		if err := checkText("title", tc.t); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.60v: %v, want %q", tc.t, err, tc.want)
		}
	}
}
