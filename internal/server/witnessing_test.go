package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/koe-vote/koe/internal/api"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/server"
	"github.com/koe-vote/koe/internal/verify"
	"github.com/koe-vote/koe/internal/witness"
	"github.com/koe-vote/koe/internal/witness/witnesstest"
)

// TestWitnessedElection runs an election whose manifest names three real
// omniwitnesses on loopback (the city, a university, a newspaper), quorum
// 2 (SPEC.md §13.7, §15.7): every cast gets its receipt at once; the
// board's checkpoints get cosigned; with one witness stopped the quorum is
// still met; with two stopped casting goes on and the latest checkpoint
// waits, cosigned once they are back; the published record satisfies the
// policy, and the metrics count the failures.
func TestWitnessedElection(t *testing.T) {
	w := startWitnessed(t, "witnessed", nil)
	ctx, admin, voter, id, ws, pol, cast, cosigned := context.Background(), w.admin, w.voter, w.id, w.ws, w.pol, w.cast, w.cosigned
	trustees, manifest, created, ts := w.trustees, w.manifest, w.created, w.ts
	r := cast()
	if c := cosigned(r.Index, 3); len(c) != 3 {
		t.Fatalf("%d cosigners", len(c))
	}
	ws[2].Stop()
	r = cast()
	cosigned(r.Index, 2)

	ws[1].Stop()
	r = cast() // casting goes on: the receipt is the board's alone
	if _, _, err := pol.Verify([]byte(r.Checkpoint)); !errors.Is(err, witness.ErrQuorum) {
		t.Fatalf("a receipt's checkpoint: %v, want the board's signature only", err)
	}
	signed, err := voter.Raw(ctx, "GET", api.ElectionPath(id, "/cosigned-checkpoint"), "", nil)
	must(t, err)
	if cp, _, err := pol.Verify(signed); err != nil || cp.Size > r.Index {
		t.Fatalf("with 2 of 3 witnesses down, the ballot is already covered by a cosigned checkpoint (%v)", err)
	}
	ws[1].Restart()
	ws[2].Restart()
	r = cast()
	if c := cosigned(r.Index, 3); len(c) != 3 {
		t.Fatalf("after restart: %d cosigners", len(c))
	}

	must(t, admin.Do(ctx, "POST", api.ElectionPath(id, "/close"), "", nil, nil))
	must(t, admin.Do(ctx, "POST", api.ElectionPath(id, "/tally"), "", nil, nil))
	must(t, demo.ServerDecrypt(ctx, ts.URL, id, manifest, trustees, created.TrusteeTokens, []int{1, 2, 3}))
	must(t, admin.Do(ctx, "POST", api.ElectionPath(id, "/publish"), "", nil, nil))
	if _, err := voter.Raw(ctx, "GET", api.ElectionPath(id, "/record"), "", nil); err != nil {
		t.Fatalf("record: %v", err)
	}
	dir := downloadRecord(t, &harness{t: t, url: ts.URL, admin: admin}, id)
	if rep := verify.Record(dir, verify.Options{}); !rep.OK() {
		t.Fatalf("the witnessed record: %+v", rep.Failures())
	}
	metrics, err := admin.Raw(ctx, "GET", "/metrics", "", nil)
	must(t, err)
	if !strings.Contains(string(metrics), `koe_witness_failures_total{election="witnessed",reason="unavailable",witness="witness.news.example"}`) {
		t.Fatalf("no failure counted for the stopped witness:\n%s", grepLines(string(metrics), "koe_witness"))
	}
}

// witnessed is an open election whose manifest names three real
// omniwitnesses on loopback (the city, a university, a newspaper), quorum 2.
type witnessed struct {
	ts           *httptest.Server
	admin, voter *client.Client
	id           string
	ws           []*witnesstest.Witness
	pol          *witness.Policy
	manifest     []byte
	created      api.Created
	trustees     []*ceremony.Trustee
	cast         func() *board.Receipt
	cosigned     func(i int64, want int) []*witness.Key
}

