package web_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/server"
	"github.com/koe-vote/koe/internal/store/sqlite"
	"github.com/koe-vote/koe/internal/web"
	"github.com/koe-vote/koe/internal/witness/witnesstest"
)

// TestBoothFinalReceipt: a voter casts in the browser in an election
// whose manifest names three real omniwitnesses (the city, a university,
// a newspaper; quorum 2); the election closes; back on the booth page the
// device checks its kept receipt against the final cosigned checkpoint —
// the board key's signature, the cosignatures under the manifest's policy,
// consistency from the receipt's checkpoint — and says so, naming the
// witnesses, in Japanese at 360 px and English at 1280 px. A server that
// answers a bad consistency proof gets a warning instead.
func TestBoothFinalReceipt(t *testing.T) {
	ctx, axe := browser(t)
	bg := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "koe.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	srv, err := server.New(server.Config{Store: st, Origin: "koe.test", BoardKey: key, AdminToken: adminToken,
		RegistrarBits: 2048, RegisterRate: 1000, RegisterBurst: 1000, CastRate: 1000, CastBurst: 1000,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	apiHandler := srv.Handler()
	var tamper atomic.Bool
	mux := http.NewServeMux()
	mux.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !tamper.Load() || !strings.HasSuffix(r.URL.Path, "/consistency") {
			apiHandler.ServeHTTP(w, r)
			return
		}
		// A server that forked its board cannot prove consistency: it
		// answers a proof with one hash changed.
		rec := httptest.NewRecorder()
		apiHandler.ServeHTTP(rec, r)
		var p api.ConsistencyProof
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || len(p.Proof) == 0 {
			t.Errorf("tampering: %v %s", err, rec.Body.Bytes())
			return
		}
		p.Proof[0] = strings.Repeat("ab", 32)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(p)
	}))
	mux.Handle("/", web.New(apiHandler, web.Options{AdminToken: adminToken, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	ts := httptest.NewServer(mux)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	admin, voter := client.New(ts.URL, adminToken), client.New(ts.URL, "")

	const id = "shin-chosha-witnessed"
	raw, err := voter.Raw(bg, "GET", "/api/v1/board-key/"+id, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	logCfg := witnesstest.Log{Origin: board.Origin("koe.test", id), Key: strings.TrimSuffix(string(raw), "\n")}
	orgs := []ballot.Text{{Ja: "加賀市", En: "Kaga City"}, {Ja: "北陸大学", En: "Hokuriku University"}, {Ja: "北國新聞社", En: "Hokkoku Shimbun"}}
	var list []ballot.Witness
	for i, host := range []string{"witness.city.example", "witness.univ.example", "witness.news.example"} {
		w := witnesstest.Start(t, host, logCfg)
		list = append(list, ballot.Witness{Name: orgs[i], Key: w.Key.String(), URL: w.URL})
	}
	data, _ := examples.Manifest("referendum")
	m, err := ballot.ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	m.ID = id
	m.Board = &ballot.BoardPolicy{Key: logCfg.Key, Witnesses: list, Quorum: 2}
	manifest, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := m.WitnessPolicy()
	if err != nil {
		t.Fatal(err)
	}
	var created api.Created
	if err := admin.Do(bg, "POST", "/api/v1/elections", "application/json", manifest, &created); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.ServerCeremony(bg, ts.URL, id, manifest, created.TrusteeTokens); err != nil {
		t.Fatal(err)
	}
	codes, err := demo.ImportRoll(bg, admin, id, "K", 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(bg, "POST", api.ElectionPath(id, "/open"), "", nil, nil); err != nil {
		t.Fatal(err)
	}

	do := func(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
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
	booth := ts.URL + "/elections/" + id + "/vote"

	// Vote in the browser, on a phone.
	do(t, chromedp.EmulateViewport(360, 780), chromedp.Navigate(booth+"?lang=ja"), chromedp.WaitVisible(chromedp.CSS("#step-register")),
		chromedp.SendKeys(chromedp.CSS("#voter-id"), "K00000"), chromedp.SendKeys(chromedp.CSS("#voter-code"), codes["K00000"]),
		chromedp.Click(chromedp.CSS("#register-submit")), chromedp.WaitVisible(chromedp.CSS("#step-answer")),
		chromedp.Click(chromedp.CSS(`input[name="q:plan"][value="yes"]`)), chromedp.Click(chromedp.CSS("#answers-submit")),
		chromedp.WaitVisible(chromedp.CSS("#step-review")), chromedp.Click(chromedp.CSS("#cast")),
		chromedp.WaitVisible(chromedp.CSS("#step-receipt")))
	tracking := text(t, "#receipt-tracking")
	if !visibleNow(t, ctx, "#receipt-verified") {
		t.Fatalf("the booth did not check its receipt: %s", text(t, "#receipt-problem"))
	}
	// Another voter casts after: the final board is larger than the receipt's.
	el, err := voter.Election(bg, id)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := voter.Register(bg, el, "K00001", codes["K00001"])
	if err != nil {
		t.Fatal(err)
	}
	no, _ := el.E.Manifest.Plaintext(ballot.Answers{"plan": "no"})
	env, _, _, err := client.Seal(el, cred, no, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := voter.Cast(bg, id, env); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(bg, "POST", api.ElectionPath(id, "/close"), "", nil, nil); err != nil {
		t.Fatal(err)
	}
	// Wait (bounded) until the witnesses cosigned the board with the close.
	size := func() int64 {
		raw, err := voter.Raw(bg, "GET", api.ElectionPath(id, "/log/checkpoint"), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := board.ParseCheckpoint(raw, pol.Board)
		if err != nil {
			t.Fatal(err)
		}
		return cp.Size
	}()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		raw, err := voter.Raw(bg, "GET", api.ElectionPath(id, "/cosigned-checkpoint"), "", nil)
		if err == nil {
			if cp, _, err := pol.Verify(raw); err == nil && cp.Size == size {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the final checkpoint (size %d) was not cosigned in time", size)
		}
	}

	t.Run("confirmed-ja-phone", func(t *testing.T) {
		do(t, chromedp.Navigate(booth+"?lang=ja"), chromedp.WaitVisible(chromedp.CSS("#final-result")))
		got := text(t, "#final-result")
		if !hasSelector(t, ctx, "#final-result.ok-box") {
			t.Fatalf("the final check failed: %s", got)
		}
		for _, want := range []string{"あなたの回答は最終の掲示板に含まれています。", "加賀市・北陸大学・北國新聞社の3者が確認しました。", fmt.Sprintf("（%d 件）", size), tracking} {
			if !strings.Contains(got, want) {
				t.Errorf("the final check says %q, without %q", got, want)
			}
		}
		auditPage(t, ctx, axe, 360, "final receipt check, ja")
	})
	t.Run("confirmed-en-desktop", func(t *testing.T) {
		do(t, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(booth+"?lang=en"), chromedp.WaitVisible(chromedp.CSS("#final-result")))
		got := text(t, "#final-result")
		if !hasSelector(t, ctx, "#final-result.ok-box") || !strings.Contains(got, "Kaga City, Hokuriku University, Hokkoku Shimbun (3 witnesses) confirmed it.") {
			t.Fatalf("the final check says %q", got)
		}
		auditPage(t, ctx, axe, 1280, "final receipt check, en")
	})
	t.Run("receipt-check-page", func(t *testing.T) {
		// The receipt check reached with the tracking code checks the
		// device's receipts the same way.
		do(t, chromedp.EmulateViewport(360, 780), chromedp.Navigate(ts.URL+"/elections/"+id+"/receipt?lang=ja&code="+tracking),
			chromedp.WaitVisible(chromedp.CSS("#final-result")))
		got := text(t, "#final-result")
		if !hasSelector(t, ctx, "#final-result.ok-box") || !strings.Contains(got, "加賀市・北陸大学・北國新聞社の3者が確認しました。") {
			t.Fatalf("the receipt page's final check says %q", got)
		}
		auditPage(t, ctx, axe, 360, "receipt page, final check")
	})
	t.Run("bad-proof-warns", func(t *testing.T) {
		tamper.Store(true)
		defer tamper.Store(false)
		do(t, chromedp.EmulateViewport(360, 780), chromedp.Navigate(booth+"?lang=ja"), chromedp.WaitVisible(chromedp.CSS("#final-result")))
		got := text(t, "#final-result")
		if !hasSelector(t, ctx, "#final-result.error-box") || !strings.Contains(got, "警告") || !strings.Contains(got, "consistency proof does not verify") {
			t.Fatalf("with a bad consistency proof the page says %q", got)
		}
		auditPage(t, ctx, axe, 360, "final receipt check, warning")
	})
}
