package web_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/verify"
)

// mixedVoter is what one voter of TestMixedSurveyBrowser answers in the
// booth ("" age leaves the optional age group blank, "" comment leaves the
// comment empty).
type mixedVoter struct {
	age     string
	rating  int
	comment string
	rank    []string
}

var mixedVoters = []mixedVoter{
	{"40s", 4, "駅前の自転車置き場を増やしてください🚲", []string{"school-route", "shelters"}},
	{"", 2, "図書館を夜9時まで開けてほしいです。", []string{"library-hours"}},
	{"30s", 5, "通学路の横断歩道が危ないので信号をつけてください", []string{"school-route", "bike-lanes", "shelters"}},
	{"60s", 3, "", []string{"shelters", "school-route"}},
	{"20s", 1, "バス停にベンチがなく、高齢の母が困っています", []string{"bus-stops", "school-route"}},
	{"", 4, "=1+1 のような書き込みも、そのまま載るはず", []string{"school-route"}},
	{"70s", 2, "避難所の備蓄を年に一度は点検して公表してください", []string{"shelters", "bus-stops", "school-route"}},
	{"40s", 5, "子育て世帯への情報発信をLINEでもしてほしい", []string{"school-route", "library-hours"}},
	{"50s", 3, "自転車レーンが途中で途切れていて危険です" + strings.Repeat("ー", 40), []string{"bike-lanes", "school-route"}},
}

