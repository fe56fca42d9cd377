package web

import (
	"flag"
	"os"
	"strings"
	"testing"
)

// format rewrites the catalogue files in their canonical form:
//
//	go test ./internal/web -run TestLocaleRoundTrip -format
var format = flag.Bool("format", false, "rewrite locales/*.json in canonical form (sorted keys, two-space indent)")

// residentKeys are the keys of the resident's pages (the console's and
// the trustee page's are in Japanese and English only), with a survey's wordings as
// "survey."+key.
func residentKeys() []string {
	var keys []string
	for k := range catalogue["ja"] {
		if !strings.HasPrefix(strings.TrimPrefix(k, "survey."), "console.") && !strings.HasPrefix(k, "trustee.") {
			keys = append(keys, k)
		}
	}
	return keys
}

// kinds reduces placeholders to what their argument must be: %s, %q and
// %v all take the strings the pages pass.
func kinds(vs []string) string {
	r := strings.NewReplacer("%q", "%s", "%v", "%s")
	return r.Replace(strings.Join(vs, " "))
}

// jaMessage is key's Japanese message (a plural's other form).
func jaMessage(key string) (string, bool) {
	return lookupIn("ja", key, nil)
}

// forms lists every form of key's message in lang.
func allForms(lang, key string) []string {
	if p, ok := plurals[lang][key]; ok {
		var fs []string
		for _, f := range p.forms() {
			fs = append(fs, p.form(f))
		}
		return fs
	}
	if m, ok := lookupIn(lang, key, nil); ok {
		return []string{m}
	}
	return nil
}

// TestLocalesComplete: every language has every resident message, each
// form with the Japanese message's placeholders (same arguments, same
// kinds), and the console's messages in Japanese and English.
func TestLocalesComplete(t *testing.T) {
	keys := residentKeys()
	if len(keys) < 300 {
		t.Fatalf("only %d resident keys", len(keys))
	}
	for _, l := range languages {
		for _, k := range keys {
			ja, _ := jaMessage(k)
			want, err := verbs(ja)
			if err != nil {
				t.Fatalf("ja %s: %v", k, err)
			}
			forms := allForms(l.code, k)
			if len(forms) == 0 {
				t.Errorf("%s has no message %s", l.code, k)
			}
			for _, m := range forms {
				got, err := verbs(m)
				if err != nil {
					t.Errorf("%s %s: %v", l.code, k, err)
				} else if kinds(got) != kinds(want) {
					t.Errorf("%s %s: placeholders %v, Japanese has %v", l.code, k, got, want)
				}
			}
		}
	}
	for k := range catalogue["ja"] {
		if (strings.HasPrefix(k, "console.") || strings.HasPrefix(k, "trustee.")) && allForms("en", k) == nil {
			t.Errorf("en has no message %s", k)
		}
	}
}

func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		lang, key string
		args      []any
		want      string
	}{
		{"en", "results.counted", []any{"1"}, "1 ballot counted."},
		{"en", "results.counted", []any{"0"}, "0 ballots counted."},
		{"en", "results.counted", []any{"1,001"}, "1,001 ballots counted."},
		{"en", "form.text.count", []any{1}, "1 character"},
		{"en", "form.text.count", []any{200}, "200 characters"},
		{"en", "turnout.peak", []any{"1", "2 Jan"}, "Busiest: 1 ballot at 2 Jan"},
		{"ja", "results.counted", []any{"1"}, "1票を集計しました。"},
		{"ko", "results.counted", []any{"1"}, "1표를 집계했습니다."},
		{"zh-Hans", "results.counted", []any{"1"}, "已统计1票。"},
		// The console falls back to English in Chinese and Korean.
		{"ko", "console.title", nil, msg("en", "console.title")},
	} {
		if got := msg(tc.lang, tc.key, tc.args...); got != tc.want {
			t.Errorf("%s %s %v: %q, want %q", tc.lang, tc.key, tc.args, got, tc.want)
		}
	}
}

