package oidcreg

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// TestPrivateKeyJWT checks the client assertion sent to the token
// endpoint with clientAuth private_key_jwt, and that a refusal is
// reported as ReasonExchange.
func TestPrivateKeyJWT(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk, _ := json.Marshal(jose.JSONWebKey{Key: key, KeyID: "k1", Algorithm: "ES256"})
	mux := http.NewServeMux()
	ts := httptest.NewServer(mux)
	defer ts.Close()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": ts.URL, "authorization_endpoint": ts.URL + "/authorize",
			"token_endpoint": ts.URL + "/token", "jwks_uri": ts.URL + "/jwks"})
	})
	var got jwt.Claims
	var form map[string][]string
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		form = r.PostForm
		tok, err := jwt.ParseSigned(r.PostForm.Get("client_assertion"), []jose.SignatureAlgorithm{jose.ES256})
		if err == nil {
			err = tok.Claims(&key.PublicKey, &got)
		}
		if err != nil {
			t.Errorf("client assertion: %v", err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_grant"}`))
	})
	cfg := Config{Issuer: ts.URL, ClientID: "RP00000001", ClientAuth: AuthPrivateKeyJWT, ClientKey: jwk,
		RedirectURL: "https://koe.example.jp/api/v1/elections/e/oidc/callback"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	_, err = NewClient(cfg, nil, nil).Exchange(context.Background(), "code", "verifier-verifier-verifier-verifier-verifier", "nonce")
	var oe *Error
	if !errors.As(err, &oe) || oe.Reason != ReasonExchange {
		t.Fatalf("Exchange = %v, want %s", err, ReasonExchange)
	}
	if got.Issuer != "RP00000001" || got.Subject != "RP00000001" || len(got.Audience) != 1 || got.Audience[0] != ts.URL+"/token" || got.ID == "" || got.Expiry == nil {
		t.Errorf("client assertion claims: %+v", got)
	}
	if form["client_assertion_type"][0] != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || form["code_verifier"][0] == "" || form["client_secret"] != nil {
		t.Errorf("token request form: %v", form)
	}
}
