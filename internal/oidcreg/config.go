// Package oidcreg is the registrar's digital-ID sign-in (SPEC.md §15.6): an
// election may let voters register by signing in with an OpenID Connect
// provider (the authorization code flow with PKCE S256, state and nonce)
// instead of a one-time code. The provider's ID token is verified, the
// election's eligibility rules are evaluated on its claims, and one claim
// names the person; the server keeps only a keyed hash of that name.
//
// The package knows nothing of elections or credentials: it configures a
// provider (Config), runs the flow (Client, Pending) and evaluates rules
// (Check). internal/server ties it to the registrar.
package oidcreg

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/koe-vote/koe/internal/strictjson"
)

// Client authentication methods at the provider's token endpoint.
const (
	AuthSecretBasic   = "client_secret_basic" // the default
	AuthSecretPost    = "client_secret_post"
	AuthPrivateKeyJWT = "private_key_jwt" // a JWT signed with ClientKey (RFC 7523)
)

// Rule operators.
const (
	OpEquals     = "equals"       // the claim equals the value (string, number or boolean)
	OpContains   = "contains"     // the claim is a string containing the value
	OpIn         = "in"           // the claim equals one of the values (a list)
	OpAgeAtLeast = "age-at-least" // the claim is a birthdate; the age on the reference day is at least the value
	OpExists     = "exists"       // the claim is present and not null
)

// Config is an election's digital-ID provider. ClientSecret and ClientKey
// are secrets: they live in the election's private configuration and are
// never returned by the API or logged (see Redacted).
type Config struct {
	// Issuer is the provider's issuer URL; its discovery document is at
	// Issuer + "/.well-known/openid-configuration". https, except for a
	// loopback host (tests).
	Issuer   string `json:"issuer"`
	ClientID string `json:"clientID"`
	// ClientAuth is how the server authenticates at the token endpoint:
	// "client_secret_basic" (default), "client_secret_post" or
	// "private_key_jwt".
	ClientAuth   string `json:"clientAuth,omitempty"`
	ClientSecret string `json:"clientSecret,omitempty"`
	// ClientKey is the private JWK that signs client assertions
	// (private_key_jwt), with its "kid" and "alg" as registered.
	ClientKey json.RawMessage `json:"clientKey,omitempty"`
	// RedirectURL is this election's callback as registered at the
	// provider: <server>/api/v1/elections/<id>/oidc/callback.
	RedirectURL string `json:"redirectURL"`
	// Scopes requested; default ["openid"]; must include "openid".
	Scopes []string `json:"scopes,omitempty"`
	// IdentityClaim names the person (default "sub"); dotted paths reach
	// into objects.
	IdentityClaim string `json:"identityClaim,omitempty"`
	// UserInfo also fetches the userinfo endpoint's claims (for claims
	// the provider does not put in the ID token). Claims in the ID token
	// win; a userinfo response for another "sub" is rejected.
	UserInfo bool `json:"userinfo,omitempty"`
	// Rules must all hold for a person to be issued a credential.
	Rules []Rule `json:"rules,omitempty"`
}

// Rule is one eligibility condition on the claims.
type Rule struct {
	// Claim is a claim name, or a dotted path into an object claim
	// ("address.locality"). A top-level claim whose name contains dots is
	// found first.
	Claim string `json:"claim"`
	Op    string `json:"op"`
	// Value is a string, number or boolean (equals), a string (contains),
	// a list of those (in), a whole number of years (age-at-least), or
	// absent (exists).
	Value any `json:"value,omitempty"`
}

func (r Rule) String() string {
	if r.Value == nil {
		return fmt.Sprintf("%s %s", r.Claim, r.Op)
	}
	v, _ := json.Marshal(r.Value)
	return fmt.Sprintf("%s %s %s", r.Claim, r.Op, v)
}

// maxConfig bounds a configuration's JSON.
const maxConfig = 64 << 10

