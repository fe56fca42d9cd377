package oidcreg

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	claims := Claims{
		"sub":                 "u1",
		"birthdate":           "2008-04-02",
		"birthdate_compact":   "20080402",
		"resident":            true,
		"level":               3.0,
		"address":             map[string]any{"formatted": "茨城県つくば市研究学園1-1-1", "locality": "つくば市"},
		"x.dotted":            "top",
		"empty":               nil,
		"address_as_string":   "茨城県つくば市",
		"birthdate_malformed": "April 2008",
	}
	at := time.Date(2026, 4, 1, 12, 0, 0, 0, jst) // the day before the 18th birthday
	tests := []struct {
		rule   Rule
		reason string // "" if it holds
	}{
		{Rule{Claim: "address.locality", Op: OpEquals, Value: "つくば市"}, ""},
		{Rule{Claim: "address.locality", Op: OpEquals, Value: "土浦市"}, "mismatch"},
		{Rule{Claim: "address.formatted", Op: OpContains, Value: "つくば市"}, ""},
		{Rule{Claim: "address.formatted", Op: OpContains, Value: "水戸市"}, "mismatch"},
		{Rule{Claim: "address", Op: OpContains, Value: "つくば市"}, "malformed"},
		{Rule{Claim: "address.region", Op: OpExists}, "missing"},
		{Rule{Claim: "empty", Op: OpExists}, "missing"},
		{Rule{Claim: "sub", Op: OpExists}, ""},
		{Rule{Claim: "x.dotted", Op: OpEquals, Value: "top"}, ""},
		{Rule{Claim: "resident", Op: OpEquals, Value: true}, ""},
		{Rule{Claim: "resident", Op: OpEquals, Value: "true"}, "mismatch"},
		{Rule{Claim: "level", Op: OpEquals, Value: 3.0}, ""},
		{Rule{Claim: "level", Op: OpIn, Value: []any{1.0, 2.0}}, "mismatch"},
		{Rule{Claim: "address.locality", Op: OpIn, Value: []any{"土浦市", "つくば市"}}, ""},
		{Rule{Claim: "birthdate", Op: OpAgeAtLeast, Value: 18.0}, ""},
		{Rule{Claim: "birthdate_compact", Op: OpAgeAtLeast, Value: 18.0}, ""},
		{Rule{Claim: "birthdate", Op: OpAgeAtLeast, Value: 19.0}, "mismatch"},
		{Rule{Claim: "birthdate_malformed", Op: OpAgeAtLeast, Value: 18.0}, "malformed"},
		{Rule{Claim: "missing", Op: OpAgeAtLeast, Value: 18.0}, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.rule.String(), func(t *testing.T) {
			err := Check([]Rule{{Claim: "sub", Op: OpExists}, tt.rule}, claims, at)
			var re *RuleError
			switch {
			case tt.reason == "" && err != nil:
				t.Fatalf("Check = %v, want nil", err)
			case tt.reason != "" && (!errors.As(err, &re) || re.Reason != tt.reason || re.Index != 2):
				t.Fatalf("Check = %v, want rule 2 %s", err, tt.reason)
			}
			if err != nil && strings.Contains(err.Error(), "研究学園") {
				t.Errorf("the error quotes a claim's value: %v", err)
			}
		})
	}
}

func TestAge(t *testing.T) {
	d := func(s string) time.Time {
		t.Helper()
		v, err := ParseBirthdate(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		born, at string
		want     int
	}{
		{"2008-04-02", "2026-04-01", 18}, // a year is completed the day before the birthday
		{"2008-04-02", "2026-03-31", 17},
		{"2008-04-01", "2026-03-31", 18},
		{"2008-02-29", "2026-02-28", 18}, // leap-day births complete a year on Feb 28
		{"2008-02-29", "2026-02-27", 17},
		{"2008-03-01", "2026-02-28", 18},
		{"2030-01-01", "2026-01-01", 0},
	}
	for _, tt := range tests {
		if got := Age(d(tt.born), d(tt.at)); got != tt.want {
			t.Errorf("Age(%s, %s) = %d, want %d", tt.born, tt.at, got, tt.want)
		}
	}
	// The day is taken in Asia/Tokyo: 2026-03-31T15:00Z is April 1 in Japan.
	if got := Age(d("2008-04-02"), time.Date(2026, 3, 31, 15, 0, 0, 0, time.UTC)); got != 18 {
		t.Errorf("Age at 2026-03-31T15:00Z = %d, want 18 (April 1 in Tokyo)", got)
	}
}

func TestParse(t *testing.T) {
	base := `"issuer":"https://id.example.jp","clientID":"koe","clientSecret":"s3cret","redirectURL":"https://koe.example.jp/api/v1/elections/e/oidc/callback"`
	c, err := Parse([]byte(`{` + base + `,"rules":[{"claim":"birthdate","op":"age-at-least","value":18}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.IdentityClaim != "sub" || len(c.Scopes) != 1 || c.Scopes[0] != "openid" || c.ClientAuth != AuthSecretBasic {
		t.Errorf("defaults not filled in: %+v", c)
	}
	if r := c.Redacted(); r.ClientSecret == "s3cret" || c.ClientSecret != "s3cret" {
		t.Error("Redacted shows the secret or changes the original")
	}
	bad := []struct{ json, want string }{
		{`{"clientID":"koe","clientSecret":"s","redirectURL":"https://koe.example.jp/cb"}`, `missing required field "issuer"`},
		{`{"issuer":"https://id.example.jp","clientSecret":"s","redirectURL":"https://koe.example.jp/cb"}`, `missing required field "clientID"`},
		{`{"issuer":"","clientID":"koe","clientSecret":"s","redirectURL":"https://koe.example.jp/cb"}`, "issuer is required"},
		{`{` + strings.Replace(base, "https://id", "http://id", 1) + `}`, "must use https"},
		{`{` + base + `,"rules":[{"claim":"x","op":"startsWith","value":"a"}]}`, `unknown op "startsWith"`},
		{`{` + base + `,"rules":[{"claim":"x","op":"age-at-least","value":"18"}]}`, "whole number"},
		{`{` + base + `,"rules":[{"claim":"x","op":"in","value":[]}]}`, "non-empty list"},
		{`{` + base + `,"rules":[{"claim":"x","op":"exists","value":1}]}`, "takes no value"},
		{`{` + base + `,"scopes":["profile"]}`, `include "openid"`},
		{`{` + base + `,"clientAuth":"private_key_jwt"}`, "clientKey"},
		{`{` + base + `,"secret":"x"}`, "unknown field"},
		{`{"issuer":"https://id.example.jp","clientID":"koe","redirectURL":"https://koe.example.jp/cb"}`, "clientSecret is required"},
	}
	for _, tt := range bad {
		_, err := Parse([]byte(tt.json))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%s) = %v, want an error with %q", tt.json, err, tt.want)
		}
	}
	for _, ok := range []string{"http://127.0.0.1:8080", "http://localhost:1234/realm"} {
		if err := checkURL(ok); err != nil {
			t.Errorf("checkURL(%q) = %v", ok, err)
		}
	}
}
