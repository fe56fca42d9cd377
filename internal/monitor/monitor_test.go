package monitor_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/monitor"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/store/sqlite"
)

// The server record of testdata/vectors: 37 entries of a published
// election whose manifest names the vector board key (no witnesses).
var (
	vectorDir  = filepath.Join("..", "..", "testdata", "vectors", "server-record")
	vectorSeed = sha256.Sum256([]byte("koe/v2 test vectors: the server-record board key"))
)

const election = "shin-chosha-server"

func vectorEntries(t *testing.T) [][]byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(vectorDir, filepath.FromSlash(record.BoardEntries)))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

func vectorManifest(t *testing.T) []byte {
	t.Helper()
	m, err := os.ReadFile(filepath.Join(vectorDir, record.Manifest))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func signerOf(t *testing.T, origin string, key ed25519.PrivateKey) note.Signer {
	t.Helper()
	vkey, err := note.NewEd25519VerifierKey(origin, key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	hash := strings.SplitN(vkey, "+", 3)[1]
	s, err := note.NewSigner("PRIVATE+KEY+" + origin + "+" + hash + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, key.Seed()...)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeBoard is a board served as a koe server serves it (board.Log's
// tlog-tiles handler, the manifest, the cosigned checkpoint), signed with
// key, whose entries a test appends; doctor, if set, rewrites responses.
type fakeBoard struct {
	log    *board.Log
	url    string
	mu     sync.Mutex
	doctor func(path string, body []byte) []byte
}

func newFakeBoard(t *testing.T, key ed25519.PrivateKey, manifest []byte) *fakeBoard {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "board.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.CreateElection(context.Background(), store.Election{ID: election, State: "setup"}); err != nil {
		t.Fatal(err)
	}
	origin := board.Origin("koe.example", election)
	fb := &fakeBoard{log: board.New(st, election, origin, signerOf(t, origin, key))}
	prefix := api.ElectionPath(election, "")
	mux := http.NewServeMux()
	mux.Handle("GET "+prefix+"/log/", http.StripPrefix(prefix+"/log", fb.log.Handler()))
	mux.HandleFunc("GET "+prefix+"/manifest", func(w http.ResponseWriter, r *http.Request) { w.Write(manifest) })
	mux.HandleFunc("GET "+prefix+"/cosigned-checkpoint", func(w http.ResponseWriter, r *http.Request) {
		cp, err := fb.log.Checkpoint(r.Context()) // no witnesses: the latest
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Write(cp.Note)
	})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fb.mu.Lock()
		doctor := fb.doctor
		fb.mu.Unlock()
		if doctor == nil {
			mux.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		w.Write(doctor(r.URL.Path, rec.Body.Bytes()))
	}))
	t.Cleanup(ts.Close)
	fb.url = ts.URL
	return fb
}

func (fb *fakeBoard) append(t *testing.T, raws ...[]byte) {
	t.Helper()
	for _, raw := range raws {
		e, err := board.DecodeEntry(raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fb.log.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fb.log.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func openMonitor(t *testing.T, url, dir string, logs io.Writer) (*monitor.Monitor, error) {
	t.Helper()
	h := ballot.Hash(vectorManifest(t))
	return monitor.Open(context.Background(), monitor.Config{Server: url, Election: election, Dir: dir, ManifestHash: h[:],
		Logger: slog.New(slog.NewTextHandler(logs, nil)), ProgressEvery: 10})
}

func metrics(t *testing.T, m *monitor.Monitor) string {
	t.Helper()
	ts := httptest.NewServer(m.Handler())
	defer ts.Close()
	b, err := client.New(ts.URL, "").Raw(context.Background(), "GET", "/metrics", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantProblem(t *testing.T, err error, code int, says string) {
	t.Helper()
	var p *monitor.Problem
	if !errors.As(err, &p) || p.Code != code || !strings.Contains(err.Error(), says) {
		t.Fatalf("%v, want a problem of code %d saying %q", err, code, says)
	}
}

// TestMonitorFollowsAndResumes: the monitor follows a board that grows,
// checking each stretch; it resumes from its directory, dropping entries
// written after its last checkpoint (a crash) and a cut line; once the
// election is published it writes a record that verifies, and it serves
// its copy as the server does.
func TestMonitorFollowsAndResumes(t *testing.T) {
	ctx := context.Background()
	key := ed25519.NewKeyFromSeed(vectorSeed[:])
	fb := newFakeBoard(t, key, vectorManifest(t))
	lines := vectorEntries(t)
	dir := t.TempDir()
	var logs bytes.Buffer
	fb.append(t, lines[:20]...)
	m, err := openMonitor(t, fb.url, dir, &logs)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if m.Latest().Size != 20 || m.RecordVerified() {
		t.Fatalf("size %d", m.Latest().Size)
	}
	// A crash after appending entries, before their checkpoint.
	f, err := os.OpenFile(filepath.Join(dir, "entries.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(append(append([]byte{}, lines[20]...), '\n'))
	f.Write(lines[21][:40])
	f.Close()
	fb.append(t, lines[20:]...)
	m, err = openMonitor(t, fb.url, dir, &logs)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "dropping entries no saved checkpoint covers") {
		t.Fatalf("logs:\n%s", logs.String())
	}
	if err := m.Poll(ctx); err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	if m.Latest().Size != 37 || !m.RecordVerified() {
		t.Fatalf("size %d, record verified %v\n%s", m.Latest().Size, m.RecordVerified(), logs.String())
	}
	for _, want := range []string{"monitor: reading entries", "done=10", "the published record verifies"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no log line says %q", want)
		}
	}
	ms := metrics(t, m)
	for _, want := range []string{`koe_monitor_checkpoint_size{election="shin-chosha-server"} 37`, `koe_monitor_fork_detected{election="shin-chosha-server"} 0`,
		`koe_monitor_record_verified{election="shin-chosha-server"} 1`, "koe_monitor_last_success_timestamp_seconds"} {
		if !strings.Contains(ms, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// The mirror: a client reads the whole board from it with proofs,
	// and the record it serves unpacks to the same board.
	ts := httptest.NewServer(m.Handler())
	defer ts.Close()
	mc := client.New(ts.URL, "")
	boardKey := strings.TrimSuffix(string(must(os.ReadFile(filepath.Join(vectorDir, filepath.FromSlash(record.BoardKey))))), "\n")
	entries, cp, err := mc.ReadWholeBoard(ctx, election, boardKey)
	if err != nil || cp.Size != 37 || len(entries) != 37 {
		t.Fatalf("reading the mirror: %v", err)
	}
	rec, err := mc.FetchRecord(ctx, election)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(rec)
	if got := must(os.ReadFile(filepath.Join(rec, filepath.FromSlash(record.BoardEntries)))); !bytes.Equal(got, must(os.ReadFile(filepath.Join(vectorDir, filepath.FromSlash(record.BoardEntries))))) {
		t.Fatal("the mirror's record holds another board")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestMonitorInvalidEntry: a board whose signed tree holds a cast with a
// bad signature is reported (exit status 5, the metric), the entry named;
// the copy keeps the evidence, and a restart reports it again.
func TestMonitorInvalidEntry(t *testing.T) {
	key := ed25519.NewKeyFromSeed(vectorSeed[:])
	fb := newFakeBoard(t, key, vectorManifest(t))
	lines := vectorEntries(t)
	e, _ := board.DecodeEntry(lines[19])
	var env map[string]any
	json.Unmarshal(e.Body, &env)
	sig := []byte(env["signature"].(string))
	sig[5] = map[bool]byte{true: 'B', false: 'A'}[sig[5] == 'A']
	env["signature"] = string(sig)
	e.Body, _ = json.Marshal(env)
	lines[19], _ = e.Encode()
	fb.append(t, lines...)
	dir := t.TempDir()
	var logs bytes.Buffer
	m, err := openMonitor(t, fb.url, dir, &logs)
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, m.Poll(context.Background()), monitor.CodeEntry, "board entry 19 (ballot)")
	if !strings.Contains(logs.String(), "level=ERROR") || m.Latest().Size != 37 {
		t.Fatalf("logs:\n%s", logs.String())
	}
	if ms := metrics(t, m); !strings.Contains(ms, `koe_monitor_invalid_entries_total{election="shin-chosha-server"} 2`) || !strings.Contains(ms, `koe_monitor_problem{election="shin-chosha-server",kind="entry"} 1`) {
		t.Fatalf("metrics:\n%s", ms)
	}
	_, err = openMonitor(t, fb.url, dir, io.Discard)
	wantProblem(t, err, monitor.CodeEntry, "found earlier")
	// Without the saved problem, the copy's own check finds the entry.
	os.Remove(filepath.Join(dir, "problem.json"))
	_, err = openMonitor(t, fb.url, dir, io.Discard)
	wantProblem(t, err, monitor.CodeEntry, "board entry 19")
}

// TestMonitorBadCheckpoints: a checkpoint signed by a key other than the
// manifest's, and tiles that do not match the signed tree, are invalid
// checkpoints (exit status 4).
func TestMonitorBadCheckpoints(t *testing.T) {
	lines := vectorEntries(t)
	other := ed25519.NewKeyFromSeed(sha256.New().Sum(nil)[:32])
	fb := newFakeBoard(t, other, vectorManifest(t))
	fb.append(t, lines[:5]...)
	m, err := openMonitor(t, fb.url, t.TempDir(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, m.Poll(context.Background()), monitor.CodeCheckpoint, "the server's latest checkpoint")

	fb = newFakeBoard(t, ed25519.NewKeyFromSeed(vectorSeed[:]), vectorManifest(t))
	fb.append(t, lines[:5]...)
	fb.doctor = func(path string, body []byte) []byte {
		if strings.Contains(path, "/tile/entries/") {
			return bytes.Replace(body, []byte("shin-chosha"), []byte("shin-chosho"), 1)
		}
		return body
	}
	m, err = openMonitor(t, fb.url, t.TempDir(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, m.Poll(context.Background()), monitor.CodeCheckpoint, "is not the one its signed checkpoint")
	if m.Latest() != nil {
		t.Fatal("the monitor kept entries its checkpoint does not commit to")
	}
}

// TestMonitorForkAtEqualSize: the same board key signs two different
// trees of one size; the monitor that saw the first reports a fork
// (exit status 3) and keeps both checkpoints as evidence.
func TestMonitorForkAtEqualSize(t *testing.T) {
	key := ed25519.NewKeyFromSeed(vectorSeed[:])
	lines := vectorEntries(t)
	shown := newFakeBoard(t, key, vectorManifest(t))
	shown.append(t, lines[:20]...)
	dir := t.TempDir()
	m, err := openMonitor(t, shown.url, dir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	other := newFakeBoard(t, key, vectorManifest(t))
	other.append(t, append(append([][]byte{}, lines[:19]...), lines[21])...)
	m, err = openMonitor(t, other.url, dir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, m.Poll(context.Background()), monitor.CodeFork, "two different trees of size 20")
	ev, _ := filepath.Glob(filepath.Join(dir, "evidence", "fork-*.txt"))
	if len(ev) != 1 || bytes.Count(must(os.ReadFile(ev[0])), []byte("koe.example/koe/shin-chosha-server\n20\n")) != 2 {
		t.Fatalf("evidence %v", ev)
	}
	if ms := metrics(t, m); !strings.Contains(ms, `koe_monitor_fork_detected{election="shin-chosha-server"} 1`) {
		t.Fatalf("metrics:\n%s", ms)
	}
}

// TestMonitorFatalEntryOnRestart: a board whose signed tree breaks the
// lifecycle (a cast before open) is an invalid entry when followed and
// again when the copy is re-checked on start, not a broken copy: the
// entries after the fatal one are still hashed into the tree.
func TestMonitorFatalEntryOnRestart(t *testing.T) {
	key := ed25519.NewKeyFromSeed(vectorSeed[:])
	fb := newFakeBoard(t, key, vectorManifest(t))
	lines := vectorEntries(t)
	fb.append(t, append(append([][]byte{}, lines[:16]...), lines[17:]...)...) // no open entry
	dir := t.TempDir()
	m, err := openMonitor(t, fb.url, dir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, m.Poll(context.Background()), monitor.CodeEntry, "only while the election is open")
	os.Remove(filepath.Join(dir, "problem.json"))
	_, err = openMonitor(t, fb.url, dir, io.Discard)
	wantProblem(t, err, monitor.CodeEntry, "only while the election is open")
}
