package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
)

// TestCrashDuringCasting kills koe serve with SIGKILL while voters cast,
// restarts it, and checks that every ballot that got a receipt is on the
// board and that the new checkpoint is consistent with every old one.
func TestCrashDuringCasting(t *testing.T) {
	data := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr
	const token = "crash-test-administrator-token"
	serve := koeServe(t, data, addr, token, "--register-rate", "1000", "--register-burst", "1000")
	startServer := func() *exec.Cmd {
		cmd := exec.Command(serve.Path, serve.Args[1:]...)
		cmd.Env = serve.Env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitUp(t, base)
		return cmd
	}
	srv := startServer()
	defer func() { srv.Process.Kill(); srv.Wait() }()

	ctx := context.Background()
	admin := client.New(base, token)
	manifest, _ := examples.Manifest("budget")
	var created api.Created
	must(t, admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created))
	id := created.ID
	_, err := demo.ServerCeremony(ctx, base, id, manifest, created.TrusteeTokens)
	must(t, err)
	codes, err := demo.ImportRoll(ctx, admin, id, "V", 80)
	must(t, err)
	must(t, admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil))
	voter := client.New(base, "")
	el, err := voter.Election(ctx, id)
	must(t, err)
	verifier, err := note.NewVerifier(el.BoardKey)
	must(t, err)

	// Every voter registers, then seals two ballots (counters 1 and 2).
	var envs []*ballotbox.Envelope
	pt, _ := el.E.Manifest.Plaintext(ballot.Answers{"projects": []any{"wifi", "bike-lanes"}})
	for i := range 80 {
		vid := fmt.Sprintf("V%05d", i)
		cred, err := voter.Register(ctx, el, vid, codes[vid])
		must(t, err)
		for counter := uint64(1); counter <= 2; counter++ {
			env, _, _, err := client.Seal(el, cred, pt, counter)
			must(t, err)
			envs = append(envs, env)
		}
	}

	// Cast from 8 goroutines; kill the server once 40 receipts are back.
	type got struct {
		env *ballotbox.Envelope
		r   *client.Receipt
	}
	var mu sync.Mutex
	var receipts []got
	var n atomic.Int64
	killed := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	jobs := make(chan *ballotbox.Envelope)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for env := range jobs {
				r, err := voter.Cast(ctx, id, env)
				if err != nil {
					continue // the server died under this request: no receipt, no promise
				}
				mu.Lock()
				receipts = append(receipts, got{env, r})
				mu.Unlock()
				if n.Add(1) == 40 {
					once.Do(func() {
						srv.Process.Signal(syscall.SIGKILL)
						close(killed)
					})
				}
			}
		}()
	}
	// Counter-1 ballots first, then the counter-2 re-votes.
	for pass := 0; pass < 2; pass++ {
		for i := pass; i < len(envs); i += 2 {
			select {
			case <-killed:
			default:
				jobs <- envs[i]
				continue
			}
			break
		}
	}
	close(jobs)
	wg.Wait()
	srv.Wait()
	if n.Load() < 40 {
		t.Fatalf("only %d casts succeeded before the kill", n.Load())
	}
	old := make(map[string][]byte) // the checkpoints the receipts were given
	for _, g := range receipts {
		old[g.r.Receipt.Checkpoint] = []byte(g.r.Receipt.Checkpoint)
	}

	srv = startServer()
	raw, err := voter.Raw(ctx, "GET", api.ElectionPath(id, "/log/checkpoint"), "", nil)
	must(t, err)
	cp, err := board.ParseCheckpoint(raw, verifier)
	must(t, err)
	for _, g := range receipts {
		// The ballot is on the board where its receipt said.
		must(t, voter.VerifyCast(ctx, el, g.env, g.r))
		// And the server still knows its tracking code.
		now, err := voter.CheckReceipt(ctx, id, g.r.TrackingCode)
		must(t, err)
		if now.Receipt.Index != g.r.Receipt.Index {
			t.Fatalf("tracking code %s moved from entry %d to %d", g.r.TrackingCode, g.r.Receipt.Index, now.Receipt.Index)
		}
	}
	tiles := &httpTiles{c: voter, id: id}
	for text := range old {
		oc, err := board.ParseCheckpoint([]byte(text), verifier)
		must(t, err)
		proof, err := tlog.ProveTree(cp.Size, oc.Size, tlog.TileHashReader(tlog.Tree{N: cp.Size, Hash: cp.Hash}, tiles))
		must(t, err)
		must(t, board.CheckConsistency([]byte(text), raw, proof, verifier))
	}
	// The restarted server goes on accepting ballots (the last voter's
	// first cast: the kill came before it, or it is a replay).
	last := envs[len(envs)-2]
	if _, err := voter.Cast(ctx, id, last); err != nil && !client.IsCode(err, api.CodeReplay) {
		t.Fatalf("cast after the restart: %v", err)
	}
	t.Logf("%d receipts before SIGKILL, %d distinct checkpoints; board has %d entries after restart", len(receipts), len(old), cp.Size)
}

type httpTiles struct {
	c  *client.Client
	id string
}

func (h *httpTiles) Height() int { return board.TileHeight }

func (h *httpTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		b, err := h.c.Raw(context.Background(), "GET", api.ElectionPath(h.id, "/log/"+strings.Replace(tile.Path(), "tile/8/", "tile/", 1)), "", nil)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (h *httpTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// koeServe builds koe (the build cache makes all but the first build
// quick) and returns, not started, koe serve on data and addr with the
// administrator's token, 2048-bit registrar keys and the given flags.
func koeServe(t *testing.T, data, addr, token string, flags ...string) *exec.Cmd {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs koe serve")
	}
	bin := filepath.Join(t.TempDir(), "koe")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, append([]string{"serve", "--data", data, "--listen", addr, "--registrar-bits", "2048",
		"--register-interval", "100ms", "--cast-interval", "100ms"}, flags...)...)
	cmd.Env = append(os.Environ(), "KOE_ADMIN_TOKEN="+token)
	return cmd
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

func waitUp(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not come up", base)
}
