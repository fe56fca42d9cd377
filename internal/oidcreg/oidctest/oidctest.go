// Package oidctest runs a real OpenID provider for tests: zitadel's op
// with its example storage, serving discovery, keys, the authorization
// endpoint (code flow with PKCE), the token and userinfo endpoints, with
// users whose extra claims (address, birthdate, …) the test chooses. Its
// login page has no form: each sign-in logs in as the user SignInAs named,
// so a test's HTTP client or browser just follows redirects.
//
// It is imported only by tests.
package oidctest

import (
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"sync"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/zitadel/oidc/v3/example/server/storage"

	"context"
)

// The client registered with the provider.
const (
	ClientID     = "koe-test"
	ClientSecret = "koe-test-secret"
)

// Provider is a running OpenID provider.
type Provider struct {
	URL string // the issuer

	server   *httptest.Server
	provider *op.Provider
	storage  *claimStorage

	mu   sync.Mutex
	next string // the user id the next sign-in logs in as
}

// claimStorage is the example storage, adding each user's extra claims to
// the ID tokens it issues.
type claimStorage struct {
	*storage.Storage
	claims map[string]map[string]any
}

func (s *claimStorage) SetUserinfoFromRequest(ctx context.Context, ui *zoidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, ui, token, scopes); err != nil {
		return err
	}
	for k, v := range s.claims[token.GetSubject()] {
		ui.AppendClaims(k, v)
	}
	return nil
}

type userStore map[string]*storage.User

func (u userStore) GetUserByID(id string) *storage.User { return u[id] }
func (u userStore) GetUserByUsername(name string) *storage.User {
	for _, x := range u {
		if x.Username == name {
			return x
		}
	}
	return nil
}
func (u userStore) ExampleClientID() string { return "service" }

// Start runs a provider on a loopback port. users maps a user id (the
// "sub") to its extra claims; redirects are the client's registered
// redirect URIs. Close stops it.
func Start(users map[string]map[string]any, redirects ...string) (*Provider, error) {
	p := &Provider{}
	var handler http.Handler
	p.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	p.URL = p.server.URL

	us := userStore{}
	for id := range users {
		us[id] = &storage.User{ID: id, Username: id, Password: "pw"}
	}
	clients := map[string]*storage.Client{ClientID: storage.WebClient(ClientID, ClientSecret, redirects...)}
	p.storage = &claimStorage{Storage: storage.NewStorageWithClients(us, clients), claims: users}
	config := &op.Config{CryptoKey: sha256.Sum256([]byte("test")), CodeMethodS256: true, AuthMethodPost: true}
	provider, err := op.NewProvider(config, p.storage, op.StaticIssuer(p.URL), op.WithAllowInsecure())
	if err != nil {
		p.server.Close()
		return nil, err
	}
	p.provider = provider

	mux := http.NewServeMux()
	login := func(w http.ResponseWriter, r *http.Request) {
		id := r.FormValue("authRequestID")
		p.mu.Lock()
		user := p.next
		p.mu.Unlock()
		if err := p.storage.CheckUsernamePassword(user, "pw", id); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		http.Redirect(w, r, op.AuthCallbackURL(provider)(r.Context(), id), http.StatusFound)
	}
	mux.Handle("/login/username", op.NewIssuerInterceptor(provider.IssuerFromRequest).HandlerFunc(login))
	mux.Handle("/", provider)
	handler = mux
	return p, nil
}

// SignInAs makes the next sign-ins log in as user.
func (p *Provider) SignInAs(user string) {
	p.mu.Lock()
	p.next = user
	p.mu.Unlock()
}

// Close stops the provider.
func (p *Provider) Close() { p.server.Close() }
