package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/koe-vote/koe/internal/server/registrar"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/oidcreg"
	"github.com/koe-vote/koe/internal/oidcreg/oidctest"
	"github.com/koe-vote/koe/internal/server"
	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/verify"
)

// ---- A real OpenID provider: oidctest runs zitadel's op. ----

const (
	idpClientID     = oidctest.ClientID
	idpClientSecret = oidctest.ClientSecret
)

// startIdP runs the provider; users maps a user id (the "sub") to its
// extra claims; redirects are the registered redirect URIs.
func startIdP(t *testing.T, users map[string]map[string]any, redirects ...string) *oidctest.Provider {
	t.Helper()
	p, err := oidctest.Start(users, redirects...)
	must(t, err)
	t.Cleanup(p.Close)
	return p
}

// ---- A provider the test controls token by token, for bad tokens. ----

// fakeIdP serves discovery, keys, an authorization endpoint that signs
// in at once, and a token endpoint that enforces PKCE S256 and returns an
// ID token shaped by mode.
type fakeIdP struct {
	url        string
	key, wrong *rsa.PrivateKey

	mu        sync.Mutex
	mode      string // "", "wrong-issuer", "bad-signature", "expired", "replay-nonce"
	sub       string
	nonce     string // of the current sign-in
	usedNonce string // of an earlier sign-in
	challenge string
}

func startFakeIdP(t *testing.T) *fakeIdP {
	t.Helper()
	f := &fakeIdP{}
	var err error
	f.key, err = rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	f.wrong, err = rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	mux := http.NewServeMux()
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	f.url = ts.URL
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": f.url, "authorization_endpoint": f.url + "/authorize", "token_endpoint": f.url + "/token",
			"jwks_uri": f.url + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported": []string{"code"}, "code_challenge_methods_supported": []string{"S256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &f.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("state") == "" {
			http.Error(w, "PKCE S256, nonce and state are required", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		if f.nonce != "" {
			f.usedNonce = f.nonce
		}
		f.nonce, f.challenge = q.Get("nonce"), q.Get("code_challenge")
		f.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code=fake-code&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		verifier := r.FormValue("code_verifier")
		sum := sha256.Sum256([]byte(verifier))
		if verifier == "" || base64.RawURLEncoding.EncodeToString(sum[:]) != f.challenge {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_grant","error_description":"PKCE verification failed"}`))
			return
		}
		now := time.Now()
		iss, key, nonce, exp := f.url, f.key, f.nonce, now.Add(5*time.Minute)
		switch f.mode {
		case "wrong-issuer":
			iss = "https://evil.example"
		case "bad-signature":
			key = f.wrong
		case "expired":
			exp = now.Add(-time.Minute)
		case "replay-nonce":
			nonce = f.usedNonce
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
		if err != nil {
			panic(err)
		}
		claims := map[string]any{
			"iss": iss, "sub": f.sub, "aud": idpClientID, "exp": exp.Unix(), "iat": now.Add(-10 * time.Minute).Unix(), "nonce": nonce,
		}
		idt, err := jwt.Signed(signer).Claims(claims).Serialize()
		if err != nil {
			panic(err)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 60, "id_token": idt})
	})
	return f
}

func (f *fakeIdP) set(mode, sub string) {
	f.mu.Lock()
	f.mode, f.sub = mode, sub
	f.mu.Unlock()
}

// ---- The koe side. ----

// stripVerifier is a pending store that loses the PKCE verifier of the
// sign-ins it is told to (as a broken store migration would).
type stripVerifier struct {
	oidcreg.PendingStore
	mu    sync.Mutex
	strip bool
}

func (s *stripVerifier) Take(ctx context.Context, state string) (oidcreg.Pending, error) {
	p, err := s.PendingStore.Take(ctx, state)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.strip {
		p.Verifier = ""
	}
	return p, err
}

type oidcHarness struct {
	*harness
	st      store.Store
	pending *stripVerifier
	log     *syncBuffer
	other   string // another front end's URL
}

// syncBuffer collects the server's log.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// checkLog fails if the server's log holds any of the secrets.
func (h *oidcHarness) checkLog(t *testing.T, secrets ...string) {
	t.Helper()
	log := h.log.String()
	if !strings.Contains(log, "oidc/callback") {
		t.Fatal("the server logged no callback at all")
	}
	for _, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("the server's log contains %q", s)
		}
	}
}

