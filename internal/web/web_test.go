package web_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// get fetches a page with an Accept-Language header and cookies.
func get(t *testing.T, rawURL, acceptLanguage string, cookies ...*http.Cookie) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

var htmlLang = regexp.MustCompile(`<html lang="([a-zA-Z-]+)"`)

func TestPagesRender(t *testing.T) {
	f := getFixture(t)
	pages := []struct {
		name, path string
		want       map[string][]string // by language: text the page must contain
	}{
		{"elections", "/", map[string][]string{
			"ja": {"投票・アンケート一覧", "市科学技術・イノベーション振興指針", "結果公表"},
			"en": {"Elections and surveys", "Citizen survey for the city", "Results published"},
		}},
		{"overview", "/elections/" + f.survey, map[string][]string{
			"ja": {"年代", "受託者", "5人（うち3人がそろえば", "koe verify --server http://127.0.0.1", "まったく感じない"},
			"en": {"Age group", "any 3 of them", "Ballots received (re-votes included)", "Not at all"},
		}},
		{"overview-setup", "/elections/" + f.setup, map[string][]string{
			"ja": {"市役所新庁舎の建設計画に関する住民投票", "準備中"},
			"en": {"Referendum on the plan to build a new city hall", "In preparation"},
		}},
		{"results", "/elections/" + f.survey + "/results", map[string][]string{
			"ja": {`role="img"`, "24票を集計しました", "名簿の40人のうち60.0%", "どちらかといえば賛成", "時間ごとの投票数", "平均", "<table>"},
			"en": {`role="img"`, "24 ballots counted", "60.0% of the 40 voters", "Rather for", "Ballots per hour", "Average", "<table>"},
		}},
		{"results-setup", "/elections/" + f.setup + "/results", map[string][]string{
			"ja": {"結果はまだ公表されていません", "まだ票はありません"},
			"en": {"The results are not published yet", "No ballots yet"},
		}},
		{"results-withheld", "/elections/" + f.withheld + "/results", map[string][]string{
			"ja": {"集計された回答は2件で、10件に届きませんでした。回答した方のプライバシーを守るため、結果は公表しません。", "受託者はこの集計を復号しません"},
			"en": {"2 answers were counted, fewer than 10: the results are withheld to protect the privacy of those who answered.", "the trustees do not decrypt it"},
		}},
		{"board", "/elections/" + f.survey + "/board", map[string][]string{
			"ja": {"最新のチェックポイント", "koe.test/koe/" + f.survey, "質問（マニフェスト）", "追跡コード", "/api/v1/elections/" + f.survey + "/record"},
			"en": {"Latest checkpoint", "koe.test/koe/" + f.survey, "Questions (manifest)", "Tracking code", "Download the election record"},
		}},
		{"board-page-2", "/elections/" + f.survey + "/board?page=2", map[string][]string{
			"ja": {"票", "受託者の部分復号", "結果"},
			"en": {"Ballot", "Trustee&#39;s partial decryption", "Results"},
		}},
		{"verify", "/verify", map[string][]string{
			"ja": {"検証のしかた", "koe verify --server", "集計された各票"},
			"en": {"How to verify", "koe verify --server", "Every counted ballot"},
		}},
	}
	for _, p := range pages {
		for _, lang := range []string{"ja", "en"} {
			t.Run(p.name+"/"+lang, func(t *testing.T) {
				resp, body := get(t, f.url+p.path, "", &http.Cookie{Name: "lang", Value: lang})
				if resp.StatusCode != 200 {
					t.Fatalf("status %d:\n%s", resp.StatusCode, body)
				}
				if m := htmlLang.FindStringSubmatch(body); m == nil || m[1] != lang {
					t.Fatalf("<html lang> is %v, want %s", m, lang)
				}
				for _, w := range p.want[lang] {
					if !strings.Contains(body, w) {
						t.Errorf("page does not contain %q", w)
					}
				}
				checkPage(t, resp, body)
				if t.Failed() {
					t.Logf("page:\n%s", body)
				}
			})
		}
	}
	// An election in setup is not listed publicly until it opens, but its
	// page is reachable by id (its trustees and administrator need it).
	if _, body := get(t, f.url+"/", "ja"); strings.Contains(body, `href="/elections/`+f.setup+`"`) {
		t.Error("the public list shows an election in setup")
	}
}

