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
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/monitor"
	"github.com/koe-vote/koe/internal/verify"
)

// TestTwoMonitorsUnderLoad: two monitors follow one board, each polling
// every 20 ms, while 48 ballots are cast 16 at a time (after 48 cast
// before they started) (as koe bench cast
// does: sealed beforehand, then cast concurrently); the election is then
// closed, tallied, decrypted and published. Both end with the same final
// checkpoint, the server's, and a verified record; koe verify --server
// reads the record from a monitor's mirror and passes, and koe verify
// --monitor finds the server's record and both monitors of one history.
// A monitor restarted on its directory resumes from it, and one whose
// directory was tampered with refuses to start (exit status 7).
func TestTwoMonitorsUnderLoad(t *testing.T) {
	ctx := context.Background()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	s := startBoardServer(t, key)
	const id = "monitored-load"
	raw, err := s.voter.Raw(ctx, "GET", "/api/v1/board-key/"+id, "", nil)
	must(t, err)
	data, _ := examples.Manifest("referendum")
	m, err := ballot.ParseManifest(data)
	must(t, err)
	one := 1
	m.ID, m.Privacy = id, &one
	m.Board = &ballot.BoardPolicy{Key: strings.TrimSuffix(string(raw), "\n")}
	manifest, err := json.Marshal(m)
	must(t, err)
	hash := ballot.Hash(manifest)
	const voters, inFlight = 96, 16
	o := openOn(t, s, id, manifest, voters)

	envs := make([]*ballotbox.Envelope, voters)
	for i := range envs {
		envs[i], err = o.seal(i, []string{"yes", "no"}[i%2])
		must(t, err)
	}
	// castAll casts envs[from:to], inFlight at a time, and returns casts/s.
	castAll := func(from, to int) float64 {
		jobs := make(chan int)
		var casting sync.WaitGroup
		var castErr error
		var mu sync.Mutex
		start := time.Now()
		for range inFlight {
			casting.Add(1)
			go func() {
				defer casting.Done()
				for i := range jobs {
					if _, err := s.voter.Cast(ctx, id, envs[i]); err != nil {
						mu.Lock()
						castErr = errors.Join(castErr, err)
						mu.Unlock()
					}
				}
			}()
		}
		for i := from; i < to; i++ {
			jobs <- i
		}
		close(jobs)
		casting.Wait()
		must(t, castErr)
		return float64(to-from) / time.Since(start).Seconds()
	}
	alone := castAll(0, voters/2)

	dirs := []string{t.TempDir(), t.TempDir()}
	mons := make([]*monitor.Monitor, 2)
	var logs [2]bytes.Buffer
	runCtx, stop := context.WithCancel(ctx)
	var running sync.WaitGroup
	for k := range mons {
		mon, err := monitor.Open(ctx, monitor.Config{Server: s.url, Election: id, Dir: dirs[k], ManifestHash: hash[:],
			Logger: slog.New(slog.NewTextHandler(&syncWriter{w: &logs[k]}, nil))})
		must(t, err)
		mons[k] = mon
		running.Add(1)
		go func() { defer running.Done(); mon.Run(runCtx, 20*time.Millisecond) }()
	}
	followed := castAll(voters/2, voters)
	t.Logf("casts/s, %d in flight (shared machine): %.1f without monitors (%d casts), %.1f with two monitors polling every 20 ms (%d casts)", inFlight, alone, voters/2, followed, voters-voters/2)
	o.publish(t, manifest)

	signed, err := s.voter.LogCheckpoint(ctx, id)
	must(t, err)
	deadline := time.Now().Add(60 * time.Second)
	for !mons[0].RecordVerified() || !mons[1].RecordVerified() {
		for k, mon := range mons {
			if p := mon.Problem(); p != nil {
				t.Fatalf("monitor %d: %v\n%s", k+1, p, logs[k].String())
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the monitors did not verify the record in time:\n%s\n%s", logs[0].String(), logs[1].String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	running.Wait()
	a, b := mons[0].Latest(), mons[1].Latest()
	if a.Size != b.Size || a.Hash != b.Hash || !bytes.Equal(a.Note, signed) {
		t.Fatalf("final checkpoints differ: %d %x, %d %x, server's:\n%s", a.Size, a.Hash, b.Size, b.Hash, signed)
	}
	for k := range mons {
		if n := strings.Count(logs[k].String(), "checkpoint verified"); n < 2 {
			t.Errorf("monitor %d verified %d checkpoints: it did not follow the board while it grew", k+1, n)
		}
	}
	if rep := verify.Record(filepath.Join(dirs[0], "record"), verify.Options{}); !rep.OK() || rep.Ballots != voters {
		t.Fatalf("monitor 1's record: %d ballots, %+v", rep.Ballots, rep.Failures())
	}

	// A monitor started after the election catches up in one poll.
	began := time.Now()
	late, err := monitor.Open(ctx, monitor.Config{Server: s.url, Election: id, Dir: t.TempDir(), ManifestHash: hash[:], Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	must(t, err)
	must(t, late.Poll(ctx))
	if !late.RecordVerified() || late.Latest().Hash != a.Hash {
		t.Fatal("a late monitor did not catch up to the verified record")
	}
	t.Logf("a late monitor read, checked and verified the record of %d entries (%d ballots) in %.2fs (shared machine)", a.Size, voters, time.Since(began).Seconds())

	// The mirrors serve what koe verify reads.
	var urls []string
	for _, mon := range mons {
		ts := httptest.NewServer(mon.Handler())
		t.Cleanup(ts.Close)
		urls = append(urls, ts.URL)
	}
	code, stdout, stderr := runKoe("verify", "-q", "--server", urls[1], "--election", id)
	if code != 0 || !strings.Contains(stdout, "Verification PASSED") {
		t.Fatalf("koe verify --server MONITOR: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runKoe("verify", "-q", "--server", s.url, "--election", id, "--monitor", urls[0], "--monitor", urls[1])
	if code != 0 || strings.Count(stdout, "holds the same tree of") != 2 {
		t.Fatalf("koe verify --monitor: exit %d\n%s%s", code, stdout, stderr)
	}

	// A restart resumes from the directory: nothing is read again.
	out := filepath.Join(t.TempDir(), "record")
	code, stdout, stderr = runKoe("monitor", "--once", "--server", s.url, "--election", id, "--data", dirs[0], "--record", out)
	if code != 0 || strings.Contains(stderr, "checkpoint verified") || !strings.Contains(stdout, fmt.Sprintf("%d entries held and checked", a.Size)) {
		t.Fatalf("koe monitor restarted: exit %d\n%s%s", code, stdout, stderr)
	}
	if rep := verify.Record(out, verify.Options{}); !rep.OK() {
		t.Fatalf("koe monitor --record: %+v", rep.Failures())
	}
	// A copy whose entries were changed is refused on start.
	entries := filepath.Join(dirs[1], "entries.jsonl")
	b2, err := os.ReadFile(entries)
	must(t, err)
	b2 = bytes.Replace(b2, []byte(`"type":"open"`), []byte(`"type":"close"`), 1)
	must(t, os.WriteFile(entries, b2, 0o644))
	code, _, stderr = runKoe("monitor", "--once", "--server", s.url, "--election", id, "--data", dirs[1])
	if code != monitor.CodeLocal || !strings.Contains(stderr, "is not the tree of the entries it holds") {
		t.Fatalf("koe monitor on a tampered copy: exit %d, want %d\n%s", code, monitor.CodeLocal, stderr)
	}
}

// TestMonitorUsage: koe monitor's usage errors exit 2, an unreachable
// server 1, and a server whose manifest is not the pinned one 4.
func TestMonitorUsage(t *testing.T) {
	for _, args := range [][]string{
		{"monitor", "--server", "http://127.0.0.1:1", "--election", "e"},
		{"monitor", "--server", "http://127.0.0.1:1", "--election", "e", "--data", t.TempDir(), "--manifest-hash", "AB"},
		{"monitor", "--server", "http://127.0.0.1:1", "--election", "e", "--data", t.TempDir(), "--interval", "0s"},
	} {
		if code, _, stderr := runKoe(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, stderr)
		}
	}
	if code, _, stderr := runKoe("monitor", "--once", "--server", "http://127.0.0.1:1", "--election", "e", "--data", t.TempDir()); code != 1 || !strings.Contains(stderr, "fetching the manifest") {
		t.Errorf("unreachable server: exit %d\n%s", code, stderr)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	s := startBoardServer(t, key)
	data, _ := examples.Manifest("referendum")
	var created map[string]any
	must(t, s.admin.Do(context.Background(), "POST", "/api/v1/elections", "application/json", data, &created))
	m, _ := ballot.ParseManifest(data)
	code, _, stderr := runKoe("monitor", "--once", "--server", s.url, "--election", m.ID, "--data", t.TempDir(), "--manifest-hash", strings.Repeat("ab", 32))
	if code != monitor.CodeCheckpoint || !strings.Contains(stderr, "not to the pinned") {
		t.Errorf("another manifest: exit %d\n%s", code, stderr)
	}
}
