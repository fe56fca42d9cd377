package server_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/server"
	"github.com/koe-vote/koe/internal/store/postgres"
	"github.com/koe-vote/koe/internal/store/postgres/pgtest"
)

// TestTwoFrontEnds runs one election through two koe servers sharing a
// PostgreSQL database and a board key, as behind a load balancer: each sees
// the other's state changes, and a ballot sent to one after the other closed
// the election is refused.
func TestTwoFrontEnds(t *testing.T) {
	ctx := context.Background()
	url := pgtest.FreshSchema(t)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	var urls []string
	for range 2 {
		st, err := postgres.Open(ctx, url)
		must(t, err)
		t.Cleanup(func() { st.Close() })
		srv, err := server.New(server.Config{Store: st, Origin: "koe.test", BoardKey: key, AdminToken: adminToken,
			RegistrarBits: 2048, RegisterRate: 1000, RegisterBurst: 1000, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		must(t, err)
		ts := httptest.NewServer(srv.Handler())
		t.Cleanup(func() { ts.Close(); srv.Close() })
		urls = append(urls, ts.URL)
	}
	a, b := client.New(urls[0], adminToken), client.New(urls[1], adminToken)
	manifest, _ := examples.Manifest("referendum")
	var created api.Created
	must(t, a.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created))
	id := created.ID
	_, err := demo.ServerCeremony(ctx, urls[1], id, manifest, created.TrusteeTokens)
	must(t, err)
	codes, err := demo.ImportRoll(ctx, a, id, "F", 4)
	must(t, err)
	must(t, b.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil))

	va, vb := client.New(urls[0], ""), client.New(urls[1], "")
	el, err := va.Election(ctx, id)
	must(t, err)
	if el.State != api.StateOpen {
		t.Fatalf("front end A sees %s after B opened the election", el.State)
	}
	pt, _ := el.E.Manifest.Plaintext(ballot.Answers{"plan": "yes"})
	cred, err := va.Register(ctx, el, "F00000", codes["F00000"])
	must(t, err)
	_, err = vb.Register(ctx, el, "F00000", codes["F00000"])
	wantCode(t, err, "already-registered")
	env, _, _, _ := client.Seal(el, cred, pt, 1)
	_, err = vb.Cast(ctx, id, env)
	must(t, err)
	_, err = va.Cast(ctx, id, env)
	wantCode(t, err, "replay")
	must(t, b.Do(ctx, "POST", api.ElectionPath(id, "/close"), "", nil, nil))
	late, _, _, _ := client.Seal(el, cred, pt, 2)
	_, err = va.Cast(ctx, id, late)
	wantCode(t, err, "closed")
	cred2, err := va.Register(ctx, el, "F00001", codes["F00001"])
	if err == nil || cred2 != nil {
		t.Fatal("front end A registered a voter after B closed the election")
	}
	wantCode(t, err, "closed")
	must(t, a.Do(ctx, "POST", api.ElectionPath(id, "/tally"), "", nil, nil))
}
