package vectors

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/server"
	"github.com/koe-vote/koe/internal/store/sqlite"
	"github.com/koe-vote/koe/internal/verify"
)

// genServerRecord runs a small election on a koe server — credentials,
// re-votes, a spoiled ballot, trustee 2 of 3 absent — and keeps the record
// it exports, bulletin board included, as testdata/vectors/server-record.
func genServerRecord(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "koe.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A published test key (internal/verify's tests re-sign doctored
	// boards with it, the key the manifest names).
	seed := sha256.Sum256([]byte("koe/v2 test vectors: the server-record board key"))
	key := ed25519.NewKeyFromSeed(seed[:])
	const token = "vector-administrator-token"
	srv, err := server.New(server.Config{Store: st, Origin: "koe.example", BoardKey: key, AdminToken: token,
		RegistrarBits: 2048, RegisterRate: 100, RegisterBurst: 100, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	admin := client.New(ts.URL, token)
	data, _ := examples.Manifest("referendum")
	m, _ := ballot.ParseManifest(data)
	m.ID, m.Trustees, m.Threshold = "shin-chosha-server", 3, 2
	privacy := 5 // six voters: below the default privacy threshold
	m.Privacy = &privacy
	manifest, _ := json.MarshalIndent(m, "", "  ")
	var created api.Created
	must(t, admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created))
	id := created.ID
	trustees, err := demo.ServerCeremony(ctx, ts.URL, id, manifest, created.TrusteeTokens)
	must(t, err)
	codes, err := demo.ImportRoll(ctx, admin, id, "R", 8)
	must(t, err)
	must(t, admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil))
	voter := client.New(ts.URL, "")
	el, err := voter.Election(ctx, id)
	must(t, err)
	yes, _ := el.E.Manifest.Plaintext(ballot.Answers{"plan": "yes"})
	no, _ := el.E.Manifest.Plaintext(ballot.Answers{"plan": "no"})
	for i := range 6 {
		vid := "R0000" + string(rune('0'+i))
		cred, err := voter.Register(ctx, el, vid, codes[vid])
		must(t, err)
		first := yes
		if i%3 == 0 {
			first = no
		}
		env, b, nonces, err := client.Seal(el, cred, first, 1)
		must(t, err)
		if i == 0 {
			must(t, voter.Spoil(ctx, id, ballot.Spoil(b, first, nonces)))
			env, _, _, err = client.Seal(el, cred, first, 1)
			must(t, err)
		}
		_, err = voter.Cast(ctx, id, env)
		must(t, err)
		if i < 2 { // two voters change their minds
			env, _, _, err := client.Seal(el, cred, yes, 2)
			must(t, err)
			_, err = voter.Cast(ctx, id, env)
			must(t, err)
		}
	}
	must(t, admin.Do(ctx, "POST", api.ElectionPath(id, "/close"), "", nil, nil))
	must(t, admin.Do(ctx, "POST", api.ElectionPath(id, "/tally"), "", nil, nil))
	must(t, demo.ServerDecrypt(ctx, ts.URL, id, manifest, trustees, created.TrusteeTokens, []int{1, 3}))
	must(t, admin.Do(ctx, "POST", api.ElectionPath(id, "/publish"), "", nil, nil))

	resp, err := http.Get(ts.URL + api.ElectionPath(id, "/record"))
	must(t, err)
	defer resp.Body.Close()
	out := filepath.Join(dir, "server-record")
	must(t, os.RemoveAll(out))
	must(t, untar(resp.Body, out))
}

func TestServerRecord(t *testing.T) {
	rdir := filepath.Join(dir, "server-record")
	if _, err := os.Stat(filepath.Join(rdir, filepath.FromSlash(record.BoardEntries))); err != nil {
		t.Fatalf("%v (regenerate with: go test ./internal/vectors -run TestGenerate -args -update)", err)
	}
	r := verify.Record(rdir, verify.Options{})
	if !r.OK() {
		t.Fatalf("the server's record does not verify: %v", r.Failures())
	}
	board := 0
	for _, c := range r.Checks {
		if c.What == "board" {
			board++
		}
	}
	if board != 5 || r.Ballots != 6 || len(r.Spoiled) != 1 {
		t.Fatalf("%d board checks, %d counted ballots, %d spoiled; want 5, 6, 1", board, r.Ballots, len(r.Spoiled))
	}
	// The two re-votes count: 5 yes, 1 no.
	if got := r.Results.Questions[0].Options; got[0].Count != 5 || got[1].Count != 1 {
		t.Fatalf("results %+v, want yes 5, no 1", got)
	}
}

func untar(r io.Reader, root string) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		_, rest, _ := strings.Cut(hdr.Name, "/")
		if rest == "" {
			continue
		}
		dst := filepath.Join(root, filepath.FromSlash(rest))
		if hdr.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			continue
		}
		var b bytes.Buffer
		if _, err := io.Copy(&b, tr); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, b.Bytes(), 0o644); err != nil {
			return err
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
