package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/oidcreg"
	"github.com/koe-vote/koe/internal/oidcreg/oidctest"
	"github.com/koe-vote/koe/internal/staff"
	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/store/sqlite"
	"github.com/koe-vote/koe/internal/web"
)

// staffOIDCSite is a site with staff accounts and the staff's OpenID
// provider: a real one (oidctest) that knows the people staff-admin,
// staff-observer and stranger. The accounts suzuki.hanako (admin, with a
// password) and tanaka.jiro (observer, without) are bound to the first
// two.
type staffOIDCSite struct {
	url string
	st  store.Store
	idp *oidctest.Provider
	cfg *oidcreg.Config
}

const staffAdminPW = "筑波山の紅葉は十一月が見頃"

func newStaffOIDCSite(t *testing.T) *staffOIDCSite {
	t.Helper()
	f := getConsole(t)
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "staff.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var site http.Handler
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { site.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	idp, err := oidctest.Start(map[string]map[string]any{"staff-admin": {}, "staff-observer": {}, "stranger": {}}, ts.URL+oidcreg.StaffCallbackPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idp.Close)
	cfg, err := oidcreg.ParseStaff([]byte(`{"issuer": "` + idp.URL + `", "clientID": "` + oidctest.ClientID + `", "clientSecret": "` +
		oidctest.ClientSecret + `", "redirectURL": "` + ts.URL + oidcreg.StaffCallbackPath + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", f.api)
	mux.Handle("/", web.New(f.api, web.Options{AdminToken: consoleToken, Staff: st, StaffOIDC: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	site = mux
	now := time.Now()
	for _, a := range []store.Account{
		{Name: "suzuki.hanako", Role: store.RoleAdmin, Password: staff.HashPassword(staffAdminPW), Created: now, OIDCIssuer: idp.URL, OIDCSubject: "staff-admin"},
		{Name: "tanaka.jiro", Role: store.RoleObserver, Created: now, OIDCIssuer: idp.URL, OIDCSubject: "staff-observer"},
	} {
		if err := st.CreateAccount(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	return &staffOIDCSite{url: ts.URL, st: st, idp: idp, cfg: cfg}
}

// browserClient is an HTTP client that keeps cookies and follows
// redirects, as a browser does, and notes the callback addresses it was
// sent to.
type browserClient struct {
	t         *testing.T
	hc        *http.Client
	callbacks []string
}

func newBrowserClient(t *testing.T) *browserClient {
	jar, _ := cookiejar.New(nil)
	b := &browserClient{t: t}
	b.hc = &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if r.URL.Path == oidcreg.StaffCallbackPath {
			b.callbacks = append(b.callbacks, r.URL.String())
		}
		if len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

func (b *browserClient) get(u string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Accept-Language", "en")
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// signIn runs the OpenID sign-in as user and returns the last page.
func (s *staffOIDCSite) signIn(b *browserClient, user string) (*http.Response, string) {
	s.idp.SignInAs(user)
	return b.get(s.url + "/admin/oidc/start")
}

// TestConsoleStaffOIDC: staff sign in with a real OpenID provider as the
// account bound to their subject, and as nothing else: a stranger the
// provider vouches for gets no account, and is shown their subject only
// under the console's MAC; a callback without this browser's sign-in, or
// with another state, or replayed, is refused. The authorization request
// carries PKCE S256, a state and a nonce. An observer signed in this way
// sees no action and is refused one.
func TestConsoleStaffOIDC(t *testing.T) {
	s := newStaffOIDCSite(t)

	// The authorization request.
	b := newBrowserClient(t)
	req, _ := http.NewRequest("GET", s.url+"/admin/oidc/start", nil)
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.String(), s.idp.URL) {
		t.Fatalf("start: %d to %q", resp.StatusCode, loc)
	}
	q := loc.Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || len(q.Get("state")) != 43 || len(q.Get("nonce")) != 43 ||
		q.Get("response_type") != "code" || q.Get("client_id") != oidctest.ClientID || q.Get("redirect_uri") != s.url+oidcreg.StaffCallbackPath {
		t.Errorf("the authorization request lacks PKCE S256, a state or a nonce: %v", q)
	}
	var pending *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "koe_oidc" {
			pending = c
		}
	}
	if pending == nil || !pending.HttpOnly || pending.SameSite != http.SameSiteLaxMode || pending.Path != "/admin/oidc" || pending.MaxAge != 600 {
		t.Fatalf("the sign-in cookie: %+v", pending)
	}
	if strings.Contains(loc.String(), pending.Value) {
		t.Error("the authorization request carries the sign-in cookie's value")
	}

	// An administrator.
	resp, body := s.signIn(b, "staff-admin")
	if resp.Request.URL.Path != "/admin/oidc/done" || resp.StatusCode != 200 || !strings.Contains(body, `http-equiv="refresh" content="0; url=/admin"`) {
		t.Fatalf("the administrator's sign-in ends at %s (%d):\n%s", resp.Request.URL, resp.StatusCode, body)
	}
	_, body = b.get(s.url + "/admin")
	contains(t, body, "suzuki.hanako (administrator)", `href="/admin/staff"`)
	_, body = b.get(s.url + "/admin/staff")
	contains(t, body, "<code>staff-observer</code> (no password)", "<code>staff-admin</code></p>")
	if len(b.callbacks) != 1 {
		t.Fatalf("callbacks: %v", b.callbacks)
	}
	// The callback again: its cookie is gone, and the code was used.
	resp, _ = b.get(b.callbacks[0])
	if resp.Request.URL.Query().Get("oidc") != "state" {
		t.Errorf("a replayed callback ends at %s", resp.Request.URL)
	}
	// A callback with the state of another browser's sign-in, and one
	// that the provider sends back with an error.
	c2 := newBrowserClient(t)
	c2.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c2.get(s.url + "/admin/oidc/start")
	c2.hc.CheckRedirect = nil
	resp, body = c2.get(s.url + oidcreg.StaffCallbackPath + "?code=x&state=" + q.Get("state"))
	if resp.Request.URL.Query().Get("oidc") != "state" || !strings.Contains(body, "could not be matched to this browser") {
		t.Errorf("a callback with another sign-in's state ends at %s", resp.Request.URL)
	}
	c3 := newBrowserClient(t)
	c3.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, _ = c3.get(s.url + "/admin/oidc/start")
	own, _ := url.Parse(resp.Header.Get("Location"))
	c3.hc.CheckRedirect = nil
	resp, body = c3.get(s.url + oidcreg.StaffCallbackPath + "?error=access_denied&state=" + url.QueryEscape(own.Query().Get("state")))
	if resp.Request.URL.Query().Get("oidc") != "refused" || !strings.Contains(body, "did not sign you in") {
		t.Errorf("a callback with the provider's error ends at %s", resp.Request.URL)
	}

	// A person the provider knows but no account is bound to.
	st := newBrowserClient(t)
	resp, body = s.signIn(st, "stranger")
	if resp.Request.URL.Query().Get("oidc") != "unknown" || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a stranger's sign-in ends at %s (%d)", resp.Request.URL, resp.StatusCode)
	}
	contains(t, body, "no staff account of this console is bound to you", `<code id="oidc-subject">stranger</code>`)
	if _, body := st.get(s.url + "/admin/audit"); strings.Contains(body, "audit-caption") {
		t.Error("the stranger reads the audit log")
	}
	forged := resp.Request.URL.Query()
	forged.Set("subject", "staff-admin")
	if _, body := st.get(s.url + "/admin?" + forged.Encode()); strings.Contains(body, "oidc-subject") || !strings.Contains(body, "no staff account") {
		t.Error("the sign-in page shows a subject whose MAC is another's")
	}
	as, _ := s.st.Accounts(t.Context())
	if len(as) != 2 {
		t.Errorf("the stranger's sign-in changed the accounts: %+v", as)
	}

	// An observer: no action, and a forged one refused.
	f := getConsole(t)
	f.readyElection(t, "referendum", "staff-oidc-life")
	if err := f.admin.Do(t.Context(), "POST", api.ElectionPath("staff-oidc-life", "/open"), "", nil, nil); err != nil {
		t.Fatal(err)
	}
	ob := newBrowserClient(t)
	if resp, _ := s.signIn(ob, "staff-observer"); resp.Request.URL.Path != "/admin/oidc/done" {
		t.Fatalf("the observer's sign-in ends at %s", resp.Request.URL)
	}
	_, body = ob.get(s.url + "/admin/elections/staff-oidc-life")
	contains(t, body, "tanaka.jiro (observer)", `id="readonly-note"`, `id="observer-actions"`)
	for _, form := range []string{`/close"`, `/roll"`, `/codes"`, `/reissue"`, `href="/admin/new"`} {
		if strings.Contains(body, form) {
			t.Errorf("the observer's election page offers %s", form)
		}
	}
	csrf := between(body, `name="csrf" value="`, `"`)
	u, _ := url.Parse(s.url)
	var session *http.Cookie
	for _, c := range ob.hc.Jar.Cookies(&url.URL{Scheme: "http", Host: u.Host, Path: "/admin"}) {
		if c.Name == "koe_admin" {
			session = c
		}
	}
	obs := &adminSession{t: t, base: s.url, cookie: session, lang: "en"}
	if resp, _ := obs.post("/admin/elections/staff-oidc-life/close", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the observer's forged close: %d, want 403", resp.StatusCode)
	}

	es, err := s.st.Audit(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var signins []string
	for _, e := range es {
		if e.Action == "signin-oidc" {
			signins = append(signins, e.Actor+" "+e.Outcome)
		}
		if strings.Contains(e.Detail+e.Outcome, "stranger") || strings.Contains(e.Detail+e.Outcome, oidctest.ClientSecret) {
			t.Errorf("the audit log records %+v", e)
		}
	}
	if strings.Join(signins, ", ") != "tanaka.jiro ok, suzuki.hanako ok" {
		t.Errorf("the audit log's OpenID sign-ins: %v", signins)
	}
}

func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}
