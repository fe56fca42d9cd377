package web_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/koe-vote/koe/internal/web"
)

const siteFile = "../../examples/site/tsukuba.json"

// brandedSite is the fixture's server behind a site with the example
// city's branding.
func brandedSite(t *testing.T) (*fixture, string) {
	t.Helper()
	f := getFixture(t)
	b, err := web.LoadBranding(siteFile)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", f.api)
	mux.Handle("/", web.New(f.api, web.Options{AdminToken: adminToken, Branding: b, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return f, ts.URL
}

// TestBranding: the city's name and logo are in the header of every page,
// its contact and the link to its privacy notice in the footer, the
// notice has its page, and the logo is served as an image only.
func TestBranding(t *testing.T) {
	f, base := brandedSite(t)
	pages := []string{"/", "/help", "/verify", "/privacy", "/elections/" + f.survey, "/elections/" + f.survey + "/results",
		"/elections/" + f.booth.id + "/vote", "/elections/" + f.survey + "/receipt", "/admin", "/no-such-page"}
	for _, lang := range []string{"ja", "en", "ko"} {
		name := map[string]string{"ja": "つくば市（デモ）", "en": "Tsukuba City (demo)", "ko": "쓰쿠바시(데모)"}[lang]
		contact := map[string]string{"ja": "政策イノベーション部", "en": "Policy Innovation Department", "ko": "Policy Innovation Department"}[lang]
		for _, p := range pages {
			resp, err := http.Get(base + p + "?lang=" + lang)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			page := string(body)
			for _, want := range []string{`<span class="city-name">` + name + `</span>`, `<img class="logo" src="/site/logo"`,
				contact, `<a href="/privacy"`, `href="https://www.city.tsukuba.lg.jp/" rel="external"`, "— " + name + "</title>"} {
				if !strings.Contains(page, want) {
					t.Errorf("%s %s: no %q", lang, p, want)
				}
			}
		}
	}
	resp, err := http.Get(base + "/privacy?lang=ja")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Count(string(body), "<p>") < 4 || !strings.Contains(string(body), "登録の記録と回答は別々に保管され") {
		t.Errorf("the privacy notice page: %d, not its paragraphs:\n%s", resp.StatusCode, body)
	}

	resp, err = http.Get(base + "/site/logo")
	if err != nil {
		t.Fatal(err)
	}
	logo, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" || !bytes.Contains(logo, []byte("<svg")) ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("the logo: %d %v", resp.StatusCode, resp.Header)
	}

	// Without a site file: koe's own header, no privacy page, no logo.
	for _, p := range []string{"/privacy", "/site/logo"} {
		resp, err := http.Get(f.url + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s without a site file: %d, want 404", p, resp.StatusCode)
		}
	}
}

// TestBrandingBrowser: the branded header and footer and the privacy
// notice pass axe and fit a phone, in Japanese and English.
func TestBrandingBrowser(t *testing.T) {
	_, base := brandedSite(t)
	ctx, axe := browser(t)
	for _, tc := range []struct {
		path, lang, shot string
		width            int64
	}{
		{"/", "ja", "site-branded-home", 360}, {"/", "en", "site-branded-home", 1280},
		{"/privacy", "ja", "site-privacy", 360}, {"/privacy", "en", "site-privacy", 1280},
	} {
		browse(t, ctx, chromedp.EmulateViewport(tc.width, 800), chromedp.Navigate(base+tc.path+"?lang="+tc.lang), chromedp.WaitVisible(chromedp.CSS("footer .city-footer")))
		auditPage(t, ctx, axe, tc.width, tc.lang+" "+tc.path)
		// The logo loaded as an image.
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('header img.logo').naturalWidth > 0`)); err != nil || !ok {
			t.Errorf("%s %s: the logo did not load (%v)", tc.lang, tc.path, err)
		}
		if os.Getenv("KOE_SCREENSHOTS") == "1" {
			screenshot(t, ctx, tc.shot+"-"+map[int64]string{360: "360", 1280: "1280"}[tc.width])
		}
	}
}

var pngLogo = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

func logoFiles(name string) ([]byte, error) {
	switch name {
	case "logo.png":
		return pngLogo, nil
	case "logo.txt":
		return []byte("not an image"), nil
	case "big.png":
		return append(pngLogo, make([]byte, 256<<10)...), nil
	}
	return nil, os.ErrNotExist
}

// TestParseBrandingRefuses: a site file that is not exactly what SPEC
// §15.9 allows is refused with the reason, before the server starts.
func TestParseBrandingRefuses(t *testing.T) {
	ok := `{"name": {"ja": "つくば市", "en": "Tsukuba City"}, "logo": "logo.png", "url": "https://example.jp/",
	  "contact": {"ja": "市役所\n電話 000"}, "privacy": {"ja": "一段落目。\n\n二段落目。", "ko": "개인정보"}}`
	b, err := web.ParseBranding([]byte(ok), logoFiles)
	if err != nil {
		t.Fatal(err)
	}
	if b.Name.En != "Tsukuba City" || b.LogoType != "image/png" || b.Contact.Ja != "市役所\n電話 000" || b.Privacy.Other["ko"] != "개인정보" {
		t.Errorf("parsed: %+v", b)
	}
	if _, err := web.ParseBranding([]byte(`{"name": {"ja": "市"}}`), logoFiles); err != nil {
		t.Errorf("a name alone: %v", err)
	}
	for _, tc := range []struct{ name, file, want string }{
		{"not JSON", `{"name":`, "site file"},
		{"unknown field", `{"name": {"ja": "市"}, "colour": "red"}`, "colour"},
		{"no name", `{"url": "https://example.jp/"}`, "name"},
		{"no Japanese name", `{"name": {"en": "City"}}`, "ja"},
		{"empty Japanese name", `{"name": {"ja": ""}}`, "Japanese label is empty"},
		{"non-canonical tag", `{"name": {"ja": "市", "zh-hans": "市"}}`, "canonical"},
		{"line break in the name", `{"name": {"ja": "市\n役所"}}`, "control character"},
		{"control character in the contact", `{"name": {"ja": "市"}, "contact": {"ja": "電話\u0007"}}`, "control character"},
		{"name too long", `{"name": {"ja": "` + strings.Repeat("市", 100) + `"}}`, "longer than"},
		{"javascript url", `{"name": {"ja": "市"}, "url": "javascript:alert(1)"}`, "not an http or https address"},
		{"relative url", `{"name": {"ja": "市"}, "url": "/city"}`, "not an http or https address"},
		{"url with a user", `{"name": {"ja": "市"}, "url": "https://a:b@example.jp/"}`, "not an http or https address"},
		{"missing logo", `{"name": {"ja": "市"}, "logo": "gone.png"}`, "logo"},
		{"logo not an image", `{"name": {"ja": "市"}, "logo": "logo.txt"}`, "not a PNG, JPEG, WebP or SVG"},
		{"logo too large", `{"name": {"ja": "市"}, "logo": "big.png"}`, "larger than"},
		{"null", `{"name": {"ja": "市"}, "url": null}`, "null"},
		{"two values", `{"name": {"ja": "市"}} {}`, "site file"},
	} {
		_, err := web.ParseBranding([]byte(tc.file), logoFiles)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one saying %q", tc.name, err, tc.want)
		}
	}
	// A logo named outside the site file's directory is not read.
	dir := t.TempDir()
	os.WriteFile(dir+"/site.json", []byte(`{"name": {"ja": "市"}, "logo": "../etc/passwd"}`), 0o644)
	if _, err := web.LoadBranding(dir + "/site.json"); err == nil || !strings.Contains(err.Error(), "inside the site file's directory") {
		t.Errorf("a logo outside the directory: %v", err)
	}
	if _, err := web.LoadBranding(dir + "/none.json"); err == nil {
		t.Error("a missing site file loaded")
	}
}

func FuzzParseBranding(f *testing.F) {
	data, err := os.ReadFile(siteFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"name": {"ja": "市"}, "logo": "logo.png", "contact": {"ja": "a\nb"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := web.ParseBranding(data, logoFiles)
		if err != nil {
			return
		}
		if b.Name.Ja == "" || (b.Logo != nil && b.LogoType == "") {
			t.Fatalf("accepted without a name or with an untyped logo: %+v", b)
		}
		if strings.ContainsAny(b.Name.Ja, "\n\r\x00") {
			t.Fatalf("a name with a control character: %q", b.Name.Ja)
		}
	})
}
