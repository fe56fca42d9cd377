package oidcreg

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
)

// Reasons a sign-in fails, as Error.Reason. They are stable: the server
// names them in its pages and API errors.
const (
	ReasonUnavailable  = "provider-unavailable"  // discovery or the token endpoint could not be reached
	ReasonNoVerifier   = "missing-pkce-verifier" // the sign-in has no PKCE verifier: the code is not redeemed
	ReasonExchange     = "exchange-refused"      // the token endpoint refused the code (wrong or missing PKCE verifier, reused code, …)
	ReasonNoIDToken    = "no-id-token"           // the token response had no ID token
	ReasonBadSignature = "bad-signature"         // the ID token is malformed or not signed by the provider's keys
	ReasonWrongIssuer  = "wrong-issuer"          // the ID token's iss is not the configured issuer
	ReasonAudience     = "wrong-audience"        // the ID token is not for this client
	ReasonExpired      = "expired-token"         // the ID token has expired (or is not yet valid)
	ReasonNonce        = "nonce-mismatch"        // the ID token's nonce is not this sign-in's
	ReasonUserInfo     = "userinfo-failed"       // the userinfo endpoint failed or named another subject
	ReasonNoIdentity   = "no-identity"           // the identity claim is missing or not a non-empty string
)

// Error is a failed sign-in. Its message never quotes a token, a code or
// a claim value.
type Error struct {
	Reason string
	Detail string
}

func (e *Error) Error() string { return e.Reason + ": " + e.Detail }

func fail(reason, format string, args ...any) *Error {
	return &Error{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Client runs the authorization code flow with one provider. It discovers
// the provider on first use (and again after a failed discovery).
type Client struct {
	cfg  Config
	http *http.Client
	now  func() time.Time

	mu       sync.Mutex
	provider *oidc.Provider
}

// NewClient returns a client of a validated configuration. hc makes every
// request to the provider (nil: a client with a 15-second timeout); now
// is the clock that ID-token expiry is checked against (nil: time.Now).
func NewClient(cfg Config, hc *http.Client, now func() time.Time) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	return &Client{cfg: cfg, http: hc, now: now}
}

// Config returns the client's configuration.
func (c *Client) Config() Config { return c.cfg }

func (c *Client) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, c.http)
}

func (c *Client) discover(ctx context.Context) (*oidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, nil
	}
	p, err := oidc.NewProvider(c.ctx(ctx), c.cfg.Issuer)
	if err != nil {
		return nil, fail(ReasonUnavailable, "discovery of %s: %v", c.cfg.Issuer, err)
	}
	c.provider = p
	return p, nil
}

func (c *Client) oauth(p *oidc.Provider) *oauth2.Config {
	ep := p.Endpoint()
	oc := &oauth2.Config{ClientID: c.cfg.ClientID, RedirectURL: c.cfg.RedirectURL, Scopes: c.cfg.Scopes, Endpoint: ep}
	switch c.cfg.ClientAuth {
	case AuthSecretBasic:
		oc.ClientSecret = c.cfg.ClientSecret
		oc.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	case AuthSecretPost:
		oc.ClientSecret = c.cfg.ClientSecret
		oc.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	case AuthPrivateKeyJWT:
		oc.Endpoint.AuthStyle = oauth2.AuthStyleInParams // client_id only; the assertion is added per request
	}
	return oc
}

// Start is a new sign-in's secrets: state, nonce and PKCE verifier.
type Start struct {
	State, Nonce, Verifier string
}

// NewStart draws a sign-in's state, nonce (32 random bytes each, base64url)
// and PKCE verifier (RFC 7636, 32 random bytes base64url: 43 characters).
func NewStart() Start {
	return Start{State: rand.Text() + rand.Text(), Nonce: rand.Text() + rand.Text(), Verifier: oauth2.GenerateVerifier()}
}

// AuthCodeURL returns the provider's authorization URL for a sign-in: the
// code flow with the state, the nonce and the S256 challenge of the
// verifier.
func (c *Client) AuthCodeURL(ctx context.Context, s Start) (string, error) {
	p, err := c.discover(ctx)
	if err != nil {
		return "", err
	}
	return c.oauth(p).AuthCodeURL(s.State, oidc.Nonce(s.Nonce), oauth2.S256ChallengeOption(s.Verifier)), nil
}

