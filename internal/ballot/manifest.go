// Package ballot defines koe's election manifest and its ballots (SPEC.md §7
// and §8): the questions an election asks, the fixed-size encrypted ballot
// that answers them with a range proof per selection and a proof that each
// question's total is allowed, and the Benaloh challenge that opens a spoiled
// ballot.
package ballot

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/strictjson"
	"github.com/koe-vote/koe/internal/textenc"
	"github.com/koe-vote/koe/internal/witness"

	"github.com/koe-vote/koe/internal/group"
)

// Question kinds.
const (
	KindSingle   = "single"   // choose one option (or none, if optional)
	KindMultiple = "multiple" // choose between min and max options
	KindRating   = "rating"   // a whole number on a scale min..max
	KindText     = "text"     // free text of at most maxLength characters, mixed before decryption
	KindRank     = "rank"     // rank up to max of the options, mixed before decryption
)

// Mixed reports whether questions of this kind are answered by a vector of
// ciphertexts that is shuffled and decrypted one ballot at a time
// (SPEC.md §8.1, §16) instead of being added up homomorphically.
func Mixed(kind string) bool { return kind == KindText || kind == KindRank }

// Limits on a manifest (SPEC.md §7.2).
const (
	MaxManifestSize = 1 << 20
	MaxQuestions    = 64
	MaxOptions      = 64
	MaxSelections   = 1024
	MaxRatingSpan   = 100
	MaxRatingValue  = 1_000_000
	MaxTrustees     = 64
	maxLabel        = 2000
	// MaxTextLength bounds a text question's maxLength, in characters
	// (SPEC.md §7.2): 2000 characters are 267 ciphertexts, 34 KiB of ballot.
	MaxTextLength = 2000

	// DefaultPrivacyThreshold is the privacy threshold of a manifest that
	// omits privacyThreshold (SPEC.md §7.2): results of fewer than ten
	// ballots are withheld, the smallest cell size statistical offices
	// commonly publish.
	DefaultPrivacyThreshold = 10
	// MaxPrivacyThreshold bounds privacyThreshold.
	MaxPrivacyThreshold = 1_000_000
)

// Text is a label in Japanese, the city's language, which is required,
// and in any further languages: English, and others by their BCP 47 tag
// (SPEC.md §7.1). In JSON it is one object from language tag to label,
// "ja" first, then "en", then the other tags in sorted order, so that a
// ja/en label encodes exactly as it always has.
type Text struct {
	Ja string
	En string
	// Other holds labels in languages other than ja and en, by BCP 47
	// tag in canonical form (zh-Hans, ko, vi, pt-BR, ja-x-easy for
	// やさしい日本語 …).
	Other map[string]string
}

// maxTextLanguages bounds the languages of one label.
const maxTextLanguages = 32

