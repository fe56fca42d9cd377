package web_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/koe-vote/koe/internal/api"
)

// TestConsoleStaffBrowser is the staff signing in, in headless Chromium at
// a phone's and a desktop's width, in Japanese and English, every page
// audited with axe-core: a wrong password; an observer who signs in with
// the city's OpenID provider and cannot close an election (no button to,
// and a forged request refused with 403), then signs out, which ends the
// session; and the audit log of an administrator who signs in with a
// password and did close it, naming who and when. With KOE_SCREENSHOTS=1
// the Japanese pages are saved as docs/screenshots/console-staff-*.png.
func TestConsoleStaffBrowser(t *testing.T) {
	f := getConsole(t)
	s := newStaffOIDCSite(t)
	ctx, axe := browser(t)
	shots := os.Getenv("KOE_SCREENSHOTS") == "1"
	for _, vp := range viewports {
		for _, lang := range []string{"ja", "en"} {
			id := fmt.Sprintf("staff-browser-%d-%s", vp.w, lang)
			f.readyElection(t, "referendum", id)
			if err := f.admin.Do(t.Context(), "POST", api.ElectionPath(id, "/open"), "", nil, nil); err != nil {
				t.Fatal(err)
			}
			t.Run(fmt.Sprintf("%d-%s", vp.w, lang), func(t *testing.T) {
				b := &consoleBrowser{t: t, ctx: ctx, axe: axe, url: s.url, w: vp.w, shots: shots && lang == "ja", first: vp.w == viewports[0].w && lang == "ja"}
				b.run(chromedp.EmulateViewport(vp.w, vp.h), clearCookies())
				staffFlow(b, s, lang, id)
			})
		}
	}
}

// clockTime is a time of day as the console shows it.
var clockTime = regexp.MustCompile(`\b\d{1,2}:\d{2}\b`)

func staffFlow(b *consoleBrowser, s *staffOIDCSite, lang, id string) {
	t := b.t
	say := func(ja, en string) string {
		if lang == "ja" {
			return ja
		}
		return en
	}
	election := b.url + "/admin/elections/" + id

	// The sign-in page, and a wrong password.
	b.run(chromedp.Navigate(b.url+"/admin?lang="+lang), chromedp.WaitReady(chromedp.CSS("#oidc-start")))
	b.audit("staff-signin", say("管理者のサインイン", "Administrator sign-in"), say("市の職員IDでサインイン", "Sign in with the city's staff ID"))
	b.set("#name", "suzuki.hanako")
	b.set("#password", "これは違うパスワードです")
	b.click(`form[action="/admin/signin"] button`, `#signin-error`)
	b.audit("staff-signin-wrong", say("アカウント名またはパスワードが正しくありません", "The account name or the password is not right"))

	// A person the provider knows, with no account.
	if b.first {
		s.idp.SignInAs("stranger")
		b.click("#oidc-start", "#oidc-subject")
		b.audit("staff-oidc-unknown", say("職員アカウントがこのコンソールにありません", "no staff account of this console is bound to you"), "stranger")
	}

	// An observer signs in with the provider: the page after the callback
	// goes on to the console by itself.
	s.idp.SignInAs("staff-observer")
	b.click("#oidc-start", "#readonly-note")
	if p := b.eval(`location.pathname`); p != "/admin" {
		t.Errorf("after the OpenID sign-in the browser is at %s, want /admin", p)
	}
	// That page, held still (without its refresh) to be audited.
	b.eval(`fetch("/admin/oidc/done").then(r => r.text()).then(h => { document.open(); document.write(h.replace(/<meta http-equiv="refresh"[^>]*>/, "")); document.close(); return "" })`)
	b.run(chromedp.WaitReady(chromedp.CSS(`main a.button[href="/admin"]`)))
	b.audit("staff-oidc-done", say("市の職員IDでサインインしました", "You are signed in with the city's staff ID"))
	b.run(chromedp.Navigate(election), chromedp.WaitReady(chromedp.CSS("#observer-actions")))
	b.audit("staff-observer", say("閲覧者として読み取り専用でサインインしています", "You are signed in read-only"),
		say("tanaka.jiro（閲覧者）としてサインイン中", "Signed in as tanaka.jiro (observer)"))
	if n := b.eval(`String(document.querySelectorAll('a[href$="/close"], form[action$="/close"], form[action$="/roll"], form[action$="/codes"], form[action$="/reissue"], ul.actions').length)`); n != "0" {
		t.Errorf("the observer's election page has %s actions", n)
	}
	// A forged close, with the page's own CSRF token, is refused.
	status := b.eval(`fetch("/admin/elections/` + id + `/close", {method: "POST", redirect: "manual",
  body: new URLSearchParams({csrf: document.querySelector('input[name="csrf"]').value})}).then(r => String(r.status))`)
	if status != "403" {
		t.Errorf("the observer's forged close: HTTP %s, want 403", status)
	}

	// Signing out ends the session: the election's page asks to sign in.
	b.click(`form[action="/admin/signout"] button`, `.done`)
	b.audit("staff-signedout", say("サインアウトしました", "You have signed out"))
	b.run(chromedp.Navigate(election), chromedp.WaitReady(chromedp.CSS("#oidc-start")))
	if p := b.eval(`location.pathname`); p != "/admin" {
		t.Errorf("after signing out the election's page is at %s, want the sign-in page", p)
	}

	// The administrator signs in with the password and closes the election.
	b.set("#name", "suzuki.hanako")
	b.set("#password", staffAdminPW)
	b.click(`form[action="/admin/signin"] button`, `.console-bar`)
	b.run(chromedp.Navigate(election), chromedp.WaitReady(chromedp.CSS("#actions")))
	b.click(`a[href$="/close"]`, `form[action$="/close"]`)
	b.click(`form[action$="/close"] button`, `.done`)
	b.run(chromedp.Navigate(b.url+"/admin/audit"), chromedp.WaitReady(chromedp.CSS("table.audit")))
	b.scrollTo("table.audit")
	b.audit("staff-audit", say("操作記録", "Audit log"))
	row := b.eval(`[...document.querySelectorAll("table.audit tbody tr")].map(r => r.innerText).find(t => t.includes("` + id + `") && t.includes("close")) || ""`)
	if !strings.Contains(row, "suzuki.hanako") || !clockTime.MatchString(row) {
		t.Errorf("the audit log's close: %q, want suzuki.hanako and the time", row)
	}
	if strings.Contains(b.eval(`document.body.innerText`), "api-close") {
		t.Error("the console's close is in the audit log twice (as the API's too)")
	}
	refused := b.eval(`[...document.querySelectorAll("table.audit tbody tr")].map(r => r.innerText).find(t => t.includes("` + id + `") && t.includes("refused")) || ""`)
	if !strings.Contains(refused, "tanaka.jiro") {
		t.Errorf("the audit log does not show the observer's refused close: %q", refused)
	}
}
