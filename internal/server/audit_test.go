package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/server"
	"github.com/koe-vote/koe/internal/store"
)

// TestAPIAudit: every request of the administrator's token that changes
// something is in the audit log with its action, election and outcome,
// and nothing of its body; reads, requests without the token, and the
// console's own requests (marked store.Audited) are not.
func TestAPIAudit(t *testing.T) {
	st := sqliteStore(t)
	_, key, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	srv, err := server.New(server.Config{Store: st, Origin: "koe.test", BoardKey: key, AdminToken: adminToken,
		RegistrarBits: 2048, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	must(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	ctx := context.Background()
	admin := client.New(ts.URL, adminToken)

	survey, _ := examples.Manifest("survey")
	var created api.Created
	must(t, admin.Do(ctx, "POST", "/api/v1/elections", "application/json", survey, &created))
	id := created.ID
	if _, err := admin.Raw(ctx, "POST", api.ElectionPath(id, "/roll"), "text/csv", []byte("voter_id\nVOTER-SECRET-1\nVOTER-SECRET-2\n")); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "POST", api.ElectionPath(id, "/close"), "", nil, nil); err == nil {
		t.Fatal("closing an election in setup succeeded")
	}
	// Reads and requests without the token are not recorded.
	var list []api.ElectionInfo
	must(t, admin.Do(ctx, "GET", "/api/v1/elections", "", nil, &list))
	if err := client.New(ts.URL, "wrong-token").Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil); err == nil {
		t.Fatal("a wrong token opened the election")
	}
	// A request the console made for an action it recorded itself.
	req := httptest.NewRequestWithContext(store.Audited(ctx), "POST", api.ElectionPath(id, "/roll"),
		strings.NewReader("voter_id\nVOTER-SECRET-3\n"))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "text/csv")
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("the console's roll import: HTTP %d %s", rec.Code, rec.Body)
	}

	es, err := st.Audit(ctx, 0, 100)
	must(t, err)
	want := []struct{ action, outcome string }{
		{"api-close", "failed: HTTP 409 "},
		{"api-roll", "ok"},
		{"api-create", "ok"},
	}
	if len(es) != len(want) {
		t.Fatalf("audit log has %d entries, want %d: %+v", len(es), len(want), es)
	}
	for i, w := range want {
		e := es[i]
		if e.Action != w.action || !strings.HasPrefix(e.Outcome, w.outcome) || e.Actor != "" || e.Election != id || e.Time.IsZero() {
			t.Errorf("entry %d = %+v, want %s by the token on %s, %s…", i, e, w.action, id, w.outcome)
		}
		var all bytes.Buffer
		all.WriteString(e.Action + e.Detail + e.Outcome)
		if strings.Contains(all.String(), "SECRET") || strings.Contains(all.String(), adminToken) {
			t.Errorf("entry %d records a voter id or the token: %+v", i, e)
		}
	}
}