// MarshalJSON writes {"ja": …, "en": …, tag: …}: "en" when not empty,
// other tags sorted.
func (t Text) MarshalJSON() ([]byte, error) {
	var b []byte
	b = append(b, '{')
	add := func(tag, s string) error {
		if len(b) > 1 {
			b = append(b, ',')
		}
		k, err := json.Marshal(tag)
		if err != nil {
			return err
		}
		v, err := json.Marshal(s)
		if err != nil {
			return err
		}
		b = append(append(append(b, k...), ':'), v...)
		return nil
	}
	if err := add("ja", t.Ja); err != nil {
		return nil, err
	}
	if t.En != "" {
		if err := add("en", t.En); err != nil {
			return nil, err
		}
	}
	tags := make([]string, 0, len(t.Other))
	for tag := range t.Other {
		tags = append(tags, tag)
	}
	sort.Strings(tags)
	for _, tag := range tags {
		if err := add(tag, t.Other[tag]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads a label object strictly (strings only, no
// duplicate tags); Validate checks the tags.
func (t *Text) UnmarshalJSON(data []byte) error {
	var m map[string]string
	if err := strictjson.Decode(data, &m); err != nil {
		return err
	}
	if m == nil {
		return errors.New("label is not an object")
	}
	if _, ok := m["ja"]; !ok {
		return fmt.Errorf("%w %q", strictjson.ErrMissing, "ja")
	}
	var out Text
	for tag, s := range m {
		switch tag {
		case "ja":
			out.Ja = s
		case "en":
			out.En = s
		default:
			if out.Other == nil {
				out.Other = map[string]string{}
			}
			out.Other[tag] = s
		}
	}
	*t = out
	return nil
}

// In returns the label in lang, a BCP 47 tag: the label of exactly that
// tag if it has one; else, for a tag of Japanese (ja-x-easy, ja-JP), the
// Japanese label; for any other language the English one if there is
// one, and the Japanese one otherwise.
func (t Text) In(lang string) string {
	switch lang {
	case "ja":
		return t.Ja
	case "en":
		if t.En != "" {
			return t.En
		}
		return t.Ja
	}
	if s := t.Other[lang]; s != "" {
		return s
	}
	if lang == "ja" || strings.HasPrefix(lang, "ja-") || t.En == "" {
		return t.Ja
	}
	return t.En
}

// Option is one choice of a single- or multiple-choice question.
type Option struct {
	ID          string `json:"id"`
	Label       Text   `json:"label"`
	Description *Text  `json:"description,omitempty"`
}

// Question is one question of a manifest.
type Question struct {
	ID       string   `json:"id"`
	Kind     string   `json:"kind"`
	Label    Text     `json:"label"`
	Options  []Option `json:"options,omitempty"`  // single, multiple
	Min      int      `json:"min,omitempty"`      // multiple: fewest selections; rating: lowest value
	Max      int      `json:"max,omitempty"`      // multiple: most selections; rating: highest value
	Optional bool     `json:"optional,omitempty"` // single: may be left blank
	MinLabel *Text    `json:"minLabel,omitempty"` // rating: meaning of the lowest value
	MaxLabel *Text    `json:"maxLabel,omitempty"` // rating: meaning of the highest value
	// MaxLength is a text question's maximum answer length in Unicode
	// characters (scalar values).
	MaxLength int `json:"maxLength,omitempty"`
}

// RankMax is the number of options a rank question lets a voter rank: its
// max, or every option when max is absent (0).
func (q *Question) RankMax() int {
	if q.Max == 0 {
		return len(q.Options)
	}
	return q.Max
}

// Manifest describes an election or survey. Its hash is the SHA-256
// transcript of its exact bytes (SPEC.md §7.3), so it is always handled
// together with the bytes it was decoded from.
type Manifest struct {
	Spec        string `json:"spec"`
	ID          string `json:"id"`
	Kind        string `json:"kind"` // "vote" or "survey"
	Title       Text   `json:"title"`
	Description *Text  `json:"description,omitempty"`
	Opens       string `json:"opens,omitempty"`  // RFC 3339
	Closes      string `json:"closes,omitempty"` // RFC 3339
	Trustees    int    `json:"trustees"`
	Threshold   int    `json:"threshold"`
	// Privacy is the privacy threshold: the fewest counted ballots a
	// tally must hold for any trustee to decrypt it (SPEC.md §7.2, §9.2).
	// Absent means DefaultPrivacyThreshold; use PrivacyThreshold to read it.
	Privacy   *int       `json:"privacyThreshold,omitempty"`
	Questions []Question `json:"questions"`
	// Board names the board's checkpoint key and the election's witness
	// policy (SPEC.md §7.1, §13.7). Optional in a draft and in an offline
	// record; a server fills in its key when the election is created, and
	// a record with a board requires it.
	Board *BoardPolicy `json:"board,omitempty"`
}

// BoardPolicy is the manifest's board object (SPEC.md §7.1): the board's
// note verifier key (board.ParseVerifierKey), and the witnesses of which
// at least Quorum must cosign a checkpoint.
type BoardPolicy struct {
	Key       string    `json:"key"`
	Witnesses []Witness `json:"witnesses,omitempty"`
	Quorum    int       `json:"quorum,omitempty"`
}

// Witness is one organisation's witness: its name for people, its
// cosignature/v1 verifier key (witness.ParseKey) and the URL prefix that
// takes its C2SP tlog-witness submissions.
type Witness struct {
	Name Text   `json:"name"`
	Key  string `json:"key"`
	URL  string `json:"url"`
}

// MaxWitnessURL bounds a witness's URL.
const MaxWitnessURL = 2000

var witnessURL = regexp.MustCompile(`^https?://[a-z0-9.-]+(:[1-9][0-9]{0,4})?(/[A-Za-z0-9._~/-]*)?$`)

// WitnessPolicy returns the manifest's witness policy, or nil if the
// manifest names no board key.
func (m *Manifest) WitnessPolicy() (*witness.Policy, error) {
	if m.Board == nil {
		return nil, nil
	}
	return m.Board.policy(m.ID)
}

// policy validates the board object (SPEC.md §7.2) and returns its policy.
func (b *BoardPolicy) policy(id string) (*witness.Policy, error) {
	v, err := board.ParseVerifierKey(b.Key)
	if err != nil {
		return nil, bad("board key: %v", err)
	}
	if !strings.HasSuffix(v.Name(), "/koe/"+id) || len(v.Name()) == len("/koe/"+id) || strings.Contains(strings.TrimSuffix(v.Name(), "/koe/"+id), "/") {
		return nil, bad("board key: its name %q is not the election's origin HOST/koe/%s", v.Name(), id)
	}
	if b.Witnesses != nil && (len(b.Witnesses) < 1 || len(b.Witnesses) > witness.MaxWitnesses) {
		return nil, bad("board witnesses: %d, want 1..%d (or omit the list)", len(b.Witnesses), witness.MaxWitnesses)
	}
	keys := make([]*witness.Key, len(b.Witnesses))
	for i, w := range b.Witnesses {
		where := fmt.Sprintf("board witness %d", i+1)
		if err := checkText(where+" name", w.Name); err != nil {
			return nil, err
		}
		if keys[i], err = witness.ParseKey(w.Key); err != nil {
			return nil, bad("%s: %v", where, err)
		}
		if err := checkWitnessURL(w.URL); err != nil {
			return nil, bad("%s: %v", where, err)
		}
	}
	p, err := witness.NewPolicy(v, keys, b.Quorum)
	if err != nil {
		return nil, bad("board: %v", err)
	}
	return p, nil
}

// checkWitnessURL accepts http or https, a lower-case host name or IPv4
// address, a port 1..65535 and a path of unreserved characters and "/".
func checkWitnessURL(u string) error {
	m := witnessURL.FindStringSubmatch(u)
	if m == nil || len(u) > MaxWitnessURL {
		return fmt.Errorf("url %q is not http(s)://host[:port][/path] (lower-case host, path of A-Z a-z 0-9 . _ ~ - /)", u)
	}
	if m[1] != "" {
		if n, _ := strconv.Atoi(m[1][1:]); n > 65535 {
			return fmt.Errorf("url %q: port above 65535", u)
		}
	}
	return nil
}

// PrivacyThreshold is the fewest counted ballots whose tally the trustees
// decrypt: the manifest's privacyThreshold, or DefaultPrivacyThreshold.
func (m *Manifest) PrivacyThreshold() int {
	if m.Privacy == nil {
		return DefaultPrivacyThreshold
	}
	return *m.Privacy
}

// ErrManifest is wrapped by every manifest validation error.
var ErrManifest = errors.New("invalid manifest")

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ParseManifest decodes and validates a manifest strictly: unknown fields,
// trailing data, oversize input and every rule of SPEC.md §7.2 are errors.
func ParseManifest(data []byte) (*Manifest, error) {
	if len(data) > MaxManifestSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrManifest, len(data), MaxManifestSize)
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%w: not UTF-8", ErrManifest)
	}
	var m Manifest
	if err := strictjson.Decode(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrManifest, err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrManifest, fmt.Sprintf(format, args...))
}

func checkText(where string, t Text) error { return CheckText(where, t, maxLabel) }

// CheckText checks a label as a manifest's are checked (SPEC §7.1): a
// Japanese text, other languages under canonical BCP 47 tags, none empty,
// each at most maxBytes long.
func CheckText(where string, t Text, maxBytes int) error {
	if t.Ja == "" {
		return bad("%s: Japanese label is empty", where)
	}
	if len(t.Ja) > maxBytes || len(t.En) > maxBytes {
		return bad("%s: label longer than %d bytes", where, maxBytes)
	}
	if len(t.Other) > maxTextLanguages-2 {
		return bad("%s: labels in %d languages, limit %d", where, len(t.Other)+2, maxTextLanguages)
	}
	for tag, s := range t.Other {
		lt, err := language.Parse(tag)
		if err != nil {
			return bad("%s: %q is not a BCP 47 language tag", where, tag)
		}
		if lt.String() != tag {
			return bad("%s: language tag %q is not in canonical form: write %q", where, tag, lt.String())
		}
		if tag == "ja" || tag == "en" {
			return bad("%s: language %q given twice", where, tag)
		}
		if s == "" {
			return bad("%s: %s label is empty", where, tag)
		}
		if len(s) > maxBytes {
			return bad("%s: label longer than %d bytes", where, maxBytes)
		}
	}
	return nil
}

// Validate checks the rules of SPEC.md §7.2.
func (m *Manifest) Validate() error {
	if m.Spec != group.Version {
		return bad("spec is %q, want %q", m.Spec, group.Version)
	}
	if !idPattern.MatchString(m.ID) {
		return bad("id %q: use 1-64 of a-z, 0-9, '-' and '_', starting with a letter or digit", m.ID)
	}
	if m.Kind != "vote" && m.Kind != "survey" {
		return bad("kind is %q, want \"vote\" or \"survey\"", m.Kind)
	}
	if err := checkText("title", m.Title); err != nil {
		return err
	}
	if m.Description != nil {
		if err := checkText("description", *m.Description); err != nil {
			return err
		}
	}
	var opens, closes time.Time
	var err error
	if m.Opens != "" {
		if opens, err = parseRFC3339(m.Opens); err != nil {
			return bad("opens: %v", err)
		}
	}
	if m.Closes != "" {
		if closes, err = parseRFC3339(m.Closes); err != nil {
			return bad("closes: %v", err)
		}
	}
	if !opens.IsZero() && !closes.IsZero() && !closes.After(opens) {
		return bad("closes (%s) is not after opens (%s)", m.Closes, m.Opens)
	}
	if m.Trustees < 1 || m.Trustees > MaxTrustees {
		return bad("trustees is %d, want 1..%d", m.Trustees, MaxTrustees)
	}
	if m.Threshold < 1 || m.Threshold > m.Trustees {
		return bad("threshold is %d, want 1..%d (the number of trustees)", m.Threshold, m.Trustees)
	}
	if m.Privacy != nil && (*m.Privacy < 1 || *m.Privacy > MaxPrivacyThreshold) {
		return bad("privacyThreshold is %d, want 1..%d (the fewest counted ballots whose results are published; omit it for %d)", *m.Privacy, MaxPrivacyThreshold, DefaultPrivacyThreshold)
	}
	if len(m.Questions) == 0 || len(m.Questions) > MaxQuestions {
		return bad("%d questions, want 1..%d", len(m.Questions), MaxQuestions)
	}
	seen := map[string]bool{}
	selections := 0
	for i := range m.Questions {
		q := &m.Questions[i]
		if !idPattern.MatchString(q.ID) {
			return bad("question %d: id %q is not valid", i+1, q.ID)
		}
		if seen[q.ID] {
			return bad("question %d: id %q used twice", i+1, q.ID)
		}
		seen[q.ID] = true
		where := fmt.Sprintf("question %q", q.ID)
		if err := checkText(where+" label", q.Label); err != nil {
			return err
		}
		if err := q.validate(where); err != nil {
			return err
		}
		selections += q.selections()
	}
	if selections > MaxSelections {
		return bad("%d selections in all (counting text and rank components), limit %d", selections, MaxSelections)
	}
	if m.Board != nil {
		if _, err := m.Board.policy(m.ID); err != nil {
			return err
		}
	}
	return nil
}

// parseRFC3339 is time.Parse(time.RFC3339, s), which also takes a zone
// offset of 24 hours or more; RFC 3339 §5.6 allows hours 00–23 only.
// OpensAt and ClosesAt return the manifest's opens and closes times, or
// the zero time when it has none (ParseManifest checked them).
func (m *Manifest) OpensAt() time.Time  { t, _ := parseRFC3339(m.Opens); return t }
func (m *Manifest) ClosesAt() time.Time { t, _ := parseRFC3339(m.Closes); return t }

func parseRFC3339(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, err
	}
	if !strings.HasSuffix(s, "Z") {
		if z := s[len(s)-6:]; z[1:3] > "23" || z[4:6] > "59" {
			return t, fmt.Errorf("%q has an invalid time zone offset", s)
		}
	}
	return t, nil
}

func (q *Question) validate(where string) error {
	if q.Kind != KindText && q.MaxLength != 0 {
		return bad("%s: maxLength is for text questions", where)
	}
	switch q.Kind {
	case KindSingle, KindMultiple, KindRank:
		if len(q.Options) < 1 || len(q.Options) > MaxOptions {
			return bad("%s: %d options, want 1..%d", where, len(q.Options), MaxOptions)
		}
		ids := map[string]bool{}
		for j, o := range q.Options {
			if !idPattern.MatchString(o.ID) {
				return bad("%s option %d: id %q is not valid", where, j+1, o.ID)
			}
			if ids[o.ID] {
				return bad("%s: option id %q used twice", where, o.ID)
			}
			ids[o.ID] = true
			if err := checkText(fmt.Sprintf("%s option %q", where, o.ID), o.Label); err != nil {
				return err
			}
			if o.Description != nil {
				if err := checkText(fmt.Sprintf("%s option %q description", where, o.ID), *o.Description); err != nil {
					return err
				}
			}
		}
		if q.MinLabel != nil || q.MaxLabel != nil {
			return bad("%s: minLabel and maxLabel are for rating questions", where)
		}
		if q.Kind == KindRank {
			if len(q.Options) < 2 {
				return bad("%s: a rank question needs at least 2 options", where)
			}
			if q.Optional {
				return bad("%s: a rank question has min instead of \"optional\"", where)
			}
			if k := q.RankMax(); q.Max < 0 || q.Min < 0 || q.Min > k || k > len(q.Options) {
				return bad("%s: min %d and max %d must satisfy 0 ≤ min ≤ max ≤ %d options (max absent: all)", where, q.Min, q.Max, len(q.Options))
			}
			return nil
		}
		if q.Kind == KindSingle {
			if q.Min != 0 || q.Max != 0 {
				return bad("%s: a single-choice question takes no min or max (use \"optional\")", where)
			}
			return nil
		}
		if q.Optional {
			return bad("%s: a multiple-choice question has min instead of \"optional\"", where)
		}
		if q.Min < 0 || q.Max < 1 || q.Min > q.Max || q.Max > len(q.Options) {
			return bad("%s: min %d and max %d must satisfy 0 ≤ min ≤ max, 1 ≤ max ≤ %d options", where, q.Min, q.Max, len(q.Options))
		}
	case KindRating:
		if len(q.Options) != 0 || q.Optional {
			return bad("%s: a rating question has no options and cannot be optional", where)
		}
		if q.Min < 0 || q.Max <= q.Min || q.Max-q.Min > MaxRatingSpan || q.Max > MaxRatingValue {
			return bad("%s: scale %d..%d must have 0 ≤ min < max ≤ min+%d and max ≤ %d", where, q.Min, q.Max, MaxRatingSpan, MaxRatingValue)
		}
		for _, t := range []*Text{q.MinLabel, q.MaxLabel} {
			if t != nil {
				if err := checkText(where+" scale label", *t); err != nil {
					return err
				}
			}
		}
	case KindText:
		if len(q.Options) != 0 || q.Min != 0 || q.Max != 0 || q.MinLabel != nil || q.MaxLabel != nil {
			return bad("%s: a text question has maxLength and optional only (no options, min, max or scale labels)", where)
		}
		if q.MaxLength < 1 || q.MaxLength > MaxTextLength {
			return bad("%s: maxLength %d, want 1..%d characters", where, q.MaxLength, MaxTextLength)
		}
	default:
		return bad("%s: kind %q, want single, multiple, rating, text or rank", where, q.Kind)
	}
	return nil
}

// selections is the number of ciphertexts of the question in a ballot:
// its selections, or for a text question its width (SPEC.md §8.1).
func (q *Question) selections() int {
	switch q.Kind {
	case KindRating:
		return 1
	case KindText:
		return textenc.WidthOf(q.MaxLength)
	}
	return len(q.Options)
}

// Mixed returns the indices of the manifest's text and rank questions, in
// order: the questions whose ciphertext vectors are mixed and decrypted
// ballot by ballot instead of tallied (SPEC.md §8.1).
func (m *Manifest) Mixed() []int {
	var out []int
	for i := range m.Questions {
		if Mixed(m.Questions[i].Kind) {
			out = append(out, i)
		}
	}
	return out
}

// Hash returns the manifest hash of the exact manifest bytes (SPEC.md §7.3).
func Hash(manifestBytes []byte) [32]byte {
	return group.NewDigest("koe/v2/manifest").Bytes("manifest", manifestBytes).Digest32()
}
