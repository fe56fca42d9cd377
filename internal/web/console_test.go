package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/web"
)

func contains(t *testing.T, body string, wants ...string) {
	t.Helper()
	missing := false
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page does not contain %q", w)
			missing = true
		}
	}
	if missing {
		t.Logf("page:\n%s", body)
	}
}

var untranslatedConsole = regexp.MustCompile(`>\s*console\.[a-z.-]+\s*<|"console\.[a-z.-]+"`)

// checkConsolePage checks what every console page must have.
func checkConsolePage(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	checkPage(t, resp, body)
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control: %q, want no-store", cc)
	}
	if m := untranslatedConsole.FindString(body); m != "" {
		t.Errorf("untranslated catalogue key %q", m)
	}
	if !strings.Contains(body, `href="/static/console.css"`) {
		t.Error("the page does not link console.css")
	}
}

func TestConsoleSignIn(t *testing.T) {
	f := getConsole(t)
	anon := &adminSession{t: t, base: f.url, lang: "ja"}

	resp, body := anon.get("/admin")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /admin: %d", resp.StatusCode)
	}
	contains(t, body, "管理者のサインイン", `name="token"`, `type="password"`, `<label for="token">`)
	checkConsolePage(t, resp, body)

	// Pages need a session; the sign-in page is where they send you.
	for _, p := range []string{"/admin/new", "/admin/elections/x"} {
		if resp, _ := anon.get(p); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin" {
			t.Errorf("GET %s without a session: %d %q", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}

	t.Run("wrong token", func(t *testing.T) {
		for lang, want := range map[string]string{"ja": "トークンが正しくありません", "en": "That is not the token"} {
			a := &adminSession{t: t, base: f.url, lang: lang}
			resp, body := a.post("/admin/signin", url.Values{"token": {consoleToken + "x"}})
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", resp.StatusCode)
			}
			contains(t, body, want, `aria-invalid="true"`)
			for _, c := range resp.Cookies() {
				if c.Name == "koe_admin" {
					t.Errorf("a wrong token got a session cookie")
				}
			}
		}
	})

	a := signIn(t, f, "en")
	if !a.cookie.HttpOnly || a.cookie.SameSite != http.SameSiteStrictMode || a.cookie.Path != "/admin" || a.cookie.MaxAge < 7*3600 {
		t.Errorf("session cookie: %+v", a.cookie)
	}
	resp, body = a.get("/admin")
	contains(t, body, "Administration", "Sign out", `href="/admin/new?example=survey"`)
	checkConsolePage(t, resp, body)
	csrf := a.csrf()

	t.Run("forged cookies", func(t *testing.T) {
		exp, mac, _ := strings.Cut(a.cookie.Value, ".")
		later := exp[:len(exp)-6] + "999999"
		for name, v := range map[string]string{
			"no mac":          exp,
			"random mac":      "99999999999999." + strings.Repeat("A", 43),
			"expiry changed":  later + "." + mac,
			"mac of another":  exp + "." + strings.Repeat("B", 43),
			"empty":           "",
			"leading zero":    "0" + a.cookie.Value,
			"expired, signed": "1." + mac,
		} {
			forged := &adminSession{t: t, base: f.url, cookie: &http.Cookie{Name: "koe_admin", Value: v}}
			if resp, _ := forged.get("/admin/new"); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("%s: GET /admin/new: %d, want a redirect to sign in", name, resp.StatusCode)
			}
			resp, body := forged.post("/admin/new", url.Values{"csrf": {csrf}, "action": {"add-question"}})
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Please sign in") && !strings.Contains(body, "サインインしてください") {
				t.Errorf("%s: POST: %d", name, resp.StatusCode)
			}
		}
	})

	t.Run("csrf", func(t *testing.T) {
		other := signIn(t, f, "en")
		for name, token := range map[string]string{"missing": "", "wrong": flip(csrf), "another session's": other.csrf()} {
			form := url.Values{"action": {"add-question"}}
			if token != "" {
				form.Set("csrf", token)
			}
			resp, body := a.post("/admin/new", form)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "The form could not be checked") {
				t.Errorf("%s CSRF token: status %d", name, resp.StatusCode)
			}
		}
		// From another site, even with the token.
		req, _ := http.NewRequest("POST", f.url+"/admin/new", strings.NewReader(url.Values{"csrf": {csrf}, "action": {"add-question"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		if resp, _ := a.do(req); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a POST from another origin: %d", resp.StatusCode)
		}
		req, _ = http.NewRequest("POST", f.url+"/admin/new", strings.NewReader(url.Values{"csrf": {csrf}, "action": {"add-question"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if resp, _ := a.do(req); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a POST from another site: %d", resp.StatusCode)
		}
		// With the right token it works.
		if resp, body := a.post("/admin/new", url.Values{"csrf": {csrf}, "action": {"add-question"}}); resp.StatusCode != 200 {
			t.Errorf("with the CSRF token: %d\n%s", resp.StatusCode, body)
		}
	})

	t.Run("sign out", func(t *testing.T) {
		b := signIn(t, f, "ja")
		resp, _ := b.post("/admin/signout", url.Values{"csrf": {b.csrf()}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-out: %d", resp.StatusCode)
		}
		cleared := false
		for _, c := range resp.Cookies() {
			cleared = cleared || c.Name == "koe_admin" && c.Value == "" && c.MaxAge < 0
		}
		if !cleared {
			t.Error("sign-out did not clear the cookie")
		}
		// The old cookie, kept by someone, no longer works.
		if resp, _ := b.get("/admin/new"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("after signing out, the old cookie opens the editor: %d", resp.StatusCode)
		}
		// Nor any older one; a new sign-in does.
		if resp, _ := a.get("/admin/new"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("after signing out, an older session still works: %d", resp.StatusCode)
		}
		if resp, _ := signIn(t, f, "ja").get("/admin/new"); resp.StatusCode != 200 {
			t.Errorf("signing in again: %d", resp.StatusCode)
		}
	})
}

func TestConsoleSignInLimit(t *testing.T) {
	f := getConsole(t)
	site := web.New(f.api, web.Options{AdminToken: consoleToken, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	try := func(addr, token string) int {
		req := httptest.NewRequest("POST", "/admin/signin", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = addr
		w := httptest.NewRecorder()
		site.ServeHTTP(w, req)
		return w.Code
	}
	for i := range 5 {
		if code := try("192.0.2.1:1234", "guess"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i+1, code)
		}
	}
	if code := try("192.0.2.1:1235", consoleToken); code != http.StatusTooManyRequests {
		t.Errorf("after 5 failures, the right token: %d, want 429", code)
	}
	if code := try("198.51.100.7:1234", consoleToken); code != http.StatusSeeOther {
		t.Errorf("another address: %d, want 303", code)
	}
}

func TestConsoleNotServedWithoutToken(t *testing.T) {
	f := getConsole(t)
	site := web.New(f.api, web.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, p := range []string{"/admin", "/admin/new"} {
		w := httptest.NewRecorder()
		site.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		if w.Code != http.StatusNotFound {
			t.Errorf("GET %s without an admin token: %d, want 404", p, w.Code)
		}
	}
}

// TestConsoleEditor writes the citizen survey's kinds of question in the
// editor, button by button, as an administrator would.
func TestConsoleEditor(t *testing.T) {
	f := getConsole(t)
	a := signIn(t, f, "ja")
	resp, body := a.get("/admin/new")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /admin/new: %d", resp.StatusCode)
	}
	checkConsolePage(t, resp, body)
	form := editorForm(t, body)
	if form.Get("q0.kind") != "single" || !form.Has("q0.o1.id") || form.Has("q1.kind") {
		t.Fatalf("the new draft is not one single-choice question with two options: %v", form)
	}
	csrf := form.Get("csrf")
	step := func(action string, set map[string]string) (*http.Response, string, url.Values) {
		t.Helper()
		for k, v := range set {
			form.Set(k, v)
		}
		form.Set("action", action)
		resp, body := a.post("/admin/new", form)
		next := editorForm(t, body)
		if next.Get("csrf") != csrf {
			t.Fatalf("%s: the form lost its CSRF token", action)
		}
		form = next
		return resp, body, next
	}

	step("add-option:0", map[string]string{
		"id": "console-survey", "kind": "survey", "trustees": "3", "threshold": "2",
		"title.ja": "市科学技術・イノベーション振興指針の策定のための市民意見アンケート",
		"title.en": "Citizen survey for the city's science, technology and innovation policy",
		"q0.id":    "internet-voting", "q0.label.ja": "公職選挙へのインターネット投票の導入に賛成ですか",
		"q0.label.en": "Do you support internet voting in public elections?",
		"q0.o0.id":    "for", "q0.o0.label.ja": "賛成", "q0.o0.label.en": "For",
		"q0.o1.id": "against", "q0.o1.label.ja": "反対", "q0.o1.label.en": "Against",
		"q0.optional": "on",
	})
	if !form.Has("q0.o2.id") || form.Get("q0.o0.label.ja") != "賛成" || form.Get("q0.optional") != "on" {
		t.Fatalf("add-option: %v", form)
	}
	step("add-question", map[string]string{"q0.o2.id": "dont-know", "q0.o2.label.ja": "わからない", "q0.o2.label.en": "Don't know"})
	if form.Get("q1.kind") != "single" {
		t.Fatalf("add-question: %v", form)
	}
	// A multiple choice: the kind changes, its bounds appear.
	_, body, _ = step("kind:1", map[string]string{"q1.kind": "multiple"})
	if form.Get("q1.min") != "1" || form.Get("q1.max") != "2" {
		t.Fatalf("a multiple-choice question's bounds: min %q max %q", form.Get("q1.min"), form.Get("q1.max"))
	}
	contains(t, body, "選ぶ数の最小", "選ぶ数の最大")
	step("add-option:1", map[string]string{
		"q1.id": "fields", "q1.label.ja": "市が重点的に取り組むべき分野（2つまで）", "q1.label.en": "Fields the city should focus on (up to 2)",
		"q1.o0.id": "health", "q1.o0.label.ja": "医療・健康", "q1.o0.label.en": "Health and medicine",
		"q1.o1.id": "disaster", "q1.o1.label.ja": "防災・減災", "q1.o1.label.en": "Disaster preparedness",
	})
	step("add-option:1", map[string]string{"q1.o2.id": "transport", "q1.o2.label.ja": "交通・モビリティ", "q1.o2.label.en": "Transport and mobility"})
	step("remove-option:1:3", nil)
	if form.Has("q1.o3.id") || form.Get("q1.o2.id") != "transport" {
		t.Fatalf("remove-option: %v", form)
	}
	// A rating scale.
	step("add-question", nil)
	_, body, _ = step("kind:2", map[string]string{"q2.kind": "rating"})
	if form.Get("q2.min") != "1" || form.Get("q2.max") != "5" || !form.Has("q2.minlabel.ja") {
		t.Fatalf("a rating question's fields: %v", form)
	}
	contains(t, body, "尺度の最小値", "最小の値の意味")
	// Moving a question up swaps it with the one before.
	step("up:2", map[string]string{"q2.id": "science-city"})
	if form.Get("q1.id") != "science-city" || form.Get("q2.id") != "fields" {
		t.Fatalf("up: q1 %q, q2 %q", form.Get("q1.id"), form.Get("q2.id"))
	}

	t.Run("errors shown", func(t *testing.T) {
		saved := cloneValues(form)
		defer func() { form = saved }()
		form.Set("q1.max", "500")
		form.Set("q2.o0.id", "Bad ID!")
		form.Set("threshold", "4")
		form.Set("privacy", "0")
		for lang, wants := range map[string][]string{
			"ja": {"入力に問題があります", "質問 2 › 最大", "質問 3 › 選択肢 1 › ID", "復号に必要な受託者の人数", "日本語を入力してください", "結果を公表する最低回答数", "1から1000000までの数にするか、空欄にしてください。"},
			"en": {"There is a problem", "Question 2 › Maximum", "Question 3 › option 1 › ID", "Enter the Japanese text.", "Fewest answers for results", "Enter a number from 1 to 1000000, or leave it empty."},
		} {
			a.lang = lang
			form.Set("action", "preview")
			resp, body := a.post("/admin/new", form)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", lang, resp.StatusCode)
			}
			contains(t, body, wants...)
			contains(t, body, `href="#q1-max"`, `id="q1-max"`, `aria-invalid="true"`, `aria-describedby="q1-max-error"`, `href="#q2-o0-id"`, `href="#threshold"`, `href="#privacy"`)
			if strings.Contains(body, `id="preview"`) {
				t.Error("an invalid draft is previewed")
			}
		}
		a.lang = "ja"
	})

	// Preview: the questions as a voter sees them, in both languages.
	step("preview", map[string]string{"q1.label.ja": "「研究学園都市」であることを日常で実感しますか", "q1.label.en": "Do you feel, day to day, that you live in a science city?",
		"q1.minlabel.ja": "まったく感じない", "q1.minlabel.en": "Not at all", "q1.maxlabel.ja": "とても感じる", "q1.maxlabel.en": "Very much"})
	resp, body = a.post("/admin/new", withAction(form, "preview"))
	if resp.StatusCode != 200 {
		t.Fatalf("preview: %d\n%s", resp.StatusCode, body)
	}
	contains(t, body, `id="preview"`, `class="ballot-form"`, `id="preview-q-internet-voting"`, `data-kind="multiple"`, `data-kind="rating"`,
		`type="radio" name="q:internet-voting" value="dont-know"`, `type="checkbox" name="q:fields" value="transport"`,
		`name="q:science-city" value="5"`, "まったく感じない", "1 つ以上 2 つまで選んでください",
		`id="preview-other-q-fields"`, "Health and medicine", "Choose between 1 and 2.", "Very much")
	checkConsolePage(t, resp, body)

	// The manifest as JSON: valid, with every kind, and the privacy
	// threshold when one is given.
	withPrivacy := cloneValues(form)
	withPrivacy.Set("privacy", "25")
	req, _ := http.NewRequest("POST", f.url+"/admin/new", strings.NewReader(withAction(withPrivacy, "json").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, body := a.do(req); resp.StatusCode != 200 || !strings.Contains(body, `"privacyThreshold": 25`) {
		t.Fatalf("json with a privacy threshold: %d\n%s", resp.StatusCode, body)
	}
	req, _ = http.NewRequest("POST", f.url+"/admin/new", strings.NewReader(withAction(form, "json").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body = a.do(req)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	m, err := ballot.ParseManifest([]byte(body))
	if err != nil {
		t.Fatalf("the editor's manifest: %v\n%s", err, body)
	}
	kinds := []string{}
	for _, q := range m.Questions {
		kinds = append(kinds, q.Kind)
	}
	if strings.Join(kinds, ",") != "single,rating,multiple" || !m.Questions[0].Optional || m.Questions[2].Max != 2 ||
		m.Questions[1].MaxLabel == nil || m.Questions[1].MaxLabel.En != "Very much" || m.Title.En == "" || m.Trustees != 3 || m.Threshold != 2 || m.Privacy != nil {
		t.Errorf("the manifest: %s", body)
	}

	// Create: the trustees' tokens, once, with their commands.
	resp, body = a.post("/admin/new", withAction(form, "create"))
	if resp.StatusCode != 200 {
		t.Fatalf("create: %d\n%s", resp.StatusCode, body)
	}
	contains(t, body, "作成しました", "受託者のトークンはこの画面に一度だけ表示されます",
		"koe trustee keygen --server http://127.0.0.1", "--election console-survey", "--index 3", `href="/admin/elections/console-survey"`)
	checkConsolePage(t, resp, body)
	var in api.ElectionInfo
	if err := f.admin.Do(context.Background(), "GET", api.ElectionPath("console-survey", ""), "", nil, &in); err != nil {
		t.Fatal(err)
	}
	stored, err := f.admin.Raw(context.Background(), "GET", api.ElectionPath("console-survey", "/manifest"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	// The server keeps the editor's bytes, its board key filled in (SPEC.md §7.1).
	if _, err := demo.ServerManifest(context.Background(), f.url, "console-survey", mustJSON(t, f, form)); in.State != api.StateSetup || err != nil {
		t.Errorf("the created election: %s %s", in.State, stored)
	}
	if n := strings.Count(body, `class="tc token"`); n != 3 {
		t.Errorf("%d tokens shown, want 3", n)
	}

	// Again: the id is taken.
	a.lang = "en"
	resp, body = a.post("/admin/new", withAction(form, "create"))
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("creating it twice: %d", resp.StatusCode)
	}
	contains(t, body, "An election or survey with this ID exists already", `id="preview"`)
}

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

func withAction(v url.Values, action string) url.Values {
	c := cloneValues(v)
	c.Set("action", action)
	return c
}

// mustJSON is the manifest the editor makes of a form.
func mustJSON(t *testing.T, f *consoleFixture, form url.Values) []byte {
	t.Helper()
	a := signIn(t, f, "en")
	form = withAction(form, "json")
	form.Set("csrf", a.csrf())
	resp, body := a.post("/admin/new", form)
	if resp.StatusCode != 200 {
		t.Fatalf("json: %d", resp.StatusCode)
	}
	return []byte(body)
}

func TestConsoleImportManifest(t *testing.T) {
	f := getConsole(t)
	a := signIn(t, f, "en")
	csrf := a.csrf()
	survey, _ := examples.Manifest("survey")
	resp, body := a.postFile("/admin/new", url.Values{"csrf": {csrf}, "action": {"import"}}, "file", "survey.json", survey)
	if resp.StatusCode != 200 {
		t.Fatalf("import: %d\n%s", resp.StatusCode, body)
	}
	form := editorForm(t, body)
	if form.Get("id") != "kagaku-shishin-2026" || form.Get("q2.kind") != "rating" || form.Get("q2.maxlabel.ja") != "とても感じる" ||
		form.Get("q1.max") != "3" || form.Get("q0.o7.id") != "no-answer" {
		t.Errorf("the imported survey's fields: %v", form)
	}
	contains(t, body, `id="preview"`, "Prefer not to say")

	// Pasted, and invalid: shown with the faults at their fields.
	bad := strings.Replace(string(survey), `"threshold": 3`, `"threshold": 9`, 1)
	resp, body = a.post("/admin/new", url.Values{"csrf": {csrf}, "action": {"import"}, "manifest": {bad}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an invalid manifest: %d", resp.StatusCode)
	}
	contains(t, body, "Trustees needed to decrypt: Enter 1 up to the number of trustees.")
	resp, body = a.post("/admin/new", url.Values{"csrf": {csrf}, "action": {"import"}, "manifest": {"{not json"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("not JSON: %d", resp.StatusCode)
	}
	contains(t, body, "This is not JSON that could be read")

	// The examples open in the editor.
	for _, name := range examples.Names() {
		resp, body := a.get("/admin/new?example=" + name)
		m, _ := examples.Manifest(name)
		var want ballot.Manifest
		parsed, _ := ballot.ParseManifest(m)
		want = *parsed
		if resp.StatusCode != 200 || editorForm(t, body).Get("id") != want.ID {
			t.Errorf("example %s: %d", name, resp.StatusCode)
		}
	}
}

var codeRow = regexp.MustCompile(`^[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}$`)

func TestConsoleRoll(t *testing.T) {
	f := getConsole(t)
	f.readyElection(t, "referendum", "console-roll")
	a := signIn(t, f, "ja")
	csrf := a.csrf()
	path := "/admin/elections/console-roll"

	resp, body := a.postFile(path+"/roll", url.Values{"csrf": {csrf}}, "file", "voters.csv", []byte("voter_id\nR00001\nR00002\nR00003\n"))
	if resp.StatusCode != 200 {
		t.Fatalf("roll: %d\n%s", resp.StatusCode, body)
	}
	contains(t, body, "3人を名簿に登録しました", "コードはこの画面からしかダウンロードできません")
	checkConsolePage(t, resp, body)
	codes := regexp.MustCompile(`name="codes" value="([^"]+)"`).FindStringSubmatch(body)
	if codes == nil {
		t.Fatal("no codes on the page")
	}
	csvText := strings.ReplaceAll(codes[1], "&#10;", "\n")
	csvText = strings.ReplaceAll(csvText, "&#43;", "+")

	// Pasted ids add to the roll.
	resp, body = a.post(path+"/roll", url.Values{"csrf": {csrf}, "voters": {"R00004\nR00005"}})
	contains(t, body, "2人を名簿に登録しました")
	// A voter twice: nothing is imported, and the form says why.
	resp, body = a.post(path+"/roll", url.Values{"csrf": {csrf}, "voters": {"R00006\nR00001"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a duplicate voter: %d", resp.StatusCode)
	}
	contains(t, body, "すでに登録済みの人がいます", `id="roll-error"`, "is on the roll already")

	// The CSV download.
	resp, body = a.post(path+"/codes", url.Values{"csrf": {csrf}, "format": {"csv"}, "codes": {csvText}})
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "console-roll-codes.csv") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("codes CSV: %d %v", resp.StatusCode, resp.Header)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 4 || rows[0][0] != "voter_id" || rows[1][0] != "R00001" {
		t.Fatalf("codes CSV: %v %q", err, rows)
	}
	for _, r := range rows[1:] {
		if !codeRow.MatchString(r[1]) {
			t.Errorf("code %q", r[1])
		}
	}

	// The letters, one a voter, in Japanese and English.
	for _, lang := range []string{"ja", "en"} {
		a.lang = lang
		resp, body = a.post(path+"/codes", url.Values{"csrf": {csrf}, "format": {"letters"}, "codes": {csvText}})
		if resp.StatusCode != 200 {
			t.Fatalf("letters: %d", resp.StatusCode)
		}
		if n := strings.Count(body, `<article class="letter"`); n != 3 {
			t.Errorf("%d letters, want 3", n)
		}
		contains(t, body, rows[2][1], "R00002", "/elections/console-roll/vote", "市役所新庁舎の建設計画に関する住民投票",
			"Referendum on the plan to build a new city hall", "ワンタイムコード", "One-time code", `<section lang="en">`)
		checkConsolePage(t, resp, body)
	}
	// From a codes file kept since.
	resp, body = a.postFile(path+"/codes", url.Values{"csrf": {csrf}, "format": {"letters"}}, "file", "codes.csv", []byte(csvText))
	if n := strings.Count(body, `<article class="letter"`); resp.StatusCode != 200 || n != 3 {
		t.Errorf("letters from a file: %d, %d letters", resp.StatusCode, n)
	}
	resp, body = a.postFile(path+"/codes", url.Values{"csrf": {csrf}, "format": {"letters"}}, "file", "voters.csv", []byte("voter_id\nR00001\n"))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("letters from a roll without codes: %d", resp.StatusCode)
	}
	contains(t, body, "This is not a codes CSV")

	// The roll is on the election's page.
	a.lang = "en"
	_, body = a.get(path)
	contains(t, body, "<dt>Voters on the roll</dt><dd>5</dd>")
}

func TestConsoleCeremony(t *testing.T) {
	f := getConsole(t)
	f.partialElection(t, "console-partial")
	a := signIn(t, f, "en")
	resp, body := a.get("/admin/elections/console-partial")
	if resp.StatusCode != 200 {
		t.Fatalf("%d\n%s", resp.StatusCode, body)
	}
	checkConsolePage(t, resp, body)
	if n := strings.Count(body, `<td class="yes">`); n != 2 {
		t.Errorf("%d rounds done, want 2 (two announcements)", n)
	}
	if n := strings.Count(body, `<td class="no">`); n != 10 {
		t.Errorf("%d rounds to do, want 10", n)
	}
	contains(t, body, "0 of 3 trustees have finished every round", "受託者1", "There is no election key yet",
		`<button type="button" disabled aria-describedby="why-open">Open voting…</button>`, "Voting cannot open before the key ceremony is complete")
	// Opening is refused, with the reason.
	resp, body = a.post("/admin/elections/console-partial/open", url.Values{"csrf": {a.csrf()}})
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("opening an election without a key: %d", resp.StatusCode)
	}
	contains(t, body, "The trustees&#39; key ceremony is not complete yet.", `id="action-error"`)

	f.readyElection(t, "budget", "console-ready")
	a.lang = "ja"
	_, body = a.get("/admin/elections/console-ready")
	if n := strings.Count(body, `<td class="yes">`); n != 12 {
		t.Errorf("%d rounds done, want 12", n)
	}
	contains(t, body, "3人中3人の受託者がすべての段階を終えました", "選挙の公開鍵ができました", `href="/admin/elections/console-ready/open"`)
	key := regexp.MustCompile(`<code class="tc">([0-9a-f]{64})</code>`).FindStringSubmatch(body)
	if key == nil {
		t.Fatal("no joint key shown")
	}
	// The key shown is the one the server derives when it opens.
	if err := f.admin.Do(context.Background(), "POST", api.ElectionPath("console-ready", "/open"), "", nil, nil); err != nil {
		t.Fatal(err)
	}
	var in api.ElectionInfo
	if err := f.admin.Do(context.Background(), "GET", api.ElectionPath("console-ready", ""), "", nil, &in); err != nil {
		t.Fatal(err)
	}
	if in.Params == nil || in.Params.JointKey != key[1] {
		t.Errorf("the console showed key %s, the server's is %v", key[1], in.Params)
	}
}

// TestConsoleLifecycle runs an election from the console: roll, open, a
// voter with a code from the console, close, count, the trustees'
// decryptions, publish.
func TestConsoleLifecycle(t *testing.T) {
	f := getConsole(t)
	ctx := context.Background()
	manifest, trustees, tokens := f.readyElection(t, "referendum", "console-life")
	a := signIn(t, f, "en")
	csrf := a.csrf()
	path := "/admin/elections/console-life"
	state := func() string {
		var in api.ElectionInfo
		if err := f.admin.Do(ctx, "GET", api.ElectionPath("console-life", ""), "", nil, &in); err != nil {
			t.Fatal(err)
		}
		return in.State
	}
	_, body := a.post(path+"/roll", url.Values{"csrf": {csrf}, "voters": {"L001\nL002"}})
	code := regexp.MustCompile(`L001,([A-Z0-9-]{19})`).FindStringSubmatch(strings.ReplaceAll(body, "&#10;", "\n"))
	if code == nil {
		t.Fatalf("no code for L001:\n%s", body)
	}

	// Only the actions of the present state are offered.
	_, body = a.get(path)
	contains(t, body, `href="/admin/elections/console-life/open"`, `<button type="button" disabled aria-describedby="why-close">`)
	if resp, _ := a.get(path + "/close"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("confirming a close in setup: %d, want a redirect", resp.StatusCode)
	}
	resp, body := a.post(path+"/tally", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusConflict || state() != api.StateSetup {
		t.Errorf("counting in setup: %d", resp.StatusCode)
	}
	contains(t, body, "This is not possible in the election&#39;s present state")

	step := func(action, want string) {
		t.Helper()
		resp, body := a.get(path + "/" + action)
		if resp.StatusCode != 200 {
			t.Fatalf("confirming %s: %d", action, resp.StatusCode)
		}
		contains(t, body, "This cannot be undone.", `action="/admin/elections/console-life/`+action+`"`)
		checkConsolePage(t, resp, body)
		resp, _ = a.post(path+"/"+action, url.Values{"csrf": {csrf}})
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != path+"?done="+action {
			t.Fatalf("%s: %d %q", action, resp.StatusCode, loc)
		}
		if s := state(); s != want {
			t.Fatalf("after %s the election is %s, want %s", action, s, want)
		}
		_, body = a.get(path + "?done=" + action)
		contains(t, body, `role="status"`)
	}
	step("open", api.StateOpen)

	voter := client.New(f.url, "")
	el, err := voter.Election(ctx, "console-life")
	if err != nil {
		t.Fatal(err)
	}
	cred, err := voter.Register(ctx, el, "L001", code[1])
	if err != nil {
		t.Fatalf("registering with the console's code: %v", err)
	}
	pt, err := el.E.Manifest.Plaintext(ballot.Answers{"plan": "yes"})
	if err != nil {
		t.Fatal(err)
	}
	env, _, _, err := client.Seal(el, cred, pt, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := voter.Cast(ctx, "console-life", env); err != nil {
		t.Fatal(err)
	}

	step("close", api.StateClosed)
	step("tally", api.StateTallied)
	_, body = a.get(path)
	contains(t, body, "0 (2 needed)", `<button type="button" disabled aria-describedby="why-publish">`)

	if err := demo.ServerDecrypt(ctx, f.url, "console-life", manifest, trustees, tokens, []int{1, 3}); err != nil {
		t.Fatal(err)
	}
	step("publish", api.StatePublished)
	_, body = a.get(path + "?done=publish")
	contains(t, body, "The results are published.", `href="/elections/console-life/results"`, "2 (2 needed)")
	res, err := voter.Raw(ctx, "GET", api.ElectionPath("console-life", "/results"), "", nil)
	if err != nil || !strings.Contains(string(res), `"yes"`) {
		t.Errorf("results: %v %s", err, res)
	}
}

func TestConsoleErrors(t *testing.T) {
	f := getConsole(t)
	a := signIn(t, f, "ja")
	resp, body := a.get("/admin/elections/no-such-election")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("no election: %d", resp.StatusCode)
	}
	contains(t, body, "投票が見つかりません", `href="/admin"`)
	checkConsolePage(t, resp, body)
	resp, body = a.post("/admin/new", url.Values{"csrf": {a.csrf()}, "action": {"no-such-button"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown button: %d", resp.StatusCode)
	}
	contains(t, body, "送信内容を読めませんでした")
}

// flip changes a token's first character.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

// TestConsoleWithheld: an election tallied with fewer ballots than its
// privacy threshold cannot be published, and the console says why.
func TestConsoleWithheld(t *testing.T) {
	f := getConsole(t)
	ctx := context.Background()
	const id = "console-withheld"
	manifest := bytes.Replace(exampleAs(t, "referendum", id, 1, 1), []byte(`"privacyThreshold":1`), []byte(`"privacyThreshold":5`), 1)
	var created api.Created
	if err := f.admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.ServerCeremony(ctx, f.url, id, manifest, created.TrusteeTokens); err != nil {
		t.Fatal(err)
	}
	codes, err := demo.ImportRoll(ctx, f.admin, id, "P", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil); err != nil {
		t.Fatal(err)
	}
	voter := client.New(f.url, "")
	el, err := voter.Election(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for vid, code := range codes {
		cred, err := voter.Register(ctx, el, vid, code)
		if err != nil {
			t.Fatal(err)
		}
		pt, _ := el.E.Manifest.Plaintext(ballot.Answers{"plan": "no"})
		env, _, _, err := client.Seal(el, cred, pt, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := voter.Cast(ctx, id, env); err != nil {
			t.Fatal(err)
		}
	}
	for _, step := range []string{"/close", "/tally"} {
		if err := f.admin.Do(ctx, "POST", api.ElectionPath(id, step), "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	for lang, want := range map[string]string{
		"ja": "集計された回答がマニフェストの最低回答数に届かないため、受託者は復号せず、結果は公表できません。",
		"en": "Fewer answers were counted than the manifest&#39;s minimum: the trustees do not decrypt, and the results cannot be published.",
	} {
		a := signIn(t, f, lang)
		resp, body := a.get("/admin/elections/" + id)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", lang, resp.StatusCode)
		}
		contains(t, body, want, `<button type="button" disabled aria-describedby="why-publish">`)
		checkConsolePage(t, resp, body)
	}
}

// TestConsoleEditorOtherLanguages: labels in languages other than Japanese
// and English survive the editor (each gets its own field), the editor
// adds fields for a language named in "other languages", and an
// ill-formed tag there is pointed at.
func TestConsoleEditorOtherLanguages(t *testing.T) {
	f := getConsole(t)
	a := signIn(t, f, "en")
	csrf := a.csrf()
	survey, _ := examples.Manifest("survey")
	var m map[string]any
	if err := json.Unmarshal(survey, &m); err != nil {
		t.Fatal(err)
	}
	title := m["title"].(map[string]any)
	title["zh-Hans"], title["ko"] = "科学都市问卷", "과학 도시 설문"
	q0 := m["questions"].([]any)[0].(map[string]any)
	q0["label"].(map[string]any)["ko"] = "인터넷 투표에 대해 어떻게 생각하십니까?"
	o0 := q0["options"].([]any)[0].(map[string]any)
	o0["label"].(map[string]any)["zh-Hans"] = "赞成"
	data, _ := json.Marshal(m)
	resp, body := a.post("/admin/new", url.Values{"csrf": {csrf}, "action": {"import"}, "manifest": {string(data)}})
	if resp.StatusCode != 200 {
		t.Fatalf("import: %d\n%s", resp.StatusCode, body)
	}
	contains(t, body, `lang="zh-Hans"`, `for="title-ko"`, "Title (한국어, ko)")
	form := editorForm(t, body)
	if form.Get("title.zh-Hans") != "科学都市问卷" || form.Get("q0.label.ko") == "" || form.Get("q0.o0.label.zh-Hans") != "赞成" {
		t.Fatalf("the other languages' fields: %v", form)
	}
	// Every label has a field in both languages, empty where it has none.
	if _, ok := form["q0.o1.label.ko"]; !ok {
		t.Error("an option without a Korean label has no Korean field")
	}

	// Moving the first question down moves its translations with it.
	form.Set("langs", "vi")
	resp, body = a.post("/admin/new", withAction(form, "down:0"))
	if resp.StatusCode != 200 {
		t.Fatalf("move: %d\n%s", resp.StatusCode, body)
	}
	form = editorForm(t, body)
	if form.Get("q1.label.ko") == "" || form.Get("q0.label.ko") != "" {
		t.Errorf("the Korean label did not move with its question: q0 %q, q1 %q", form.Get("q0.label.ko"), form.Get("q1.label.ko"))
	}
	if _, ok := form["title.vi"]; !ok {
		t.Error("no Vietnamese field after naming vi")
	}
	form.Set("title.vi", "Khảo sát thành phố khoa học")

	resp, body = a.post("/admin/new", withAction(form, "json"))
	if resp.StatusCode != 200 {
		t.Fatalf("json: %d\n%s", resp.StatusCode, body)
	}
	got, err := ballot.ParseManifest([]byte(body))
	if err != nil {
		t.Fatalf("the editor's manifest: %v\n%s", err, body)
	}
	if got.Title.Other["zh-Hans"] != "科学都市问卷" || got.Title.Other["ko"] != "과학 도시 설문" || got.Title.Other["vi"] != "Khảo sát thành phố khoa học" ||
		got.Questions[1].Label.Other["ko"] == "" || got.Questions[1].Options[0].Label.Other["zh-Hans"] != "赞成" {
		t.Errorf("the manifest lost a translation:\n%s", body)
	}
	if _, ok := got.Questions[1].Options[1].Label.Other["ko"]; ok {
		t.Error("an empty field became an empty label")
	}

	for _, bad := range []string{"zh-hans", "not a tag!"} {
		form.Set("langs", bad)
		resp, body = a.post("/admin/new", withAction(form, "preview"))
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("langs %q: status %d", bad, resp.StatusCode)
		}
		contains(t, body, "A language tag is wrong", `href="#langs"`)
	}
}
