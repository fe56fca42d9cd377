package vectors

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/witness"
)

// Shared vectors for the manifest rules (SPEC.md §7.2) and the answer
// rules (§8.1), checked by this package and by the booth's npm tests
// (web/booth/test/rules.test.mjs), so that the two implementations of the
// rules cannot drift (code-review item 2b).

type manifestFile struct {
	Comment string            `json:"comment"`
	Classes map[string]string `json:"classes"`
	Valid   []manifestVector  `json:"valid"`
	Invalid []manifestVector  `json:"invalid"`
}

type manifestVector struct {
	Name   string `json:"name"`
	Class  string `json:"class,omitempty"`  // invalid only: which rule is broken
	Text   string `json:"text,omitempty"`   // the exact bytes, if they are UTF-8
	Base64 string `json:"base64,omitempty"` // else base64 of the exact bytes
	Hash   string `json:"hash,omitempty"`   // valid only: hex(h_M), §7.3
	Pad    int    `json:"pad,omitempty"`    // append this many spaces (0x20) to the bytes
}

// bytes returns the vector's exact manifest bytes.
func (v manifestVector) bytes(t *testing.T) []byte {
	t.Helper()
	data := []byte(v.Text)
	if v.Base64 != "" {
		var err error
		if data, err = base64.StdEncoding.DecodeString(v.Base64); err != nil {
			t.Fatal(err)
		}
	}
	return append(data, bytes.Repeat([]byte(" "), v.Pad)...)
}

type answersFile struct {
	Comment  string            `json:"comment"`
	Codes    map[string]string `json:"codes"`
	Manifest string            `json:"manifest"` // base64 of the exact bytes
	Valid    []answersVector   `json:"valid"`
	Invalid  []answersVector   `json:"invalid"`
}

type answersVector struct {
	Name      string           `json:"name"`
	Answers   string           `json:"answers"`             // the exact JSON text of the answers
	Plaintext ballot.Plaintext `json:"plaintext,omitempty"` // valid only
	Code      string           `json:"code,omitempty"`      // invalid only
}

// manifestClasses names every class of invalid manifest.
var manifestClasses = map[string]string{
	"json":          "not strict JSON (SPEC §2.3): null, a duplicate key, invalid UTF-8, trailing data, a wrong JSON type",
	"unknown-field": "a field the manifest does not have",
	"missing":       "a required field is absent (SPEC §2.3: every field not marked optional is required)",
	"spec":          `spec is not "koe/v2"`,
	"id":            "the election id does not match [a-z0-9][a-z0-9_-]{0,63}",
	"kind":          `kind is not "vote" or "survey"`,
	"text":          "a text without Japanese, or longer than 2000 bytes",
	"time":          "opens/closes not RFC 3339, or closes not after opens",
	"trustees":      "trustees not in 1..64, or threshold not in 1..trustees",
	"questions":     "not 1..64 questions",
	"question-id":   "a question id invalid or used twice",
	"options":       "a choice question without 1..64 options (a rank question: 2..64), or an option id invalid or used twice",
	"bounds":        "min/max/optional/minLabel/maxLabel/options not as the question's kind allows (rank: 0 ≤ min ≤ max ≤ options; text: no options, min, max or scale labels)",
	"rating":        "a rating scale not 0 ≤ min < max ≤ min+100, max ≤ 1000000, or a rating with options",
	"question-kind": "a question kind other than single, multiple, rating, text, rank",
	"selections":    "more than 1024 selections in all (text and rank components counted)",
	"text-length":   "a text question's maxLength not 1..2000, or maxLength on a question of another kind",
	"size":          "more than 1 MiB",
	"board":         "a board object whose key is not a canonical board key of the election's origin HOST/koe/id, a witness with an invalid name, key or URL, a key used twice, witnesses not 1..16 or a quorum not 1..witnesses (0 without witnesses)",
}

// goManifestClass classifies a Go manifest error by its message.
var goManifestClass = []struct {
	class string
	re    *regexp.Regexp
}{
	{"size", regexp.MustCompile(`bytes, limit`)},
	{"json", regexp.MustCompile(`null is not allowed|duplicate field|not UTF-8|trailing data|invalid character|cannot unmarshal|unexpected end|nested too deeply`)},
	{"unknown-field", regexp.MustCompile(`unknown field`)},
	{"missing", regexp.MustCompile(`missing required field`)},
	{"spec", regexp.MustCompile(`^invalid manifest: spec is`)},
	{"id", regexp.MustCompile(`^invalid manifest: id "`)},
	{"kind", regexp.MustCompile(`^invalid manifest: kind is`)},
	{"text", regexp.MustCompile(`Japanese label is empty|label longer than`)},
	{"time", regexp.MustCompile(`^invalid manifest: (opens|closes)`)},
	{"trustees", regexp.MustCompile(`^invalid manifest: (trustees|threshold) is`)},
	{"questions", regexp.MustCompile(`questions, want 1\.\.`)},
	{"question-id", regexp.MustCompile(`^invalid manifest: question \d+: id`)},
	{"options", regexp.MustCompile(`options, want 1\.\.|option \d+: id|option id .* used twice|needs at least 2 options`)},
	{"text-length", regexp.MustCompile(`maxLength -?\d+, want|maxLength is for text`)},
	{"bounds", regexp.MustCompile(`minLabel and maxLabel are for|takes no min or max|has min instead of|must satisfy 0 ≤ min ≤ max|text question has maxLength and optional only`)},
	{"rating", regexp.MustCompile(`rating question has no options|scale -?\d+\.\.-?\d+ must have`)},
	{"question-kind", regexp.MustCompile(`kind ".*", want single`)},
	{"selections", regexp.MustCompile(`selections in all.*, limit`)},
	{"board", regexp.MustCompile(`^invalid manifest: board`)},
}

