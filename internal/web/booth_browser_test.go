package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/oidcreg/oidctest"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/tally"
	"github.com/koe-vote/koe/internal/verify"
)

// TestBooth votes in the browser: a voter registers with the code of
// their letter, answers every kind of question, challenges the
// encryption (Benaloh), casts, checks the receipt by tracking code and by
// the saved file, and votes again; a used code and a wrong code are
// refused; a second voter votes in English on a desktop. Then the
// election is tallied: the results are what the browsers cast (the
// re-vote replacing the first ballot, the challenged one not counted),
// the results page charts them, and the downloaded record verifies.
// Every page is audited with axe-core and must fit the screen.
func TestBooth(t *testing.T) {
	f := getFixture(t)
	checkOpenBooth(t, f, f.booth.id)
	ctx, axe := browser(t)
	b := f.booth
	booth := f.url + "/elections/" + b.id + "/vote"
	shots := os.Getenv("KOE_SCREENSHOTS") == "1"
	key := "koe.booth." + b.id

	check := func(t *testing.T, width int64, shot string) {
		t.Helper()
		auditPage(t, ctx, axe, width, "")
		if shots && shot != "" {
			screenshot(t, ctx, fmt.Sprintf("%s-%d", shot, width))
		}
	}
	do := func(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		// A step that does not happen fails in a minute, not at the
		// browser's deadline.
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	text := func(t *testing.T, sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(s)
	}
	answer := func(t *testing.T, age string, fields []string, rating int, iv string) {
		t.Helper()
		// Clear what an earlier ballot left, then choose.
		do(t, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('#answers input:checked').forEach(i => { i.checked = false })`))
		sels := []string{`input[name="q:age"][value="` + age + `"]`}
		for _, x := range fields {
			sels = append(sels, `input[name="q:fields"][value="`+x+`"]`)
		}
		sels = append(sels, fmt.Sprintf(`input[name="q:science-city"][value="%d"]`, rating), `input[name="q:internet-voting"][value="`+iv+`"]`)
		for _, s := range sels {
			do(t, chromedp.Click(chromedp.CSS(s)))
		}
	}
	register := func(t *testing.T, voter, code string) {
		t.Helper()
		do(t,
			chromedp.WaitVisible(chromedp.CSS("#step-register")),
			chromedp.Clear(chromedp.CSS("#voter-id")), chromedp.SendKeys(chromedp.CSS("#voter-id"), voter),
			chromedp.Clear(chromedp.CSS("#voter-code")), chromedp.SendKeys(chromedp.CSS("#voter-code"), code),
			chromedp.Click(chromedp.CSS("#register-submit")),
		)
	}
	castShown := func(t *testing.T) string {
		t.Helper()
		do(t, chromedp.Click(chromedp.CSS("#cast")), chromedp.WaitVisible(chromedp.CSS("#step-receipt")))
		// The device checked the receipt itself.
		if !visibleNow(t, ctx, "#receipt-verified") || visibleNow(t, ctx, "#receipt-unverified") {
			t.Errorf("the booth did not check its receipt: %s", text(t, "#receipt-problem"))
		}
		return text(t, "#receipt-tracking")
	}

	var first, revote, second string
	t.Run("vote-ja-phone", func(t *testing.T) {
		do(t, chromedp.EmulateViewport(360, 780), chromedp.Navigate(booth+"?lang=ja"),
			chromedp.WaitVisible(chromedp.CSS("#step-register")))
		check(t, 360, "booth-register")
		// What the booth weighs, loaded the first time (logged, not asserted).
		weight, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`[...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
  .filter(e => !e.name.includes('/api/')).reduce((a, e) => a + e.transferSize, 0)`))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("booth in Chromium: the page, its style sheet and script transferred %.0f bytes", weight)
		if hasSelector(t, ctx, "#register-digital-id") {
			t.Error("the booth offers a digital-ID sign-in for an election without one")
		}
		register(t, "B00000", b.codes["B00000"])
		do(t, chromedp.WaitVisible(chromedp.CSS("#step-answer")))
		// The booth checked the registration receipt against the letter's
		// roll commitment, and shows it (SPEC.md §15.3).
		if c, err := credential.RollCommitment(b.id, "B00000", b.codes["B00000"]); err != nil {
			t.Fatal(err)
		} else if st := text(t, "#booth-status"); !strings.Contains(st, fmt.Sprintf("%x", c)) || !strings.Contains(st, "登録の控え") {
			t.Errorf("the booth's status after registering is %q, without the receipt %x", st, c)
		}
		// Screen readers and keyboards follow the steps: each step's
		// heading takes the focus.
		if id, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`)); id != "answer-h" {
			t.Errorf("after registering the focus is on %q, not the answer step's heading", id)
		}
		check(t, 360, "booth-answer")

		// Unanswered: the booth says which question, in Japanese.
		do(t, chromedp.Click(chromedp.CSS("#answers-submit")), chromedp.WaitVisible(chromedp.CSS("#booth-error")))
		if e := text(t, "#booth-error"); !strings.Contains(e, "年代") {
			t.Errorf("the error for an unanswered question is %q", e)
		}

		answer(t, "30s", []string{"health", "transport"}, 4, "for")
		do(t, chromedp.Click(chromedp.CSS("#answers-submit")), chromedp.WaitVisible(chromedp.CSS("#step-review")))
		if e := text(t, "#review-list"); !strings.Contains(e, "30代") || !strings.Contains(e, "医療・健康") || !strings.Contains(e, "交通・モビリティ") {
			t.Errorf("the review shows %q", e)
		}
		challenged := text(t, "#review-tracking")
		check(t, 360, "booth-review")

		// The Benaloh challenge: the ballot is opened and shows the answers.
		do(t, chromedp.Click(chromedp.CSS("#challenge-box summary")), chromedp.Click(chromedp.CSS("#challenge")),
			chromedp.WaitVisible(chromedp.CSS("#step-challenge")))
		if id, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`)); id != "challenge-h" {
			t.Errorf("after the challenge the focus is on %q, not its heading", id)
		}
		if !hasSelector(t, ctx, "#challenge-result.ok") {
			t.Fatalf("the challenge says %q", text(t, "#challenge-result"))
		}
		if got := text(t, "#challenge-tracking"); got != challenged {
			t.Errorf("the opened ballot is %s, not the reviewed %s", got, challenged)
		}
		if e := text(t, "#challenge-list"); !strings.Contains(e, "30代") {
			t.Errorf("the opened ballot shows %q", e)
		}
		check(t, 360, "booth-challenge")

		do(t, chromedp.Click(chromedp.CSS("#challenge-continue")), chromedp.WaitVisible(chromedp.CSS("#step-review")))
		if again := text(t, "#review-tracking"); again == challenged {
			t.Fatal("the ballot was not encrypted again after the challenge")
		}
		first = castShown(t)
		do(t, chromedp.Poll[chromedp.Void](`document.querySelector('#receipt-qr').complete && document.querySelector('#receipt-qr').naturalWidth > 0`))
		check(t, 360, "booth-receipt")

		// The receipt check by tracking code.
		do(t, chromedp.Click(chromedp.CSS("#receipt-check")), chromedp.WaitVisible(chromedp.CSS("#lookup-h")))
		if !strings.Contains(text(t, "main"), "受け付けられ") && !hasSelector(t, ctx, ".result.ok") {
			t.Fatalf("the receipt check by code failed: %s", text(t, "main"))
		}
		check(t, 360, "receipt-check")

		// The receipt check with the receipt as the booth saved it.
		saved, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(JSON.parse(localStorage.getItem(`+jsString(key)+`)).people[0].receipts[0].receipt)`))
		if err != nil {
			t.Fatal(err)
		}
		do(t, chromedp.SetValue(chromedp.CSS("#receipt-text"), saved), chromedp.Submit(chromedp.CSS("#receipt-text")),
			chromedp.WaitVisible(chromedp.CSS("#file-result")))
		if !hasSelector(t, ctx, "#file-result.ok") {
			t.Fatalf("the saved receipt did not check: %s", text(t, "#file-result"))
		}
		check(t, 360, "receipt-file")
		// A receipt whose proof was altered does not.
		bad := strings.Replace(saved, `"proof":["`, `"proof":["00`, 1)[:len(saved)]
		do(t, chromedp.SetValue(chromedp.CSS("#receipt-text"), bad), chromedp.Submit(chromedp.CSS("#receipt-text")),
			chromedp.WaitVisible(chromedp.CSS("main")))
		if hasSelector(t, ctx, "#file-result.ok") {
			t.Error("an altered receipt checked out")
		}
	})

	t.Run("revote", func(t *testing.T) {
		// The device forgets the counter it kept, as a credential file
		// moved to another device has none: the booth reads the next one
		// from the board (SPEC.md §15.4, counters 1, 2, 3, …).
		do(t, chromedp.Navigate(booth+"?lang=ja"), chromedp.WaitVisible(chromedp.CSS("#step-answer")),
			chromedp.Evaluate[chromedp.Void](`(() => { const k = `+jsString(key)+`; const s = JSON.parse(localStorage.getItem(k)); s.people[0].counter = 0; localStorage.setItem(k, JSON.stringify(s)); })()`),
			chromedp.Navigate(booth+"?lang=ja"), chromedp.WaitVisible(chromedp.CSS("#step-answer")))
		if !visibleNow(t, ctx, "#revote-note") || !strings.Contains(text(t, "#revote-last"), first) {
			t.Errorf("the booth does not say the voter voted (%s)", text(t, "#revote-last"))
		}
		answer(t, "30s", []string{"health"}, 2, "against")
		do(t, chromedp.Click(chromedp.CSS("#answers-submit")), chromedp.WaitVisible(chromedp.CSS("#step-review")))
		revote = castShown(t)
		if revote == first {
			t.Fatal("the re-vote has the first ballot's tracking code")
		}
		if n := text(t, "#receipt-counter"); n != "2" {
			t.Errorf("the receipt counts %s ballots, want 2", n)
		}
		counters, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.parse(localStorage.getItem(`+jsString(key)+`)).people[0].receipts.map(r => r.counter).join(",")`))
		if err != nil || counters != "1,2" {
			t.Errorf("the booth cast with counters %q (%v), want 1,2", counters, err)
		}
		if !strings.Contains(text(t, "#step-receipt"), "対策にはなりません") {
			t.Errorf("the receipt page does not say that voting again is no protection against coercion: %s", text(t, "#step-receipt"))
		}
	})

	t.Run("shared-device", func(t *testing.T) {
		// Another visit (a new tab: nothing in sessionStorage) on the
		// device where B00000 voted: the booth asks who is answering
		// instead of going on with B00000's credential.
		do(t, chromedp.EmulateViewport(360, 780), chromedp.Evaluate[chromedp.Void](`sessionStorage.clear()`),
			chromedp.Navigate(booth+"?lang=ja"), chromedp.WaitVisible(chromedp.CSS("#step-who")))
		if visibleNow(t, ctx, "#step-answer") {
			t.Fatal("the booth went on with the stored credential without asking who is answering")
		}
		if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#who-list button').length`)); n != 1 {
			t.Errorf("the booth lists %d registrations, want 1", n)
		}
		check(t, 360, "booth-who")
		// Someone else registers with their own letter, and finds no
		// trace of B00000's vote.
		do(t, chromedp.Click(chromedp.CSS("#who-new")))
		register(t, "ｂ００００２", b.codes["B00002"]) // typed as a phone with the IME on would: full width, lower case
		do(t, chromedp.WaitVisible(chromedp.CSS("#step-answer")))
		if visibleNow(t, ctx, "#revote-note") {
			t.Error("the second person is told they have voted")
		}
		// Ticking a fourth field of three says so next to the question.
		do(t, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('#answers input:checked').forEach(i => { i.checked = false })`))
		for _, x := range []string{"health", "transport", "education", "digital"} {
			do(t, chromedp.Click(chromedp.CSS(`input[name="q:fields"][value="`+x+`"]`)))
		}
		if !visibleNow(t, ctx, `fieldset[data-question="fields"] .q-error`) || !strings.Contains(text(t, `fieldset[data-question="fields"] .q-error`), "3 個まで") {
			t.Errorf("four of three fields ticked: the question says %q", text(t, `fieldset[data-question="fields"]`))
		}
		do(t, chromedp.Click(chromedp.CSS(`input[name="q:fields"][value="digital"]`)))
		if visibleNow(t, ctx, `fieldset[data-question="fields"] .q-error`) {
			t.Error("the error stays once three fields are ticked")
		}
		// A reload keeps the answers given so far.
		do(t, chromedp.Click(chromedp.CSS(`input[name="q:age"][value="40s"]`)),
			chromedp.Navigate(booth+"?lang=ja"), chromedp.WaitVisible(chromedp.CSS("#step-answer")))
		kept, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('#answers input:checked')].map(i => i.value).join(",")`))
		if err != nil || kept != "40s,health,transport,education" {
			t.Errorf("after a reload the answers are %q (%v), want 40s,health,transport,education", kept, err)
		}
		// Handing over: both registrations are listed, and B00000's is
		// the one that voted.
		do(t, chromedp.Click(chromedp.CSS("#switch-person")), chromedp.WaitVisible(chromedp.CSS("#step-who")))
		if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#who-list button').length`)); n != 2 {
			t.Errorf("the booth lists %d registrations, want 2", n)
		}
		do(t, chromedp.Click(chromedp.CSS("#who-list li:first-child button")), chromedp.WaitVisible(chromedp.CSS("#step-answer")))
		if !visibleNow(t, ctx, "#revote-note") || !strings.Contains(text(t, "#revote-last"), revote) {
			t.Errorf("B00000's registration does not show its last ballot: %q", text(t, "#revote-last"))
		}
		if kept, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('#answers input:checked')].map(i => i.value).join(",")`)); kept != "" {
			t.Errorf("B00000 finds the second person's answers in progress: %q", kept)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		// The same code again, from a device without the credential.
		do(t, chromedp.Evaluate[chromedp.Void](`localStorage.clear()`), chromedp.Navigate(booth+"?lang=ja"))
		register(t, "B00000", b.codes["B00000"])
		do(t, chromedp.WaitVisible(chromedp.CSS("#booth-error")))
		if e := text(t, "#booth-error"); !strings.Contains(e, "すでに使われています") {
			t.Errorf("a used code: %q", e)
		}
		if visibleNow(t, ctx, "#step-answer") {
			t.Error("a used code let the voter on")
		}
		register(t, "B00001", "WRNG-CODE-XXXX-YYYY")
		do(t, chromedp.WaitVisible(chromedp.CSS("#booth-error")))
		if e := text(t, "#booth-error"); !strings.Contains(e, "正しくありません") {
			t.Errorf("a wrong code: %q", e)
		}
		check(t, 360, "booth-error")
		// Closed and not yet open.
		for _, id := range []string{f.survey, f.setup} {
			do(t, chromedp.Navigate(f.url+"/elections/"+id+"/vote?lang=ja"), chromedp.WaitVisible(chromedp.CSS("#booth-closed")))
			check(t, 360, "")
		}
	})

	t.Run("vote-en-desktop", func(t *testing.T) {
		do(t, chromedp.Evaluate[chromedp.Void](`localStorage.clear()`), chromedp.EmulateViewport(1280, 900),
			chromedp.Navigate(booth+"?lang=en"))
		register(t, "B00001", b.codes["B00001"])
		do(t, chromedp.WaitVisible(chromedp.CSS("#step-answer")))
		check(t, 1280, "booth-answer")
		answer(t, "20s", []string{"education", "digital", "childcare"}, 5, "rather-for")
		do(t, chromedp.Click(chromedp.CSS("#answers-submit")), chromedp.WaitVisible(chromedp.CSS("#step-review")))
		if e := text(t, "#review-list"); !strings.Contains(e, "Childcare") && !strings.Contains(e, "childcare") {
			t.Errorf("the review shows %q", e)
		}
		check(t, 1280, "booth-review")
		second = castShown(t)
		check(t, 1280, "booth-receipt")
		// The figures of the booth (logged, not asserted): encryption and
		// proofs of this 10-selection ballot, and what the page weighed.
		ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`performance.getEntriesByName('koe-encrypt').map(e => e.duration).reduce((a, b) => Math.max(a, b), 0)`))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("booth in Chromium: encryption and proofs of this 22-selection ballot: %.1f ms", ms)
	})

	t.Run("answer-ko", func(t *testing.T) {
		// A Korean reader registers and answers up to the review, on a
		// phone and on a desktop; the pages are in Korean, worded for a
		// survey, and pass axe. (Nothing is cast: the results below
		// count the two ballots above.)
		do(t, chromedp.Evaluate[chromedp.Void](`localStorage.clear(); sessionStorage.clear()`), chromedp.EmulateViewport(360, 780),
			chromedp.Navigate(booth+"?lang=ko"), chromedp.WaitVisible(chromedp.CSS("#step-register")))
		if lang, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "ko" {
			t.Errorf("the booth's page is in %q, not ko", lang)
		}
		if got := text(t, "#register-submit"); got != "자격 증명 받기" {
			t.Errorf("the register button says %q", got)
		}
		check(t, 360, "booth-register-ko")
		register(t, "B00005", b.codes["B00005"])
		do(t, chromedp.WaitVisible(chromedp.CSS("#step-answer")))
		check(t, 360, "booth-answer-ko")
		// Unanswered: the error is in Korean too (the script's messages).
		do(t, chromedp.Click(chromedp.CSS("#answers-submit")), chromedp.WaitVisible(chromedp.CSS("#booth-error")))
		if e := text(t, "#booth-error"); !strings.ContainsFunc(e, func(r rune) bool { return r >= 0xAC00 && r <= 0xD7A3 }) {
			t.Errorf("the error for an unanswered question is not in Korean: %q", e)
		}
		answer(t, "40s", []string{"environment"}, 3, "dont-know")
		do(t, chromedp.Click(chromedp.CSS("#answers-submit")), chromedp.WaitVisible(chromedp.CSS("#step-review")))
		if got, want := text(t, "#cast"), "이 응답 보내기"; got != want {
			t.Errorf("the cast button says %q, want the survey's %q", got, want)
		}
		check(t, 360, "booth-review-ko")
		do(t, chromedp.EmulateViewport(1280, 900))
		check(t, 1280, "booth-review-ko")
		do(t, chromedp.Navigate(f.url+"/help?lang=ko"), chromedp.WaitVisible(chromedp.CSS("main")))
		if !strings.Contains(text(t, "h1"), "도움말") {
			t.Errorf("the help page's heading in Korean is %q", text(t, "h1"))
		}
		check(t, 1280, "")
	})

	t.Run("results", func(t *testing.T) {
		if first == "" || revote == "" || second == "" {
			t.Skip("the votes did not complete")
		}
		cctx := context.Background()
		if err := publish(cctx, f.url, b.id, b.manifest, b.trustees, b.tokens); err != nil {
			t.Fatal(err)
		}
		raw, err := client.New(f.url, "").Raw(cctx, "GET", api.ElectionPath(b.id, "/results"), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := tally.ParseResults(raw)
		if err != nil {
			t.Fatal(err)
		}
		// B00000's re-vote (30s, health, 2, against) replaced its first
		// ballot; B00001 voted (20s, education+digital+childcare, 5,
		// rather-for); the challenged ballot is not counted.
		want := map[string]map[string]uint64{
			"age":             {"20s": 1, "30s": 1},
			"fields":          {"health": 1, "education": 1, "digital": 1, "childcare": 1},
			"internet-voting": {"against": 1, "rather-for": 1},
		}
		if res.Ballots != 2 {
			t.Errorf("%d ballots counted, want 2", res.Ballots)
		}
		for _, q := range res.Questions {
			if q.Kind == "rating" {
				if q.Mean(res.Ballots) != 3.5 {
					t.Errorf("%s: mean %.2f, want 3.5", q.ID, q.Mean(res.Ballots))
				}
				continue
			}
			for _, o := range q.Options {
				if o.Count != want[q.ID][o.ID] {
					t.Errorf("%s/%s: %d, want %d", q.ID, o.ID, o.Count, want[q.ID][o.ID])
				}
			}
		}
		do(t, chromedp.EmulateViewport(360, 780), chromedp.Navigate(f.url+"/elections/"+b.id+"/results?lang=ja"),
			chromedp.WaitReady("body"))
		checkCharts(t, ctx)
		check(t, 360, "")

		resp, err := http.Get(f.url + api.ElectionPath(b.id, "/record"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		dir, err := record.Unpack(resp.Body, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		rep := verify.Record(dir, verify.Options{})
		for _, c := range rep.Checks {
			if !c.OK {
				t.Errorf("koe verify: %s: %s", c.What, c.Detail)
			}
		}
		if !rep.OK() || rep.Ballots != 2 || len(rep.Spoiled) != 1 {
			t.Errorf("the record: ok %v, %d ballots counted, %d spoiled; want 2 and 1", rep.OK(), rep.Ballots, len(rep.Spoiled))
		}
	})
}

// TestBoothDigitalID registers in the browser with a digital ID: the
// booth offers the button when the election is configured for it; the
// browser goes through a real OpenID provider and comes back with the
// blind signature, which the booth unblinds; the voter votes. The same
// identity again, and an ineligible one, get a clear page and no
// credential.
func TestBoothDigitalID(t *testing.T) {
	f := getFixture(t)
	ctx, axe := browser(t)
	cctx := context.Background()
	admin := client.New(f.url, adminToken)
	manifest, _ := examples.Manifest("referendum")
	manifest = bytes.Replace(manifest, []byte(`"id": "shin-chosha-2026"`), []byte(`"id": "digital-id-booth"`), 1)
	var created api.Created
	if err := admin.Do(cctx, "POST", "/api/v1/elections", "application/json", manifest, &created); err != nil {
		t.Fatal(err)
	}
	id := created.ID
	if _, err := demo.ServerCeremony(cctx, f.url, id, manifest, created.TrusteeTokens); err != nil {
		t.Fatal(err)
	}
	callback := f.url + api.ElectionPath(id, "/oidc/callback")
	tsukuba := map[string]any{"formatted": "茨城県つくば市研究学園一丁目1番地1"}
	p, err := oidctest.Start(map[string]map[string]any{
		"resident": {"birthdate": time.Now().AddDate(-30, 0, 0).Format("2006-01-02"), "address": tsukuba},
		"young":    {"birthdate": time.Now().AddDate(-16, 0, 0).Format("2006-01-02"), "address": tsukuba},
	}, callback)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cfg, _ := json.Marshal(map[string]any{
		"issuer": p.URL, "clientID": oidctest.ClientID, "clientSecret": oidctest.ClientSecret, "redirectURL": callback,
		"scopes": []string{"openid", "profile", "address"},
		"rules":  []map[string]any{{"claim": "address.formatted", "op": "contains", "value": "つくば市"}, {"claim": "birthdate", "op": "age-at-least", "value": 18}},
	})
	if err := admin.Do(cctx, "PUT", api.ElectionPath(id, "/oidc"), "application/json", cfg, nil); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(cctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil); err != nil {
		t.Fatal(err)
	}
	booth := f.url + "/elections/" + id + "/vote?lang=ja"
	run := func(actions ...chromedp.Action[chromedp.Void]) { t.Helper(); browse(t, ctx, actions...) }

	p.SignInAs("resident")
	run(chromedp.EmulateViewport(360, 780), chromedp.Navigate(booth),
		chromedp.WaitVisible(chromedp.CSS("#register-digital-id")))
	auditPage(t, ctx, axe, 360, "")
	if os.Getenv("KOE_SCREENSHOTS") == "1" {
		screenshot(t, ctx, "booth-digital-id-360")
	}
	run(chromedp.Click(chromedp.CSS("#register-digital-id")), chromedp.WaitVisible(chromedp.CSS("#step-answer")))
	if loc, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`)); strings.Contains(loc, "#") {
		t.Errorf("the blind signature stays in the address: %s", loc)
	}
	run(chromedp.Click(chromedp.CSS(`input[name="q:plan"][value="yes"]`)), chromedp.Click(chromedp.CSS("#answers-submit")),
		chromedp.WaitVisible(chromedp.CSS("#step-review")), chromedp.Click(chromedp.CSS("#cast")),
		chromedp.WaitVisible(chromedp.CSS("#step-receipt")))

	// The board's size: a credential issued would add an entry.
	boardSize := func() string {
		raw, err := client.New(f.url, "").Raw(cctx, "GET", api.ElectionPath(id, "/log/checkpoint"), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(string(raw), "\n")[1]
	}
	before := boardSize()
	for _, tc := range []struct{ user, code string }{{"resident", "already-registered"}, {"young", "not-eligible"}} {
		p.SignInAs(tc.user)
		run(chromedp.Navigate(booth), chromedp.Evaluate[chromedp.Void](`localStorage.clear()`), chromedp.Navigate(booth),
			chromedp.Click(chromedp.CSS("#register-digital-id")), chromedp.WaitVisible(chromedp.CSS("#reason")))
		code, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#reason').dataset.code`))
		if err != nil {
			t.Fatal(err)
		}
		if code != tc.code {
			t.Errorf("%s: the page says %q, want %q", tc.user, code, tc.code)
		}
		auditPage(t, ctx, axe, 360, "")
	}
	if after := boardSize(); after != before {
		t.Errorf("refused sign-ins changed the board from %s to %s entries", before, after)
	}
}

