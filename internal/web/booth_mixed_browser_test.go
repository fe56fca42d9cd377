package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/oidcreg/oidctest"
)

// TestBoothTextAndRank: a voter answers the city survey's comment (a text
// area with a live character count and the warning that comments are
// published as written) and its ranking (a select per position) in the
// booth, reviews the answers and casts; every page is axe-clean at 360
// and 1280 px.
func TestBoothTextAndRank(t *testing.T) {
	f := getFixture(t)
	ctx, axe := browser(t)
	cctx := context.Background()
	admin := client.New(f.url, adminToken)
	manifest, _ := examples.Manifest("city-survey")
	manifest = bytes.Replace(manifest, []byte(`"id": "shimin-iken-r9"`), []byte(`"id": "city-survey-booth"`), 1)
	var created api.Created
	if err := admin.Do(cctx, "POST", "/api/v1/elections", "application/json", manifest, &created); err != nil {
		t.Fatal(err)
	}
	id := created.ID
	if _, err := demo.ServerCeremony(cctx, f.url, id, manifest, created.TrusteeTokens); err != nil {
		t.Fatal(err)
	}
	callback := f.url + api.ElectionPath(id, "/oidc/callback")
	p, err := oidctest.Start(map[string]map[string]any{
		"resident": {"birthdate": time.Now().AddDate(-40, 0, 0).Format("2006-01-02"), "address": map[string]any{"formatted": "茨城県つくば市研究学園一丁目1番地1"}},
	}, callback)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cfg, _ := json.Marshal(map[string]any{
		"issuer": p.URL, "clientID": oidctest.ClientID, "clientSecret": oidctest.ClientSecret, "redirectURL": callback,
		"scopes": []string{"openid", "profile", "address"},
		"rules":  []map[string]any{{"claim": "address.formatted", "op": "contains", "value": "つくば市"}},
	})
	if err := admin.Do(cctx, "PUT", api.ElectionPath(id, "/oidc"), "application/json", cfg, nil); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(cctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil); err != nil {
		t.Fatal(err)
	}
	run := func(actions ...chromedp.Action[chromedp.Void]) { t.Helper(); browse(t, ctx, actions...) }
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(s)
	}
	both := func(shot string) {
		t.Helper()
		for _, w := range []int64{1280, 360} {
			run(chromedp.EmulateViewport(w, 780))
			auditPage(t, ctx, axe, w, "")
			if os.Getenv("KOE_SCREENSHOTS") == "1" {
				screenshot(t, ctx, shot+"-"+map[int64]string{360: "360", 1280: "1280"}[w])
			}
		}
	}

	p.SignInAs("resident")
	run(chromedp.EmulateViewport(360, 780), chromedp.Navigate(f.url+"/elections/"+id+"/vote?lang=ja"),
		chromedp.WaitVisible(chromedp.CSS("#register-digital-id")),
		chromedp.Click(chromedp.CSS("#register-digital-id")), chromedp.WaitVisible(chromedp.CSS("#step-answer")))
	if w := text("#answers fieldset[data-kind=text] .bq-warn"); !strings.Contains(w, "コメントは書かれたとおりに公開されます。名前や住所など個人が分かることは書かないでください。") {
		t.Errorf("the comment's warning is %q", w)
	}
	comment := "駅前の自転車置き場を増やしてください🚲"
	run(chromedp.Click(chromedp.CSS(`input[name="q:age"][value="40s"]`)),
		chromedp.Click(chromedp.CSS(`input[name="q:science-city"][value="2"]`)),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="q:opinion"]`), comment),
		chromedp.SetValue(chromedp.CSS(`select[name="q:priorities"][data-position="1"]`), "school-route"),
		chromedp.SetValue(chromedp.CSS(`select[name="q:priorities"][data-position="2"]`), "shelters"))
	// The count is in characters (the bicycle is one), out of 400.
	if c := text("#answers fieldset[data-kind=text] .bq-count"); !strings.HasPrefix(c, "19 / 400") {
		t.Errorf("the character count says %q, want 19 / 400", c)
	}
	both("booth-text-rank-answer")
	run(chromedp.Click(chromedp.CSS("#answers-submit")), chromedp.WaitVisible(chromedp.CSS("#step-review")))
	review := text("#review-list")
	for _, want := range []string{comment, "通学路のガードレール設置", "避難所の備蓄品拡充"} {
		if !strings.Contains(review, want) {
			t.Errorf("the review %q does not show %q", review, want)
		}
	}
	if i, j := strings.Index(review, "通学路"), strings.Index(review, "避難所"); i < 0 || j < i {
		t.Errorf("the review does not list the ranking in order: %q", review)
	}
	both("booth-text-rank-review")
	run(chromedp.Click(chromedp.CSS("#cast")), chromedp.WaitVisible(chromedp.CSS("#step-receipt")))
	if !visibleNow(t, ctx, "#receipt-verified") {
		t.Errorf("the cast ballot's receipt is not verified: %s", text("#receipt-problem"))
	}
	both("booth-text-rank-receipt")
}