func classifyManifestError(err error) string {
	for _, c := range goManifestClass {
		if c.re.MatchString(err.Error()) {
			return c.class
		}
	}
	return "unclassified"
}

// genManifests derives valid and invalid manifests from the survey example.
func genManifests(t *testing.T) *manifestFile {
	base, err := examples.Manifest("survey")
	if err != nil {
		t.Fatal(err)
	}
	f := &manifestFile{
		Comment: "Manifests (SPEC.md §7.2), each given by its exact bytes (text, or base64 if they are not UTF-8): valid ones with their hash h_M (§7.3), " +
			"invalid ones with the class of the rule they break (see classes). Every implementation accepts the valid ones " +
			"and refuses each invalid one for a reason of its class. pad, if present, is a number of spaces (0x20) to append " +
			"to the decoded bytes.",
		Classes: manifestClasses,
	}
	add := func(name, class string, data []byte) {
		v := manifestVector{Name: name, Class: class, Text: string(data)}
		if !utf8.Valid(data) {
			v.Text, v.Base64 = "", base64.StdEncoding.EncodeToString(data)
		}
		if class == "" {
			m, err := ballot.ParseManifest(data)
			if err != nil {
				t.Fatalf("valid manifest %q: %v", name, err)
			}
			_ = m
			h := ballot.Hash(data)
			v.Hash = hx(h[:])
			f.Valid = append(f.Valid, v)
			return
		}
		f.Invalid = append(f.Invalid, v)
	}
	// edit applies a change to the decoded survey manifest and re-encodes it.
	edit := func(change func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(base, &m); err != nil {
			t.Fatal(err)
		}
		change(m)
		data, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	qs := func(m map[string]any) []any { return m["questions"].([]any) }
	q := func(m map[string]any, i int) map[string]any { return qs(m)[i].(map[string]any) }
	rating := func(min, max int) map[string]any {
		return map[string]any{"id": "r", "kind": "rating", "label": map[string]any{"ja": "評価"}, "min": min, "max": max}
	}
	choice := func(kind string, n int) map[string]any {
		opts := []any{}
		for i := range n {
			opts = append(opts, map[string]any{"id": fmt.Sprintf("o%d", i), "label": map[string]any{"ja": "x"}})
		}
		return map[string]any{"id": "c", "kind": kind, "label": map[string]any{"ja": "選択"}, "options": opts}
	}
	only := func(qq map[string]any) func(m map[string]any) {
		return func(m map[string]any) { m["questions"] = []any{qq} }
	}
	with := func(qq map[string]any, k string, v any) map[string]any { qq[k] = v; return qq }

	add("the survey example", "", base)
	add("compact, keys reordered", "", edit(func(m map[string]any) {}))
	add("times, one trustee", "", edit(func(m map[string]any) {
		m["opens"], m["closes"], m["trustees"], m["threshold"] = "2026-12-01T09:00:00+09:00", "2026-12-21T20:00:00+09:00", 1, 1
	}))
	add("a rating of span 100", "", edit(only(rating(0, 100))))
	add("a rating up to 1000000", "", edit(only(rating(999_900, 1_000_000))))
	add("64 options", "", edit(only(choice("single", 64))))
	add("multiple, min 0", "", edit(only(with(with(choice("multiple", 3), "min", 0), "max", 3))))
	add("optional single", "", edit(only(with(choice("single", 2), "optional", true))))
	add("a label of 2000 bytes", "", edit(func(m map[string]any) { m["title"] = map[string]any{"ja": strings.Repeat("a", 2000)} }))

	raw := string(base)
	add("null description", "json", []byte(strings.Replace(raw, `"description": {`, `"description": null, "x": {`, 1)))
	add("null option list", "json", edit(func(m map[string]any) { q(m, 0)["options"] = nil }))
	add("a duplicate key", "json", []byte(strings.Replace(raw, `"kind": "survey"`, `"kind": "survey", "kind": "vote"`, 1)))
	add("invalid UTF-8", "json", append([]byte(raw[:30]), append([]byte{0xff}, raw[30:]...)...))
	add("trailing data", "json", []byte(raw+"{}"))
	add("trustees as a string", "json", edit(func(m map[string]any) { m["trustees"] = "5" }))
	add("trustees 5.0", "json", []byte(strings.Replace(raw, `"trustees": 5`, `"trustees": 5.0`, 1)))
	add("an unknown top-level field", "unknown-field", edit(func(m map[string]any) { m["extra"] = 1 }))
	add("a key in upper case", "unknown-field", []byte(strings.Replace(raw, `"trustees"`, `"Trustees"`, 1)))
	add("an unknown question field", "unknown-field", edit(func(m map[string]any) { q(m, 0)["help"] = map[string]any{"ja": "x"} }))
	add("spec koe/v1", "spec", edit(func(m map[string]any) { m["spec"] = "koe/v1" }))
	add("an id in upper case", "id", edit(func(m map[string]any) { m["id"] = "Kagaku" }))
	add("an id of 65 characters", "id", edit(func(m map[string]any) { m["id"] = strings.Repeat("a", 65) }))
	add("an id starting with -", "id", edit(func(m map[string]any) { m["id"] = "-a" }))
	add("kind election", "kind", edit(func(m map[string]any) { m["kind"] = "election" }))
	add("no Japanese title", "missing", edit(func(m map[string]any) { m["title"] = map[string]any{"en": "Title"} }))
	add("an empty Japanese title", "text", edit(func(m map[string]any) { m["title"] = map[string]any{"ja": "", "en": "Title"} }))
	for _, k := range []string{"spec", "id", "kind", "title", "trustees", "threshold", "questions"} {
		add("no "+k, "missing", edit(func(m map[string]any) { delete(m, k) }))
	}
	for _, k := range []string{"id", "kind", "label"} {
		add("a question without "+k, "missing", edit(func(m map[string]any) { delete(q(m, 0), k) }))
	}
	for _, k := range []string{"id", "label"} {
		add("an option without "+k, "missing", edit(func(m map[string]any) { delete(q(m, 0)["options"].([]any)[0].(map[string]any), k) }))
	}
	add("an option description without Japanese", "missing", edit(func(m map[string]any) {
		q(m, 0)["options"].([]any)[0].(map[string]any)["description"] = map[string]any{"en": "x"}
	}))
	add("a title of 2001 bytes", "text", edit(func(m map[string]any) { m["title"] = map[string]any{"ja": strings.Repeat("a", 2001)} }))
	add("an English label of 2001 bytes", "text", edit(func(m map[string]any) { q(m, 0)["label"] = map[string]any{"ja": "a", "en": strings.Repeat("b", 2001)} }))
	add("an option without a label", "text", edit(func(m map[string]any) {
		q(m, 0)["options"].([]any)[0].(map[string]any)["label"] = map[string]any{"ja": ""}
	}))
	add("opens not RFC 3339", "time", edit(func(m map[string]any) { m["opens"] = "2026-12-01 09:00" }))
	for _, c := range []struct{ name, class, opens string }{
		{"opens on 30 February", "time", "2026-02-30T09:00:00Z"},
		{"opens with a lower-case t", "time", "2026-12-01t09:00:00Z"},
		{"opens at hour 24", "time", "2026-12-01T24:00:00Z"},
		{"opens at second 60", "time", "2026-12-31T23:59:60Z"},
		{"opens with an offset of 24 hours", "time", "2026-12-01T09:00:00+24:00"},
		{"opens without a zone", "time", "2026-12-01T09:00:00"},
		{"opens with a fraction of a second", "", "2026-12-01T09:00:00.123456789+09:00"},
		{"opens at -00:00", "", "2026-12-01T09:00:00-00:00"},
		{"opens on 29 February 2028", "", "2028-02-29T00:00:00Z"},
	} {
		add(c.name, c.class, edit(func(m map[string]any) { m["opens"] = c.opens }))
	}
	add("closes a nanosecond after opens", "", edit(func(m map[string]any) {
		m["opens"], m["closes"] = "2026-12-01T09:00:00.999999999+09:00", "2026-12-01T00:00:01Z"
	}))
	add("closes before opens", "time", edit(func(m map[string]any) {
		m["opens"], m["closes"] = "2026-12-21T09:00:00Z", "2026-12-01T09:00:00Z"
	}))
	add("closes equal to opens", "time", edit(func(m map[string]any) {
		m["opens"], m["closes"] = "2026-12-21T09:00:00Z", "2026-12-21T18:00:00+09:00"
	}))
	add("no trustees", "trustees", edit(func(m map[string]any) { m["trustees"], m["threshold"] = 0, 0 }))
	add("65 trustees", "trustees", edit(func(m map[string]any) { m["trustees"] = 65 }))
	add("threshold above trustees", "trustees", edit(func(m map[string]any) { m["threshold"] = 6 }))
	add("threshold 0", "trustees", edit(func(m map[string]any) { m["threshold"] = 0 }))
	add("no questions", "questions", edit(func(m map[string]any) { m["questions"] = []any{} }))
	add("65 questions", "questions", edit(func(m map[string]any) {
		var list []any
		for i := range 65 {
			list = append(list, with(rating(0, 1), "id", fmt.Sprintf("r%d", i)))
		}
		m["questions"] = list
	}))
	add("a question id used twice", "question-id", edit(func(m map[string]any) { q(m, 1)["id"] = q(m, 0)["id"] }))
	add("a question id with a space", "question-id", edit(func(m map[string]any) { q(m, 0)["id"] = "a b" }))
	add("a single choice without options", "options", edit(only(choice("single", 0))))
	add("65 options", "options", edit(only(choice("single", 65))))
	add("an option id used twice", "options", edit(func(m map[string]any) {
		o := q(m, 0)["options"].([]any)
		o[1].(map[string]any)["id"] = o[0].(map[string]any)["id"]
	}))
	add("an option id in upper case", "options", edit(func(m map[string]any) { q(m, 0)["options"].([]any)[0].(map[string]any)["id"] = "A" }))
	add("a single choice with max", "bounds", edit(only(with(choice("single", 2), "max", 1))))
	add("an optional multiple choice", "bounds", edit(only(with(with(choice("multiple", 2), "max", 2), "optional", true))))
	add("multiple, max 0", "bounds", edit(only(choice("multiple", 2))))
	add("multiple, min above max", "bounds", edit(only(with(with(choice("multiple", 3), "min", 3), "max", 2))))
	add("multiple, max above the options", "bounds", edit(only(with(choice("multiple", 2), "max", 3))))
	add("multiple, negative min", "bounds", edit(only(with(with(choice("multiple", 2), "min", -1), "max", 2))))
	add("minLabel on a choice", "bounds", edit(only(with(choice("single", 2), "minLabel", map[string]any{"ja": "低"}))))
	add("a rating with min = max", "rating", edit(only(rating(3, 3))))
	add("a rating of span 101", "rating", edit(only(rating(0, 101))))
	add("a rating above 1000000", "rating", edit(only(rating(999_950, 1_000_001))))
	add("a rating with a negative min", "rating", edit(only(rating(-1, 3))))
	add("a rating with options", "rating", edit(only(with(rating(0, 3), "options", choice("single", 2)["options"]))))
	add("an optional rating", "rating", edit(only(with(rating(0, 3), "optional", true))))
	comment := func(maxLength int) map[string]any {
		return map[string]any{"id": "opinion", "kind": "text", "label": map[string]any{"ja": "その他、ご意見をご自由にお書きください"}, "maxLength": maxLength}
	}
	rank := func(n int) map[string]any { return with(choice("rank", n), "id", "priorities") }
	add("a free-text question of 400 characters", "", edit(only(with(comment(400), "optional", true))))
	add("a required free-text question of 2000 characters", "", edit(only(comment(2000))))
	add("a free-text question of 1 character", "", edit(only(comment(1))))
	add("a rank question of every option", "", edit(only(rank(5))))
	add("a rank question of the top 3, at least 1", "", edit(only(with(with(rank(5), "min", 1), "max", 3))))
	add("a rank question of 64 options, all ranked", "", edit(only(with(rank(64), "min", 64))))
	add("a free-text question without maxLength", "text-length", edit(only(map[string]any{"id": "t", "kind": "text", "label": map[string]any{"ja": "自由記述"}})))
	add("a free-text question of 2001 characters", "text-length", edit(only(comment(2001))))
	add("a free-text question of -1 characters", "text-length", edit(only(comment(-1))))
	add("maxLength on a choice", "text-length", edit(only(with(choice("single", 2), "maxLength", 10))))
	add("a free-text question with options", "bounds", edit(only(with(comment(10), "options", choice("single", 2)["options"]))))
	add("a free-text question with max", "bounds", edit(only(with(comment(10), "max", 1))))
	add("a free-text question with minLabel", "bounds", edit(only(with(comment(10), "minLabel", map[string]any{"ja": "低"}))))
	add("a rank question of 1 option", "options", edit(only(rank(1))))
	add("a rank question without options", "options", edit(only(rank(0))))
	add("a rank question of 65 options", "options", edit(only(rank(65))))
	add("an optional rank question", "bounds", edit(only(with(rank(3), "optional", true))))
	add("a rank question, max above the options", "bounds", edit(only(with(rank(3), "max", 4))))
	add("a rank question, min above max", "bounds", edit(only(with(with(rank(4), "min", 3), "max", 2))))
	add("a rank question, min above the options", "bounds", edit(only(with(rank(3), "min", 4))))
	add("a rank question, negative min", "bounds", edit(only(with(rank(3), "min", -1))))
	add("a rank question, negative max", "bounds", edit(only(with(rank(3), "max", -1))))
	add("a rank question with maxLabel", "bounds", edit(only(with(rank(3), "maxLabel", map[string]any{"ja": "高"}))))
	add("an unknown question kind", "question-kind", edit(only(map[string]any{"id": "t", "kind": "ranking", "label": map[string]any{"ja": "順位"}})))
	add("1025 selections with a comment", "selections", edit(func(m map[string]any) {
		// 15 × 64 options + 1 rating = 961, and a text of 473 characters is 64 components.
		var list []any
		for i := range 15 {
			list = append(list, with(with(choice("multiple", 64), "id", fmt.Sprintf("c%d", i)), "max", 1))
		}
		list = append(list, with(rating(0, 1), "id", "r"), comment(473))
		m["questions"] = list
	}))
	add("1025 selections", "selections", edit(func(m map[string]any) {
		var list []any
		for i := range 17 {
			list = append(list, with(choice("multiple", 64), "id", fmt.Sprintf("c%d", i)))
			list[i].(map[string]any)["max"] = 1
		}
		list = append(list[:16], with(choice("single", 1), "id", "last"))
		m["questions"] = list
	}))
	addBoardCases(t, add, edit)
	f.Invalid = append(f.Invalid, manifestVector{Name: "more than 1 MiB (trailing spaces)", Class: "size",
		Text: string(base), Pad: 1<<20 + 1 - len(base)})
	return f
}

// answersManifest has one question of each shape the answer rules treat
// differently.
const answersManifest = `{
  "spec": "koe/v2", "id": "answer-rules", "kind": "survey",
  "title": {"ja": "回答の規則", "en": "Answer rules"},
  "trustees": 1, "threshold": 1,
  "questions": [
    {"id": "one", "kind": "single", "label": {"ja": "一つ"}, "options": [{"id": "a", "label": {"ja": "A"}}, {"id": "b", "label": {"ja": "B"}}]},
    {"id": "maybe", "kind": "single", "optional": true, "label": {"ja": "任意"}, "options": [{"id": "x", "label": {"ja": "X"}}, {"id": "y", "label": {"ja": "Y"}}]},
    {"id": "some", "kind": "multiple", "min": 1, "max": 2, "label": {"ja": "複数"}, "options": [{"id": "p", "label": {"ja": "P"}}, {"id": "q", "label": {"ja": "Q"}}, {"id": "r", "label": {"ja": "R"}}]},
    {"id": "any", "kind": "multiple", "min": 0, "max": 3, "label": {"ja": "いくつでも"}, "options": [{"id": "u", "label": {"ja": "U"}}, {"id": "v", "label": {"ja": "V"}}, {"id": "w", "label": {"ja": "W"}}]},
    {"id": "score", "kind": "rating", "min": 1, "max": 5, "label": {"ja": "評価"}},
    {"id": "note", "kind": "text", "maxLength": 10, "optional": true, "label": {"ja": "ご意見"}},
    {"id": "must", "kind": "text", "maxLength": 5, "label": {"ja": "必須の記述"}},
    {"id": "top", "kind": "rank", "min": 1, "max": 2, "label": {"ja": "順位"}, "options": [{"id": "e", "label": {"ja": "E"}}, {"id": "f", "label": {"ja": "F"}}, {"id": "g", "label": {"ja": "G"}}]},
    {"id": "order", "kind": "rank", "label": {"ja": "全順位"}, "options": [{"id": "h", "label": {"ja": "H"}}, {"id": "i", "label": {"ja": "I"}}]}
  ]
}
`

// answerCodes are the stable codes of answer errors (the booth's
// AnswerError.code), with the Go messages they classify.
var answerCodes = map[string]string{
	"json":             "not strict JSON (SPEC §2.3): null (a question is skipped only by leaving it out), a duplicate question id, a number with a fraction or exponent, trailing data",
	"unknown-question": "an answer to a question the manifest does not have",
	"not-an-option":    "an option answer that is not a string",
	"no-such-option":   "an option id the question does not have",
	"needs-answer":     "no answer to a question that needs one",
	"not-a-list":       "a multiple-choice answer that is neither a list nor one option id",
	"chosen-twice":     "an option chosen twice",
	"count":            "a number of options chosen outside min..max",
	"not-a-number":     "a rating answer that is not a number",
	"out-of-range":     "a rating that is not a whole number in min..max",
	"not-a-string":     "a text answer that is not a string",
	"too-long":         "a text answer of more than maxLength characters (Unicode scalar values)",
	"ranked-twice":     "an option ranked twice",
	"rank-count":       "a number of options ranked outside min..max",
}

var goAnswerCode = []struct {
	code string
	re   *regexp.Regexp
}{
	{"json", regexp.MustCompile(`^answers: |null is not allowed`)},
	{"unknown-question", regexp.MustCompile(`^answer to unknown question`)},
	{"not-an-option", regexp.MustCompile(`is not an option id$`)},
	{"no-such-option", regexp.MustCompile(`has no option`)},
	{"needs-answer", regexp.MustCompile(`needs an answer`)},
	{"not-a-list", regexp.MustCompile(`answer with a list of option ids`)},
	{"chosen-twice", regexp.MustCompile(`chosen twice`)},
	{"count", regexp.MustCompile(`options chosen, allowed`)},
	{"not-a-number", regexp.MustCompile(`answer with a number from`)},
	{"out-of-range", regexp.MustCompile(`is not a whole number from`)},
	{"not-a-string", regexp.MustCompile(`answer with a string$`)},
	{"too-long", regexp.MustCompile(`characters, at most \d+ allowed$`)},
	{"ranked-twice", regexp.MustCompile(`ranked twice$`)},
	{"rank-count", regexp.MustCompile(`options ranked, allowed`)},
}

func classifyAnswerError(err error) string {
	for _, c := range goAnswerCode {
		if c.re.MatchString(err.Error()) {
			return c.code
		}
	}
	return "unclassified"
}

func genAnswers(t *testing.T) *answersFile {
	m, err := ballot.ParseManifest([]byte(answersManifest))
	if err != nil {
		t.Fatal(err)
	}
	f := &answersFile{
		Comment: "Answer sets (SPEC.md §8.1) for one manifest (base64 of its exact bytes): valid ones with the plaintext " +
			"they give, invalid ones with the stable code of the error (see codes). Answers are a JSON object from " +
			"question id to an option id (single), a list of option ids or one option id (multiple), or a number (rating), " +
			"given as their exact JSON text, which is decoded strictly (SPEC §2.3; code json).",
		Codes:    answerCodes,
		Manifest: base64.StdEncoding.EncodeToString([]byte(answersManifest)),
	}
	base := `"one":"a","some":["p"],"score":3,"must":"はい","top":["f"]`
	add := func(name, code, answers string) {
		pt, err := parseAnswers(m, answers)
		v := answersVector{Name: name, Answers: answers}
		if code == "" {
			if err != nil {
				t.Fatalf("valid answers %q: %v", name, err)
			}
			v.Plaintext = pt
			f.Valid = append(f.Valid, v)
			return
		}
		v.Code = code
		f.Invalid = append(f.Invalid, v)
	}
	add("the required ones", "", `{`+base+`}`)
	add("every question", "", `{"one":"b","maybe":"y","some":["r","p"],"any":["w","u","v"],"score":5,"note":"駅前に駐輪場を","must":"🚲どうも","top":["g","e"],"order":["i","h"]}`)
	add("a multiple choice as one id", "", `{"one":"a","some":"q","score":1,"must":"x","top":["e"]}`)
	add("an empty optional comment", "", `{`+base+`,"note":""}`)
	add("a comment of exactly maxLength characters", "", `{`+base+`,"note":"あいうえおかきくけこ"}`)
	add("a comment with a newline and escapes", "", `{`+base+`,"note":"一行目\n\u4e8c行目"}`)
	add("a full ranking", "", `{`+base+`,"order":["h","i"]}`)
	add("a comment as a number", "not-a-string", `{`+base+`,"note":3}`)
	add("a comment as a list", "not-a-string", `{`+base+`,"note":["a"]}`)
	add("a comment of maxLength + 1 characters", "too-long", `{`+base+`,"note":"あいうえおかきくけこさ"}`)
	add("a comment of 11 emoji", "too-long", `{`+base+`,"note":"🚲🚲🚲🚲🚲🚲🚲🚲🚲🚲🚲"}`)
	add("an empty required comment", "needs-answer", `{"one":"a","some":["p"],"score":3,"must":"","top":["f"]}`)
	add("no required comment", "needs-answer", `{"one":"a","some":["p"],"score":3,"top":["f"]}`)
	add("an option ranked twice", "ranked-twice", `{`+base+`,"order":["h","h"]}`)
	add("too many ranked", "rank-count", `{"one":"a","some":["p"],"score":3,"must":"x","top":["e","f","g"]}`)
	add("none ranked where min is 1", "rank-count", `{"one":"a","some":["p"],"score":3,"must":"x","top":[]}`)
	add("no ranking where min is 1", "rank-count", `{"one":"a","some":["p"],"score":3,"must":"x"}`)
	add("a ranking as one id", "not-a-list", `{"one":"a","some":["p"],"score":3,"must":"x","top":"e"}`)
	add("a ranking holding a number", "not-an-option", `{`+base+`,"order":[1]}`)
	add("an unknown option ranked", "no-such-option", `{`+base+`,"order":["z"]}`)
	add("an empty list where min is 0", "", `{`+base+`,"any":[]}`)
	add("a blank optional question left out", "", `{`+base+`}`)
	add("a rating written 3.0", "json", `{"one":"a","some":["p"],"score":3.0}`)
	add("a rating written 2e0", "json", `{"one":"a","some":["p"],"score":2e0}`)
	add("null for a blank optional question", "json", `{`+base+`,"maybe":null}`)
	add("null for a multiple choice", "json", `{"one":"a","some":["p"],"any":null,"score":3}`)
	add("null in a list", "json", `{"one":"a","some":["p",null],"score":3}`)
	add("a question answered twice", "json", `{"one":"a","one":"b","some":["p"],"score":3}`)
	add("trailing data", "json", `{`+base+`}{}`)
	add("not an object", "json", `["a"]`)
	add("an answer to an unknown question", "unknown-question", `{`+base+`,"other":"a"}`)
	add("an option as a number", "not-an-option", `{"one":1,"some":["p"],"score":3}`)
	add("an option as a list", "not-an-option", `{"one":["a"],"some":["p"],"score":3}`)
	add("a list holding a number", "not-an-option", `{"one":"a","some":[1],"score":3}`)
	add("an unknown option", "no-such-option", `{"one":"c","some":["p"],"score":3}`)
	add("an option of another question", "no-such-option", `{"one":"x","some":["p"],"score":3}`)
	add("an option id in another case", "no-such-option", `{"one":"A","some":["p"],"score":3}`)
	add("no answer to a single choice", "needs-answer", `{"some":["p"],"score":3}`)
	add("no rating", "needs-answer", `{"one":"a","some":["p"]}`)
	add("nothing at all", "needs-answer", `{}`)
	add("a multiple choice as an object", "not-a-list", `{"one":"a","some":{"p":true},"score":3}`)
	add("a multiple choice as a number", "not-a-list", `{"one":"a","some":1,"score":3}`)
	add("an option chosen twice", "chosen-twice", `{"one":"a","some":["p","p"],"score":3}`)
	add("too many options", "count", `{"one":"a","some":["p","q","r"],"score":3}`)
	add("too few options", "count", `{"one":"a","some":[],"score":3}`)
	add("no answer where min is 1", "count", `{"one":"a","score":3}`)
	add("a rating as a string", "not-a-number", `{"one":"a","some":["p"],"score":"3"}`)
	add("a rating as a list", "not-a-number", `{"one":"a","some":["p"],"score":[3]}`)
	add("a rating below min", "out-of-range", `{"one":"a","some":["p"],"score":0}`)
	add("a rating above max", "out-of-range", `{"one":"a","some":["p"],"score":6}`)
	add("a fractional rating", "json", `{"one":"a","some":["p"],"score":2.5}`)
	return f
}

// parseAnswers decodes answers from their JSON text and checks them.
func parseAnswers(m *ballot.Manifest, text string) (ballot.Plaintext, error) {
	a, err := ballot.ParseAnswers([]byte(text))
	if err != nil {
		return nil, err
	}
	return m.Plaintext(a)
}

// TestGenerateRules regenerates manifests.json and answers.json; it runs
// with -update (as part of TestGenerate, or alone with -run TestGenerateRules).
func TestGenerateRules(t *testing.T) {
	if !*update {
		t.Skip("run with -args -update to regenerate testdata/vectors")
	}
	writeJSON(t, "manifests.json", genManifests(t))
	writeJSON(t, "answers.json", genAnswers(t))
}

func TestManifestRules(t *testing.T) {
	var f manifestFile
	readJSON(t, "manifests.json", &f)
	if len(f.Valid) < 5 || len(f.Invalid) < 40 {
		t.Fatalf("%d valid and %d invalid manifests", len(f.Valid), len(f.Invalid))
	}
	seen := map[string]bool{}
	for _, v := range f.Valid {
		data := v.bytes(t)
		if _, err := ballot.ParseManifest(data); err != nil {
			t.Errorf("%s: %v", v.Name, err)
		}
		if h := ballot.Hash(data); hx(h[:]) != v.Hash {
			t.Errorf("%s: hash %x, want %s", v.Name, h, v.Hash)
		}
	}
	for _, v := range f.Invalid {
		if _, ok := f.Classes[v.Class]; !ok {
			t.Errorf("%s: class %q is not listed", v.Name, v.Class)
		}
		seen[v.Class] = true
		_, err := ballot.ParseManifest(v.bytes(t))
		switch {
		case err == nil:
			t.Errorf("%s: accepted", v.Name)
		case !errors.Is(err, ballot.ErrManifest):
			t.Errorf("%s: %v does not wrap ErrManifest", v.Name, err)
		case classifyManifestError(err) != v.Class:
			t.Errorf("%s: refused as %s (%v), want %s", v.Name, classifyManifestError(err), err, v.Class)
		}
	}
	for class := range f.Classes {
		if !seen[class] {
			t.Errorf("no invalid manifest of class %s", class)
		}
	}
}

func TestAnswerRules(t *testing.T) {
	var f answersFile
	readJSON(t, "answers.json", &f)
	data, _ := base64.StdEncoding.DecodeString(f.Manifest)
	m, err := ballot.ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, v := range f.Valid {
		pt, err := parseAnswers(m, v.Answers)
		if err != nil {
			t.Errorf("%s: %v", v.Name, err)
			continue
		}
		if !equalPlaintext(pt, v.Plaintext) {
			t.Errorf("%s: plaintext %v, want %v", v.Name, pt, v.Plaintext)
		}
	}
	for _, v := range f.Invalid {
		seen[v.Code] = true
		_, err := parseAnswers(m, v.Answers)
		switch {
		case err == nil:
			t.Errorf("%s: accepted", v.Name)
		case classifyAnswerError(err) != v.Code:
			t.Errorf("%s: refused as %s (%v), want %s", v.Name, classifyAnswerError(err), err, v.Code)
		}
	}
	for code := range f.Codes {
		if !seen[code] {
			t.Errorf("no invalid answers with code %s", code)
		}
	}
	if !bytes.Equal(data, []byte(answersManifest)) {
		t.Error("answers.json's manifest is not this test's")
	}
}

// vectorKey is a deterministic Ed25519 key for the manifest vectors.
func vectorKey(label string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("koe/v2 manifest vectors: " + label))
	return ed25519.NewKeyFromSeed(seed[:])
}