func startOIDC(t *testing.T) *oidcHarness {
	t.Helper()
	st := sqliteStore(t)
	_, key, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	// The default keeper of sign-ins (in the store), losing verifiers on demand.
	pending := &stripVerifier{PendingStore: registrar.PendingStore(st, nil)}
	logBuf := &syncBuffer{}
	srv, err := server.New(server.Config{
		Store: st, Origin: "koe.test", BoardKey: key, AdminToken: adminToken,
		RegistrarBits: 2048, RegisterRate: 1000, RegisterBurst: 1000, OIDCPending: pending,
		Logger: slog.New(slog.NewTextHandler(io.MultiWriter(testWriter{t}, logBuf), nil)),
	})
	must(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	// Another front end on the same store and board key, as behind a load
	// balancer, with the default keeper of sign-ins.
	other, err := server.New(server.Config{
		Store: st, Origin: "koe.test", BoardKey: key, AdminToken: adminToken,
		RegistrarBits: 2048, RegisterRate: 1000, RegisterBurst: 1000,
		Logger: slog.New(slog.NewTextHandler(io.MultiWriter(testWriter{t}, logBuf), nil)),
	})
	must(t, err)
	ts2 := httptest.NewServer(other.Handler())
	t.Cleanup(func() { ts2.Close(); other.Close() })
	return &oidcHarness{harness: &harness{t: t, url: ts.URL, admin: client.New(ts.URL, adminToken)}, st: st, pending: pending, log: logBuf, other: ts2.URL}
}

func (h *oidcHarness) callbackURL(id string) string {
	return h.url + "/api/v1/elections/" + id + "/oidc/callback"
}

// createElection creates a one-trustee election and runs its ceremony.
func (h *oidcHarness) createElection(t *testing.T, id string) {
	t.Helper()
	ctx := context.Background()
	manifest := fmt.Sprintf(`{"spec":"koe/v2","id":%q,"kind":"vote",
	  "title":{"ja":"住民投票","en":"Referendum"},"trustees":1,"threshold":1,
	  "questions":[{"id":"plan","kind":"single","label":{"ja":"賛成ですか","en":"Do you approve?"},
	    "options":[{"id":"yes","label":{"ja":"賛成","en":"Yes"}},{"id":"no","label":{"ja":"反対","en":"No"}}]}]}`, id)
	var created api.Created
	must(t, h.admin.Do(ctx, "POST", "/api/v1/elections", "application/json", []byte(manifest), &created))
	tc := client.New(h.url, created.TrusteeTokens[0])
	p := ceremony.Params{N: 1, T: 1}
	h0 := ballot.Hash(serverManifest(t, h.url, id, []byte(manifest)))
	tr, ann, err := ceremony.NewTrustee(rand.Reader, p, h0[:], 1, "trustee 1")
	must(t, err)
	must(t, tc.PostCeremony(ctx, id, ceremony.RoundAnnounce, ann))
	transcript := func() *ceremony.Transcript {
		x, err := h.admin.Transcript(ctx, id, p)
		must(t, err)
		return x
	}
	d, err := tr.Deal(rand.Reader, h0[:], transcript().Announcements)
	must(t, err)
	must(t, tc.PostCeremony(ctx, id, ceremony.RoundDeal, d))
	cur := transcript()
	v, err := tr.Receive(h0[:], cur.Announcements, cur.Dealings)
	must(t, err)
	must(t, tc.PostCeremony(ctx, id, ceremony.RoundVerdict, v))
	cur = transcript()
	rs, err := tr.Respond(h0[:], cur.Announcements, cur.Verdicts)
	must(t, err)
	if rs == nil {
		rs = []ceremony.Response{}
	}
	must(t, tc.PostCeremony(ctx, id, ceremony.RoundRespond, rs))
}

func (h *oidcHarness) putOIDC(t *testing.T, id string, cfg map[string]any) error {
	t.Helper()
	body, _ := json.Marshal(cfg)
	return h.admin.Do(context.Background(), "PUT", api.ElectionPath(id, "/oidc"), "application/json", body, nil)
}

// counts returns how many credentials were issued and the board's size.
func (h *oidcHarness) counts(t *testing.T, id string) (issued, size int64) {
	t.Helper()
	_, issued, err := h.st.RollSize(context.Background(), id)
	must(t, err)
	size, err = h.st.TreeSize(context.Background(), id)
	must(t, err)
	return issued, size
}

// signIn makes a credential request, starts a sign-in and follows the
// provider's redirects as a browser would, up to koe's callback, which it
// returns (not yet requested) with the pending credential.
func (h *oidcHarness) signIn(t *testing.T, el *client.Election) (*url.URL, *credential.Pending) {
	t.Helper()
	pending, blinded, err := credential.Request(rand.Reader, el.Registrar, el.E.Context)
	must(t, err)
	var start api.OIDCStartResponse
	must(t, client.New(h.url, "").JSON(context.Background(), "POST", api.ElectionPath(el.ID, "/oidc/start"), map[string]any{"blinded": blinded}, &start))
	return h.follow(t, start.AuthorizationURL), pending
}

// follow requests a URL and follows redirects until one points at koe.
func (h *oidcHarness) follow(t *testing.T, u string) *url.URL {
	t.Helper()
	koe, _ := url.Parse(h.url)
	browser := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host == koe.Host {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := browser.Get(u)
	must(t, err)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("sign-in at the provider: %s: %s", resp.Status, b)
	}
	cb, err := url.Parse(resp.Header.Get("Location"))
	must(t, err)
	return cb
}

type callbackResult struct {
	status int
	html   string
	code   string // the failure's code, from the page
	sig    []byte // the blind signature, from the page
}

var (
	sigRE  = regexp.MustCompile(`<output id="blind-signature" data-value="([^"]+)"`)
	codeRE = regexp.MustCompile(`<p id="reason" data-code="([^"]+)"`)
)

// callback requests koe's callback as the browser, and reads the page.
func callback(t *testing.T, cb *url.URL) callbackResult {
	t.Helper()
	resp, err := http.Get(cb.String())
	must(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := callbackResult{status: resp.StatusCode, html: string(b)}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("callback answered %s, not a page", resp.Header.Get("Content-Type"))
	}
	if m := sigRE.FindStringSubmatch(r.html); m != nil {
		r.sig, err = base64.StdEncoding.DecodeString(html.UnescapeString(m[1]))
		must(t, err)
	}
	if m := codeRE.FindStringSubmatch(r.html); m != nil {
		r.code = m[1]
	}
	return r
}

// callbackJSON requests koe's callback asking for JSON.
func callbackJSON(t *testing.T, cb *url.URL) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", cb.String(), nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	var out map[string]any
	must(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

// wantRejected checks a failure page and that nothing was issued.
func (h *oidcHarness) wantRejected(t *testing.T, id string, r callbackResult, code string, before [2]int64) {
	t.Helper()
	if r.status < 400 || r.code != code || r.sig != nil {
		t.Fatalf("callback: status %d, code %q (want %q), signature %v\n%s", r.status, r.code, code, r.sig != nil, r.html)
	}
	for _, s := range []string{"登録できませんでした", "Registration failed", "No credential was issued"} {
		if !strings.Contains(r.html, s) {
			t.Errorf("the failure page does not say %q", s)
		}
	}
	if issued, size := h.counts(t, id); issued != before[0] || size != before[1] {
		t.Errorf("after a rejected sign-in: %d issued, board size %d; want %d and %d", issued, size, before[0], before[1])
	}
}

func adultBirthdate() string { return time.Now().AddDate(-30, 0, 0).Format("2006-01-02") }
func minorBirthdate() string { return time.Now().AddDate(-16, 0, 0).Format("2006-01-02") }

func TestDigitalIDRegistration(t *testing.T) {
	ctx := context.Background()
	h := startOIDC(t)
	const id = "digital-2026"
	h.createElection(t, id)

	tsukuba := map[string]any{"formatted": "茨城県つくば市研究学園一丁目1番地1", "locality": "つくば市", "region": "茨城県"}
	users := map[string]map[string]any{
		"resident-1":   {"birthdate": adultBirthdate(), "address": tsukuba},
		"resident-2":   {"birthdate": adultBirthdate(), "address": tsukuba},
		"resident-3":   {"birthdate": adultBirthdate(), "address": tsukuba},
		"on-the-roll":  {"birthdate": adultBirthdate(), "address": tsukuba},
		"neighbour":    {"birthdate": adultBirthdate(), "address": map[string]any{"formatted": "茨城県土浦市大和町9-1", "locality": "土浦市"}},
		"young":        {"birthdate": minorBirthdate(), "address": tsukuba},
		"attacker-own": {"birthdate": adultBirthdate(), "address": tsukuba},
	}
	p := startIdP(t, users, h.callbackURL(id))
	cfg := map[string]any{
		"issuer": p.URL, "clientID": idpClientID, "clientSecret": idpClientSecret, "redirectURL": h.callbackURL(id),
		"scopes": []string{"openid", "profile", "address"},
		"rules": []map[string]any{
			{"claim": "address.formatted", "op": "contains", "value": "つくば市"},
			{"claim": "birthdate", "op": "age-at-least", "value": 18},
		},
	}
	// Configuration: validated, only by the administrator, secret never shown.
	bad := maps(cfg, "rules", []map[string]any{{"claim": "birthdate", "op": "older-than", "value": 18}})
	wantCode(t, h.putOIDC(t, id, bad), "invalid-oidc")
	wantCode(t, h.putOIDC(t, id, maps(cfg, "redirectURL", h.callbackURL("other"))), "invalid-oidc")
	body, _ := json.Marshal(cfg)
	wantCode(t, client.New(h.url, "wrong").Do(ctx, "PUT", api.ElectionPath(id, "/oidc"), "application/json", body, nil), "unauthorized")
	must(t, h.putOIDC(t, id, cfg))
	raw, err := h.admin.Raw(ctx, "GET", api.ElectionPath(id, "/oidc"), "", nil)
	must(t, err)
	if strings.Contains(string(raw), idpClientSecret) {
		t.Fatalf("GET /oidc shows the client secret: %s", raw)
	}
	var info api.ElectionInfo
	must(t, client.New(h.url, "").Do(ctx, "GET", api.ElectionPath(id, ""), "", nil, &info))
	if info.DigitalID == nil || info.DigitalID.Issuer != p.URL || len(info.DigitalID.Rules) != 2 {
		t.Fatalf("the public election info does not describe digital-ID registration: %+v", info.DigitalID)
	}
	if strings.Contains(fmt.Sprint(info), idpClientSecret) {
		t.Fatal("the public election info shows the client secret")
	}

	// One voter is on the roll too, under the identifier the provider uses.
	rawCodes, err := h.admin.Raw(ctx, "POST", api.ElectionPath(id, "/roll"), "text/csv", []byte("voter_id\non-the-roll\n"))
	must(t, err)
	rows, err := csv.NewReader(strings.NewReader(string(rawCodes))).ReadAll()
	must(t, err)
	rollCode := rows[1][1]

	must(t, h.admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil))
	wantCode(t, h.putOIDC(t, id, cfg), "wrong-state")
	el, err := client.New(h.url, "").Election(ctx, id)
	must(t, err)
	voter := client.New(h.url, "")

	pt, err := el.E.Manifest.Plaintext(ballot.Answers{"plan": "yes"})
	must(t, err)
	castWith := func(t *testing.T, cred *credential.Credential) {
		t.Helper()
		env, _, _, err := client.Seal(el, cred, pt, 1)
		must(t, err)
		r, err := voter.Cast(ctx, id, env)
		must(t, err)
		must(t, voter.VerifyCast(ctx, el, env, r))
	}

	t.Run("success leads to a cast ballot", func(t *testing.T) {
		p.SignInAs("resident-1")
		cb, pending := h.signIn(t, el)
		r := callback(t, cb)
		if r.status != http.StatusOK || r.sig == nil || !strings.Contains(r.html, "本人確認が完了しました") {
			t.Fatalf("callback: %d\n%s", r.status, r.html)
		}
		cred, err := pending.Finalize(r.sig)
		must(t, err)
		castWith(t, cred)

		// The same callback again: the state was used.
		before := [2]int64{}
		before[0], before[1] = h.counts(t, id)
		h.wantRejected(t, id, callback(t, cb), "unknown-state", before)
	})

	t.Run("success as JSON", func(t *testing.T) {
		p.SignInAs("resident-2")
		cb, pending := h.signIn(t, el)
		status, out := callbackJSON(t, cb)
		if status != http.StatusOK {
			t.Fatalf("callback: %d %v", status, out)
		}
		sig, err := base64.StdEncoding.DecodeString(out["blindSignature"].(string))
		must(t, err)
		cred, err := pending.Finalize(sig)
		must(t, err)
		castWith(t, cred)
		// The receipt names a digital-ID issuance entry on the board.
		receipt, _ := out["issuance"].(string)
		entries, _, err := voter.ReadWholeBoard(ctx, id, el.BoardKey)
		must(t, err)
		found := 0
		for _, e := range entries {
			if in, err := board.DecodeIssued(e.Body); err == nil && in.DigitalID && hex.EncodeToString(in.Value[:]) == receipt {
				found++
			}
		}
		if found != 1 {
			t.Fatalf("%d digital-ID issuance entries name the receipt %q, want 1", found, receipt)
		}
	})

	t.Run("started at one front end, back at another", func(t *testing.T) {
		p.SignInAs("resident-3")
		cb, pending := h.signIn(t, el)
		other, _ := url.Parse(h.other)
		cb.Host = other.Host
		r := callback(t, cb)
		if r.status != http.StatusOK || r.sig == nil {
			t.Fatalf("callback at the other front end: %d %s", r.status, r.code)
		}
		cred, err := pending.Finalize(r.sig)
		must(t, err)
		castWith(t, cred)
		// The sign-in was used up everywhere.
		cb.Host = strings.TrimPrefix(h.url, "http://")
		var before [2]int64
		before[0], before[1] = h.counts(t, id)
		h.wantRejected(t, id, callback(t, cb), "unknown-state", before)
	})

	reject := func(name, user, code, detail string) {
		t.Run(name, func(t *testing.T) {
			var before [2]int64
			before[0], before[1] = h.counts(t, id)
			p.SignInAs(user)
			cb, _ := h.signIn(t, el)
			r := callback(t, cb)
			h.wantRejected(t, id, r, code, before)
			if !strings.Contains(html.UnescapeString(r.html), detail) {
				t.Errorf("the page does not say %q:\n%s", detail, r.html)
			}
		})
	}
	reject("address in another city", "neighbour", "not-eligible", `eligibility rule 1 (address.formatted contains "つくば市") does not hold`)
	reject("younger than 18", "young", "not-eligible", "eligibility rule 2 (birthdate age-at-least 18) does not hold")
	reject("second registration by the same person", "resident-1", "already-registered", "already issued")

	t.Run("registered by one-time code, then by digital ID", func(t *testing.T) {
		cred, err := voter.Register(ctx, el, "on-the-roll", rollCode)
		must(t, err)
		castWith(t, cred)
		var before [2]int64
		before[0], before[1] = h.counts(t, id)
		p.SignInAs("on-the-roll")
		cb, _ := h.signIn(t, el)
		h.wantRejected(t, id, callback(t, cb), "already-registered", before)
	})

	t.Run("missing PKCE verifier", func(t *testing.T) {
		// koe does not redeem a code without the verifier.
		var before [2]int64
		before[0], before[1] = h.counts(t, id)
		p.SignInAs("resident-3")
		cb, _ := h.signIn(t, el)
		h.pending.mu.Lock()
		h.pending.strip = true
		h.pending.mu.Unlock()
		r := callback(t, cb)
		h.pending.mu.Lock()
		h.pending.strip = false
		h.pending.mu.Unlock()
		h.wantRejected(t, id, r, oidcreg.ReasonNoVerifier, before)

		// The provider enforces PKCE: a code issued against a challenge is
		// not redeemed without its verifier …
		p.SignInAs("attacker-own")
		verifier := oauth2.GenerateVerifier()
		oc := &oauth2.Config{ClientID: idpClientID, ClientSecret: idpClientSecret, RedirectURL: h.callbackURL(id),
			Scopes: []string{"openid"}, Endpoint: oauth2.Endpoint{AuthURL: p.URL + "/authorize", TokenURL: p.URL + "/oauth/token"}}
		stolen := h.follow(t, oc.AuthCodeURL("attacker-state", oauth2.S256ChallengeOption(verifier))).Query().Get("code")
		if _, err := oc.Exchange(ctx, stolen); err == nil || !strings.Contains(err.Error(), "code_verifier required") {
			t.Fatalf("the provider redeemed a PKCE code without the verifier: %v", err)
		}
		// … nor with another sign-in's: injected into a voter's callback,
		// koe's verifier does not match and nothing is issued.
		p.SignInAs("resident-3")
		victim, _ := h.signIn(t, el)
		q := victim.Query()
		q.Set("code", stolen)
		victim.RawQuery = q.Encode()
		h.wantRejected(t, id, callback(t, victim), oidcreg.ReasonExchange, before)
	})

	t.Run("provider error", func(t *testing.T) {
		var before [2]int64
		before[0], before[1] = h.counts(t, id)
		p.SignInAs("resident-3")
		cb, _ := h.signIn(t, el)
		q := cb.Query()
		q.Del("code")
		q.Set("error", "access_denied")
		cb.RawQuery = q.Encode()
		h.wantRejected(t, id, callback(t, cb), "provider-error", before)
	})

	if issued, _ := h.counts(t, id); issued != 4 {
		t.Errorf("%d credentials issued, want 4 (three by digital ID, one by code)", issued)
	}

	// The roll + digital-ID election verifies, closed: four credentials
	// voted, one issued by roll, three by digital ID, none identifying.
	must(t, h.admin.Do(ctx, "POST", api.ElectionPath(id, "/close"), "", nil, nil))
	rep := verify.Record(downloadRecord(t, h.harness, id), verify.Options{})
	if !rep.OK() {
		t.Fatalf("the roll + digital-ID election's record does not verify: %+v", rep.Failures())
	}
	eligible := false
	for _, c := range rep.Checks {
		eligible = eligible || strings.Contains(c.Detail, "a roll of 1 voters published before open; 1 credentials issued by roll, each to a distinct voter of that roll; 3 by digital ID")
	}
	if !eligible {
		t.Errorf("the report does not state the roll and digital-ID issuances: %+v", rep.Checks)
	}
	if rc, err := voter.CheckRoll(ctx, el, "on-the-roll", rollCode); err != nil || !rc.OnRoll || len(rc.Issued) != 1 {
		t.Errorf("the roll voter's check: %+v, %v", rc, err)
	}
	raw, err = h.admin.Raw(ctx, "GET", api.ElectionPath(id, "/record"), "", nil)
	must(t, err)
	for _, s := range []string{"resident-", "on-the-roll", "つくば"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the record names %q", s)
		}
	}
	h.checkLog(t, "resident-", "neighbour", "on-the-roll", "つくば", idpClientSecret, rollCode)
}

