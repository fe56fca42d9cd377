package web_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/koe-vote/koe/internal/letters"
)

// TestConsoleBrowser is an administrator at work in headless Chromium, at
// a phone's and a desktop's width, in Japanese and English: signing in,
// writing a survey with a question of each kind in the editor, previewing
// and creating it, importing a roll, downloading its codes and printing
// letters, following a ceremony, and opening and closing an election
// whose ceremony is complete. Every page is audited with axe-core (WCAG
// 2.2 A and AA) and must fit the screen. With KOE_SCREENSHOTS=1 the
// Japanese pages are saved as docs/screenshots/console-*.png.
func TestConsoleBrowser(t *testing.T) {
	f := getConsole(t)
	ctx, axe := browser(t)
	f.partialElection(t, "browser-partial")
	shots := os.Getenv("KOE_SCREENSHOTS") == "1"
	for _, vp := range viewports {
		for _, lang := range []string{"ja", "en"} {
			name := fmt.Sprintf("%d-%s", vp.w, lang)
			ready := fmt.Sprintf("browser-ready-%d-%s", vp.w, lang)
			f.readyElection(t, "referendum", ready)
			t.Run(name, func(t *testing.T) {
				b := &consoleBrowser{t: t, ctx: ctx, axe: axe, url: f.url, w: vp.w, shots: shots && lang == "ja", first: vp.w == viewports[0].w && lang == "ja"}
				b.run(chromedp.EmulateViewport(vp.w, vp.h), clearCookies())
				b.adminFlow(lang, fmt.Sprintf("browser-survey-%d-%s", vp.w, lang), ready)
			})
		}
	}
}

// checkPDFs fetches the codes page's letters as PDF, A4 and postcard, as
// their buttons post them: each is a PDF of n pages (the letters' own
// tests read the pages back).
func (b *consoleBrowser) checkPDFs(n int) {
	b.t.Helper()
	if _, err := letters.LoadFont(os.Getenv("KOE_LETTER_FONT")); err != nil {
		if os.Getenv("CI") != "" {
			b.t.Errorf("no font for the letters' PDFs: %v", err)
		}
		return
	}
	got := b.eval(`(async () => { const out = [];
  for (const size of ["a4", "postcard"]) {
    const button = document.querySelector('.batches button[value="' + size + '"]');
    if (!button) { out.push("no " + size + " button"); continue; }
    const form = new FormData(button.form); form.set("format", size);
    const r = await fetch(button.form.action, {method: "POST", body: new URLSearchParams(form)});
    const text = new TextDecoder("latin1").decode(await r.arrayBuffer());
    out.push([size, r.headers.get("Content-Type"), text.slice(0, 5), (text.match(/\/Type \/Page\n/g) || []).length].join(" "));
  }
  return out.join("; ") })()`)
	if want := fmt.Sprintf("a4 application/pdf %%PDF- %d; postcard application/pdf %%PDF- %d", n, n); got != want {
		b.t.Errorf("the letters' PDFs: %s, want %s", got, want)
	}
}

func clearCookies() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.ClearBrowserCookies, cdp.Empty{})
		return err
	})
}

type consoleBrowser struct {
	t     *testing.T
	ctx   context.Context
	axe   string
	url   string
	w     int64
	shots bool
	first bool
}

func (b *consoleBrowser) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatal(err)
	}
}

func (b *consoleBrowser) eval(script string) string {
	b.t.Helper()
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](script, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: %v", script, err)
	}
	return out
}

// click clicks the element and waits for the next page's element.
func (b *consoleBrowser) click(sel, next string) {
	b.t.Helper()
	b.run(chromedp.Click(chromedp.CSS(sel)), chromedp.WaitReady(chromedp.CSS(next)))
}

func (b *consoleBrowser) set(sel, value string) {
	b.t.Helper()
	b.run(chromedp.SetValue(chromedp.CSS(sel), value))
}

// audit checks the page with axe-core, checks that it fits the screen
// and that it holds the texts, and takes its screenshot.
func (b *consoleBrowser) audit(page string, wants ...string) {
	b.t.Helper()
	auditPage(b.t, b.ctx, b.axe, b.w, page+": ")
	text := b.eval(`document.body.innerText`)
	for _, w := range wants {
		if !strings.Contains(text, w) {
			b.t.Errorf("%s: the page does not say %q", page, w)
		}
	}
	if b.shots {
		screenshot(b.t, b.ctx, fmt.Sprintf("console-%s-%d", page, b.w))
	}
}

