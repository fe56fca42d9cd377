package web_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
)

// cityComments are the comments of the city survey's fixture voters (""
// leaves the optional comment empty): Japanese, a full-width one for the
// search, one long unbroken word, and texts a spreadsheet would read as a
// formula.
var cityComments = []string{
	"駅前の自転車置き場を増やしてください",
	"",
	"=HYPERLINK(\"http://evil.example/\",\"詳細\")",
	"図書館の夜間開館を希望します。仕事帰りに寄りたいです。",
	"ＡＢＣバスの本数を増やしてほしい",
	"-1点です。説明会の日程が平日ばかりでした",
	"",
	"@市長 公園のトイレを改修してください",
	strings.Repeat("あ", 120),
	"<script>alert(1)</script> 子育て支援の窓口を土曜日も開けてください",
	"避難所の場所がわかりにくい。案内板を増やして",
	"+81 の番号で問い合わせたら通じませんでした",
}

// cityRanks are the voters' rankings of the priorities question.
var cityRanks = [][]string{
	{"school-route", "shelters"}, {"shelters"}, {"school-route", "bike-lanes", "shelters"},
	{"library-hours", "school-route"}, {"bus-stops"}, {"school-route"},
	{"shelters", "school-route", "bus-stops"}, {"school-route", "shelters"}, {"bike-lanes"},
	{"school-route", "library-hours"}, {"shelters", "school-route"}, {"school-route", "bus-stops", "shelters"},
}

type cityFixture struct {
	id string
}

var (
	cityOnce sync.Once
	theCity  *cityFixture
	cityErr  error
)

// getCity runs the city survey (choice, rating, rank and text questions,
// privacy threshold 3) to its published results, its voters answering
// through the Go client.
func getCity(t *testing.T) (*fixture, *cityFixture) {
	t.Helper()
	f := getFixture(t)
	cityOnce.Do(func() { theCity, cityErr = newCity(f.url) })
	if cityErr != nil {
		t.Fatal(cityErr)
	}
	return f, theCity
}

func newCity(base string) (*cityFixture, error) {
	ctx := context.Background()
	admin := client.New(base, adminToken)
	manifest, _ := examples.Manifest("city-survey")
	manifest = bytes.Replace(manifest, []byte(`"id": "shimin-iken-r9"`), []byte(`"id": "city-survey-results"`), 1)
	manifest = bytes.Replace(manifest, []byte(`"questions":`), []byte(`"privacyThreshold": 3, "questions":`), 1)
	var created api.Created
	if err := admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created); err != nil {
		return nil, err
	}
	id := created.ID
	trustees, err := demo.ServerCeremony(ctx, base, id, manifest, created.TrusteeTokens)
	if err != nil {
		return nil, err
	}
	codes, err := demo.ImportRoll(ctx, admin, id, "C", len(cityComments))
	if err != nil {
		return nil, err
	}
	if err := admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil); err != nil {
		return nil, err
	}
	voter := client.New(base, "")
	el, err := voter.Election(ctx, id)
	if err != nil {
		return nil, err
	}
	ages := []string{"40s", "30s", "40s", "", "60s", "40s", "70s"}
	for i, comment := range cityComments {
		vid := fmt.Sprintf("C%05d", i)
		cred, err := voter.Register(ctx, el, vid, codes[vid])
		if err != nil {
			return nil, err
		}
		a := ballot.Answers{"science-city": float64(1 + (i*3)%5), "priorities": toAny(cityRanks[i])}
		if age := ages[i%len(ages)]; age != "" {
			a["age"] = age
		}
		if comment != "" {
			a["opinion"] = comment
		}
		pt, err := el.E.Manifest.Plaintext(a)
		if err != nil {
			return nil, err
		}
		env, _, _, err := client.Seal(el, cred, pt, 1)
		if err != nil {
			return nil, err
		}
		if _, err := voter.Cast(ctx, id, env); err != nil {
			return nil, err
		}
	}
	for _, step := range []string{"/close", "/tally"} {
		if err := admin.Do(ctx, "POST", api.ElectionPath(id, step), "", nil, nil); err != nil {
			return nil, err
		}
	}
	if err := demo.ServerDecrypt(ctx, base, id, manifest, trustees, created.TrusteeTokens, []int{1, 3}); err != nil {
		return nil, err
	}
	if err := admin.Do(ctx, "POST", api.ElectionPath(id, "/publish"), "", nil, nil); err != nil {
		return nil, err
	}
	return &cityFixture{id: id}, nil
}

