package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/api"
)

// TestConsoleDrafts: a draft's questions are edited in the editor (the
// manifest replaced through the API), a draft is deleted after its
// confirmation page, and once a trustee has begun the ceremony the
// editor says why the manifest can no longer change.
func TestConsoleDrafts(t *testing.T) {
	said := map[string]map[string]string{
		"ja": {"done": "質問と日程を更新しました。", "detail": "同じ ID は二度と使えません。", "fixed": "受託者が鍵の生成を始めたため"},
		"en": {"done": "The questions and dates are updated.", "detail": "The same ID can never be used again.", "fixed": "A trustee has begun the key ceremony"},
	}
	f := getConsole(t)
	ctx := context.Background()
	for _, lang := range []string{"ja", "en"} {
		t.Run(lang, func(t *testing.T) {
			a := signIn(t, f, lang)
			id := "shitagaki-" + lang
			var created api.Created
			if err := f.admin.Do(ctx, "POST", "/api/v1/elections", "application/json", exampleAs(t, "survey", id, 3, 2), &created); err != nil {
				t.Fatal(err)
			}
			_, page := a.get("/admin/elections/" + id)
			for _, href := range []string{`href="/admin/elections/` + id + `/edit"`, `href="/admin/elections/` + id + `/delete"`} {
				if !strings.Contains(page, href) {
					t.Fatalf("the draft's page has no %s", href)
				}
			}

			// Edit: the editor holds the draft's manifest; saving replaces it.
			resp, body := a.get("/admin/elections/" + id + "/edit")
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="editing" value="`+id+`"`) {
				t.Fatalf("edit page: status %d, no editing field:\n%s", resp.StatusCode, body)
			}
			form := editorForm(t, body)
			form.Set("title.ja", "市民意見アンケート（改訂版）")
			form.Set("action", "create")
			resp, body = a.post("/admin/new", form)
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/elections/"+id+"?done=edit" {
				t.Fatalf("save: status %d, location %q:\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
			}
			var in api.ElectionInfo
			if err := f.admin.Do(ctx, "GET", api.ElectionPath(id, ""), "", nil, &in); err != nil {
				t.Fatal(err)
			}
			if in.Title.Ja != "市民意見アンケート（改訂版）" {
				t.Fatalf("the election's title after the edit is %q", in.Title.Ja)
			}
			_, page = a.get("/admin/elections/" + id + "?done=edit")
			if !strings.Contains(page, said[lang]["done"]) {
				t.Fatal("the election page does not say the draft was updated")
			}

			// Delete: a confirmation page, then the draft is gone.
			resp, body = a.get("/admin/elections/" + id + "/delete")
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, said[lang]["detail"]) {
				t.Fatalf("delete confirmation: status %d:\n%s", resp.StatusCode, body)
			}
			resp, _ = a.post("/admin/elections/"+id+"/delete", url.Values{"csrf": {a.csrf()}})
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("delete: status %d", resp.StatusCode)
			}
			if err := f.admin.Do(ctx, "GET", api.ElectionPath(id, ""), "", nil, nil); err == nil {
				t.Fatal("the deleted draft is still served")
			}
			if resp, _ := a.post("/admin/elections/"+id+"/delete", url.Values{"csrf": {a.csrf()}}); resp.StatusCode != http.StatusNotFound {
				t.Fatalf("deleting it again: status %d, want 404", resp.StatusCode)
			}
		})
	}

	// Once the ceremony has begun, the editor shows why it cannot save.
	a := signIn(t, f, "ja")
	f.partialElection(t, "shitagaki-kotei")
	_, body := a.get("/admin/elections/shitagaki-kotei/edit")
	form := editorForm(t, body)
	form.Set("action", "create")
	form.Set("title.ja", "変更できないはずの題名")
	resp, body := a.post("/admin/new", form)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, said["ja"]["fixed"]) {
		t.Fatalf("saving a draft whose ceremony began: status %d:\n%s", resp.StatusCode, body)
	}
}
