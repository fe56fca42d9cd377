package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The browser tests load every public page in Debian's headless Chromium
// at a phone's and a desktop's width, in Japanese and English, and audit
// each with axe-core for WCAG 2.2 A and AA. scripts/browser installs both
// and prints KOE_CHROMIUM and KOE_AXE; without them the tests skip, unless
// $CI is set. With KOE_SCREENSHOTS=1 they save the Japanese pages'
// screenshots in docs/screenshots.

var viewports = []struct{ w, h int64 }{{360, 780}, {1280, 900}}

var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

func browser(t *testing.T) (context.Context, string) {
	t.Helper()
	chromium, axePath := os.Getenv("KOE_CHROMIUM"), os.Getenv("KOE_AXE")
	missing := chromium == "" || axePath == ""
	if !missing {
		if _, err := os.Stat(chromium); err != nil {
			missing = true
		}
	}
	if missing {
		if os.Getenv("CI") != "" {
			t.Fatal("KOE_CHROMIUM and KOE_AXE are not set: run eval \"$(./scripts/browser)\" first")
		}
		t.Skip("no browser: run eval \"$(./scripts/browser)\" to install Chromium and axe-core")
	}
	axe, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("font-render-hinting", "none"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", chromium, err)
	}
	return ctx, string(axe)
}

type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// runAxe injects axe-core into the page and runs it with the WCAG 2.2 A
// and AA rules.
func runAxe(ctx context.Context, axe string) ([]axeViolation, error) {
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axe)); err != nil {
		return nil, fmt.Errorf("injecting axe-core: %w", err)
	}
	tags, _ := json.Marshal(axeTags)
	script := fmt.Sprintf(`axe.run(document, {runOnly: {type: "tag", values: %s}, resultTypes: ["violations"]})
  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help,
    nodes: v.nodes.map(n => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " "))})))`,
		tags)
	return chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](script, chromedp.EvalAwaitPromise))
}

// checkAxe runs axe-core on the page (WCAG 2.2 A and AA); label names
// the page in the errors.
func checkAxe(t *testing.T, ctx context.Context, axe, label string) {
	t.Helper()
	violations, err := runAxe(ctx, axe)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range violations {
		t.Errorf("%saxe: %s (%s): %s\n\t%s", label, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
	}
}

// checkFits checks that nothing on the page (but text for screen readers
// only) reaches beyond the screen's width.
func checkFits(t *testing.T, ctx context.Context, width int64, label string) {
	t.Helper()
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("body *")]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest(".visually-hidden"))
  .slice(0, 5).map(e => e.tagName + "." + e.className)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(wide) > 0 {
		t.Errorf("%sthe page is wider than %d px: %v", label, width, wide)
	}
}

// auditPage runs checkAxe and checkFits.
func auditPage(t *testing.T, ctx context.Context, axe string, width int64, label string) {
	t.Helper()
	checkAxe(t, ctx, axe, label)
	checkFits(t, ctx, width, label)
}

