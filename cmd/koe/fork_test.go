package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/monitor"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/server"
	"github.com/koe-vote/koe/internal/store/sqlite"
	"github.com/koe-vote/koe/internal/witness"
	"github.com/koe-vote/koe/internal/witness/witnesstest"
)

// boardServer is one koe server process of the forking operator: every
// one signs with the same board key under the same origin.
type boardServer struct {
	url   string
	admin *client.Client
	voter *client.Client
}

func startBoardServer(t *testing.T, key ed25519.PrivateKey) *boardServer {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "koe.db"))
	must(t, err)
	t.Cleanup(func() { st.Close() })
	srv, err := server.New(server.Config{Store: st, Origin: "koe.test", BoardKey: key, AdminToken: operatorToken,
		RegistrarBits: 2048, RegisterRate: 1000, RegisterBurst: 1000, CastRate: 1000, CastBurst: 1000,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	must(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return &boardServer{url: ts.URL, admin: client.New(ts.URL, operatorToken), voter: client.New(ts.URL, "")}
}

// openedElection is an election opened on one board server.
type openedElection struct {
	s        *boardServer
	el       *client.Election
	codes    map[string]string
	trustees []*ceremony.Trustee
	tokens   []string
	next     int
}

// openOn creates the election of manifest on s, runs its key ceremony
// (three trustees, fresh keys), imports a roll and opens it.
func openOn(t *testing.T, s *boardServer, id string, manifest []byte, voters int) *openedElection {
	t.Helper()
	ctx := context.Background()
	var created api.Created
	must(t, s.admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created))
	trustees, err := demo.ServerCeremony(ctx, s.url, id, manifest, created.TrusteeTokens)
	must(t, err)
	codes, err := demo.ImportRoll(ctx, s.admin, id, "F", voters)
	must(t, err)
	must(t, s.admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil))
	el, err := s.voter.Election(ctx, id)
	must(t, err)
	return &openedElection{s: s, el: el, codes: codes, trustees: trustees, tokens: created.TrusteeTokens}
}

// cast registers the next voter of the roll and casts answer.
func (o *openedElection) cast(t *testing.T, answer string) *client.Receipt {
	t.Helper()
	env, err := o.seal(o.next, answer)
	o.next++
	must(t, err)
	r, err := o.s.voter.Cast(context.Background(), o.el.ID, env)
	must(t, err)
	return r
}

// seal registers voter i of the roll and seals answer for them.
func (o *openedElection) seal(i int, answer string) (*ballotbox.Envelope, error) {
	vid := fmt.Sprintf("F%05d", i)
	cred, err := o.s.voter.Register(context.Background(), o.el, vid, o.codes[vid])
	if err != nil {
		return nil, err
	}
	pt, err := o.el.E.Manifest.Plaintext(ballot.Answers{"plan": answer})
	if err != nil {
		return nil, err
	}
	env, _, _, err := client.Seal(o.el, cred, pt, 1)
	return env, err
}

// publish closes, tallies, decrypts and publishes the election.
func (o *openedElection) publish(t *testing.T, manifest []byte) {
	t.Helper()
	ctx := context.Background()
	id := o.el.ID
	must(t, o.s.admin.Do(ctx, "POST", api.ElectionPath(id, "/close"), "", nil, nil))
	must(t, o.s.admin.Do(ctx, "POST", api.ElectionPath(id, "/tally"), "", nil, nil))
	must(t, demo.ServerDecrypt(ctx, o.s.url, id, manifest, o.trustees, o.tokens, []int{1, 2, 3}))
	must(t, o.s.admin.Do(ctx, "POST", api.ElectionPath(id, "/publish"), "", nil, nil))
}

// switchable is the operator's public address: it forwards to one of its
// server processes, and the operator can switch which.
type switchable struct {
	mu     sync.Mutex
	target *httputil.ReverseProxy
	url    string
}

