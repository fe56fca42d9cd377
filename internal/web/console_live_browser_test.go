package web_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
)

// TestConsoleLiveBrowser is the administrator watching an election from
// its console page in headless Chromium, at a phone's and a desktop's
// width, in Japanese and English: the turnout and the trustees' progress
// are on the page, and a ballot cast, the count and a trustee's
// decryption share while the page is open appear without a reload,
// announced in the page's polite live region; nothing is replaced while
// the administrator is typing in a form. Every state is audited with
// axe-core. With KOE_SCREENSHOTS=1 the pages are saved as
// docs/screenshots/console-live-*.png.
func TestConsoleLiveBrowser(t *testing.T) {
	f := getConsole(t)
	ctx, axe := browser(t)
	shots := os.Getenv("KOE_SCREENSHOTS") == "1"
	for _, vp := range viewports {
		for _, lang := range []string{"ja", "en"} {
			name := fmt.Sprintf("%d-%s", vp.w, lang)
			t.Run(name, func(t *testing.T) {
				id := "live-" + name
				manifest, trustees, tokens := f.readyElection(t, "referendum", id)
				b := &consoleBrowser{t: t, ctx: ctx, axe: axe, url: f.url, w: vp.w, shots: shots && lang == "ja", first: vp.w == viewports[0].w && lang == "ja"}
				b.run(chromedp.EmulateViewport(vp.w, vp.h), clearCookies())
				b.liveFlow(f, lang, id, manifest, trustees, tokens)
			})
		}
	}
}

func (b *consoleBrowser) liveFlow(f *consoleFixture, lang, id string, manifest []byte, trustees []*ceremony.Trustee, tokens []string) {
	t, ctx := b.t, context.Background()
	say := func(ja, en string) string {
		if lang == "ja" {
			return ja
		}
		return en
	}
	codes, err := demo.ImportRoll(ctx, f.admin, id, "LV", 4)
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
	cast := func(n int) {
		t.Helper()
		vid := fmt.Sprintf("LV%05d", n)
		cred, err := voter.Register(ctx, el, vid, codes[vid])
		if err != nil {
			t.Fatal(err)
		}
		pt, err := el.E.Manifest.Plaintext(ballot.Answers{"plan": "yes"})
		if err != nil {
			t.Fatal(err)
		}
		env, _, _, err := client.Seal(el, cred, pt, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := voter.Cast(ctx, id, env); err != nil {
			t.Fatal(err)
		}
	}
	cast(0)

	b.run(chromedp.Navigate(b.url+"/admin?lang="+lang), chromedp.WaitReady(chromedp.CSS("#token")))
	b.set("#token", consoleToken)
	b.click(`form[action="/admin/signin"] button`, `.console-bar`)
	page := b.url + "/admin/elections/" + id
	b.run(chromedp.Navigate(page), chromedp.WaitReady(chromedp.CSS("#live[data-refresh]")))
	summary := func() string { return b.eval(`document.querySelector("#live-summary").textContent`) }
	// waitFor waits for the live part to say want, by itself (at most
	// two of its 10-second refreshes and a little).
	waitFor := func(what, want string) {
		t.Helper()
		deadline := time.Now().Add(25 * time.Second)
		for !strings.Contains(b.eval(`document.querySelector("#live").innerText`), want) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the page did not come to say %q by itself; it says %q", what, want, summary())
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	b.scrollTo("#live-turnout-h")
	b.audit("live-open", say("これまでの投票状況", "Turnout so far"), say("投票した人: 1。", "Voters who have cast: 1."),
		say("名簿の 4 人のうち 25.0% にあたります。", "That is 25.0% of the 4 voters on the roll."),
		say("時間ごとの投票数", "Ballots per hour"), say("受託者の進行状況", "The trustees' progress"), say("まだです（集計の後）", "Not yet: after the tally"))

	// While the administrator types in a form, the page stays as it is.
	if b.first {
		b.run(chromedp.Focus(chromedp.CSS("#reissue-voters")))
		b.set("#reissue-voters", "LV00003")
		cast(1)
		time.Sleep(12 * time.Second)
		if s := summary(); !strings.Contains(s, say("投票した人: 1。", "Voters who have cast: 1.")) {
			t.Errorf("the live part changed while the administrator typed in a form: %q", s)
		}
		if v := b.eval(`document.querySelector("#reissue-voters").value`); v != "LV00003" {
			t.Errorf("what the administrator typed is gone: %q", v)
		}
		b.run(chromedp.Evaluate[chromedp.Void](`document.querySelector("#reissue-voters").value = ""; document.activeElement.blur()`))
		waitFor("a ballot cast while typing, once done", say("投票した人: 2。", "Voters who have cast: 2."))

		// A hidden tab is not refreshed; shown again, it is at once.
		hide := func(hidden bool) {
			b.run(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`Object.defineProperty(document, "hidden", {value: %v, configurable: true});
  document.dispatchEvent(new Event("visibilitychange"))`, hidden)))
		}
		hide(true)
		cast(2)
		time.Sleep(12 * time.Second)
		if s := summary(); !strings.Contains(s, say("投票した人: 2。", "Voters who have cast: 2.")) {
			t.Errorf("the live part changed while the tab was hidden: %q", s)
		}
		hide(false)
		deadline := time.Now().Add(3 * time.Second)
		for !strings.Contains(summary(), say("投票した人: 3。", "Voters who have cast: 3.")) {
			if time.Now().After(deadline) {
				t.Fatalf("the tab shown again was not refreshed at once: %q", summary())
			}
			time.Sleep(100 * time.Millisecond)
		}
	} else {
		cast(1)
		waitFor("a ballot cast", say("投票した人: 2。", "Voters who have cast: 2."))
	}
	if st := b.eval(`new Promise(r => setTimeout(() => r(document.querySelector("#live-status").textContent), 200))`); !strings.Contains(st, say("投票した人: ", "Voters who have cast: ")) {
		t.Errorf("the change was not announced: %q", st)
	}
	b.scrollTo("#live-turnout-h")
	b.audit("live-cast", say("これまでの投票状況", "Turnout so far"))

	// Counted, and trustee 1's decryption share: the state's change is
	// said, and the trustees' table follows.
	for _, a := range []string{"/close", "/tally"} {
		if err := f.admin.Do(ctx, "POST", api.ElectionPath(id, a), "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := demo.ServerDecrypt(ctx, f.url, id, manifest, trustees, tokens, []int{1}); err != nil {
		t.Fatal(err)
	}
	waitFor("a decryption share", say("提出済み", "Posted"))
	if hidden := b.eval(`String(document.querySelector("#live-stale").hidden)`); hidden != "false" {
		t.Error("the page does not say that the election's state changed")
	}
	rows := b.eval(`[...document.querySelectorAll("table.trustees tbody tr")].map(r => r.innerText.replace(/\s+/g, " ").trim()).join("\n")`)
	if lines := strings.Split(rows, "\n"); len(lines) != 3 || !strings.Contains(lines[0], say("提出済み", "Posted")) || !strings.Contains(lines[1], say("未提出", "Not posted yet")) {
		t.Errorf("the trustees' table:\n%s", rows)
	}
	b.scrollTo("#ceremony-h")
	b.audit("live-tallied", say("受託者の進行状況", "The trustees' progress"), say("復号の分担", "Decryption share"))

	// The page of its own, for a browser without script.
	b.run(chromedp.Navigate(page+"/live"), chromedp.WaitReady(chromedp.CSS("#live")))
	b.audit("live-page", say("進行状況", "Progress"), say("この部分は自動で更新されます", "This part refreshes by itself"))
}