// addBoardCases adds manifests with a board object (SPEC.md §7.1–7.2).
func addBoardCases(t *testing.T, add func(name, class string, data []byte), edit func(func(m map[string]any)) []byte) {
	const id = "kagaku-shishin-2026"
	origin := "koe.example/koe/" + id
	boardKey := func(name string, key ed25519.PrivateKey) string {
		v, err := note.NewEd25519VerifierKey(name, key.Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	bk := boardKey(origin, vectorKey("board"))
	wkey := func(i int) string {
		k, err := witness.NewKey(fmt.Sprintf("witness%d.example", i), vectorKey(fmt.Sprint("witness ", i)).Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		return k.String()
	}
	wit := func(i int) map[string]any {
		return map[string]any{"name": map[string]any{"ja": fmt.Sprintf("証人 %d", i), "en": fmt.Sprintf("Witness %d", i)},
			"key": wkey(i), "url": fmt.Sprintf("https://witness%d.example/w", i)}
	}
	with := func(b map[string]any) []byte { return edit(func(m map[string]any) { m["board"] = b }) }
	three := func() []any { return []any{wit(1), wit(2), wit(3)} }
	add("a board key, no witnesses", "", with(map[string]any{"key": bk}))
	add("a board key, 2 of 3 witnesses", "", with(map[string]any{"key": bk, "witnesses": three(), "quorum": 2}))
	add("1 of 1 witness on loopback", "", with(map[string]any{"key": bk, "quorum": 1,
		"witnesses": []any{map[string]any{"name": map[string]any{"ja": "市"}, "key": wkey(1), "url": "http://127.0.0.1:8080"}}}))
	add("3 of 3 witnesses", "", with(map[string]any{"key": bk, "witnesses": three(), "quorum": 3}))

	bad := func(name string, b map[string]any) { add(name, "board", with(b)) }
	add("a board without a key", "missing", with(map[string]any{"witnesses": three(), "quorum": 2}))
	bad("a board key of another election", map[string]any{"key": boardKey("koe.example/koe/other", vectorKey("board"))})
	bad("a board key without a host", map[string]any{"key": boardKey("/koe/"+id, vectorKey("board"))})
	bad("a board key of a nested origin", map[string]any{"key": boardKey("a/b/koe/"+id, vectorKey("board"))})
	bad("a board key with a wrong key hash", map[string]any{"key": func() string { p := strings.SplitN(bk, "+", 3); return p[0] + "+00000000+" + p[2] }()})
	bad("a witness key as the board key", map[string]any{"key": wkey(1)})
	bad("quorum 0", map[string]any{"key": bk, "witnesses": three(), "quorum": 0})
	bad("quorum above the witnesses", map[string]any{"key": bk, "witnesses": three(), "quorum": 4})
	bad("a quorum without witnesses", map[string]any{"key": bk, "quorum": 1})
	bad("an empty witness list", map[string]any{"key": bk, "witnesses": []any{}})
	bad("a witness twice", map[string]any{"key": bk, "witnesses": []any{wit(1), wit(2), wit(1)}, "quorum": 2})
	other := wit(2)
	other["key"] = func() string {
		k, _ := witness.NewKey("another-name.example", vectorKey("witness 1").Public().(ed25519.PublicKey))
		return k.String()
	}()
	bad("one public key under two names", map[string]any{"key": bk, "witnesses": []any{wit(1), other}, "quorum": 1})
	ed := wit(1)
	ed["key"] = boardKey("witness1.example", vectorKey("witness 1"))
	bad("a witness key of algorithm 0x01", map[string]any{"key": bk, "witnesses": []any{ed}, "quorum": 1})
	for name, u := range map[string]string{
		"a witness URL without a scheme": "witness1.example/w",
		"a witness URL of ftp":           "ftp://witness1.example",
		"a witness URL with a query":     "https://witness1.example/w?x=1",
		"a witness URL with a user":      "https://u@witness1.example",
		"a witness URL in upper case":    "https://Witness1.example",
		"a witness URL of port 65536":    "https://witness1.example:65536",
		"a witness URL of port 0":        "https://witness1.example:0",
	} {
		w := wit(1)
		w["url"] = u
		bad(name, map[string]any{"key": bk, "witnesses": []any{w}, "quorum": 1})
	}
	noJa := wit(1)
	noJa["name"] = map[string]any{"en": "City"}
	add("a witness without a Japanese name", "missing", with(map[string]any{"key": bk, "witnesses": []any{noJa}, "quorum": 1}))
	var many []any
	for i := range 17 {
		many = append(many, wit(i))
	}
	bad("17 witnesses", map[string]any{"key": bk, "witnesses": many, "quorum": 1})
	add("an unknown board field", "unknown-field", with(map[string]any{"key": bk, "keys": []any{}}))
	add("an unknown witness field", "unknown-field", with(map[string]any{"key": bk, "quorum": 1,
		"witnesses": []any{map[string]any{"name": map[string]any{"ja": "市"}, "key": wkey(1), "url": "http://127.0.0.1:8080", "contact": "x"}}}))
}