// TestDigitalIDBadTokens runs the token failures against a provider whose
// tokens the test shapes.
func TestDigitalIDBadTokens(t *testing.T) {
	ctx := context.Background()
	h := startOIDC(t)
	const id = "digital-bad"
	h.createElection(t, id)
	f := startFakeIdP(t)
	must(t, h.putOIDC(t, id, map[string]any{
		"issuer": f.url, "clientID": idpClientID, "clientSecret": idpClientSecret, "redirectURL": h.callbackURL(id),
	}))
	must(t, h.admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil))
	el, err := client.New(h.url, "").Election(ctx, id)
	must(t, err)

	// A good token first (it also gives the provider a nonce to replay).
	f.set("", "person-0")
	cb, pending := h.signIn(t, el)
	r := callback(t, cb)
	if r.status != http.StatusOK {
		t.Fatalf("callback: %d\n%s", r.status, r.html)
	}
	_, err = pending.Finalize(r.sig)
	must(t, err)

	for i, tt := range []struct{ mode, code string }{
		{"wrong-issuer", oidcreg.ReasonWrongIssuer},
		{"bad-signature", oidcreg.ReasonBadSignature},
		{"expired", oidcreg.ReasonExpired},
		{"replay-nonce", oidcreg.ReasonNonce},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			var before [2]int64
			before[0], before[1] = h.counts(t, id)
			f.set(tt.mode, fmt.Sprintf("person-%d", i+1))
			cb, _ := h.signIn(t, el)
			h.wantRejected(t, id, callback(t, cb), tt.code, before)
		})
	}

	t.Run("replayed state", func(t *testing.T) {
		var before [2]int64
		before[0], before[1] = h.counts(t, id)
		f.set("", "person-9")
		cb, _ := h.signIn(t, el)
		if r := callback(t, cb); r.status != http.StatusOK {
			t.Fatalf("callback: %d\n%s", r.status, r.html)
		}
		before[0]++
		before[1]++
		h.wantRejected(t, id, callback(t, cb), "unknown-state", before)
		// A state made up, or one of another election, fares no better.
		q := cb.Query()
		q.Set("state", "made-up")
		cb.RawQuery = q.Encode()
		h.wantRejected(t, id, callback(t, cb), "unknown-state", before)
	})
	h.checkLog(t, "person-", "fake-code", idpClientSecret)
}

// maps returns a copy of m with key set to v.
func maps(m map[string]any, key string, v any) map[string]any {
	out := map[string]any{}
	for k, x := range m {
		out[k] = x
	}
	out[key] = v
	return out
}
