package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The site's message catalogues, one file per language in locales/
// (locales/README.md is the translator's guide). A file is a JSON object
// from message key to entry:
//
//	{
//	  "results.counted": {
//	    "description": "Results page: how many ballots were counted. %s: the number, with separators.",
//	    "plural": {"arg": 1, "one": "%s ballot counted", "other": "%s ballots counted"}
//	  },
//	  "nav.help": {"description": "Header link to the help page.", "message": "Help"}
//	}
//
// An entry has a description (what the message is, where it shows, what
// each placeholder holds) and either a message or, where a count is shown,
// plural forms selected by the count in argument arg (1-based): the
// forms a language has are in pluralForms ("other" alone for Japanese,
// Chinese and Korean; "one" and "other" for English). Messages are fmt
// formats: every language's message has the same verbs, in the same order,
// as the Japanese one (TestLocalesPlaceholders).
//
// A survey's wording of a message (回答 where an election says 投票) is
// the key "survey." + key (msgFor).

//go:embed locales/*.json
var localeFiles embed.FS

// languages are the languages of the resident's pages, in the switch's
// order, each named in itself.
var languages = []struct{ code, name string }{
	{"ja", "日本語"}, {"en", "English"}, {"zh-Hans", "简体中文"}, {"ko", "한국어"},
}

// fallback is the language whose message shows when lang has none for a
// key: the console is in Japanese and English only, and Chinese and Korean
// readers are shown English there.
func fallback(lang string) string {
	switch lang {
	case "ja":
		return ""
	case "en":
		return "ja"
	}
	return "en"
}

// pluralForms are the plural categories (CLDR) each language's plural
// messages must have.
var pluralForms = map[string][]string{
	"ja": {"other"}, "zh-Hans": {"other"}, "ko": {"other"}, "en": {"one", "other"},
}

// pluralForm picks the CLDR category of n in lang.
func pluralForm(lang string, n int64) string {
	if lang == "en" && n == 1 {
		return "one"
	}
	return "other"
}

// localeEntry is one message of a catalogue file.
type localeEntry struct {
	Description string  `json:"description"`
	Message     *string `json:"message,omitempty"`
	Plural      *plural `json:"plural,omitempty"`
}

// plural is a message with a form per plural category.
type plural struct {
	Arg   int    `json:"arg"`
	Zero  string `json:"zero,omitempty"`
	One   string `json:"one,omitempty"`
	Two   string `json:"two,omitempty"`
	Few   string `json:"few,omitempty"`
	Many  string `json:"many,omitempty"`
	Other string `json:"other"`
}

func (p *plural) form(name string) string {
	switch name {
	case "zero":
		return p.Zero
	case "one":
		return p.One
	case "two":
		return p.Two
	case "few":
		return p.Few
	case "many":
		return p.Many
	}
	return p.Other
}

// forms lists the categories p has.
func (p *plural) forms() []string {
	var fs []string
	for _, f := range []string{"zero", "one", "two", "few", "many", "other"} {
		if p.form(f) != "" {
			fs = append(fs, f)
		}
	}
	return fs
}

// maxLocaleFile bounds a catalogue file.
const maxLocaleFile = 1 << 20

var localeKey = regexp.MustCompile(`^[a-z][a-z0-9-]*(\.[a-zA-Z0-9_-]+)*$`)

// parseLocale reads a catalogue file of lang strictly: one JSON object,
// no unknown fields, no trailing data, every entry with a description and
// exactly one of message and plural, plural forms exactly the language's,
// and arg naming a verb of every form.
func parseLocale(lang string, data []byte) (map[string]localeEntry, error) {
	if len(data) > maxLocaleFile {
		return nil, fmt.Errorf("catalogue %s: larger than %d bytes", lang, maxLocaleFile)
	}
	forms, ok := pluralForms[lang]
	if !ok {
		return nil, fmt.Errorf("catalogue %s: not a language of the site", lang)
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	var m map[string]localeEntry
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("catalogue %s: %w", lang, err)
	}
	if m == nil {
		return nil, fmt.Errorf("catalogue %s: not a JSON object", lang)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("catalogue %s: data after the object", lang)
	}
	for k, e := range m {
		if !localeKey.MatchString(k) {
			return nil, fmt.Errorf("catalogue %s: %q is not a message key", lang, k)
		}
		if strings.TrimSpace(e.Description) == "" {
			return nil, fmt.Errorf("catalogue %s: %s has no description", lang, k)
		}
		switch {
		case (e.Message == nil) == (e.Plural == nil):
			return nil, fmt.Errorf("catalogue %s: %s needs exactly one of message and plural", lang, k)
		case e.Message != nil:
			if _, err := verbs(*e.Message); err != nil {
				return nil, fmt.Errorf("catalogue %s: %s: %w", lang, k, err)
			}
		default:
			p := e.Plural
			if got := p.forms(); strings.Join(got, ",") != strings.Join(forms, ",") {
				return nil, fmt.Errorf("catalogue %s: %s has plural forms %v, %s needs %v", lang, k, got, lang, forms)
			}
			var first []string
			for i, f := range forms {
				vs, err := verbs(p.form(f))
				if err != nil {
					return nil, fmt.Errorf("catalogue %s: %s %s: %w", lang, k, f, err)
				}
				if i == 0 {
					first = vs
				} else if strings.Join(vs, " ") != strings.Join(first, " ") {
					return nil, fmt.Errorf("catalogue %s: %s: form %s has placeholders %v, form %s %v", lang, k, f, vs, forms[0], first)
				}
			}
			found := false
			for _, v := range first {
				found = found || argOf(v) == p.Arg
			}
			if !found {
				return nil, fmt.Errorf("catalogue %s: %s: plural arg %d is not one of its placeholders %v", lang, k, p.Arg, first)
			}
		}
	}
	return m, nil
}

