package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/tally"
	"github.com/koe-vote/koe/internal/verify"
)

// satisfactionQuestion is a second rating question added to the citizen
// survey for TestRatingResultsBrowser: a 0–10 scale, whose lowest value is
// 0, labelled at both ends.
const satisfactionQuestion = `{
      "id": "satisfaction",
      "kind": "rating",
      "label": {"ja": "市の科学技術施策にどの程度満足していますか", "en": "How satisfied are you with the city's science policy?"},
      "min": 0,
      "max": 10,
      "minLabel": {"ja": "まったく満足していない", "en": "Not at all satisfied"},
      "maxLabel": {"ja": "とても満足している", "en": "Very satisfied"}
    },
    {
      "id": "internet-voting",`

// ratingVoter is what one voter of TestRatingResultsBrowser answers.
type ratingVoter struct {
	age          string
	field        string
	science      int // science-city, 1..5
	satisfaction int // 0..10
	vote         string
}

var ratingVoters = []ratingVoter{
	{"40s", "health", 4, 7, "for"},
	{"30s", "disaster", 4, 8, "rather-for"},
	{"20s", "education", 5, 7, "for"},
	{"60s", "transport", 3, 10, "against"},
	{"70plus", "health", 4, 0, "dont-know"},
	{"10s", "digital", 2, 7, "for"},
	{"50s", "childcare", 5, 8, "rather-against"},
	{"40s", "environment", 4, 5, "for"},
	{"no-answer", "agriculture", 1, 7, "rather-for"},
	{"30s", "health", 4, 8, "for"},
}

