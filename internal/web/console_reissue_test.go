package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
)

// codesOnPage returns the voter_id,code CSV a codes page holds.
func codesOnPage(t *testing.T, body string) [][]string {
	t.Helper()
	m := regexp.MustCompile(`name="codes" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no codes on the page")
	}
	text := strings.NewReplacer("&#10;", "\n", "&#43;", "+").Replace(m[1])
	rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil || len(rows) < 2 || rows[0][0] != "voter_id" {
		t.Fatalf("codes on the page: %v %q", err, rows)
	}
	return rows[1:]
}

// TestConsoleReissue: the console re-issues the code of a voter who lost
// their letter, refuses one who registered, and re-issues every unused
// code of a roll file, skipping who registered.
func TestConsoleReissue(t *testing.T) {
	f := getConsole(t)
	ctx := context.Background()
	id := "console-reissue"
	f.readyElection(t, "referendum", id)
	codes, err := demo.ImportRoll(ctx, f.admin, id, "S", 4) // S00000–S00003
	if err != nil {
		t.Fatal(err)
	}
	if err := f.admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil); err != nil {
		t.Fatal(err)
	}
	voter := client.New(f.url, "")
	el, err := voter.Election(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := voter.Register(ctx, el, "S00000", codes["S00000"]); err != nil {
		t.Fatal(err)
	}
	a := signIn(t, f, "ja")
	csrf := a.csrf()
	path := "/admin/elections/" + id

	_, body := a.get(path)
	contains(t, body, "コードの再発行（お知らせをなくした人）", `action="`+path+`/reissue"`)

	// One voter, typed full-width.
	resp, body := a.post(path+"/reissue", url.Values{"csrf": {csrf}, "voters": {"Ｓ００００１"}})
	if resp.StatusCode != 200 {
		t.Fatalf("re-issue: %d\n%s", resp.StatusCode, body)
	}
	contains(t, body, "ワンタイムコードを再発行しました", "1人に新しいコードを発行しました")
	checkConsolePage(t, resp, body)
	rows := codesOnPage(t, body)
	if len(rows) != 1 || rows[0][0] != "S00001" || rows[0][1] == codes["S00001"] || !codeRow.MatchString(rows[0][1]) {
		t.Fatalf("re-issued codes %q", rows)
	}
	if _, err := voter.Register(ctx, el, "S00001", codes["S00001"]); !client.IsCode(err, api.CodeRevoked) {
		t.Errorf("the old code: %v, want revoked", err)
	}
	if _, err := voter.Register(ctx, el, "S00001", rows[0][1]); err != nil {
		t.Errorf("the new code: %v", err)
	}

	// Refusals, on the election's page.
	for _, tc := range []struct {
		name, voters, want string
		status             int
	}{
		{"registered", "S00000", "この人はすでに登録しているので", http.StatusBadRequest},
		{"unknown", "Z99999", "名簿にない投票者 ID です", http.StatusBadRequest},
		{"empty", "  \n", "再発行する人の投票者 ID を入力するか", http.StatusBadRequest},
	} {
		resp, body := a.post(path+"/reissue", url.Values{"csrf": {csrf}, "voters": {tc.voters}})
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d", tc.name, resp.StatusCode)
		}
		contains(t, body, tc.want, `id="reissue-error"`)
	}
	// Without the session's CSRF token, nothing happens.
	resp, _ = a.post(path+"/reissue", url.Values{"csrf": {"wrong"}, "voters": {"S00002"}})
	if resp.StatusCode == 200 {
		t.Error("a re-issue without the CSRF token succeeded")
	}
	if _, err := voter.Register(ctx, el, "S00002", codes["S00002"]); err != nil {
		t.Errorf("S00002's code stopped working after a refused re-issue: %v", err)
	}

	// Every unused code of a roll file: S00000–S00002 registered, S00003 re-issued.
	roll := []byte("voter_id\nS00000\nS00001\nS00002\nS00003\n")
	resp, body = a.postFile(path+"/reissue", url.Values{"csrf": {csrf}}, "file", "roll.csv", roll)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("re-issue of all without the confirmation: %d", resp.StatusCode)
	}
	contains(t, body, "確認するチェックを入れてください")
	a.lang = "en"
	resp, body = a.postFile(path+"/reissue", url.Values{"csrf": {csrf}, "confirm": {"yes"}}, "file", "roll.csv", roll)
	if resp.StatusCode != 200 {
		t.Fatalf("re-issue of all: %d\n%s", resp.StatusCode, body)
	}
	contains(t, body, "New codes for 1 voters", "Not re-issued, 3 voters who registered already:", "<code>S00000</code>")
	checkConsolePage(t, resp, body)
	if rows := codesOnPage(t, body); len(rows) != 1 || rows[0][0] != "S00003" {
		t.Fatalf("re-issued codes %q", rows)
	}

	// Once closed, the form is gone and the API refuses.
	if err := f.admin.Do(ctx, "POST", api.ElectionPath(id, "/close"), "", nil, nil); err != nil {
		t.Fatal(err)
	}
	_, body = a.get(path)
	if strings.Contains(body, `action="`+path+`/reissue"`) {
		t.Error("a closed election's page offers re-issue")
	}
	resp, body = a.post(path+"/reissue", url.Values{"csrf": {csrf}, "voters": {"S00003"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("re-issue once closed: %d", resp.StatusCode)
	}
	contains(t, body, "present state. Reload the page.", "this needs it setup or open")
}
