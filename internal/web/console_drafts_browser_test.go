package web_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleDraftsBrowser: an administrator edits a draft in the editor
// and then deletes it after the confirmation page, in headless Chromium at
// a phone's and a desktop's width, in Japanese and English; every page is
// audited with axe-core and must fit the screen. With KOE_SCREENSHOTS=1
// the Japanese pages are saved as docs/screenshots/console-draft-*.png.
func TestConsoleDraftsBrowser(t *testing.T) {
	f := getConsole(t)
	ctx, axe := browser(t)
	shots := os.Getenv("KOE_SCREENSHOTS") == "1"
	for _, vp := range viewports {
		for _, lang := range []string{"ja", "en"} {
			id := fmt.Sprintf("draft-browser-%d-%s", vp.w, lang)
			if err := f.admin.Do(context.Background(), "POST", "/api/v1/elections", "application/json", exampleAs(t, "survey", id, 3, 2), nil); err != nil {
				t.Fatal(err)
			}
			t.Run(fmt.Sprintf("%d-%s", vp.w, lang), func(t *testing.T) {
				b := &consoleBrowser{t: t, ctx: ctx, axe: axe, url: f.url, w: vp.w, shots: shots && lang == "ja"}
				say := func(ja, en string) string {
					if lang == "ja" {
						return ja
					}
					return en
				}
				b.run(chromedp.EmulateViewport(vp.w, vp.h), clearCookies())
				b.run(chromedp.Navigate(b.url+"/admin?lang="+lang), chromedp.WaitReady(chromedp.CSS("#token")))
				b.set("#token", consoleToken)
				b.click(`form[action="/admin/signin"] button`, `.console-bar`)

				b.run(chromedp.Navigate(b.url+"/admin/elections/"+id), chromedp.WaitReady(chromedp.CSS("#actions")))
				b.scrollTo("#actions")
				b.audit("draft-actions", say("下書きを削除", "Delete draft"), say("質問と日程を編集", "Edit questions and dates"))
				b.click(`a[href$="/`+id+`/edit"]`, `#editor input[name="editing"]`)
				b.audit("draft-edit", say("変更を保存する", "Save changes"))
				b.set("#title-ja", "市民意見アンケート（改訂版）")
				b.click(`button[value="create"]`, `.done`)
				b.audit("draft-edited", say("質問と日程を更新しました", "The questions and dates are updated"))
				if lang == "ja" && b.eval(`String(document.body.innerText.includes("市民意見アンケート（改訂版）"))`) != "true" {
					t.Error("the election page does not show the edited title")
				}

				b.scrollTo("#actions")
				b.click(`a[href$="/`+id+`/delete"]`, `form[action$="/`+id+`/delete"]`)
				b.audit("draft-delete", say("この下書きを削除しますか", "Delete this draft?"), say("この操作は取り消せません", "This cannot be undone"))
				b.run(chromedp.Click(chromedp.CSS(`form[action$="/` + id + `/delete"] button`)))
				for i := 0; i < 100 && b.eval(`location.pathname + "|" + document.readyState`) != "/admin|complete"; i++ {
					time.Sleep(50 * time.Millisecond)
				}
				b.audit("draft-deleted", say("管理コンソール", "Administration"))
				if n := b.eval(fmt.Sprintf(`String(document.body.innerText.includes(%q))`, id)); n != "false" {
					t.Errorf("the console's home still lists the deleted draft %s", id)
				}
			})
		}
	}
}