// TestRatingResultsBrowser: the citizen survey, with a second rating
// question of 0 to 10, answered in the booth by ten voters, tallied,
// decrypted and published. results.json counts each value of both scales
// (SPEC §9.4) and the record verifies; the results page shows each value's
// count and share, the scale's labels at the ends and the mean, counts
// below the privacy threshold of 2 as "fewer than 2"; it is axe-clean at
// 360 and 1280 px in Japanese and English; the CSV and the workbook,
// downloaded from the page's links, have the same counts.
func TestRatingResultsBrowser(t *testing.T) {
	f := getFixture(t)
	ctx, axe := browser(t)
	cctx := context.Background()
	admin := client.New(f.url, adminToken)
	manifest, _ := examples.Manifest("survey")
	manifest = bytes.Replace(manifest, []byte(`"id": "kagaku-shishin-2026"`), []byte(`"id": "rating-results"`), 1)
	manifest = bytes.Replace(manifest, []byte(`"questions":`), []byte(`"privacyThreshold": 2, "questions":`), 1)
	manifest = bytes.Replace(manifest, []byte(`{
      "id": "internet-voting",`), []byte(satisfactionQuestion), 1)
	var created api.Created
	if err := admin.Do(cctx, "POST", "/api/v1/elections", "application/json", manifest, &created); err != nil {
		t.Fatal(err)
	}
	id := created.ID
	trustees, err := demo.ServerCeremony(cctx, f.url, id, manifest, created.TrusteeTokens)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := demo.ImportRoll(cctx, admin, id, "R", len(ratingVoters))
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(cctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil); err != nil {
		t.Fatal(err)
	}
	run := func(actions ...chromedp.Action[chromedp.Void]) { t.Helper(); browse(t, ctx, actions...) }
	booth := f.url + "/elections/" + id + "/vote?lang=ja"
	for i, v := range ratingVoters {
		vid := fmt.Sprintf("R%05d", i)
		run(chromedp.EmulateViewport(360, 780), chromedp.Navigate(booth),
			chromedp.Evaluate[chromedp.Void](`localStorage.clear(); sessionStorage.clear()`),
			chromedp.Navigate(booth), chromedp.WaitVisible(chromedp.CSS("#step-register")),
			chromedp.SendKeys(chromedp.CSS("#voter-id"), vid), chromedp.SendKeys(chromedp.CSS("#voter-code"), codes[vid]),
			chromedp.Click(chromedp.CSS("#register-submit")), chromedp.WaitVisible(chromedp.CSS("#step-answer")))
		run(chromedp.Click(chromedp.CSS(`input[name="q:age"][value="`+v.age+`"]`)),
			chromedp.Click(chromedp.CSS(`input[name="q:fields"][value="`+v.field+`"]`)),
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="q:science-city"][value="%d"]`, v.science))),
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="q:satisfaction"][value="%d"]`, v.satisfaction))),
			chromedp.Click(chromedp.CSS(`input[name="q:internet-voting"][value="`+v.vote+`"]`)),
			chromedp.Click(chromedp.CSS("#answers-submit")), chromedp.WaitVisible(chromedp.CSS("#step-review")),
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
	if err := demo.ServerDecrypt(cctx, f.url, id, manifest, trustees, created.TrusteeTokens, []int{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(cctx, "POST", api.ElectionPath(id, "/publish"), "", nil, nil); err != nil {
		t.Fatal(err)
	}

	// What the voters gave, value by value.
	science, satisfaction := make([]uint64, 5), make([]uint64, 11)
	for _, v := range ratingVoters {
		science[v.science-1]++
		satisfaction[v.satisfaction]++
	}
	voter := client.New(f.url, "")
	dir, err := voter.FetchRecord(cctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if rep := verify.Record(dir, verify.Options{}); !rep.OK() {
		t.Fatalf("the record does not verify: %+v", rep.Failures())
	}
	data, err := os.ReadFile(dir + "/results.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := tally.ParseResults(data)
	if err != nil {
		t.Fatal(err)
	}
	for qi, want := range map[int][]uint64{2: science, 3: satisfaction} {
		q := res.Questions[qi]
		var got []uint64
		for _, v := range q.Values {
			got = append(got, v.Count)
		}
		if !slices.Equal(got, want) {
			t.Errorf("results.json: %s counts %v, the voters gave %v", q.ID, got, want)
		}
	}

	// The page: one row per value, count and share, or "fewer than 2".
	rowsOf := func(q string) [][]string {
		t.Helper()
		rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](`[...document.querySelectorAll('section[aria-labelledby="`+q+`-h"] table tbody tr')]
  .map(tr => [...tr.children].map(c => c.textContent.trim()))`))
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	wantRows := func(counts []uint64, min int, lo, hi, fewer string) [][]string {
		var out [][]string
		for i, n := range counts {
			label := fmt.Sprint(min + i)
			switch i {
			case 0:
				label = fmt.Sprintf(lo, label)
			case len(counts) - 1:
				label = fmt.Sprintf(hi, label)
			}
			if n < 2 {
				out = append(out, []string{label, fewer, "—"})
			} else {
				out = append(out, []string{label, fmt.Sprint(n), fmt.Sprintf("%.1f%%", 100*float64(n)/float64(len(ratingVoters)))})
			}
		}
		return out
	}
	results := f.url + "/elections/" + id + "/results"
	for _, lang := range []string{"ja", "en"} {
		run(chromedp.EmulateViewport(1280, 900), chromedp.Navigate(results+"?lang="+lang))
		words := map[string][5]string{
			"ja": {"%s（まったく感じない）", "%s（とても感じる）", "%s（まったく満足していない）", "%s（とても満足している）", "2未満"},
			"en": {"%s (Not at all)", "%s (Very much)", "%s (Not at all satisfied)", "%s (Very satisfied)", "fewer than 2"},
		}[lang]
		if got, want := rowsOf("q3"), wantRows(science, 1, words[0], words[1], words[4]); !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%s: science-city rows %q, want %q", lang, got, want)
		}
		if got, want := rowsOf("q4"), wantRows(satisfaction, 0, words[2], words[3], words[4]); !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%s: satisfaction rows %q, want %q", lang, got, want)
		}
		body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range map[string][]string{
			"ja": {"平均 3.60（1〜5）", "平均 6.70（0〜10）"},
			"en": {"Average 3.60 (on a scale of 1 to 5)", "Average 6.70 (on a scale of 0 to 10)"},
		}[lang] {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the results page does not say %q", lang, w)
			}
		}
		// The chart's title and description name the distribution and
		// every value, for a screen reader; the table ends with the mean.
		texts, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`["#q3-bt", "#q3-bd", 'section[aria-labelledby="q3-h"] tfoot tr']
  .map(s => [...document.querySelector(s).childNodes].map(n => n.textContent.trim()).filter(t => t).join(" "))`))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]string{
			"ja": {"回答の分布：「研究学園都市」であることを日常で実感しますか", "1（まったく感じない）: 2未満; 2: 2未満; 3: 2未満; 4: 5件 (50.0%); 5（とても感じる）: 2件 (20.0%)", "平均 3.60"},
			"en": {"Answers per value: Do you feel, day to day, that you live in a science city?", "1 (Not at all): fewer than 2; 2: fewer than 2; 3: fewer than 2; 4: 5 answers (50.0%); 5 (Very much): 2 answers (20.0%)", "Average 3.60"},
		}[lang]
		if !slices.Equal(texts, want) {
			t.Errorf("%s: the chart's title, description and the table's mean are %q, want %q", lang, texts, want)
		}
		for _, w := range []int64{1280, 360} {
			run(chromedp.EmulateViewport(w, 900))
			auditPage(t, ctx, axe, w, lang+" rating results: ")
			if os.Getenv("KOE_SCREENSHOTS") == "1" {
				run(chromedp.Evaluate[chromedp.Void](`document.getElementById("q3-h").scrollIntoView()`))
				screenshot(t, ctx, fmt.Sprintf("results-rating-%s-%d", lang, w))
			}
		}
	}

	// The downloads, fetched by the page from its own links.
	download := func(selector string) []byte {
		t.Helper()
		b64, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
  const r = await fetch(document.querySelector('`+selector+`').href);
  if (!r.ok) throw new Error("status " + r.status);
  const b = new Uint8Array(await r.arrayBuffer());
  let s = ""; for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	run(chromedp.Navigate(results + "?lang=ja"))
	csvBody := string(download(`section[aria-labelledby="q4-h"] p.download a`))
	for _, w := range []string{
		"\uFEFF件名,", "評価,回答数,割合（パーセント）,尺度の意味\r\n",
		"0,2未満,,まったく満足していない\r\n", "7,4,40,\r\n", "8,3,30,\r\n", "10,2未満,,とても満足している\r\n",
		"平均,6.7\r\n",
	} {
		if !strings.Contains(csvBody, w) {
			t.Errorf("the satisfaction CSV does not contain %q:\n%s", w, csvBody)
		}
	}
	x, err := excelize.OpenReader(bytes.NewReader(download(`.downloads a`)))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	for sheet, want := range map[string][]uint64{"Q3": science, "Q4": satisfaction} {
		rows, err := x.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		start := slices.IndexFunc(rows, func(r []string) bool { return len(r) > 0 && r[0] == "評価" })
		if start < 0 || len(rows) < start+1+len(want) {
			t.Fatalf("%s: no table of values: %q", sheet, rows)
		}
		min := map[string]int{"Q3": 1, "Q4": 0}[sheet]
		for i, n := range want {
			r := rows[start+1+i]
			wantCount := fmt.Sprint(n)
			if n < 2 {
				wantCount = "2未満"
			}
			if len(r) < 2 || r[0] != fmt.Sprint(min+i) || r[1] != wantCount {
				t.Errorf("%s: row for value %d is %q, want the count %s", sheet, min+i, r, wantCount)
			}
			// The value is a number cell, for a spreadsheet to compute with.
			ref, _ := excelize.CoordinatesToCellName(1, start+2+i)
			if typ, _ := x.GetCellType(sheet, ref); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
				t.Errorf("%s %s: the value is a text cell", sheet, ref)
			}
		}
	}
}
