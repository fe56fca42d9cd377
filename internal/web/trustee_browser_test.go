package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/trusteeflow"
	"github.com/koe-vote/koe/internal/verify"
)

// goTrustee is a trustee run with the code of koe trustee --server
// (internal/trusteeflow), alongside the one in the browser.
type goTrustee struct {
	base, id, token, state string
	t                      *ceremony.Trustee
}

func (g *goTrustee) session(t *testing.T) *trusteeflow.Session {
	t.Helper()
	s, err := trusteeflow.Open(&trusteeflow.ServerPlace{C: client.New(g.base, g.token), ID: g.id, State: trusteeflow.FileState(g.state)})
	if err != nil {
		t.Fatal(err)
	}
	s.T = g.t
	s.Save = func(tr *ceremony.Trustee) error { g.t = tr; return nil }
	return s
}

func (g *goTrustee) keygen(t *testing.T, index int) {
	t.Helper()
	pass := []byte("go trustee passphrase")
	_, err := g.session(t).Keygen(index, fmt.Sprintf("受託者 %d", index), pass, func(sealed []byte) error {
		var err error
		g.t, err = trusteeflow.OpenKey("key", sealed, pass)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// run does the trustee's due step, which must be want.
func (g *goTrustee) run(t *testing.T, want string) *trusteeflow.Report {
	t.Helper()
	r, err := g.session(t).Run()
	if err != nil {
		t.Fatalf("trustee %d: %v", g.t.Index, err)
	}
	if r.Due.Step != want || r.Due.Waiting != "" {
		t.Fatalf("trustee %d: step %+v, want %s", g.t.Index, r.Due, want)
	}
	return r
}

// TestTrusteeInBrowser: trustee 1 of the city survey (text and rank
// questions) does everything in the trustee page: makes their key,
// deals, checks the shares, responds, finishes, and after the close
// mixes and decrypts, opening the key files the page saved; trustees 2
// and 3 run the same code from Go. The record then verifies. The page
// is axe-clean at 360 and 1280 px in Japanese and English.
func TestTrusteeInBrowser(t *testing.T) {
	f := getFixture(t)
	ctx, axe := browser(t)
	cctx := context.Background()
	admin := client.New(f.url, adminToken)
	manifest, _ := examples.Manifest("city-survey")
	manifest = bytes.Replace(manifest, []byte(`"id": "shimin-iken-r9"`), []byte(`"id": "city-survey-trustee"`), 1)
	manifest = bytes.Replace(manifest, []byte(`"questions":`), []byte(`"privacyThreshold": 1, "questions":`), 1)
	var created api.Created
	if err := admin.Do(cctx, "POST", "/api/v1/elections", "application/json", manifest, &created); err != nil {
		t.Fatal(err)
	}
	id := created.ID
	dir := t.TempDir()
	downloads := filepath.Join(dir, "downloads")
	if err := os.MkdirAll(downloads, 0o755); err != nil {
		t.Fatal(err)
	}
	others := []*goTrustee{nil, {base: f.url, id: id, token: created.TrusteeTokens[1], state: filepath.Join(dir, "t2.board")},
		{base: f.url, id: id, token: created.TrusteeTokens[2], state: filepath.Join(dir, "t3.board")}}

	run := func(actions ...chromedp.Action[chromedp.Void]) { t.Helper(); browse(t, ctx, actions...) }
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(s)
	}
	audit := func(lang, shot string) {
		t.Helper()
		for _, w := range []int64{1280, 360} {
			run(chromedp.EmulateViewport(w, 900))
			auditPage(t, ctx, axe, w, lang+" "+shot+": ")
			if shot != "" && lang == "ja" && os.Getenv("KOE_SCREENSHOTS") == "1" {
				screenshot(t, ctx, fmt.Sprintf("%s-%d", shot, w))
			}
		}
	}
	// wait waits until the program is idle (loaded, or done with a step).
	wait := func() {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
		defer cancel()
		if _, err := chromedp.Run(sctx, chromedp.Poll[bool](`document.getElementById("trustee").dataset.state === "ready"`, chromedp.WithPollingTimeout(4*time.Minute), chromedp.WithPollingInterval(200*time.Millisecond))); err != nil {
			t.Fatalf("waiting for the trustee page: %v (status %q, error %q)", err, text("#trustee-status"), text("#trustee-error"))
		}
		if visibleNow(t, ctx, "#trustee-error") {
			t.Fatalf("the page shows an error: %s", text("#trustee-error"))
		}
	}
	load := func(lang string) {
		t.Helper()
		run(chromedp.Navigate(f.url+"/elections/"+id+"/trustee?lang="+lang), chromedp.WaitReady("body"))
		wait()
		run(chromedp.SendKeys(chromedp.CSS("#token"), created.TrusteeTokens[0]))
	}
	// downloaded waits for the key file the page saved.
	downloaded := func(name string) string {
		t.Helper()
		path := filepath.Join(downloads, name)
		for range 300 {
			if st, err := os.Stat(path); err == nil && st.Size() > 0 {
				return path
			}
			time.Sleep(100 * time.Millisecond)
		}
		entries, _ := os.ReadDir(downloads)
		t.Fatalf("the page saved no %s (downloads: %v)", name, entries)
		return ""
	}
	const pass = "browser trustee passphrase"
	// open reloads the page, opens the key file and checks the step due.
	open := func(lang, key, due string) {
		t.Helper()
		load(lang)
		run(chromedp.SetUploadFiles(chromedp.CSS("#key-file"), []string{key}),
			chromedp.SendKeys(chromedp.CSS("#open-pass"), pass),
			chromedp.Click(chromedp.CSS("#open-submit")))
		wait()
		if got := text("#due-text"); !strings.Contains(got, due) {
			t.Fatalf("the page says %q, want %q", got, due)
		}
	}
	step := func() string {
		t.Helper()
		run(chromedp.Click(chromedp.CSS("#run")))
		wait()
		return text("#result-list")
	}

	run(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads})
		return err
	}))

	// Round 1: the key.
	load("en")
	audit("en", "")
	load("ja")
	audit("ja", "trustee-start")
	run(chromedp.SetValue(chromedp.CSS("#index"), "1"),
		chromedp.SendKeys(chromedp.CSS("#name"), "選挙管理委員 佐藤"),
		chromedp.SendKeys(chromedp.CSS("#new-pass"), pass),
		chromedp.SendKeys(chromedp.CSS("#new-pass2"), pass),
		chromedp.Click(chromedp.CSS("#keygen-submit")))
	wait()
	key := downloaded(id + "-trustee-1.key")
	if got := text("#result-list"); !strings.Contains(got, "受託者 1 として鍵を作り") {
		t.Errorf("after making the key the page says %q", got)
	}
	if got := text("#due-detail"); !strings.Contains(got, "1 / 3 人が鍵を作り終えました") {
		t.Errorf("waiting for the others, the page says %q", got)
	}
	audit("ja", "trustee-keygen")
	others[1].keygen(t, 2)
	others[2].keygen(t, 3)

	// Rounds 2–4 and the finish, each after opening the newest key file.
	open("ja", key, "手順 2 / 7：ほかの受託者に持ち分を送る")
	if got := step(); !strings.Contains(got, "持ち分を暗号化して掲示しました") {
		t.Errorf("after dealing: %q", got)
	}
	others[1].run(t, trusteeflow.StepDeal)
	others[2].run(t, trusteeflow.StepDeal)
	open("ja", key, "手順 3 / 7")
	if got := step(); !strings.Contains(got, "届いた持ち分はすべて送り主の約束と一致しました") {
		t.Errorf("after the shares: %q", got)
	}
	key = downloaded(id + "-trustee-1-shares.key")
	others[1].run(t, trusteeflow.StepShares)
	others[2].run(t, trusteeflow.StepShares)
	open("en", key, "Step 4 of 7: answering complaints against you")
	if got := step(); !strings.Contains(got, "Nobody complained about your shares.") {
		t.Errorf("after responding: %q", got)
	}
	others[1].run(t, trusteeflow.StepRespond)
	others[2].run(t, trusteeflow.StepRespond)
	open("en", key, "Step 5 of 7")
	if got := step(); !strings.Contains(got, "The ceremony verifies. Qualified trustees: 1, 2, 3.") {
		t.Errorf("after finishing: %q", got)
	}
	key = downloaded(id + "-trustee-1-final.key")
	if got := text("#due-detail"); !strings.Contains(got, "Decryption starts after the election closes") {
		t.Errorf("after the ceremony, the page says %q", got)
	}
	audit("en", "")
	others[1].run(t, trusteeflow.StepFinish)
	others[2].run(t, trusteeflow.StepFinish)

	// The election: three residents answer.
	codes, err := demo.ImportRoll(cctx, admin, id, "TR", 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(cctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil); err != nil {
		t.Fatal(err)
	}
	voter := client.New(f.url, "")
	el, err := voter.Election(cctx, id)
	if err != nil {
		t.Fatal(err)
	}
	answers := []ballot.Answers{
		{"age": "40s", "science-city": 3.0, "priorities": []any{"shelters", "bike-lanes"}, "opinion": "図書館を夜も開けてください"},
		{"age": "20s", "science-city": 5.0, "priorities": []any{"shelters"}, "opinion": "Please add English signs."},
		{"age": "70s", "science-city": 2.0, "priorities": []any{"bus-stops", "shelters"}},
	}
	i := 0
	for vid, code := range codes {
		cred, err := voter.Register(cctx, el, vid, code)
		if err != nil {
			t.Fatal(err)
		}
		pt, err := el.E.Manifest.Plaintext(answers[i])
		if err != nil {
			t.Fatal(err)
		}
		env, _, _, err := client.Seal(el, cred, pt, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := voter.Cast(cctx, id, env); err != nil {
			t.Fatal(err)
		}
		i++
	}
	for _, s := range []string{"/close", "/tally"} {
		if err := admin.Do(cctx, "POST", api.ElectionPath(id, s), "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}

	// The mix and the decryption: the page verifies the record first.
	open("ja", key, "手順 6 / 7：記録を確かめ、記述式と順位付けの回答を混ぜ、復号する")
	got := step()
	for _, want := range []string{"最初に確かめたこと：記録は集計まで検証に通り", "数えられた 3 票の合計です",
		"質問 priorities：1 回目の混ぜ合わせ（3 件の回答）を証明つきで掲示しました", "質問 opinion：1 回目の混ぜ合わせ",
		"3 票の集計について、あなたの分の復号を証明つきで掲示しました", "質問 opinion：混ぜ合わせはまだ完了していません（1 回）"} {
		if !strings.Contains(got, want) {
			t.Errorf("after the first mix the page says %q, want %q", got, want)
		}
	}
	audit("ja", "trustee-decrypt")
	r := others[1].run(t, trusteeflow.StepMix)
	if len(r.Mixed) != 2 || r.Mixed[0].What != "posted" || r.Mixed[0].Round != 2 || !r.Decrypted || len(r.MixShares) != 2 || r.MixShares[0].What != "posted" {
		t.Fatalf("trustee 2's mix: %+v", r)
	}
	open("en", key, "Step 6 of 7")
	got = step()
	for _, want := range []string{"Checked before anything else: the record verifies up to the count", "You decrypted the count before.",
		"Question opinion: you mixed it before (round 1).", "Question opinion: your decryption of the 3 mixed answers was posted (mixed by trustees 1, 2)."} {
		if !strings.Contains(got, want) {
			t.Errorf("after the mix the page says %q, want %q", got, want)
		}
	}
	audit("en", "")

	// The results, and the record verifies.
	if err := admin.Do(cctx, "POST", api.ElectionPath(id, "/publish"), "", nil, nil); err != nil {
		t.Fatal(err)
	}
	rec, err := voter.FetchRecord(cctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(rec)
	rep := verify.Record(rec, verify.Options{})
	if !rep.OK() {
		t.Fatalf("the record does not verify: %+v", rep.Failures())
	}
	opinion, err := os.ReadFile(record.MixedFile(rec, "opinion"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(opinion, []byte("図書館を夜も開けてください")) {
		t.Errorf("the opinion's results: %s", opinion)
	}
}

// TestTrusteePageServed: the trustee page may compile WebAssembly (and
// only it), and its program is served gzipped as application/wasm.
func TestTrusteePageServed(t *testing.T) {
	f := getFixture(t)
	resp, body := get(t, f.url+"/elections/"+f.setup+"/trustee?lang=en", "")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self' 'wasm-unsafe-eval';") {
		t.Fatalf("the trustee page: %d, policy %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	for _, want := range []string{`<script src="/static/trustee/wasm_exec.js">`, `id="trustee-config"`, "Make your key (once)"} {
		if !strings.Contains(body, want) {
			t.Errorf("the trustee page has no %q", want)
		}
	}
	if resp, _ := get(t, f.url+"/elections/"+f.setup, ""); strings.Contains(resp.Header.Get("Content-Security-Policy"), "wasm") {
		t.Errorf("another page allows WebAssembly: %q", resp.Header.Get("Content-Security-Policy"))
	}
	req, _ := http.NewRequest("GET", f.url+"/static/trustee/trustee.wasm", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	wasm, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer wasm.Body.Close()
	raw, _ := io.ReadAll(wasm.Body)
	if wasm.Header.Get("Content-Type") != "application/wasm" || wasm.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("trustee.wasm: %s, %s", wasm.Header.Get("Content-Type"), wasm.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.HasPrefix(plain, []byte("\x00asm")) {
		t.Fatalf("trustee.wasm is not WebAssembly (%v)", err)
	}
	t.Logf("trustee.wasm: %d bytes, %d gzipped", len(plain), len(raw))
}
