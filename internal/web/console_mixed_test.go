package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/ballot"
)

// TestConsoleEditorTextAndRank: the console's manifest editor makes a rank
// question (options, fewest and most ranked) and a free-text question
// (most characters, optional); the preview shows them as the booth does
// and the JSON is a valid manifest; a maxLength out of range is shown as
// the field's error.
func TestConsoleEditorTextAndRank(t *testing.T) {
	f := getConsole(t)
	a := signIn(t, f, "ja")
	_, body := a.get("/admin/new")
	form := editorForm(t, body)
	step := func(action string, set map[string]string) string {
		t.Helper()
		for k, v := range set {
			form.Set(k, v)
		}
		resp, body := a.post("/admin/new", withAction(form, action))
		if resp.StatusCode != 200 && action != "preview" {
			t.Fatalf("%s: %d", action, resp.StatusCode)
		}
		form = editorForm(t, body)
		return body
	}
	step("kind:0", map[string]string{
		"id": "console-city", "kind": "survey", "trustees": "3", "threshold": "2",
		"title.ja": "市民意見アンケート", "title.en": "Citizen survey", "q0.kind": "rank",
	})
	if form.Get("q0.min") != "1" || form.Get("q0.max") != "2" {
		t.Fatalf("a rank question's bounds: min %q max %q", form.Get("q0.min"), form.Get("q0.max"))
	}
	step("add-option:0", map[string]string{
		"q0.id": "priorities", "q0.label.ja": "優先する事業に順位を付けてください", "q0.label.en": "Rank the projects",
		"q0.o0.id": "shelters", "q0.o0.label.ja": "避難所の備蓄品拡充", "q0.o1.id": "school-route", "q0.o1.label.ja": "通学路のガードレール設置",
	})
	step("add-question", map[string]string{"q0.o2.id": "bike-lanes", "q0.o2.label.ja": "自転車レーンの整備", "q0.max": "2"})
	body = step("kind:1", map[string]string{"q1.kind": "text"})
	if form.Get("q1.max") != "400" {
		t.Fatalf("a text question's maxLength: %q", form.Get("q1.max"))
	}
	contains(t, body, "最大文字数", "順位を付ける数の最大")
	step("preview", map[string]string{"q1.id": "opinion", "q1.label.ja": "その他、ご意見をご自由にお書きください", "q1.optional": "on"})
	resp, body := a.post("/admin/new", withAction(form, "preview"))
	if resp.StatusCode != 200 {
		t.Fatalf("preview: %d\n%s", resp.StatusCode, body)
	}
	contains(t, body, `data-kind="rank"`, `data-kind="text"`, `select name="q:priorities" data-position="2"`,
		`textarea name="q:opinion"`, "コメントは書かれたとおりに公開されます", "400 文字以内でお書きください（空欄でもかまいません）")
	req, _ := http.NewRequest("POST", f.url+"/admin/new", strings.NewReader(withAction(form, "json").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body = a.do(req)
	if resp.StatusCode != 200 {
		t.Fatalf("json: %d\n%s", resp.StatusCode, body)
	}
	m, err := ballot.ParseManifest([]byte(body))
	if err != nil {
		t.Fatalf("the editor's manifest: %v\n%s", err, body)
	}
	if q := m.Questions[0]; q.Kind != ballot.KindRank || q.Min != 1 || q.Max != 2 || len(q.Options) != 3 {
		t.Errorf("rank question %+v", q)
	}
	if q := m.Questions[1]; q.Kind != ballot.KindText || q.MaxLength != 400 || !q.Optional || len(q.Options) != 0 {
		t.Errorf("text question %+v", q)
	}
	form.Set("q1.max", "2001")
	_, body = a.post("/admin/new", withAction(form, "preview"))
	contains(t, body, "1以上2000以下にしてください。")
}