func hasSelector(t *testing.T, ctx context.Context, sel string) bool {
	t.Helper()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector(`+jsString(sel)+`) !== null`))
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func visibleNow(t *testing.T, ctx context.Context, sel string) bool {
	t.Helper()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(e => e !== null && !e.closest('[hidden]'))(document.querySelector(`+jsString(sel)+`))`))
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// jsString quotes s as a JavaScript string.
func jsString(s string) string { return fmt.Sprintf("%q", s) }

// TestBoothTiming measures, in the same headless Chromium, the booth's
// encryption and proofs of a 10-selection ballot (the participatory
// budget), with the module web/booth/build.sh builds. It logs the figures
// and asserts only that every ballot verifies.
func TestBoothTiming(t *testing.T) {
	ctx, _ := browser(t)
	mod, err := os.ReadFile(filepath.Join("..", "..", "web", "booth", "dist", "koe.min.js"))
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v: run web/booth/build.sh first", err)
		}
		t.Skip("web/booth/dist/koe.min.js is not built (web/booth/build.sh)")
	}
	manifest, _ := examples.Manifest("budget")
	script := fmt.Sprintf(`(async () => {
  const koe = await import('data:text/javascript;base64,%s');
  const el = koe.election(koe.base64Decode(%q), koe.generator().multiply(koe.randomScalar()).toBytes(), new Uint8Array(32));
  const pt = koe.plaintextFromAnswers(el.manifest, {projects: ['park-lights', 'wifi', 'bike-lanes']});
  const binding = crypto.getRandomValues(new Uint8Array(32));
  const t = [];
  for (let i = 0; i < 21; i++) {
    const t0 = performance.now();
    const b = koe.encryptBallot(el, binding, pt);
    t.push(performance.now() - t0);
    koe.verifyBallot(el, b.bytes);
  }
  t.sort((a, b) => a - b);
  return {selections: el.style.reduce((n, q) => n + q.selections, 0), median: t[10], min: t[0], max: t[20]};
})()`, base64.StdEncoding.EncodeToString(mod), base64.StdEncoding.EncodeToString(manifest))
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	r, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](script, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if r["selections"] != 10 {
		t.Fatalf("the budget ballot has %v selections", r["selections"])
	}
	t.Logf("booth in Chromium: encrypt and prove a 10-selection ballot: median %.1f ms, min %.1f ms, max %.1f ms (21 runs)", r["median"], r["min"], r["max"])
}
