package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
)

// msg returns the catalogue's message for key in lang, formatted with
// args. A missing key shows as the key itself (and fails the tests).
func msg(lang, key string, args ...any) string {
	m, ok := findMessage(lang, key, args)
	if !ok {
		return key
	}
	if len(args) == 0 {
		return m
	}
	return fmt.Sprintf(m, args...)
}

// Helpers for the templates, in the page's language.

// L picks a manifest label's text in the page's language.
func (v *view) L(t ballot.Text) string { return t.In(v.Lang) }

// Num writes a whole number with thousands separators.
func (v *view) Num(n any) string {
	var s string
	switch n := n.(type) {
	case int:
		s = strconv.Itoa(n)
	case int64:
		s = strconv.FormatInt(n, 10)
	case uint64:
		s = strconv.FormatUint(n, 10)
	default:
		s = fmt.Sprint(n)
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Pct writes a percentage with one decimal.
func (v *view) Pct(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) + "%" }

// Dec writes a number with two decimals.
func (v *view) Dec(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// F writes a coordinate.
func (v *view) F(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// Ints lists numbers.
func (v *view) Ints(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

func (v *view) loc() *time.Location {
	if v.site != nil {
		return v.site.opts.Location
	}
	return time.UTC
}

// Time writes a time to the second in the site's time zone.
func (v *view) Time(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(v.loc()).Format("2006-01-02 15:04:05 MST")
}

// ISO writes a time for a <time datetime> attribute.
func (v *view) ISO(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// RFC3339 writes a manifest's RFC 3339 time in the site's time zone.
func (v *view) RFC3339(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.In(v.loc()).Format("2006-01-02 15:04 MST")
}

// Date writes a manifest's RFC 3339 time as a resident reads it, in the
// site's time zone: 2026年12月20日 17:00 or 20 December 2026, 17:00.
func (v *view) Date(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	t = t.In(v.loc())
	return t.Format(dateLayouts[v.Lang].date)
}

// Bucket writes the start of a turnout bucket: an hour or a day.
func (v *view) Bucket(t time.Time, perDay bool) string {
	t = t.In(v.loc())
	if perDay {
		return t.Format(dateLayouts[v.Lang].day)
	}
	return t.Format(dateLayouts[v.Lang].hour)
}

// State names an election state.
func (v *view) State(s string) string { return v.T("state." + s) }

// StateHelp says what an election state means.
func (v *view) StateHelp(s string) string { return v.T("statehelp." + s) }

// Kind names an election kind (vote or survey).
func (v *view) Kind(k string) string { return v.T("kind." + k) }

// QuestionKind describes how a question is answered.
func (v *view) QuestionKind(q ballot.Question) string {
	switch q.Kind {
	case ballot.KindSingle:
		if q.Optional {
			return v.T("qkind.single.optional")
		}
		return v.T("qkind.single")
	case ballot.KindMultiple:
		return v.T("qkind.multiple", q.Min, q.Max)
	case ballot.KindRating:
		return v.T("qkind.rating", q.Min, q.Max)
	}
	return q.Kind
}

type headView struct {
	V    *view
	Info *api.ElectionInfo
}

type navView struct {
	V           *view
	ID, Current string
}

// Head is the argument of the "electionhead" template.
func (v *view) Head(in *api.ElectionInfo) headView { return headView{v, in} }

// Nav is the argument of the "electionnav" template.
func (v *view) Nav(id, current string) navView { return navView{v, id, current} }

// formView is the argument of the "ballotform" template.
type formView struct {
	V        *view
	M        *ballot.Manifest
	Prefix   string // before every element id, to put two forms on a page
	Disabled bool
}

// Form is the argument of the "ballotform" template for m.
func (v *view) Form(m *ballot.Manifest, prefix string, disabled bool) formView {
	return formView{V: v, M: m, Prefix: prefix, Disabled: disabled}
}

// Span lists the whole numbers lo..hi.
func (v *view) Span(lo, hi int) []int {
	out := make([]int, 0, hi-lo+1)
	for n := lo; n <= hi; n++ {
		out = append(out, n)
	}
	return out
}

// ScaleEnd writes, after the lowest and the highest point of a rating
// scale, what it means (for screen readers, which skip the visual ends).
func (v *view) ScaleEnd(q ballot.Question, n int) string {
	switch {
	case n == q.Min && q.MinLabel != nil:
		return " (" + v.L(*q.MinLabel) + ")"
	case n == q.Max && q.MaxLabel != nil:
		return " (" + v.L(*q.MaxLabel) + ")"
	}
	return ""
}

// Rule says how a question is answered.
func (v *view) Rule(q ballot.Question) string {
	switch q.Kind {
	case ballot.KindSingle:
		if q.Optional {
			return v.T("form.rule.single.optional")
		}
		return v.T("form.rule.single")
	case ballot.KindMultiple:
		if q.Min == q.Max {
			return v.T("form.rule.multiple.exact", q.Min)
		}
		if q.Min == 0 {
			return v.T("form.rule.multiple.upto", q.Max)
		}
		return v.T("form.rule.multiple", q.Min, q.Max)
	case ballot.KindRating:
		return v.T("form.rule.rating", q.Min, q.Max)
	case ballot.KindText:
		if q.Optional {
			return v.T("form.rule.text.optional", q.MaxLength)
		}
		return v.T("form.rule.text", q.MaxLength)
	case ballot.KindRank:
		if q.Min == 0 {
			return v.T("form.rule.rank.upto", q.RankMax())
		}
		return v.T("form.rule.rank", q.Min, q.RankMax())
	}
	return ""
}
