package oidcreg

import (
	"strings"
	"testing"
)

func TestParseStaff(t *testing.T) {
	const base = `"issuer": "https://id.city.example", "clientID": "koe-console", "clientSecret": "s3cret"`
	c, err := ParseStaff([]byte(`{` + base + `, "redirectURL": "https://koe.city.example/admin/oidc/callback"}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.IdentityClaim != "sub" || c.ClientAuth != AuthSecretBasic || len(c.Scopes) != 1 || c.Scopes[0] != "openid" {
		t.Errorf("defaults not filled in: %+v", c)
	}
	bad := []struct{ json, want string }{
		{`{` + base + `, "redirectURL": "https://koe.city.example/api/v1/elections/x/oidc/callback"}`, "console's callback"},
		{`{` + base + `, "redirectURL": "https://koe.city.example/admin/oidc/callback?x=1"}`, "console's callback"},
		{`{` + base + `, "redirectURL": "http://koe.city.example/admin/oidc/callback"}`, "https"},
		{`{` + base + `, "redirectURL": "https://koe.city.example/admin/oidc/callback", "identityClaim": "email"}`, `"sub"`},
		{`{` + base + `, "redirectURL": "https://koe.city.example/admin/oidc/callback", "rules": [{"claim": "sub", "op": "exists"}]}`, "rules"},
		{`{` + base + `, "redirectURL": "https://koe.city.example/admin/oidc/callback", "extra": 1}`, "extra"},
		{`{"issuer": "https://id.city.example", "redirectURL": "https://koe.city.example/admin/oidc/callback"}`, "clientID"},
		{`[]`, "staff sign-in"},
		{``, "staff sign-in"},
	}
	for _, b := range bad {
		_, err := ParseStaff([]byte(b.json))
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("ParseStaff(%s) = %v, want an error naming %s", b.json, err, b.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the error quotes the client secret: %v", err)
		}
	}
}

func FuzzParseStaff(f *testing.F) {
	f.Add([]byte(`{"issuer": "https://id.city.example", "clientID": "c", "clientSecret": "s", "redirectURL": "https://koe.example/admin/oidc/callback"}`))
	f.Add([]byte(`{"issuer": "http://127.0.0.1:9/", "clientID": "c", "clientAuth": "client_secret_post", "clientSecret": "s", "redirectURL": "http://localhost/admin/oidc/callback", "scopes": ["openid", "email"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseStaff(data)
		if err != nil {
			return
		}
		if c.ValidateStaff() != nil || c.Validate() != nil || len(c.Rules) != 0 || c.IdentityClaim != "sub" {
			t.Fatalf("ParseStaff accepted a configuration that does not validate: %+v", c)
		}
	})
}