// TestResultsTextAndRank: the results page lists the comments in the mixed
// order (escaped), searches them, states the Schulze winner and shows the
// Borda scores and the pairwise matrix, and suppresses counts below the
// privacy threshold.
func TestResultsTextAndRank(t *testing.T) {
	f, c := getCity(t)
	mixed, err := client.New(f.url, "").Mixed(context.Background(), c.id, "opinion")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, s := range cityComments {
		if s != "" {
			want = append(want, s)
		}
	}
	got := slices.Clone(mixed.Comments)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) || mixed.Empty != 2 {
		t.Fatalf("mixed comments %q (empty %d), want %q", mixed.Comments, mixed.Empty, want)
	}
	page := f.url + "/elections/" + c.id + "/results"
	for _, lang := range []string{"ja", "en"} {
		t.Run(lang, func(t *testing.T) {
			resp, body := get(t, page, "", &http.Cookie{Name: "lang", Value: lang})
			if resp.StatusCode != 200 {
				t.Fatalf("status %d:\n%s", resp.StatusCode, body)
			}
			checkPage(t, resp, body)
			// Comments in the mixed order, escaped.
			if shown := pageComments(body); !slices.Equal(shown, mixed.Comments) {
				t.Errorf("the page shows the comments %q, want the mixed order %q", shown, mixed.Comments)
			}
			if strings.Contains(body, "<script>alert") {
				t.Error("a comment's markup is not escaped")
			}
			wants := map[string][]string{
				"ja": {"10件中10件のコメント", "空欄の回答：2件", "シュルツェ法（コンドルセ方式）の勝者：通学路のガードレール設置", "ボルダ得点", `<th scope="row">通学路のガードレール設置</th>`, "3未満", "opinion.csv?lang=ja", "results.xlsx?lang=ja"},
				"en": {"10 of 10 comments", "Empty answers: 2", "Schulze (Condorcet) winner: Guard rails on school routes", "Borda score", "fewer than 3", "opinion.csv?lang=en", "results.xlsx?lang=en"},
			}[lang]
			for _, w := range wants {
				if !strings.Contains(body, w) {
					t.Errorf("the page does not contain %q", w)
				}
			}
			if t.Failed() {
				t.Logf("page:\n%s", body)
			}
		})
	}
	// A search folds width and case: "abc" finds "ＡＢＣバス…".
	_, body := get(t, page+"?q=abc&lang=ja", "")
	if !strings.Contains(body, "10件中1件のコメント") || !strings.Contains(body, "ＡＢＣバスの本数") || strings.Contains(body, "駅前の自転車") {
		t.Errorf("the search for abc:\n%s", body)
	}
	_, body = get(t, page+"?q=%E3%81%AA%E3%81%84%E8%A8%80%E8%91%89&lang=en", "")
	if !strings.Contains(body, "0 of 10 comments") || !strings.Contains(body, "No comment contains") {
		t.Errorf("a search that finds nothing:\n%s", body)
	}
}

// TestResultsExport downloads a question's CSV (BOM, defused formulas,
// suppressed counts) and the workbook, read back with excelize.
func TestResultsExport(t *testing.T) {
	f, c := getCity(t)
	base := f.url + "/elections/" + c.id + "/results/"
	resp, body := get(t, base+"opinion.csv?lang=ja", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), `filename="city-survey-results-opinion.csv"`) {
		t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
	if !strings.HasPrefix(body, "\uFEFF件名,") {
		t.Errorf("the CSV does not start with a BOM and the title: %q", body[:min(len(body), 40)])
	}
	for _, w := range []string{
		`"'=HYPERLINK(""http://evil.example/"",""詳細"")"`, "'-1点です", "'@市長", "'+81 の番号",
		"駅前の自転車置き場を増やしてください\r\n", "空欄の回答,2\r\n",
	} {
		if !strings.Contains(body, w) {
			t.Errorf("the CSV does not contain %q:\n%s", w, body)
		}
	}
	_, body = get(t, base+"age.csv?lang=en", "")
	if !strings.Contains(body, "Teens,fewer than 3,\r\n") || !strings.Contains(body, "40s,5,41.7\r\n") {
		t.Errorf("the age CSV does not suppress small counts:\n%s", body)
	}
	_, body = get(t, base+"priorities.csv?lang=en", "")
	if !strings.Contains(body, "Schulze winners,Guard rails on school routes") || !strings.Contains(body, `Above ""Guard rails on school routes""`) {
		t.Errorf("the rank CSV:\n%s", body)
	}
	for _, bad := range []string{"nosuch.csv", "opinion.txt", "results.csv"} {
		if resp, _ := get(t, base+bad, ""); resp.StatusCode != 404 {
			t.Errorf("%s: status %d, want 404", bad, resp.StatusCode)
		}
	}

	resp, body = get(t, base+"results.xlsx?lang=ja", "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/vnd.openxmlformats") {
		t.Fatalf("xlsx: status %d, %v", resp.StatusCode, resp.Header)
	}
	x, err := excelize.OpenReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if got := x.GetSheetList(); !slices.Equal(got, []string{"概要", "Q1", "Q2", "Q3", "Q4"}) {
		t.Errorf("sheets %q", got)
	}
	rows, err := x.GetRows("Q4")
	if err != nil {
		t.Fatal(err)
	}
	var comments []string
	for _, r := range rows {
		if len(r) == 2 && r[0] != "" && r[0][0] >= '1' && r[0][0] <= '9' {
			comments = append(comments, r[1])
		}
	}
	mixed, err := client.New(f.url, "").Mixed(context.Background(), c.id, "opinion")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(comments, mixed.Comments) {
		t.Errorf("the workbook's comments %q, want the mixed order %q", comments, mixed.Comments)
	}
	// A comment that looks like a formula is a string cell, not a formula.
	for i, r := range rows {
		if len(r) == 2 && strings.HasPrefix(r[1], "=HYPERLINK") {
			ref, _ := excelize.CoordinatesToCellName(2, i+1)
			if fm, _ := x.GetCellFormula("Q4", ref); fm != "" {
				t.Errorf("cell %s is the formula %q", ref, fm)
			}
		}
	}
	q1, _ := x.GetRows("Q1")
	if !slices.ContainsFunc(q1, func(r []string) bool { return len(r) >= 2 && r[0] == "10代" && r[1] == "3未満" }) {
		t.Errorf("Q1 does not suppress the teens: %q", q1)
	}
}

var commentItem = regexp.MustCompile(`<li value="\d+"><span class="visually-hidden">[^<]*</span>([^<]*)</li>`)

// pageComments are the comments a results page lists, unescaped.
func pageComments(body string) []string {
	var out []string
	for _, m := range commentItem.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}