// TestMixedSurveyBrowser: a survey with choice, rating, text and rank
// questions, answered through the booth by several voters (two leave the
// optional age group blank, one leaves the comment empty), then closed,
// tallied, mixed, decrypted and published. The results page lists the
// comments exactly as the record's mixed order has them — what the voters
// wrote, as a multiset, and not in the casting order (with 8 comments the
// shuffle leaves them in casting order with probability 1/8!) — and states
// the Borda scores and the Schulze winner; the record verifies; the page is
// axe-clean at 360 and 1280 px, in Japanese and English.
func TestMixedSurveyBrowser(t *testing.T) {
	f := getFixture(t)
	ctx, axe := browser(t)
	cctx := context.Background()
	admin := client.New(f.url, adminToken)
	manifest, _ := examples.Manifest("city-survey")
	manifest = bytes.Replace(manifest, []byte(`"id": "shimin-iken-r9"`), []byte(`"id": "city-survey-mixed"`), 1)
	// Few voters: the tally may be decrypted, and counts below 2 shown as
	// "fewer than 2".
	manifest = bytes.Replace(manifest, []byte(`"questions":`), []byte(`"privacyThreshold": 2, "questions":`), 1)
	var created api.Created
	if err := admin.Do(cctx, "POST", "/api/v1/elections", "application/json", manifest, &created); err != nil {
		t.Fatal(err)
	}
	id := created.ID
	trustees, err := demo.ServerCeremony(cctx, f.url, id, manifest, created.TrusteeTokens)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := demo.ImportRoll(cctx, admin, id, "M", len(mixedVoters))
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(cctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil); err != nil {
		t.Fatal(err)
	}
	run := func(actions ...chromedp.Action[chromedp.Void]) { t.Helper(); browse(t, ctx, actions...) }
	booth := f.url + "/elections/" + id + "/vote?lang=ja"
	var cast []string // the comments in casting order
	for i, v := range mixedVoters {
		vid := fmt.Sprintf("M%05d", i)
		// Each voter on a device of their own: nothing of the last one is kept.
		run(chromedp.EmulateViewport(360, 780), chromedp.Navigate(booth),
			chromedp.Evaluate[chromedp.Void](`localStorage.clear(); sessionStorage.clear()`),
			chromedp.Navigate(booth), chromedp.WaitVisible(chromedp.CSS("#step-register")),
			chromedp.SendKeys(chromedp.CSS("#voter-id"), vid), chromedp.SendKeys(chromedp.CSS("#voter-code"), codes[vid]),
			chromedp.Click(chromedp.CSS("#register-submit")), chromedp.WaitVisible(chromedp.CSS("#step-answer")))
		actions := []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="q:science-city"][value="%d"]`, v.rating)))}
		if v.age != "" {
			actions = append(actions, chromedp.Click(chromedp.CSS(`input[name="q:age"][value="`+v.age+`"]`)))
		}
		if v.comment != "" {
			actions = append(actions, chromedp.SendKeys(chromedp.CSS(`textarea[name="q:opinion"]`), v.comment))
			cast = append(cast, v.comment)
		}
		for p, o := range v.rank {
			actions = append(actions, chromedp.SetValue(chromedp.CSS(fmt.Sprintf(`select[name="q:priorities"][data-position="%d"]`, p+1)), o))
		}
		run(actions...)
		// An optional age group left blank is accepted (it was refused).
		run(chromedp.Click(chromedp.CSS("#answers-submit")), chromedp.WaitVisible(chromedp.CSS("#step-review")),
			chromedp.Click(chromedp.CSS("#cast")), chromedp.WaitVisible(chromedp.CSS("#step-receipt")))
		if !visibleNow(t, ctx, "#receipt-verified") {
			t.Fatalf("voter %d: the receipt is not verified", i+1)
		}
	}
	for _, step := range []string{"/close", "/tally"} {
		if err := admin.Do(cctx, "POST", api.ElectionPath(id, step), "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := demo.ServerDecrypt(cctx, f.url, id, manifest, trustees, created.TrusteeTokens, []int{2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(cctx, "POST", api.ElectionPath(id, "/publish"), "", nil, nil); err != nil {
		t.Fatal(err)
	}

	// The record verifies, mixes and decryptions included.
	voter := client.New(f.url, "")
	dir, err := voter.FetchRecord(cctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if rep := verify.Record(dir, verify.Options{}); !rep.OK() {
		t.Fatalf("the record does not verify: %+v", rep.Failures())
	}
	mixed, err := voter.Mixed(cctx, id, "opinion")
	if err != nil {
		t.Fatal(err)
	}

	results := f.url + "/elections/" + id + "/results"
	for _, lang := range []string{"ja", "en"} {
		run(chromedp.Navigate(results + "?lang=" + lang))
		shown, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('ol.comments li')].map(li => li.lastChild.textContent)`))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(shown, mixed.Comments) {
			t.Errorf("%s: the page lists the comments %q, the record's mixed order is %q", lang, shown, mixed.Comments)
		}
		sorted, want := slices.Clone(shown), slices.Clone(cast)
		slices.Sort(sorted)
		slices.Sort(want)
		if !slices.Equal(sorted, want) {
			t.Errorf("%s: the page's comments %q are not what the voters wrote, %q", lang, shown, cast)
		}
		if slices.Equal(shown, cast) {
			t.Errorf("%s: the comments are listed in casting order", lang)
		}
		body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range map[string][]string{
			"ja": {"シュルツェ法（コンドルセ方式）の勝者：通学路のガードレール設置", "ボルダ得点", "一対比較", "8件中8件のコメント", "空欄の回答：1件", "無回答", "2未満"},
			"en": {"Schulze (Condorcet) winner: Guard rails on school routes", "Borda score", "Pairwise comparison", "8 of 8 comments", "Empty answers: 1", "No answer", "fewer than 2"},
		}[lang] {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the results page does not say %q", lang, w)
			}
		}
		for _, w := range []int64{1280, 360} {
			run(chromedp.EmulateViewport(w, 900))
			auditPage(t, ctx, axe, w, lang+" results: ")
			if os.Getenv("KOE_SCREENSHOTS") == "1" && lang == "ja" {
				for _, part := range []struct{ name, heading string }{{"rank", "q3-h"}, {"comments", "q4-h"}} {
					run(chromedp.Evaluate[chromedp.Void](`document.getElementById("` + part.heading + `").scrollIntoView()`))
					screenshot(t, ctx, fmt.Sprintf("results-%s-%d", part.name, w))
				}
			}
		}
	}

	// The search works without script: a GET form.
	run(chromedp.Navigate(results+"?lang=ja"), chromedp.SendKeys(chromedp.CSS(`input[name="q"]`), "ＬＩＮＥ"),
		chromedp.Submit(chromedp.CSS(`input[name="q"]`)), chromedp.WaitVisible(chromedp.CSS("form.search a")))
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('ol.comments li')].map(li => li.lastChild.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(shown) != 1 || !strings.Contains(shown[0], "LINE") {
		t.Errorf("the search for ＬＩＮＥ shows %q", shown)
	}
	auditPage(t, ctx, axe, 360, "search: ")

	// Printed: no navigation, search or downloads; the charts and the
	// comments stay.
	media := func(m string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m})
			return err
		})
	}
	run(chromedp.Navigate(results+"?lang=ja"), media("print"))
	printed, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries(
  ["header.site", "nav.tabs", "form.search", ".downloads", "p.download", "figure.chart svg", "ol.comments", "table.pairwise"]
    .map(s => [s, getComputedStyle(document.querySelector(s)).display]))`))
	run(media(""))
	if err != nil {
		t.Fatal(err)
	}
	for sel, display := range printed {
		hiddenInPrint := !strings.Contains(sel, "svg") && !strings.Contains(sel, "comments") && !strings.Contains(sel, "pairwise")
		if hiddenInPrint != (display == "none") {
			t.Errorf("printed, %s has display %q", sel, display)
		}
	}
}