// Exchange redeems an authorization code with the PKCE verifier, verifies
// the ID token (signature by the provider's keys, issuer, audience and
// authorized party, expiry, nonce) and returns its claims, merged with the
// userinfo endpoint's if configured. Failures are *Error.
func (c *Client) Exchange(ctx context.Context, code, verifier, nonce string) (Claims, error) {
	if verifier == "" {
		return nil, fail(ReasonNoVerifier, "no PKCE verifier for this sign-in; the code is not redeemed")
	}
	if nonce == "" {
		return nil, fail(ReasonNonce, "no nonce for this sign-in")
	}
	p, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	oc := c.oauth(p)
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}
	if c.cfg.ClientAuth == AuthPrivateKeyJWT {
		assertion, err := c.clientAssertion(oc.Endpoint.TokenURL)
		if err != nil {
			return nil, err
		}
		opts = append(opts,
			oauth2.SetAuthURLParam("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
			oauth2.SetAuthURLParam("client_assertion", assertion))
	}
	tok, err := oc.Exchange(c.ctx(ctx), code, opts...)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			desc := re.ErrorCode
			if re.ErrorDescription != "" {
				desc += " (" + re.ErrorDescription + ")"
			}
			return nil, fail(ReasonExchange, "the provider refused the authorization code: %s", desc)
		}
		return nil, fail(ReasonUnavailable, "token endpoint: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, fail(ReasonNoIDToken, "the token response has no ID token (is \"openid\" among the scopes?)")
	}
	// The signature is checked by go-oidc against the provider's published
	// keys; issuer, audience and expiry are checked here so that each
	// failure has its own reason.
	v := p.Verifier(&oidc.Config{ClientID: c.cfg.ClientID, SkipIssuerCheck: true, SkipClientIDCheck: true, SkipExpiryCheck: true})
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		return nil, fail(ReasonBadSignature, "the ID token is not validly signed by %s: %v", c.cfg.Issuer, err)
	}
	if idt.Issuer != c.cfg.Issuer {
		return nil, fail(ReasonWrongIssuer, "the ID token was issued by %q, not by %q", idt.Issuer, c.cfg.Issuer)
	}
	if !slices.Contains(idt.Audience, c.cfg.ClientID) {
		return nil, fail(ReasonAudience, "the ID token is not for client %q", c.cfg.ClientID)
	}
	var claims Claims
	if err := idt.Claims(&claims); err != nil {
		return nil, fail(ReasonBadSignature, "the ID token's claims: %v", err)
	}
	if azp, ok := claims["azp"].(string); ok && azp != c.cfg.ClientID {
		return nil, fail(ReasonAudience, "the ID token's authorized party is not client %q", c.cfg.ClientID)
	} else if !ok && len(idt.Audience) > 1 {
		return nil, fail(ReasonAudience, "the ID token has several audiences and no authorized party")
	}
	now := c.now()
	if !idt.Expiry.After(now) {
		return nil, fail(ReasonExpired, "the ID token expired at %s", idt.Expiry.UTC().Format(time.RFC3339))
	}
	if nbf, ok := number(claims["nbf"]); ok && time.Unix(int64(nbf), 0).After(now.Add(5*time.Minute)) {
		return nil, fail(ReasonExpired, "the ID token is not valid before %s", time.Unix(int64(nbf), 0).UTC().Format(time.RFC3339))
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return nil, fail(ReasonNonce, "the ID token's nonce is not this sign-in's (a replayed or foreign token)")
	}
	if c.cfg.UserInfo {
		ui, err := p.UserInfo(c.ctx(ctx), oauth2.StaticTokenSource(tok))
		if err != nil {
			return nil, fail(ReasonUserInfo, "userinfo endpoint: %v", err)
		}
		if ui.Subject != idt.Subject {
			return nil, fail(ReasonUserInfo, "the userinfo response is for another subject than the ID token")
		}
		var extra Claims
		if err := ui.Claims(&extra); err != nil {
			return nil, fail(ReasonUserInfo, "userinfo claims: %v", err)
		}
		for k, v := range extra {
			if _, ok := claims[k]; !ok {
				claims[k] = v
			}
		}
	}
	return claims, nil
}

// Identity returns the configured identity claim: a non-empty string (or a
// number, as its JSON text).
func (c *Client) Identity(claims Claims) (string, error) {
	v, ok := claims.Lookup(c.cfg.IdentityClaim)
	if ok {
		switch x := v.(type) {
		case string:
			if x != "" {
				return x, nil
			}
		case float64, json.Number:
			b, _ := json.Marshal(x)
			return string(b), nil
		}
	}
	return "", fail(ReasonNoIdentity, "the provider did not send the identity claim %q as a non-empty string", c.cfg.IdentityClaim)
}

func parseClientKey(raw json.RawMessage) (*jose.JSONWebKey, error) {
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(raw); err != nil {
		return nil, err
	}
	if k.IsPublic() || !k.Valid() {
		return nil, errors.New("not a valid private JWK")
	}
	if k.Algorithm == "" {
		return nil, errors.New(`the JWK needs its "alg" (for example "RS256" or "ES256")`)
	}
	return &k, nil
}

// clientAssertion signs a private_key_jwt client assertion (RFC 7523 §3,
// OpenID Connect Core §9) for the token endpoint.
func (c *Client) clientAssertion(tokenURL string) (string, error) {
	k, err := parseClientKey(c.cfg.ClientKey)
	if err != nil {
		return "", fail(ReasonExchange, "clientKey: %v", err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Algorithm), Key: k}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fail(ReasonExchange, "clientKey: %v", err)
	}
	now := c.now()
	claims := jwt.Claims{
		Issuer: c.cfg.ClientID, Subject: c.cfg.ClientID, Audience: jwt.Audience{tokenURL},
		ID: rand.Text(), IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute)),
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", fail(ReasonExchange, "signing the client assertion: %v", err)
	}
	return s, nil
}