func TestVerbs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"%d〜%d個", "1:%d 2:%d"},
		{"100%% of %s", "1:%s"},
		{"%[2]sから%[3]sまで%[1]s票", "1:%s 2:%s 3:%s"},
		{"%[2]s of %[1]s", "1:%s 2:%s"},
		{"%.1f%%", "1:%.1f"},
	} {
		got, err := verbs(tc.in)
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("verbs(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"50%", "%", "%[0]s", "%[x]s"} {
		if _, err := verbs(bad); err == nil {
			t.Errorf("verbs(%q) accepted", bad)
		}
	}
}

func TestParseLocaleRejects(t *testing.T) {
	for _, tc := range []struct{ name, lang, in, want string }{
		{"language", "fr", `{}`, "not a language"},
		{"not an object", "ja", `[]`, "cannot unmarshal"},
		{"null", "ja", `null`, "not a JSON object"},
		{"trailing", "ja", `{} {}`, "data after"},
		{"unknown field", "ja", `{"a.b": {"description": "d", "message": "m", "note": "x"}}`, "unknown field"},
		{"no description", "ja", `{"a.b": {"message": "m"}}`, "no description"},
		{"neither", "ja", `{"a.b": {"description": "d"}}`, "exactly one"},
		{"both", "en", `{"a.b": {"description": "d", "message": "m", "plural": {"arg": 1, "one": "%d", "other": "%d"}}}`, "exactly one"},
		{"bad key", "ja", `{"A b": {"description": "d", "message": "m"}}`, "not a message key"},
		{"bad verb", "ja", `{"a.b": {"description": "d", "message": "50%"}}`, "not a fmt verb"},
		{"forms en", "en", `{"a.b": {"description": "d", "plural": {"arg": 1, "other": "%d"}}}`, "needs [one other]"},
		{"forms ko", "ko", `{"a.b": {"description": "d", "plural": {"arg": 1, "one": "%d", "other": "%d"}}}`, "needs [other]"},
		{"forms differ", "en", `{"a.b": {"description": "d", "plural": {"arg": 1, "one": "%d", "other": "%d %s"}}}`, "has placeholders"},
		{"arg", "en", `{"a.b": {"description": "d", "plural": {"arg": 2, "one": "%d", "other": "%d"}}}`, "plural arg"},
		{"too large", "ja", `{"a.b": {"description": "` + strings.Repeat("x", maxLocaleFile) + `", "message": "m"}}`, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseLocale(tc.lang, []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestLocaleRoundTrip: encodeLocale writes what parseLocale reads back
// into the same entries, and the shipped files are in its form.
func TestLocaleRoundTrip(t *testing.T) {
	for _, l := range languages {
		file := "locales/" + l.code + ".json"
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		m, err := parseLocale(l.code, data)
		if err != nil {
			t.Fatal(err)
		}
		again, err := encodeLocale(m)
		if err != nil {
			t.Fatal(err)
		}
		if *format {
			if err := os.WriteFile(file, again, 0o644); err != nil {
				t.Fatal(err)
			}
		} else if string(again) != string(data) {
			t.Errorf("%s is not in the canonical form (sorted keys, two-space indent): run go test ./internal/web -run TestLocaleRoundTrip -format", file)
		}
	}
}

func FuzzParseLocale(f *testing.F) {
	for _, l := range []string{"en", "ko"} {
		data, _ := localeFiles.ReadFile("locales/" + l + ".json")
		f.Add(l, data)
	}
	f.Add("en", []byte(`{"a.b": {"description": "d", "plural": {"arg": 1, "one": "%d", "other": "%d"}}}`))
	f.Add("ja", []byte(`{"a.b": {"description": "d", "message": "%[2]s %[1]d"}}`))
	f.Fuzz(func(t *testing.T, lang string, data []byte) {
		m, err := parseLocale(lang, data)
		if err != nil {
			return
		}
		enc, err := encodeLocale(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := parseLocale(lang, enc)
		if err != nil {
			t.Fatalf("an encoded catalogue does not parse: %v", err)
		}
		if len(m2) != len(m) {
			t.Fatalf("%d entries, %d after a round trip", len(m), len(m2))
		}
		for k, e := range m {
			if p, ok := m2[k]; !ok || p.Description != e.Description {
				t.Fatalf("%s changed in a round trip", k)
			}
		}
	})
}
