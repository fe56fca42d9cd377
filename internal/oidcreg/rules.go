package oidcreg

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Claims are an ID token's (and optionally the userinfo endpoint's)
// claims, as decoded JSON.
type Claims map[string]any

// Lookup returns the claim at a name or dotted path, and whether it is
// present and not null. A top-level claim named with the whole path wins.
func (c Claims) Lookup(path string) (any, bool) {
	if v, ok := c[path]; ok {
		return v, v != nil
	}
	var cur any = map[string]any(c)
	for part := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, cur != nil
}

// RuleError says which eligibility rule a person's claims failed. It never
// quotes the claim's value.
type RuleError struct {
	Index  int    // 1-based
	Rule   Rule   // as configured (public: the election's rules)
	Reason string // "missing", "mismatch", "malformed"
}

func (e *RuleError) Error() string {
	switch e.Reason {
	case "missing":
		return fmt.Sprintf("eligibility rule %d (%s): the provider did not send the claim %q", e.Index, e.Rule, e.Rule.Claim)
	case "malformed":
		return fmt.Sprintf("eligibility rule %d (%s): the claim %q is not in the expected form", e.Index, e.Rule, e.Rule.Claim)
	}
	return fmt.Sprintf("eligibility rule %d (%s) does not hold", e.Index, e.Rule)
}

// Japan has no daylight saving time: a fixed zone needs no tz database.
var jst = time.FixedZone("Asia/Tokyo", 9*60*60)

// Check evaluates every rule on the claims; at is the reference moment
// for ages (the election's close, or now), taken as a day in Asia/Tokyo.
// It returns the first failing rule as a *RuleError.
func Check(rules []Rule, c Claims, at time.Time) error {
	for i, r := range rules {
		if reason := r.eval(c, at); reason != "" {
			return &RuleError{Index: i + 1, Rule: r, Reason: reason}
		}
	}
	return nil
}

func (r Rule) eval(c Claims, at time.Time) string {
	v, ok := c.Lookup(r.Claim)
	if !ok {
		return "missing"
	}
	switch r.Op {
	case OpExists:
		return ""
	case OpEquals:
		if equal(v, r.Value) {
			return ""
		}
	case OpIn:
		list, _ := r.Value.([]any)
		for _, w := range list {
			if equal(v, w) {
				return ""
			}
		}
	case OpContains:
		s, ok := v.(string)
		if !ok {
			return "malformed"
		}
		if strings.Contains(s, r.Value.(string)) {
			return ""
		}
	case OpAgeAtLeast:
		s, ok := v.(string)
		if !ok {
			return "malformed"
		}
		born, err := ParseBirthdate(s)
		if err != nil {
			return "malformed"
		}
		min, _ := number(r.Value)
		if float64(Age(born, at)) >= min {
			return ""
		}
	default:
		return "malformed"
	}
	return "mismatch"
}

// equal compares a claim with a configured value: strings and booleans
// exactly, numbers by value.
func equal(claim, want any) bool {
	if a, ok := number(claim); ok {
		b, ok := number(want)
		return ok && a == b
	}
	switch a := claim.(type) {
	case string:
		b, ok := want.(string)
		return ok && a == b
	case bool:
		b, ok := want.(bool)
		return ok && a == b
	}
	return false
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case int:
		return float64(n), true
	}
	return 0, false
}

// ParseBirthdate reads a birthdate as "YYYY-MM-DD" (OpenID Connect Core
// §5.1) or "YYYYMMDD".
func ParseBirthdate(s string) (time.Time, error) {
	layout := "2006-01-02"
	if len(s) == 8 {
		if _, err := strconv.Atoi(s); err == nil {
			layout = "20060102"
		}
	}
	t, err := time.ParseInLocation(layout, s, jst)
	if err != nil {
		return time.Time{}, fmt.Errorf("birthdate %q is not YYYY-MM-DD or YYYYMMDD", s)
	}
	return t, nil
}

// Age is the age in whole years, on the day of at in Asia/Tokyo, of a
// person born on the day born, counted as Japanese law does (年齢計算ニ関スル
// 法律): a year of age is completed at the end of the day before the
// birthday, so a person born on April 2 is 18 from April 1 eighteen years
// later, and one born on February 29 completes a year on February 28.
func Age(born, at time.Time) int {
	by, bm, bd := born.In(jst).Date()
	ay, am, ad := at.In(jst).Date()
	day := time.Date(ay, am, ad, 0, 0, 0, 0, time.UTC)
	b := time.Date(by, bm, bd, 0, 0, 0, 0, time.UTC)
	age := ay - by
	// The day this year's year of age is completed: the anniversary
	// (normalised, so Feb 29 becomes Mar 1) minus one day.
	if day.Before(b.AddDate(age, 0, -1)) {
		age--
	}
	return max(age, 0)
}
