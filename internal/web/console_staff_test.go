package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/store/sqlite"
	"github.com/koe-vote/koe/internal/web"
)

func signInAs(t *testing.T, base, lang string, form url.Values) *adminSession {
	t.Helper()
	a := &adminSession{t: t, base: base, lang: lang}
	resp, body := a.post("/admin/signin", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in as %v: %d\n%s", form.Get("name"), resp.StatusCode, body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "koe_admin" {
			a.cookie = c
		}
	}
	return a
}

// TestConsoleStaff: the token creates the first admin and is then retired
// from the console; an observer reads but is refused every action (403);
// the audit log shows who did what, and never a code or a password.
func TestConsoleStaff(t *testing.T) {
	f := getConsole(t)
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "staff.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	newSite := func() *httptest.Server {
		mux := http.NewServeMux()
		mux.Handle("/api/", f.api)
		mux.Handle("/", web.New(f.api, web.Options{AdminToken: consoleToken, Staff: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
		ts := httptest.NewServer(mux)
		t.Cleanup(ts.Close)
		return ts
	}
	base := newSite().URL
	f.readyElection(t, "referendum", "staff-life")
	path := "/admin/elections/staff-life"
	const adminPW, observerPW = "筑波山の紅葉は十一月が見頃", "霞ヶ浦の朝は霧が深いので注意"

	tok := signInAs(t, base, "ja", url.Values{"token": {consoleToken}})
	_, body := tok.get("/admin/staff")
	contains(t, body, "管理者トークンでサインイン中")
	resp, _ := tok.post("/admin/staff/add", url.Values{"csrf": {tok.csrf()}, "name": {"suzuki.hanako"}, "role": {"admin"}, "password": {adminPW}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("adding the first admin: %d", resp.StatusCode)
	}
	// Once an admin exists, the token's session ends and it signs in no more.
	if resp, _ := tok.get("/admin/new"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the token's session after the first admin: %d, want a redirect to sign in", resp.StatusCode)
	}
	anon := &adminSession{t: t, base: base, lang: "en"}
	resp, body = anon.post("/admin/signin", url.Values{"token": {consoleToken}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "no longer signs in") {
		t.Errorf("token sign-in with an admin: %d", resp.StatusCode)
	}
	if _, body := anon.get("/admin"); strings.Contains(body, `name="token"`) || !strings.Contains(body, `name="password"`) {
		t.Error("the sign-in page still offers the token")
	}

	admin := signInAs(t, base, "en", url.Values{"name": {"suzuki.hanako"}, "password": {adminPW}})
	if c := admin.cookie; !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/admin" || len(c.Value) != 43 {
		t.Errorf("session cookie %+v", c)
	}
	csrf := admin.csrf()
	resp, _ = admin.post("/admin/staff/add", url.Values{"csrf": {csrf}, "name": {"田中次郎"}, "role": {"observer"}, "password": {observerPW}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("adding an observer: %d", resp.StatusCode)
	}
	resp, body = admin.post("/admin/staff/suzuki.hanako/delete", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "last administrator") {
		t.Errorf("removing the last admin: %d", resp.StatusCode)
	}
	_, body = admin.post(path+"/roll", url.Values{"csrf": {csrf}, "voters": {"S001\nS002"}})
	if !strings.Contains(body, "S001,") {
		t.Fatalf("roll import:\n%s", body)
	}
	if resp, _ := admin.post(path+"/open", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("open: %d", resp.StatusCode)
	}

	obs := signInAs(t, base, "ja", url.Values{"name": {"田中次郎"}, "password": {observerPW}})
	ocsrf := obs.csrf()
	for _, p := range []string{"/admin", path, "/admin/audit"} {
		if resp, _ := obs.get(p); resp.StatusCode != 200 {
			t.Errorf("observer GET %s: %d", p, resp.StatusCode)
		}
	}
	if _, body := obs.get("/admin"); strings.Contains(body, `<li><a href="/admin/new"`) || !strings.Contains(body, "田中次郎（閲覧者）") {
		t.Error("the observer's bar offers creating, or does not say who is signed in")
	}
	for _, p := range []string{"/admin/new", "/admin/staff", path + "/close"} {
		if resp, _ := obs.get(p); resp.StatusCode != http.StatusForbidden {
			t.Errorf("observer GET %s: %d, want 403", p, resp.StatusCode)
		}
	}
	resp, body = obs.post(path+"/close", url.Values{"csrf": {ocsrf}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "この操作はできません") {
		t.Errorf("observer closing: %d, want 403", resp.StatusCode)
	}
	var in api.ElectionInfo
	if err := f.admin.Do(t.Context(), "GET", api.ElectionPath("staff-life", ""), "", nil, &in); err != nil || in.State != api.StateOpen {
		t.Fatalf("after the observer's close: %v %s, want open", err, in.State)
	}
	if resp, _ := admin.post(path+"/close", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin close: %d", resp.StatusCode)
	}

	// The audit log, as the observer sees it.
	resp, body = obs.get("/admin/audit")
	checkConsolePage(t, resp, body)
	contains(t, body, "<code lang=\"en\">close</code>", "refused: console.err.role.title", "<code lang=\"en\">open</code>",
		"<code lang=\"en\">roll</code>", "<code lang=\"en\">staff-add</code>", "田中次郎 observer", "管理者トークン", "suzuki.hanako", `href="/admin/elections/staff-life"`)
	for _, secret := range []string{"S001", "S002", adminPW, observerPW, "argon2"} {
		if strings.Contains(body, secret) {
			t.Errorf("the audit page holds %q", secret)
		}
	}

	// Signing out ends the session in the store: the kept cookie fails
	// on another front end (or after a restart) too.
	kept := *obs.cookie
	if resp, _ := obs.post("/admin/signout", url.Values{"csrf": {ocsrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	other := &adminSession{t: t, base: newSite().URL, cookie: &kept}
	if resp, _ := other.get("/admin/audit"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a signed-out cookie on another front end: %d, want a redirect", resp.StatusCode)
	}
	// A changed password ends the account's sessions.
	if resp, _ := admin.post("/admin/staff/suzuki.hanako/password", url.Values{"csrf": {csrf}, "password": {adminPW + "改"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("password change: %d", resp.StatusCode)
	}
	if resp, _ := admin.get("/admin/audit"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a session after its password changed: %d, want a redirect", resp.StatusCode)
	}
}