// startWitnessed opens election id; front, if not nil, gives the URL the
// manifest names for witness i (e.g. a proxy in front of it).
func startWitnessed(t *testing.T, id string, front func(i int, w *witnesstest.Witness) string) *witnessed {
	ctx := context.Background()
	st := sqliteStore(t)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	srv, err := server.New(server.Config{Store: st, Origin: "koe.test", BoardKey: key, AdminToken: adminToken,
		RegistrarBits: 2048, RegisterRate: 1000, RegisterBurst: 1000, CastRate: 1000, CastBurst: 1000,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	must(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	admin, voter := client.New(ts.URL, adminToken), client.New(ts.URL, "")

	raw, err := voter.Raw(ctx, "GET", "/api/v1/board-key/"+id, "", nil)
	must(t, err)
	boardKey := strings.TrimSuffix(string(raw), "\n")
	logCfg := witnesstest.Log{Origin: board.Origin("koe.test", id), Key: boardKey}
	var ws []*witnesstest.Witness
	var list []ballot.Witness
	for i, org := range []string{"city", "univ", "news"} {
		w := witnesstest.Start(t, "witness."+org+".example", logCfg)
		ws = append(ws, w)
		url := w.URL
		if front != nil {
			url = front(i, w)
		}
		list = append(list, ballot.Witness{Name: ballot.Text{Ja: fmt.Sprintf("証人%d", i+1), En: org}, Key: w.Key.String(), URL: url})
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
	var created api.Created
	must(t, admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created))
	trustees, err := demo.ServerCeremony(ctx, ts.URL, id, manifest, created.TrusteeTokens)
	must(t, err)
	codes, err := demo.ImportRoll(ctx, admin, id, "W", 8)
	must(t, err)
	must(t, admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil))
	el, err := voter.Election(ctx, id)
	must(t, err)
	yes, _ := el.E.Manifest.Plaintext(ballot.Answers{"plan": "yes"})
	voterNo := 0
	cast := func() *board.Receipt {
		t.Helper()
		vid := fmt.Sprintf("W%05d", voterNo)
		voterNo++
		cred, err := voter.Register(ctx, el, vid, codes[vid])
		must(t, err)
		env, _, _, err := client.Seal(el, cred, yes, 1)
		must(t, err)
		r, err := voter.Cast(ctx, id, env)
		must(t, err)
		return r.Receipt
	}
	// cosigned waits (bounded) until the cosigned checkpoint covers entry i
	// with at least want cosigners, and returns them.
	cosigned := func(i int64, want int) []*witness.Key {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			signed, err := voter.Raw(ctx, "GET", api.ElectionPath(id, "/cosigned-checkpoint"), "", nil)
			if err == nil {
				cp, c, err := pol.Verify(signed)
				if err != nil {
					t.Fatalf("the served cosigned checkpoint: %v", err)
				}
				if cp.Size > i && len(c) >= want {
					return c
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("entry %d not cosigned by %d witnesses in time (%v)", i, want, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return &witnessed{ts: ts, admin: admin, voter: voter, id: id, ws: ws, pol: pol, manifest: manifest, created: created,
		trustees: trustees, cast: cast, cosigned: cosigned}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestSlowWitnessDoesNotHoldQuorum: with one of three witnesses slow (a
// proxy holds its submissions), the cosigned checkpoint that covers a
// ballot reaches the quorum before any submission to the slow witness has
// timed out; once the proxy lets it through, all
// three cosign.
func TestSlowWitnessDoesNotHoldQuorum(t *testing.T) {
	release := make(chan struct{})
	var gaveUp atomic.Int64 // held submissions whose sender stopped waiting (its timeout)
	w := startWitnessed(t, "slow-witness", func(i int, ow *witnesstest.Witness) string {
		if i != 2 {
			return ow.URL
		}
		target, err := url.Parse(ow.URL)
		must(t, err)
		rp := httputil.NewSingleHostReverseProxy(target)
		px := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			// Read the body first: only then does the server notice a sender
			// that gave up (its request's context ends).
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			select {
			case <-release:
				rp.ServeHTTP(rw, r)
			case <-r.Context().Done():
				gaveUp.Add(1)
			}
		}))
		t.Cleanup(px.Close)
		t.Cleanup(func() {
			select {
			case <-release:
			default:
				close(release)
			}
		})
		return px.URL
	})
	r := w.cast()
	c := w.cosigned(r.Index, 2)
	if n := gaveUp.Load(); n != 0 {
		t.Fatalf("the quorum was served only after %d submissions to the slow witness timed out", n)
	}
	if slices.Contains(c, w.ws[2].Key) {
		t.Fatal("the held witness cosigned")
	}
	close(release)
	if c := w.cosigned(r.Index, 3); len(c) != 3 {
		t.Fatalf("after the slow witness answered: %d cosigners", len(c))
	}
}
