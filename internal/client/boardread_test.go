package client_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/server"
	"github.com/koe-vote/koe/internal/store/sqlite"
)

const adminToken = "client-test-admin-token"

// cheat is a relay in front of a koe server that may rewrite the answers
// to GET requests whose path contains match.
type cheat struct {
	mu      sync.Mutex
	target  http.Handler
	match   string
	rewrite func([]byte) []byte
}

func (c *cheat) set(match string, rewrite func([]byte) []byte) {
	c.mu.Lock()
	c.match, c.rewrite = match, rewrite
	c.mu.Unlock()
}

func (c *cheat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	target, match, rewrite := c.target, c.match, c.rewrite
	c.mu.Unlock()
	if rewrite == nil || r.Method != http.MethodGet || !strings.Contains(r.URL.Path, match) {
		target.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	target.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(rec.Code)
	w.Write(rewrite(rec.Body.Bytes()))
}

type testServer struct {
	relay    *cheat
	url      string
	id       string
	tokens   []string
	verifier note.Verifier
	manifest []byte
}

// startServer starts a koe server behind a relay, creates the budget
// example's election and announces its trustees (with fresh secrets).
func startServer(t *testing.T, key ed25519.PrivateKey) *testServer {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "koe.db"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{
		Store: st, Origin: "koe.test", BoardKey: key, AdminToken: adminToken,
		RegistrarBits: 2048, RegisterRate: 1000, RegisterBurst: 1000,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	relay := &cheat{target: srv.Handler()}
	hs := httptest.NewServer(relay)
	t.Cleanup(func() { hs.Close(); srv.Close(); st.Close() })
	manifest, err := examples.Manifest("budget")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var created api.Created
	if err := client.New(hs.URL, adminToken).Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created); err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(created.BoardKey)
	if err != nil {
		t.Fatal(err)
	}
	if manifest, err = client.New(hs.URL, "").Raw(ctx, "GET", api.ElectionPath(created.ID, "/manifest"), "", nil); err != nil {
		t.Fatal(err) // the server filled in its board key (SPEC.md §7.1)
	}
	return &testServer{relay: relay, url: hs.URL, id: created.ID, tokens: created.TrusteeTokens, verifier: v, manifest: manifest}
}

// announce posts fresh announcements for trustees 1..n.
func (s *testServer) announce(t *testing.T) {
	t.Helper()
	m, err := ballot.ParseManifest(s.manifest)
	if err != nil {
		t.Fatal(err)
	}
	h := ballot.Hash(s.manifest)
	p := ceremony.Params{N: m.Trustees, T: m.Threshold}
	for j := 1; j <= p.N; j++ {
		_, ann, err := ceremony.NewTrustee(rand.Reader, p, h[:], j, fmt.Sprintf("Trustee %d", j))
		if err != nil {
			t.Fatal(err)
		}
		if err := client.New(s.url, s.tokens[j-1]).PostCeremony(context.Background(), s.id, ceremony.RoundAnnounce, ann); err != nil {
			t.Fatal(err)
		}
	}
}

func newKey(t *testing.T) ed25519.PrivateKey {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestCeremonyFromBoard(t *testing.T) {
	ctx := context.Background()
	key := newKey(t)
	s := startServer(t, key)
	c := client.New(s.url, s.tokens[0])

	before, err := c.CeremonyFromBoard(ctx, s.id, s.verifier, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before.Manifest, s.manifest) || len(before.Messages[ceremony.RoundAnnounce]) != 0 {
		t.Fatalf("board before the ceremony: manifest %v, %d announcements", bytes.Equal(before.Manifest, s.manifest), len(before.Messages[ceremony.RoundAnnounce]))
	}
	s.announce(t)
	after, err := c.CeremonyFromBoard(ctx, s.id, s.verifier, before.Checkpoint.Note)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ballot.ParseManifest(s.manifest)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(after.Messages[ceremony.RoundAnnounce]); got != m.Trustees || after.Checkpoint.Size <= before.Checkpoint.Size {
		t.Fatalf("%d announcements at size %d", got, after.Checkpoint.Size)
	}
	// The same checkpoint again is consistent with itself.
	if _, err := c.CeremonyFromBoard(ctx, s.id, s.verifier, after.Checkpoint.Note); err != nil {
		t.Fatal(err)
	}

	// A fork: another server with the same board key and election.
	fork := startServer(t, key)
	fork.announce(t)
	forkView, err := client.New(fork.url, fork.tokens[0]).CeremonyFromBoard(ctx, fork.id, fork.verifier, nil)
	if err != nil {
		t.Fatal(err)
	}

	flipLast := func(b []byte) []byte {
		b = bytes.Clone(b)
		if len(b) > 0 {
			b[len(b)-3] ^= 1
		}
		return b
	}
	for _, tc := range []struct {
		name    string
		match   string
		rewrite func([]byte) []byte
		prev    []byte
		key     bool // use another board key
		want    string
	}{
		{name: "entry bundle altered", match: "/tile/entries/", rewrite: flipLast,
			want: "as the server serves it is not the one its signed checkpoint"},
		{name: "hash tile altered", match: "/tile/0/", rewrite: flipLast,
			want: "tiles do not match its signed checkpoint"},
		{name: "hash tile altered, with an earlier checkpoint", match: "/tile/0/", rewrite: flipLast, prev: before.Checkpoint.Note,
			want: "tiles do not match its signed checkpoint"},
		{name: "bundle truncated", match: "/tile/entries/", rewrite: func(b []byte) []byte { return b[:len(b)-1] },
			want: "entry bundle 0: truncated"},
		{name: "bundle with trailing bytes", match: "/tile/entries/", rewrite: func(b []byte) []byte { return append(bytes.Clone(b), 0, 0) },
			want: "bytes after its"},
		{name: "checkpoint altered", match: "/checkpoint", rewrite: func(b []byte) []byte { return bytes.Replace(b, []byte("\n"), []byte("\n\n"), 1) },
			want: "checkpoint"},
		{name: "checkpoint under another key", key: true,
			want: "checkpoint signature"},
		{name: "rolled back to the earlier checkpoint", match: "/checkpoint", rewrite: func([]byte) []byte { return before.Checkpoint.Note }, prev: after.Checkpoint.Note,
			want: "does not extend the one you saw earlier"},
		{name: "forked board", prev: forkView.Checkpoint.Note,
			want: "signed two different trees of size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.relay.set(tc.match, tc.rewrite)
			defer s.relay.set("", nil)
			v := s.verifier
			if tc.key {
				other := startServer(t, newKey(t))
				v = other.verifier
			}
			_, err := c.CeremonyFromBoard(ctx, s.id, v, tc.prev)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestSplitBundle(t *testing.T) {
	var b []byte
	for _, e := range []string{"a", "", "ccc"} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(e)))
		b = append(b, e...)
	}
	got, err := client.SplitBundle(b, 3)
	if err != nil || fmt.Sprintf("%q", got) != `["a" "" "ccc"]` {
		t.Fatalf("SplitBundle = %q, %v", got, err)
	}
	for name, tc := range map[string]struct {
		data []byte
		w    int
	}{
		"too few entries":   {b, 4},
		"too many bytes":    {b, 2},
		"cut length":        {b[:len(b)-4], 3},
		"cut entry":         {b[:len(b)-1], 3},
		"empty with one":    {nil, 1},
		"length beyond end": {[]byte{0xff, 0xff, 1}, 1},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := client.SplitBundle(tc.data, tc.w); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func FuzzSplitBundle(f *testing.F) {
	f.Add([]byte{0, 1, 'a', 0, 0}, 2)
	f.Add([]byte{0xff, 0xff}, 1)
	f.Fuzz(func(t *testing.T, data []byte, w int) {
		if w < 0 || w > 256 {
			return
		}
		es, err := client.SplitBundle(data, w)
		if err != nil {
			return
		}
		var re []byte
		for _, e := range es {
			re = binary.BigEndian.AppendUint16(re, uint16(len(e)))
			re = append(re, e...)
		}
		if len(es) != w || !bytes.Equal(re, data) {
			t.Fatalf("SplitBundle(%x, %d) = %q does not re-encode", data, w, es)
		}
	})
}
