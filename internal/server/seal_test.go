package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/server"
	"github.com/koe-vote/koe/internal/store"
)

// serveWith starts a server on a store with a board key.
func serveWith(t *testing.T, st store.Store, key ed25519.PrivateKey) string {
	t.Helper()
	srv, err := server.New(server.Config{Store: st, Origin: "koe.test", BoardKey: key, AdminToken: adminToken,
		RegistrarBits: 2048, RegisterRate: 1000, RegisterBurst: 1000, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	must(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return ts.URL
}

// TestConfigSealed: an election's private configuration is sealed in the
// store under the board key: the database alone does not hold the
// registrar's key; another board key cannot open it; another election's
// sealed configuration does not open as this one's; a configuration
// stored in the clear by an earlier koe still loads.
func TestConfigSealed(t *testing.T) {
	ctx := context.Background()
	st := sqliteStore(t)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	base := serveWith(t, st, key)
	admin := client.New(base, adminToken)
	for _, name := range []string{"referendum", "budget"} {
		m, _ := examples.Manifest(name)
		must(t, admin.Do(ctx, "POST", "/api/v1/elections", "application/json", m, nil))
	}
	ref, err := st.Election(ctx, "shin-chosha-2026")
	must(t, err)
	if !bytes.HasPrefix(ref.Config, []byte("koe-sealed-v1:")) || bytes.Contains(ref.Config, []byte(credential.SecretKeyPrefix)) ||
		bytes.Contains(ref.Config, []byte("registrar")) {
		t.Fatalf("the stored configuration is not sealed: %.80s", ref.Config)
	}
	status := func(base, id string) int {
		resp, err := http.Get(base + api.ElectionPath(id, ""))
		must(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := status(base, "shin-chosha-2026"); s != http.StatusOK {
		t.Fatalf("the election: %d", s)
	}
	// Another board key: the configuration does not open.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	if s := status(serveWith(t, st, other), "shin-chosha-2026"); s == http.StatusOK {
		t.Fatal("a server with another board key opened the configuration")
	}
	// Another election's sealed configuration, moved to this row.
	budget, err := st.Election(ctx, "chiiki-teian-r9")
	must(t, err)
	must(t, st.SetConfig(ctx, "chiiki-teian-r9", api.StateSetup, ref.Config))
	if s := status(serveWith(t, st, key), "chiiki-teian-r9"); s == http.StatusOK {
		t.Fatal("another election's sealed configuration opened")
	}
	must(t, st.SetConfig(ctx, "chiiki-teian-r9", api.StateSetup, budget.Config))

	// A configuration in the clear, as koe stored it before sealing.
	reg, err := credential.NewRegistrar(rand.Reader, 2048)
	must(t, err)
	secret, err := reg.MarshalPrivate()
	must(t, err)
	rollKey := make([]byte, 32)
	rand.Read(rollKey)
	plain, _ := json.Marshal(map[string]any{"trusteeTokens": []string{}, "registrar": string(secret), "rollKey": hex.EncodeToString(rollKey)})
	m, _ := examples.Manifest("survey")
	must(t, st.CreateElection(ctx, store.Election{ID: "kagaku-shishin-2026", State: api.StateSetup, Manifest: m, Config: plain}))
	if s := status(serveWith(t, st, key), "kagaku-shishin-2026"); s != http.StatusOK {
		t.Fatalf("a configuration in the clear: %d", s)
	}
}
