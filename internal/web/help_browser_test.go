package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestHelpAndTextSize: the residents' help page (linked from every page's
// header, the booth's too) and the larger text, in Japanese and English,
// at 360 and 1280 px, with no axe-core violations; the booth still fits a
// phone with the larger text.
func TestHelpAndTextSize(t *testing.T) {
	f := getFixture(t)
	// Without a browser: ?text=large is kept in a cookie.
	resp, body := get(t, f.url+"/help?text=large", "ja")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `class="text-large"`) || !strings.Contains(body, "文字を標準に") {
		t.Fatalf("GET /help?text=large: %d, larger text not applied", resp.StatusCode)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "text" {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != "large" {
		t.Fatalf("no text-size cookie: %v", resp.Cookies())
	}
	if _, body := get(t, f.url+"/", "ja", cookie); !strings.Contains(body, `class="text-large"`) {
		t.Error("the larger text is not kept from page to page")
	}
	if _, body := get(t, f.url+"/help", "en"); !strings.Contains(body, "Comments are published as written") || strings.Contains(body, `class="text-large"`) {
		t.Error("the English help page is missing its warning about comments, or has the larger text unasked")
	}

	ctx, axe := browser(t)
	do := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []int64{360, 1280} {
		for _, lang := range []string{"ja", "en"} {
			do(chromedp.EmulateViewport(w, 800), chromedp.Navigate(f.url+"/elections/"+f.booth.id+"/vote?lang="+lang+"&text=normal"),
				chromedp.WaitReady("body"), chromedp.Click(chromedp.CSS(`a[href="/help"]`)), chromedp.WaitVisible(chromedp.CSS("#help-receipt")))
			auditPage(t, ctx, axe, w, "help "+lang+": ")
			do(chromedp.Click(chromedp.CSS(".textsize a")), chromedp.WaitVisible(chromedp.CSS("html.text-large")))
			auditPage(t, ctx, axe, w, "help, larger text, "+lang+": ")
		}
	}
	// The booth on a phone with the larger text (open, or closed if the
	// booth's tests published it already).
	do(chromedp.EmulateViewport(360, 780), chromedp.Navigate(f.url+"/elections/"+f.booth.id+"/vote?lang=ja"),
		chromedp.WaitVisible(chromedp.CSS("html.text-large")), chromedp.WaitReady("main"))
	checkFits(t, ctx, 360, "booth, larger text: ")
	px, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`parseFloat(getComputedStyle(document.documentElement).fontSize)`))
	if err != nil || px < 19 {
		t.Errorf("the larger text is %.1f px (%v)", px, err)
	}
	do(chromedp.Navigate(f.url + "/help?text=normal"))
}