// Parse strictly decodes and validates a configuration, filling in the
// defaults.
func Parse(data []byte) (*Config, error) {
	if len(data) > maxConfig {
		return nil, fmt.Errorf("oidc configuration: larger than %d bytes", maxConfig)
	}
	var c Config
	if err := strictjson.Decode(data, &c); err != nil {
		return nil, fmt.Errorf("oidc configuration: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks the configuration and fills in the defaults.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("oidc configuration: "+format, args...)
	}
	if c.Issuer == "" {
		return bad("issuer is required (the provider's issuer URL)")
	}
	if err := checkURL(c.Issuer); err != nil {
		return bad("issuer: %v", err)
	}
	if c.ClientID == "" {
		return bad("clientID is required")
	}
	if c.RedirectURL == "" {
		return bad("redirectURL is required (<server>/api/v1/elections/<id>/oidc/callback, as registered at the provider)")
	}
	if err := checkURL(c.RedirectURL); err != nil {
		return bad("redirectURL: %v", err)
	}
	switch c.ClientAuth {
	case "":
		c.ClientAuth = AuthSecretBasic
		fallthrough
	case AuthSecretBasic, AuthSecretPost:
		if c.ClientSecret == "" {
			return bad("clientSecret is required with clientAuth %q", c.ClientAuth)
		}
		if len(c.ClientKey) != 0 {
			return bad("clientKey is only for clientAuth %q", AuthPrivateKeyJWT)
		}
	case AuthPrivateKeyJWT:
		if len(c.ClientKey) == 0 {
			return bad("clientKey (a private JWK) is required with clientAuth %q", AuthPrivateKeyJWT)
		}
		if c.ClientSecret != "" {
			return bad("clientSecret is not used with clientAuth %q", AuthPrivateKeyJWT)
		}
		if _, err := parseClientKey(c.ClientKey); err != nil {
			return bad("clientKey: %v", err)
		}
	default:
		return bad("unknown clientAuth %q (client_secret_basic, client_secret_post or private_key_jwt)", c.ClientAuth)
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid"}
	}
	if !slices.Contains(c.Scopes, "openid") {
		return bad("scopes must include \"openid\"")
	}
	for _, s := range c.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			return bad("scope %q is not a scope token", s)
		}
	}
	if c.IdentityClaim == "" {
		c.IdentityClaim = "sub"
	}
	for i, r := range c.Rules {
		if err := r.validate(); err != nil {
			return bad("rule %d (%s): %v", i+1, r.Claim, err)
		}
	}
	return nil
}

// checkURL accepts an absolute https URL, or http on a loopback host.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%q is not an absolute URL with a host and no user or fragment", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return fmt.Errorf("%q must use https (http only on 127.0.0.1 or localhost, for tests)", s)
}

func (r Rule) validate() error {
	if r.Claim == "" {
		return errors.New("claim is required")
	}
	scalar := func(v any) bool {
		switch v.(type) {
		case string, bool, json.Number, float64:
			return true
		}
		return false
	}
	switch r.Op {
	case OpEquals:
		if !scalar(r.Value) {
			return fmt.Errorf("%s needs a string, number or boolean value", r.Op)
		}
	case OpContains:
		if s, ok := r.Value.(string); !ok || s == "" {
			return fmt.Errorf("%s needs a non-empty string value", r.Op)
		}
	case OpIn:
		list, ok := r.Value.([]any)
		if !ok || len(list) == 0 {
			return fmt.Errorf("%s needs a non-empty list of values", r.Op)
		}
		for _, v := range list {
			if !scalar(v) {
				return fmt.Errorf("%s: every value must be a string, number or boolean", r.Op)
			}
		}
	case OpAgeAtLeast:
		n, ok := number(r.Value)
		if !ok || n != math.Trunc(n) || n < 0 || n > 150 {
			return fmt.Errorf("%s needs a whole number of years from 0 to 150", r.Op)
		}
	case OpExists:
		if r.Value != nil {
			return fmt.Errorf("%s takes no value", r.Op)
		}
	case "":
		return errors.New("op is required (equals, contains, in, age-at-least or exists)")
	default:
		return fmt.Errorf("unknown op %q (equals, contains, in, age-at-least or exists)", r.Op)
	}
	return nil
}

// Redacted returns the configuration without its secrets, to show.
func (c Config) Redacted() Config {
	if c.ClientSecret != "" {
		c.ClientSecret = "(set)"
	}
	if len(c.ClientKey) != 0 {
		c.ClientKey = json.RawMessage(`"(set)"`)
	}
	return c
}