func newSwitchable(t *testing.T) *switchable {
	sw := &switchable{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw.mu.Lock()
		p := sw.target
		sw.mu.Unlock()
		p.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	sw.url = ts.URL
	return sw
}

func (sw *switchable) to(s *boardServer) {
	u, _ := url.Parse(s.url)
	sw.mu.Lock()
	sw.target = httputil.NewSingleHostReverseProxy(u)
	sw.mu.Unlock()
}

// TestForkedBoardCaught is the fork of issue 10 (SPEC.md §13.7–§13.9): an
// operator runs two server processes that share the board key and the
// election's manifest, whose policy names three real omniwitnesses
// (quorum 2). Its public address first shows a voter, the witnesses and a
// monitor one history; the voter keeps the receipt. Then it serves
// another history signed by the same key. The witnesses refuse to cosign
// the second history; koe monitor reports the fork (exit status 3, an
// ERROR line, koe_monitor_fork_detected 1) and keeps refusing after a
// restart; the server cannot export a record of the forked board, and a
// record made from the forked board's tiles fails koe verify (no quorum),
// fails koe verify --monitor (the monitor holds the other history), and
// the voter's receipt fails koe verify --receipt. (A board re-signed with
// another key is refused by koe verify: TestResignedBoardRefused in
// internal/verify/board_test.go.)
func TestForkedBoardCaught(t *testing.T) {
	ctx := context.Background()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	shown, forked := startBoardServer(t, key), startBoardServer(t, key)
	const id = "forked-witnessed"
	raw, err := shown.voter.Raw(ctx, "GET", "/api/v1/board-key/"+id, "", nil)
	must(t, err)
	boardKey := strings.TrimSuffix(string(raw), "\n")
	logCfg := witnesstest.Log{Origin: board.Origin("koe.test", id), Key: boardKey}
	var ws []*witnesstest.Witness
	var list []ballot.Witness
	for i, org := range []string{"city", "univ", "news"} {
		w := witnesstest.Start(t, "witness."+org+".example", logCfg)
		ws = append(ws, w)
		list = append(list, ballot.Witness{Name: ballot.Text{Ja: fmt.Sprintf("証人%d", i+1), En: org}, Key: w.Key.String(), URL: w.URL})
	}
	data, _ := examples.Manifest("referendum")
	m, err := ballot.ParseManifest(data)
	must(t, err)
	one := 1
	m.ID, m.Privacy = id, &one
	m.Board = &ballot.BoardPolicy{Key: boardKey, Witnesses: list, Quorum: 2}
	manifest, err := json.Marshal(m)
	must(t, err)
	pol, err := m.WitnessPolicy()
	must(t, err)
	hash := ballot.Hash(manifest)
	pin := fmt.Sprintf("%x", hash)

	front := newSwitchable(t)
	front.to(shown)
	a := openOn(t, shown, id, manifest, 8)
	a.cast(t, "yes")
	receipt := a.cast(t, "no")
	receiptFile := filepath.Join(t.TempDir(), "receipt.json")
	rb, _ := json.Marshal(receipt)
	must(t, os.WriteFile(receiptFile, rb, 0o644))
	// The witnesses cosign the shown history up to the voter's ballot.
	deadline := time.Now().Add(60 * time.Second)
	for {
		signed, err := shown.voter.CosignedCheckpoint(ctx, id)
		must(t, err)
		if signed != nil {
			if cp, c, err := pol.Verify(signed); err == nil && cp.Size > receipt.Receipt.Index && len(c) >= 2 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the shown history was not cosigned in time")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Two monitors follow the operator's public address: koe monitor, and
	// one in this process whose metrics the test reads.
	mdir := t.TempDir()
	code, stdout, stderr := runKoe("monitor", "--once", "--server", front.url, "--election", id, "--data", mdir, "--manifest-hash", pin)
	if code != 0 {
		t.Fatalf("koe monitor on the shown history: exit %d\n%s%s", code, stdout, stderr)
	}
	var logs bytes.Buffer
	mon, err := monitor.Open(ctx, monitor.Config{Server: front.url, Election: id, Dir: t.TempDir(), ManifestHash: hash[:],
		Logger: slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil))})
	must(t, err)
	must(t, mon.Poll(ctx))
	monSrv := httptest.NewServer(mon.Handler())
	t.Cleanup(monSrv.Close)
	shownSize := mon.Latest().Size

	// The other history: the same manifest and board key, another
	// ceremony, more ballots.
	b := openOn(t, forked, id, manifest, 8)
	for range 4 {
		b.cast(t, "yes")
	}
	signed, err := forked.voter.LogCheckpoint(ctx, id)
	must(t, err)
	verifier, err := board.ParseVerifierKey(boardKey)
	must(t, err)
	cpB, err := board.ParseCheckpoint(signed, verifier)
	must(t, err)
	if cpB.Size <= shownSize {
		t.Fatalf("the forked board (%d entries) is not larger than the shown one (%d)", cpB.Size, shownSize)
	}
	// Every witness refuses it: it is not consistent with what they cosigned.
	for _, w := range ws {
		_, err := w.Peer().Cosign(ctx, cpB, func(ctx context.Context, oldSize, newSize int64) (tlog.TreeProof, error) {
			return forked.voter.ProveTree(ctx, id, cpB, oldSize)
		})
		if !errors.Is(err, witness.ErrInconsistent) {
			t.Fatalf("witness %s on the forked history: %v, want ErrInconsistent", w.Name, err)
		}
	}
	if c, err := forked.voter.CosignedCheckpoint(ctx, id); err != nil || c != nil {
		t.Fatalf("the forked server has a cosigned checkpoint (%v): %s", err, c)
	}

	// The public address now serves the forked history.
	front.to(forked)
	code, stdout, stderr = runKoe("monitor", "--once", "--server", front.url, "--election", id, "--data", mdir)
	if code != monitor.CodeFork || !strings.Contains(stderr, "level=ERROR") || !strings.Contains(stderr, "fork") {
		t.Fatalf("koe monitor on the forked history: exit %d, want %d\n%s%s", code, monitor.CodeFork, stdout, stderr)
	}
	t.Logf("koe monitor on the forked history:\n%s", stderr)
	ev, _ := filepath.Glob(filepath.Join(mdir, "evidence", "fork-*.txt"))
	if len(ev) != 1 {
		t.Fatalf("fork evidence files: %v", ev)
	}
	code, _, stderr = runKoe("monitor", "--once", "--server", shown.url, "--election", id, "--data", mdir)
	if code != monitor.CodeFork || !strings.Contains(stderr, "found earlier") {
		t.Fatalf("koe monitor restarted after the fork: exit %d, want it to refuse again\n%s", code, stderr)
	}
	err = mon.Poll(ctx)
	var p *monitor.Problem
	if !errors.As(err, &p) || p.Code != monitor.CodeFork || mon.Latest().Size != shownSize {
		t.Fatalf("the in-process monitor: %v (held size %d)", err, mon.Latest().Size)
	}
	metrics, err := client.New(monSrv.URL, "").Raw(ctx, "GET", "/metrics", "", nil)
	must(t, err)
	if !strings.Contains(string(metrics), `koe_monitor_fork_detected{election="`+id+`"} 1`) {
		t.Fatalf("metrics:\n%s", metrics)
	}
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("no ERROR line:\n%s", logs.String())
	}

	// The operator closes and tallies the forked history. Its server will
	// not export a record the witnesses did not cosign, so the trustees,
	// who verify the record before they decrypt, cannot decrypt it; a
	// record made from its tiles fails koe verify, the comparison with
	// the monitor, and the voter's receipt.
	must(t, forked.admin.Do(ctx, "POST", api.ElectionPath(id, "/close"), "", nil, nil))
	must(t, forked.admin.Do(ctx, "POST", api.ElectionPath(id, "/tally"), "", nil, nil))
	if _, err := forked.voter.Raw(ctx, "GET", api.ElectionPath(id, "/record"), "", nil); !client.IsCode(err, api.CodeNotCosigned) {
		t.Fatalf("the forked server exported a record: %v", err)
	}
	if err := demo.ServerDecrypt(ctx, forked.url, id, manifest, b.trustees, b.tokens, []int{1, 2, 3}); err == nil || !strings.Contains(err.Error(), api.CodeNotCosigned) {
		t.Fatalf("the trustees decrypted the forked tally: %v", err)
	}
	dir := recordFromTiles(t, forked.voter, id, boardKey)
	code, stdout, _ = runKoe("verify", dir, "--receipt", receiptFile, "--monitor", monSrv.URL)
	if code == 0 {
		t.Fatalf("koe verify accepted the forked record:\n%s", stdout)
	}
	t.Logf("koe verify of the forked record:\n%s", stdout)
	for _, want := range []string{"too few cosignatures", "✗ " + receiptFile, "FORK"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("koe verify's output lacks %q:\n%s", want, stdout)
		}
	}
}

// recordFromTiles writes the record a server that skipped the witness
// check would export (the files GET /record gives), from its board read
// through the tiles.
func recordFromTiles(t *testing.T, c *client.Client, id, boardKey string) string {
	t.Helper()
	verifier, err := board.ParseVerifierKey(boardKey)
	must(t, err)
	v, err := c.ReadBoard(context.Background(), id, verifier, nil, nil)
	must(t, err)
	files, err := record.FromBoard(v.Entries)
	must(t, err)
	var lines []byte
	for _, r := range v.Raw {
		lines = append(append(lines, r...), '\n')
	}
	files[record.BoardEntries] = lines
	files[record.BoardCheckpoint] = v.Checkpoint.Note
	files[record.BoardKey] = []byte(boardKey + "\n")
	dir := t.TempDir()
	for name, data := range files {
		must(t, record.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), data))
	}
	return dir
}

func runKoe(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// syncWriter serialises writes of concurrent loggers.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