// checkPage checks what every page must have: security headers, a
// skip link, landmarks, and no untranslated catalogue keys.
func checkPage(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy: %q", csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no X-Content-Type-Options: nosniff")
	}
	for _, want := range []string{`<a class="skip" href="#main">`, `<main id="main"`, "<header", "<footer", `<meta name="viewport"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page has no %s", want)
		}
	}
	// The console's election pages refresh their live part with one
	// script of the site's own (static/console-live.js); they work without.
	rest := strings.Replace(body, `<script src="/static/console-live.js" defer></script>`, "", 1)
	if strings.Contains(rest, "<script") || strings.Contains(body, " style=") {
		t.Error("page has a script or an inline style")
	}
	if m := untranslated.FindString(body); m != "" {
		t.Errorf("untranslated catalogue key %q", m)
	}
}

var untranslated = regexp.MustCompile(`>\s*(site|skip|nav|lang|elections|state|statehelp|kind|qkind|overview|results|turnout|board|entry|lookup|verify|err)\.[a-z.-]+\s*<`)

func TestLanguage(t *testing.T) {
	f := getFixture(t)
	for _, tc := range []struct{ header, want string }{
		{"ja", "ja"},
		{"ja-JP,ja;q=0.9,en-US;q=0.8,en;q=0.7", "ja"},
		{"en-US,en;q=0.9,ja;q=0.8", "en"},
		{"en-GB", "en"},
		{"fr-FR,fr;q=0.9,en;q=0.5", "en"},
		{"fr-FR,en;q=0.5,ja;q=0.6", "ja"},
		{"de", "ja"},
		{"", "ja"},
	} {
		_, body := get(t, f.url+"/verify", tc.header)
		if m := htmlLang.FindStringSubmatch(body); m == nil || m[1] != tc.want {
			t.Errorf("Accept-Language %q: page in %v, want %s", tc.header, m, tc.want)
		}
	}
	// ?lang= wins and is remembered in a cookie.
	resp, body := get(t, f.url+"/verify?lang=en", "ja")
	if m := htmlLang.FindStringSubmatch(body); m == nil || m[1] != "en" {
		t.Fatalf("?lang=en: page in %v", m)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "lang" {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != "en" {
		t.Fatalf("?lang=en set no lang cookie: %v", resp.Cookies())
	}
	_, body = get(t, f.url+"/", "ja", cookie)
	if m := htmlLang.FindStringSubmatch(body); m == nil || m[1] != "en" {
		t.Fatalf("with the cookie: page in %v", m)
	}
	// The switch links keep the query.
	_, body = get(t, f.url+"/elections/"+f.survey+"/board?page=2", "ja")
	if !strings.Contains(body, `href="/elections/`+f.survey+`/board?lang=en&amp;page=2"`) {
		t.Error("the language switch does not keep the page's query")
	}
}

func TestErrors(t *testing.T) {
	f := getFixture(t)
	for _, tc := range []struct {
		path   string
		status int
		ja, en string
	}{
		{"/elections/no-such-election", 404, "投票が見つかりません", "There is no election or survey &#34;no-such-election&#34;"},
		{"/elections/no-such-election/results", 404, "投票が見つかりません", "Election not found"},
		{"/elections/no-such-election/board", 404, "投票が見つかりません", "Election not found"},
		{"/no/such/page", 404, "ページが見つかりません", "Page not found"},
	} {
		for lang, want := range map[string]string{"ja": tc.ja, "en": tc.en} {
			resp, body := get(t, f.url+tc.path, lang)
			if resp.StatusCode != tc.status || !strings.Contains(body, want) {
				t.Errorf("%s (%s): status %d, want %d with %q:\n%s", tc.path, lang, resp.StatusCode, tc.status, want, body)
			}
			checkPage(t, resp, body)
		}
	}
}

func TestReceiptLookup(t *testing.T) {
	f := getFixture(t)
	board := f.url + "/elections/" + f.survey + "/board?code="
	for _, tc := range []struct {
		name, code string
		ja, en     string
	}{
		{"cast", f.tracking, "この票は掲示板に載っており、包含証明を確認しました", "This ballot is on the board, and its inclusion proof checks out"},
		{"lower case, no dashes", strings.ToLower(strings.ReplaceAll(f.tracking, "-", "")), "包含証明を確認しました", "its inclusion proof checks out"},
		{"superseded by a re-vote", f.superseded, "最後の票だけが集計されます", "only your last ballot is counted"},
		{"malformed", "not-a-code", "追跡コードの形式が正しくありません", "That is not a tracking code"},
		{"absent", strings.Repeat("A", 52), "この追跡コードの票は掲示板にありません", "No ballot with this tracking code is on the board"},
		{"path characters", "../../x?y", "追跡コードの形式が正しくありません", "That is not a tracking code"},
	} {
		for lang, want := range map[string]string{"ja": tc.ja, "en": tc.en} {
			resp, body := get(t, board+url.QueryEscape(tc.code), lang)
			if resp.StatusCode != 200 || !strings.Contains(body, want) {
				t.Errorf("%s (%s): status %d, want %q", tc.name, lang, resp.StatusCode, want)
			}
		}
	}
}

func TestStatic(t *testing.T) {
	f := getFixture(t)
	for _, p := range []string{"/static/site.css", "/static/favicon.svg"} {
		resp, _ := get(t, f.url+p, "")
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}