// screenshot saves the page as docs/screenshots/NAME.png.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBrowser(t *testing.T) {
	f := getFixture(t)
	ctx, axe := browser(t)
	lookup := "/elections/" + f.survey + "/board?code=" + url.QueryEscape(f.tracking)
	// Each page, and where its screenshot is taken (scrolled to the
	// element, if any; none for pages without a screenshot). The
	// "results-…" pages are the results page again, for screenshots
	// further down: they are not audited twice.
	pages := []struct{ name, path, shot string }{
		{"elections", "/", "top"},
		{"overview", "/elections/" + f.survey, "top"},
		{"results", "/elections/" + f.survey + "/results", "top"},
		{"results-chart", "/elections/" + f.survey + "/results", "#q2-h"},
		{"results-turnout", "/elections/" + f.survey + "/results", "#turnout-h"},
		{"board", lookup, "#lookup-h"},
		{"board-entries", "/elections/" + f.survey + "/board?page=2", "#entries-h"},
		{"verify", "/verify", "top"},
		{"setup-results", "/elections/" + f.setup + "/results", ""},
		{"not-found", "/elections/no-such-election", ""},
	}
	shots := os.Getenv("KOE_SCREENSHOTS") == "1"
	for _, vp := range viewports {
		for _, p := range pages {
			for _, lang := range []string{"ja", "en"} {
				name := fmt.Sprintf("%s-%d-%s", p.name, vp.w, lang)
				t.Run(name, func(t *testing.T) {
					again := strings.HasPrefix(p.name, "results-")
					if again && !(shots && lang == "ja") {
						t.Skip("the results page again, for a screenshot")
					}
					sep := "?"
					if strings.Contains(p.path, "?") {
						sep = "&"
					}
					err := chromedp.Do(ctx,
						chromedp.EmulateViewport(vp.w, vp.h),
						chromedp.Navigate(f.url+p.path+sep+"lang="+lang),
						chromedp.WaitReady("body"),
					)
					if err != nil {
						t.Fatal(err)
					}
					if !again {
						checkAxe(t, ctx, axe, "")
					}
					checkFits(t, ctx, vp.w, "")
					if p.name == "results" {
						checkCharts(t, ctx)
					}
					if shots && lang == "ja" && p.shot != "" {
						if p.shot != "top" {
							if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).scrollIntoView()`, p.shot))); err != nil {
								t.Fatal(err)
							}
						}
						screenshot(t, ctx, fmt.Sprintf("%s-%d", p.name, vp.w))
					}
				})
			}
		}
	}
	t.Run("axe-finds-violations", func(t *testing.T) { checkAxeWorks(t, ctx, axe) })
	t.Run("keyboard", func(t *testing.T) { checkKeyboard(t, ctx, f) })
	t.Run("default-language", func(t *testing.T) { checkDefaultLanguage(t, ctx, f) })
}

// checkCharts checks that the results page has its charts as images with
// accessible names: one per question and the turnout chart.
func checkCharts(t *testing.T, ctx context.Context) {
	t.Helper()
	names, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('svg[role="img"]')].map(s =>
  (s.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean)
    .map(id => (document.getElementById(id) || {}).textContent || "").join(" ").trim())`))
	if err != nil {
		t.Fatal(err)
	}
	// Four questions, the rating's with its mean and its distribution,
	// and the turnout.
	if len(names) != 6 {
		t.Errorf("%d charts, want 6: %q", len(names), names)
	}
	for i, n := range names {
		if n == "" {
			t.Errorf("chart %d has no accessible name", i)
		}
	}
}

// checkKeyboard checks that the first Tab reaches the skip link, and that
// following it moves the focus to the main content.
func checkKeyboard(t *testing.T, ctx context.Context, f *fixture) {
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(360, 780),
		chromedp.Navigate(f.url+"/elections/"+f.survey+"/results?lang=ja"),
		chromedp.WaitReady("body"),
		chromedp.KeyEvent("\t"),
	)
	if err != nil {
		t.Fatal(err)
	}
	first, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.className`))
	if err != nil {
		t.Fatal(err)
	}
	if first != "skip" {
		t.Fatalf("the first Tab focuses %q, not the skip link", first)
	}
	visible, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.activeElement.getBoundingClientRect().top >= 0`))
	if err != nil || !visible {
		t.Errorf("the focused skip link is not visible (%v)", err)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`))
	if err != nil {
		t.Fatal(err)
	}
	if focused != "main" {
		t.Errorf("after the skip link the focus is on %q, not main", focused)
	}
}

// checkDefaultLanguage checks that, without a language cookie, a
// Japanese browser gets Japanese pages and an English one English.
func checkDefaultLanguage(t *testing.T, ctx context.Context, f *fixture) {
	for _, tc := range []struct{ accept, want string }{{"ja-JP,ja;q=0.9,en;q=0.8", "ja"}, {"en-US,en;q=0.9", "en"}} {
		err := chromedp.Do(ctx,
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				if _, err := cdp.Call(ctx, tg, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
					return err
				}
				_, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
					UserAgent: "Mozilla/5.0 (koe browser test)", AcceptLanguage: tc.accept})
				return err
			}),
			chromedp.Navigate(f.url+"/"),
			chromedp.WaitReady("body"),
		)
		if err != nil {
			t.Fatal(err)
		}
		lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
		if err != nil {
			t.Fatal(err)
		}
		if lang != tc.want {
			t.Errorf("Accept-Language %q: page in %q, want %q", tc.accept, lang, tc.want)
		}
	}
}

// checkAxeWorks checks that the audit would catch violations: on a page
// with an image without a text alternative and an unlabelled input.
func checkAxeWorks(t *testing.T, ctx context.Context, axe string) {
	bad := `data:text/html,<!doctype html><html lang="en"><title>bad</title><main><img src="x.png"><input type="text"></main></html>`
	if err := chromedp.Do(ctx, chromedp.Navigate(bad), chromedp.WaitReady("body")); err != nil {
		t.Fatal(err)
	}
	violations, err := runAxe(ctx, axe)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, v := range violations {
		found[v.ID] = true
	}
	if !found["image-alt"] || !found["label"] {
		t.Fatalf("axe found %v on a page with an unlabelled image and input", violations)
	}
}

// browse runs actions in the browser tab of ctx, failing t if one fails
// or they take more than a minute together.
func browse(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatal(err)
	}
}