var verbRE = regexp.MustCompile(`%[-+# 0]*(\[[0-9]+\])?[0-9]*(\.[0-9]*)?.?`)

// verbs lists a format's placeholders as "n:verb" ("1:%d", "2:%s"), n
// the argument each formats as fmt counts them (an explicit index %[2]s
// lets a translator put the arguments in another order), sorted by n; %%
// is left out, and an incomplete verb is an error.
func verbs(format string) ([]string, error) {
	var vs []string
	next := 1
	for _, v := range verbRE.FindAllString(format, -1) {
		if v == "%%" {
			continue
		}
		last := v[len(v)-1]
		if !strings.ContainsRune("vTtbcdoOqxXUeEfFgGsp", rune(last)) {
			return nil, fmt.Errorf("placeholder %q is not a fmt verb (write %%%% for a percent sign)", v)
		}
		n := next
		if i := strings.IndexByte(v, '['); i >= 0 {
			j := strings.IndexByte(v, ']')
			k, err := strconv.Atoi(v[i+1 : j])
			if err != nil || k < 1 || k > 99 {
				return nil, fmt.Errorf("placeholder %q: bad argument index", v)
			}
			n = k
			v = v[:i] + v[j+1:]
		}
		next = n + 1
		vs = append(vs, strconv.Itoa(n)+":"+v)
	}
	sort.SliceStable(vs, func(a, b int) bool { return argOf(vs[a]) < argOf(vs[b]) })
	return vs, nil
}

func argOf(v string) int {
	n, _ := strconv.Atoi(v[:strings.IndexByte(v, ':')])
	return n
}

// catalogue holds every message of the pages, from the catalogue files:
// a plural message as its "other" form, so that a key's presence reads the
// same; plurals holds the plural messages' forms.
var catalogue, plurals = loadLocales()

// loadLocales reads the catalogue files; a file that does not parse is a
// programming error (TestLocalesParse reads them all).
func loadLocales() (map[string]map[string]string, map[string]map[string]*plural) {
	c := map[string]map[string]string{}
	ps := map[string]map[string]*plural{}
	for _, l := range languages {
		data, err := localeFiles.ReadFile(path.Join("locales", l.code+".json"))
		if err != nil {
			panic("web: " + err.Error())
		}
		m, err := parseLocale(l.code, data)
		if err != nil {
			panic("web: " + err.Error())
		}
		c[l.code] = map[string]string{}
		ps[l.code] = map[string]*plural{}
		for k, e := range m {
			if e.Plural != nil {
				ps[l.code][k] = e.Plural
				c[l.code][k] = e.Plural.Other
			} else {
				c[l.code][k] = *e.Message
			}
		}
	}
	return c, ps
}

// findMessage finds key's message in lang or the languages it falls back to,
// the plural form for args chosen.
func findMessage(lang, key string, args []any) (string, bool) {
	for l := lang; l != ""; l = fallback(l) {
		if m, ok := lookupIn(l, key, args); ok {
			return m, true
		}
	}
	return "", false
}

// lookupIn finds key's message in lang alone.
func lookupIn(lang, key string, args []any) (string, bool) {
	if p, ok := plurals[lang][key]; ok {
		if p.Arg <= len(args) {
			if n, ok := pluralCount(args[p.Arg-1]); ok {
				return p.form(pluralForm(lang, n)), true
			}
		}
		return p.Other, true
	}
	m, ok := catalogue[lang][key]
	return m, ok
}

// pluralCount reads a plural message's count: a whole number, or one written
// with thousands separators (view.Num).
func pluralCount(a any) (int64, bool) {
	switch n := a.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case int32:
		return int64(n), true
	case uint64:
		return int64(n), true
	case uint32:
		return int64(n), true
	case string:
		v, err := strconv.ParseInt(strings.ReplaceAll(n, ",", ""), 10, 64)
		return v, err == nil
	}
	return 0, false
}

// encodeLocale writes a catalogue file: keys sorted, two-space indent,
// HTML characters unescaped, a final newline; parseLocale reads it back.
func encodeLocale(m map[string]localeEntry) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("{\n")
	for i, k := range keys {
		var e bytes.Buffer
		enc := json.NewEncoder(&e)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(k); err != nil {
			return nil, err
		}
		b.WriteString("  ")
		b.Write(bytes.TrimSpace(e.Bytes()))
		b.WriteString(": ")
		e.Reset()
		enc.SetIndent("  ", "  ")
		if err := enc.Encode(m[k]); err != nil {
			return nil, err
		}
		b.Write(bytes.TrimSpace(e.Bytes()))
		if i < len(keys)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}\n")
	return b.Bytes(), nil
}

// dateLayouts are each language's time layouts: a date and time, a
// turnout chart's day and its hour.
var dateLayouts = map[string]struct{ date, day, hour string }{
	"ja":      {"2006年1月2日 15:04", "1月2日", "1月2日 15:00"},
	"en":      {"2 January 2006, 15:04", "2 Jan", "2 Jan 15:00"},
	"zh-Hans": {"2006年1月2日 15:04", "1月2日", "1月2日 15:00"},
	"ko":      {"2006년 1월 2일 15:04", "1월 2일", "1월 2일 15:00"},
}