// scrollTo scrolls an element into view (for a screenshot).
func (b *consoleBrowser) scrollTo(sel string) {
	b.t.Helper()
	b.run(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).scrollIntoView()`, sel)))
}

func (b *consoleBrowser) adminFlow(lang, surveyID, ready string) {
	t := b.t
	say := func(ja, en string) string {
		if lang == "ja" {
			return ja
		}
		return en
	}
	// Sign in: a wrong token first.
	b.run(chromedp.Navigate(b.url+"/admin?lang="+lang), chromedp.WaitReady(chromedp.CSS("#token")))
	b.audit("signin", say("管理者のサインイン", "Administrator sign-in"))
	if b.first {
		// Once only: failed sign-ins from this address are limited.
		b.set("#token", "not-the-token")
		b.click(`form[action="/admin/signin"] button`, `#signin-error`)
		b.audit("signin-error", say("トークンが正しくありません", "That is not the token"))
		if invalid := b.eval(`document.querySelector("#token").getAttribute("aria-invalid")`); invalid != "true" {
			t.Errorf("the token field is not marked invalid: %q", invalid)
		}
	}
	b.set("#token", consoleToken)
	b.click(`form[action="/admin/signin"] button`, `.console-bar`)
	b.audit("home", say("管理コンソール", "Administration"), ready)

	// The editor: a survey with a question of each kind.
	b.run(chromedp.Navigate(b.url+"/admin/new"), chromedp.WaitReady(chromedp.CSS("#editor")))
	b.audit("editor", say("投票・アンケートの作成", "Create an election or survey"))
	for sel, v := range map[string]string{
		"#id": surveyID, "#title-ja": "市民意見アンケート", "#title-en": "Citizen survey",
		"#trustees": "3", "#threshold": "2",
		"#q0-id": "internet-voting", "#q0-label-ja": "公職選挙へのインターネット投票の導入に賛成ですか",
		"#q0-label-en": "Do you support internet voting in public elections?",
		"#q0-o0-id":    "for", "#q0-o0-label-ja": "賛成", "#q0-o0-label-en": "For",
		"#q0-o1-id": "against", "#q0-o1-label-ja": "反対", "#q0-o1-label-en": "Against",
	} {
		b.set(sel, v)
	}
	b.click(`button[value="add-question"]`, `#q1-kind`)
	b.set("#q1-kind", "multiple")
	b.click(`button[value="kind:1"]`, `#q1-max`)
	b.click(`button[value="add-option:1"]`, `#q1-o2-id`)
	for sel, v := range map[string]string{
		"#q1-id": "fields", "#q1-label-ja": "市が重点的に取り組むべき分野", "#q1-label-en": "Fields the city should focus on",
		"#q1-o0-id": "health", "#q1-o0-label-ja": "医療・健康", "#q1-o0-label-en": "Health and medicine",
		"#q1-o1-id": "disaster", "#q1-o1-label-ja": "防災・減災", "#q1-o1-label-en": "Disaster preparedness",
		"#q1-o2-id": "transport", "#q1-o2-label-ja": "交通・モビリティ", "#q1-o2-label-en": "Transport and mobility",
		"#q1-min": "1", "#q1-max": "2",
	} {
		b.set(sel, v)
	}
	b.click(`button[value="add-question"]`, `#q2-kind`)
	b.set("#q2-kind", "rating")
	b.click(`button[value="kind:2"]`, `#q2-minlabel-ja`)
	for sel, v := range map[string]string{
		"#q2-id": "science-city", "#q2-label-ja": "「研究学園都市」であることを日常で実感しますか",
		"#q2-label-en":    "Do you feel, day to day, that you live in a science city?",
		"#q2-minlabel-ja": "まったく感じない", "#q2-minlabel-en": "Not at all",
		"#q2-maxlabel-ja": "とても感じる", "#q2-maxlabel-en": "Very much",
	} {
		b.set(sel, v)
	}
	// A mistake first: the summary links to the field.
	b.set("#q1-max", "9")
	b.click(`.toolbar button[value="preview"]`, `#errors`)
	b.audit("editor-errors", say("入力に問題があります", "There is a problem"))
	b.set("#q1-max", "2")
	b.click(`.toolbar button[value="preview"]`, `#preview`)
	b.scrollTo("#preview")
	b.audit("preview", say("プレビュー", "Preview"), say("まったく感じない", "Not at all"), say("医療・健康", "Health and medicine"))
	if n := b.eval(`String(document.querySelectorAll('#preview fieldset[data-kind]').length)`); n != "6" {
		t.Errorf("the preview shows %s questions, want 3 in each language", n)
	}
	b.click(`button[value="create"]`, `.tokens`)
	b.audit("created", say("作成しました", "Created"), "koe trustee keygen --server")
	if n := b.eval(`String(document.querySelectorAll('.tokens code.token').length)`); n != "3" {
		t.Errorf("%s trustee tokens shown, want 3", n)
	}

	// A ceremony under way, and one complete.
	b.run(chromedp.Navigate(b.url+"/admin/elections/browser-partial"), chromedp.WaitReady(chromedp.CSS("table.ceremony")))
	b.scrollTo("#ceremony-h")
	b.audit("ceremony", say("受託者の鍵の生成", "The trustees' key ceremony"))
	b.run(chromedp.Navigate(b.url+"/admin/elections/"+ready), chromedp.WaitReady(chromedp.CSS("#roll-text")))
	b.audit("election", say("選挙の公開鍵ができました", "The election key is made"))

	// The roll, its codes as CSV (fetched as the download button posts
	// them) and as letters.
	b.set("#roll-text", "V0001\nV0002\nV0003")
	b.click(`form[action$="/roll"] button`, `.batches`)
	b.audit("codes", say("3人を名簿に登録しました", "3 voters added to the roll"))
	csv := b.eval(`(async () => { const f = document.querySelector('form input[name="format"][value="csv"]').form;
  const r = await fetch(f.action, {method: "POST", body: new URLSearchParams(new FormData(f))});
  return r.headers.get("Content-Disposition") + "\n" + await r.text() })()`)
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	if len(lines) != 5 || !strings.Contains(lines[0], ready+"-codes.csv") || lines[1] != "voter_id,code" || !strings.HasPrefix(lines[2], "V0001,") {
		t.Errorf("the codes CSV: %q", csv)
	}
	b.checkPDFs(3)
	b.click(`.batches button`, `.letter`)
	b.audit("letters", "V0002", "/elections/"+ready+"/vote", "One-time code", "ワンタイムコード")
	breaks := b.eval(`(() => { const s = [...document.styleSheets].flatMap(s => [...s.cssRules]);
  return String(s.some(r => r.media && r.media.mediaText === "print" && r.cssText.includes("break-after: page"))) })()`)
	if breaks != "true" {
		t.Error("the letters have no print style with a page break after each")
	}

	// Open, then close, each confirmed.
	for _, step := range []struct{ action, ja, en string }{{"open", "受付を開始しました", "Voting is open"}, {"close", "受付を終了しました", "Voting is closed"}} {
		b.run(chromedp.Navigate(b.url+"/admin/elections/"+ready), chromedp.WaitReady(chromedp.CSS("#actions")))
		b.scrollTo("#actions")
		if step.action == "open" {
			b.audit("actions", say("受付と開票", "Voting and counting"))
		}
		b.click(`a[href$="/`+step.action+`"]`, `form[action$="/`+step.action+`"]`)
		b.audit("confirm-"+step.action, say("この操作は取り消せません", "This cannot be undone"))
		b.click(`form[action$="/`+step.action+`"] button`, `.done`)
		b.audit("done-"+step.action, say(step.ja, step.en))
		if step.action == "open" {
			// A lost letter: V0002's code re-issued, typed full-width.
			b.run(chromedp.Navigate(b.url+"/admin/elections/"+ready), chromedp.WaitReady(chromedp.CSS("#reissue-voters")))
			b.scrollTo("#reissue-h")
			b.audit("reissue", say("コードの再発行", "Re-issue codes"))
			b.set("#reissue-voters", "Ｖ０００２")
			b.click(`form[action$="/reissue"] button`, `.batches`)
			b.audit("reissued", say("1人に新しいコードを発行しました", "New codes for 1 voters"))
			b.checkPDFs(1)
		}
	}
	// Keyboard: the first Tab reaches the skip link, and the console's
	// navigation comes before the page's forms.
	b.run(chromedp.Navigate(b.url+"/admin/new"), chromedp.WaitReady(chromedp.CSS("#editor")), chromedp.KeyEvent("\t"))
	if c := b.eval(`document.activeElement.className`); c != "skip" {
		t.Errorf("the first Tab focuses %q, not the skip link", c)
	}
	order := b.eval(`(() => { const all = [...document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary")];
  return [all.findIndex(e => e.closest(".console-bar")), all.indexOf(document.querySelector("#id"))].join(",") })()`)
	if parts := strings.Split(order, ","); len(parts) != 2 || parts[0] >= parts[1] && len(parts[0]) >= len(parts[1]) {
		t.Errorf("focus order (console bar, first field): %s", order)
	}
	time.Sleep(10 * time.Millisecond)
}
