package server_test

import (
	"bytes"
	"container/heap"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/linkage"
	"github.com/koe-vote/koe/internal/server"
)

// vclock is the simulation's virtual time, the server's clock.
type vclock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *vclock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *vclock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.t) {
		c.t = t
	}
}

type simEvent struct {
	at    time.Time
	cast  bool
	voter int
}

type eventQueue []simEvent

func (q eventQueue) Len() int           { return len(q) }
func (q eventQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q eventQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)        { *q = append(*q, x.(simEvent)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// simElection is an open election on a server whose clock is virtual
// and whose timed batches (if any) close only when the test says so.
type simElection struct {
	srv   *server.Server
	url   string
	admin *client.Client
	voter *client.Client
	id    string
	codes map[string]string
	el    *client.Election
	clock *vclock
}

func newSimElection(t *testing.T, voters int, batched bool) *simElection {
	ctx := context.Background()
	clock := &vclock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	cfg := server.Config{Store: sqliteStore(t), Origin: "koe.test", BoardKey: key, AdminToken: adminToken,
		RegistrarBits: 2048, RegisterRate: 1e6, RegisterBurst: 1e6, Now: clock.now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if batched {
		cfg.RegisterInterval, cfg.CastInterval = server.DefaultRegisterInterval, server.DefaultCastInterval
	}
	srv, err := server.New(cfg)
	must(t, err)
	if batched {
		server.ManualBatches(srv)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	admin := client.New(ts.URL, adminToken)
	manifest, _ := examples.Manifest("referendum")
	var created api.Created
	must(t, admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created))
	id := created.ID
	_, err = demo.ServerCeremony(ctx, ts.URL, id, manifest, created.TrusteeTokens)
	must(t, err)
	codes, err := demo.ImportRoll(ctx, admin, id, "L", voters)
	must(t, err)
	must(t, admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil))
	voter := client.New(ts.URL, "")
	el, err := voter.Election(ctx, id)
	must(t, err)
	return &simElection{srv: srv, url: ts.URL, admin: admin, voter: voter, id: id, codes: codes, el: el, clock: clock}
}

// waitQueued waits until the server's batches hold this many requests.
func (s *simElection) waitQueued(t *testing.T, issues, casts int64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		i, c := server.Queued(s.srv, s.id)
		if i >= issues && c >= casts {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("requests did not reach their batch: %d/%d registrations, %d/%d casts", i, issues, c, casts)
		}
		time.Sleep(time.Millisecond)
	}
}

// entries reads the whole board.
func (s *simElection) entries(t *testing.T) [][]byte {
	t.Helper()
	var entries [][]byte
	for i := int64(0); ; i++ {
		raw, err := s.admin.Raw(context.Background(), "GET", api.ElectionPath(s.id, fmt.Sprintf("/entries/%d", i)), "", nil)
		if client.IsCode(err, api.CodeNotFound) {
			return entries
		}
		must(t, err)
		entries = append(entries, raw)
	}
}

// linkageRun is one simulated election's outcome: for each strategy, how
// many of the at-once and of the paused voters it linked.
type linkageRun struct {
	atOnce, paused map[string]int
	chance         float64 // expected links of an attacker who guesses within each ballot's batch
	n              int
}

// simulateLinkage runs abuse-test §7 in virtual time: n voters register
// and cast at once (after 0.02–0.2 s, as koe vote does), n register and
// cast after a pause of 0–20 s, all starting within two minutes (for
// n = 40, as dense as the abuse test's 40 voters in one minute); the
// attacker knows who registered when and which issuance entry is whose.
func simulateLinkage(t *testing.T, n int, batched bool, seed uint64) linkageRun {
	ctx := context.Background()
	sim := newSimElection(t, 2*n, batched)
	srv, id, codes, el, voter, clock := sim.srv, sim.id, sim.codes, sim.el, sim.voter, sim.clock
	pt, err := el.E.Manifest.Plaintext(ballot.Answers{"plan": "yes"})
	must(t, err)

	rng := mrand.New(mrand.NewPCG(seed, 7))
	start := clock.now().Truncate(time.Minute).Add(time.Minute)
	uniform := func(lo, hi time.Duration) time.Duration { return lo + time.Duration(rng.Int64N(int64(hi-lo))) }
	vid := func(i int) string { return fmt.Sprintf("L%05d", i) }
	gap := make([]time.Duration, 2*n)
	q := &eventQueue{}
	for i := range 2 * n {
		heap.Push(q, simEvent{at: start.Add(uniform(0, 2*time.Minute)), voter: i})
		if i < n {
			gap[i] = uniform(20*time.Millisecond, 200*time.Millisecond)
		} else {
			gap[i] = uniform(0, 20*time.Second)
		}
	}

	regs := make([]linkage.Registration, 2*n)
	truth := map[string]string{}
	answers := make([]chan error, 2*n)
	var mu sync.Mutex
	credentials := make([]*credential.Credential, 2*n)
	register := func(i int) error {
		cred, err := voter.Register(ctx, el, vid(i), codes[vid(i)])
		mu.Lock()
		credentials[i] = cred
		mu.Unlock()
		return err
	}
	cast := func(i int) error {
		mu.Lock()
		cred := credentials[i]
		mu.Unlock()
		env, _, _, err := client.Seal(el, cred, pt, 1)
		if err != nil {
			return err
		}
		mu.Lock()
		truth[vid(i)] = linkage.CredentialOf(env.Credential)
		mu.Unlock()
		_, err = voter.Cast(ctx, id, env)
		return err
	}

	// Events in time order; with batches, the ticks in between: at each
	// tick of the registration interval the waiting registrations are
	// answered (their voters then cast after their gap), at each tick of
	// the cast interval the waiting casts.
	var waitingRegs, waitingCasts []int
	tick := start.Truncate(server.DefaultCastInterval).Add(server.DefaultCastInterval)
	for q.Len() > 0 || len(waitingRegs) > 0 || len(waitingCasts) > 0 {
		if batched && (q.Len() == 0 || !(*q)[0].at.Before(tick)) {
			clock.set(tick)
			if tick.Truncate(server.DefaultRegisterInterval).Equal(tick) && len(waitingRegs) > 0 {
				server.FlushIssues(srv, id)
				for _, i := range waitingRegs {
					must(t, <-answers[i])
					heap.Push(q, simEvent{at: tick.Add(gap[i]), cast: true, voter: i})
				}
				waitingRegs = nil
			}
			server.FlushCasts(srv, id)
			for _, i := range waitingCasts {
				must(t, <-answers[i])
			}
			waitingCasts = nil
			tick = tick.Add(server.DefaultCastInterval)
			continue
		}
		ev := heap.Pop(q).(simEvent)
		clock.set(ev.at)
		i := ev.voter
		done := make(chan error, 1)
		answers[i] = done
		switch {
		case !ev.cast:
			regs[i] = linkage.Registration{Voter: vid(i), Time: ev.at, Issued: -1}
			if !batched {
				must(t, register(i))
				heap.Push(q, simEvent{at: ev.at.Add(gap[i]), cast: true, voter: i})
				continue
			}
			go func() { done <- register(i) }()
			waitingRegs = append(waitingRegs, i)
		default:
			if !batched {
				must(t, cast(i))
				continue
			}
			go func() { done <- cast(i) }()
			waitingCasts = append(waitingCasts, i)
		}
		sim.waitQueued(t, int64(len(waitingRegs)), int64(len(waitingCasts)))
	}

	// The attacker's reading of the board.
	entries := sim.entries(t)
	b, err := linkage.Read(entries)
	must(t, err)
	if len(b.Ballots) != 2*n || len(b.Issued) != 2*n {
		t.Fatalf("the board holds %d issuances and %d first ballots, want %d", len(b.Issued), len(b.Ballots), 2*n)
	}
	for _, idx := range b.Issued {
		e, _ := board.DecodeEntry(entries[idx])
		for i := range regs {
			c, err := credential.RollCommitment(id, vid(i), codes[vid(i)])
			must(t, err)
			if bytes.Contains(e.Body, []byte(hex.EncodeToString(c[:]))) {
				regs[i].Issued = idx
			}
		}
	}
	if batched {
		// Every batched entry carries its tick's time.
		for _, idx := range b.Issued {
			if e, _ := board.DecodeEntry(entries[idx]); !e.Time.Truncate(server.DefaultRegisterInterval).Equal(e.Time) {
				t.Errorf("issuance entry %d has time %v, not a multiple of %v", idx, e.Time, server.DefaultRegisterInterval)
			}
		}
		for _, bal := range b.Ballots {
			if !bal.Time.Truncate(server.DefaultCastInterval).Equal(bal.Time) {
				t.Errorf("ballot entry %d has time %v, not a multiple of %v", bal.Index, bal.Time, server.DefaultCastInterval)
			}
		}
	}

	var atOnce, paused []string
	for i := range 2 * n {
		if i < n {
			atOnce = append(atOnce, vid(i))
		} else {
			paused = append(paused, vid(i))
		}
	}
	byRank := make([]linkage.Registration, len(regs))
	for i, r := range regs {
		byRank[i] = r
		byRank[i].Issued = -1
	}
	run := linkageRun{atOnce: map[string]int{}, paused: map[string]int{}, n: n}
	for name, g := range map[string]linkage.Guess{
		"order (registrar: own issuance entry)": linkage.ByOrder(regs, b),
		"order (observer: k-th registration)":   linkage.ByOrder(byRank, b),
		"time":                                  linkage.ByTime(regs, b),
	} {
		run.atOnce[name], run.paused[name] = linkage.Correct(g, truth, atOnce), linkage.Correct(g, truth, paused)
	}
	run.chance = linkage.Chance(b, truth, atOnce)
	return run
}

func (r linkageRun) best() (atOnce, paused int) {
	for name := range r.atOnce {
		atOnce, paused = max(atOnce, r.atOnce[name]), max(paused, r.paused[name])
	}
	return
}

// TestRegistrationCastUnlinkable is the timing attack of abuse-test H-2
// (SPEC.md §15.5): without batches the board's order links most voters
// who register and cast at once to their ballot; with koe serve's default
// batches, no strategy links more than about one in a batch.
func TestRegistrationCastUnlinkable(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates two elections of 80 voters")
	}
	const n = 40
	before := simulateLinkage(t, n, false, 1)
	after := simulateLinkage(t, n, true, 1)
	for _, r := range []struct {
		name string
		run  linkageRun
	}{{"appended at once", before}, {"timed batches", after}} {
		for name := range r.run.atOnce {
			t.Logf("%s, %s: at-once voters linked %d/%d, paused voters %d/%d", r.name, name, r.run.atOnce[name], n, r.run.paused[name], n)
		}
	}
	t.Logf("timed batches: chance within a batch links %.1f of %d at-once voters", after.chance, n)
	if a, _ := before.best(); a < n/2 {
		t.Errorf("without batches the attack linked only %d of %d at-once voters: the test does not detect linkage", a, n)
	}
	// Chance is about n/batch (a few); 12 of 40 is far beyond it.
	if a, p := after.best(); a > 12 || p > 12 {
		t.Errorf("with timed batches the attack still linked %d at-once and %d paused voters of %d each", a, p, n)
	}
}
