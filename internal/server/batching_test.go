package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"testing"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/server"
)

// TestBatchedRegistrationRetry: with timed batches a registration is
// answered at its batch's tick, and the same request made again (a retry
// after a lost answer) gets the same blind signature and records nothing.
func TestBatchedRegistrationRetry(t *testing.T) {
	ctx := context.Background()
	sim := newSimElection(t, 2, true)
	pending, blinded, err := credential.Request(rand.Reader, sim.el.Registrar, sim.el.E.Context)
	must(t, err)
	req := map[string]any{"voter": "L00000", "code": sim.codes["L00000"], "blinded": blinded}
	register := func() chan []byte {
		out := make(chan []byte, 1)
		go func() {
			var resp api.RegisterResponse
			if err := sim.voter.JSON(ctx, "POST", api.ElectionPath(sim.id, "/register"), req, &resp); err != nil {
				t.Errorf("register: %v", err)
			}
			out <- resp.BlindSignature
		}()
		return out
	}
	size := len(sim.entries(t))
	first := register()
	sim.waitQueued(t, 1, 0)
	if n := len(sim.entries(t)); n != size {
		t.Fatalf("the issuance entry was appended before its batch's tick (board %d → %d)", size, n)
	}
	server.FlushIssues(sim.srv, sim.id)
	sig := <-first
	if _, err := pending.Finalize(sig); err != nil {
		t.Fatalf("the batched blind signature does not finalise: %v", err)
	}
	retry := register()
	sim.waitQueued(t, 1, 0)
	server.FlushIssues(sim.srv, sim.id)
	if again := <-retry; !bytes.Equal(again, sig) {
		t.Error("a retry of the same registration got another signature")
	}
	entries := sim.entries(t)
	issued := 0
	for _, raw := range entries {
		if e, _ := board.DecodeEntry(raw); e.Type == board.TypeCredentialIssued {
			issued++
		}
	}
	if issued != 1 || len(entries) != size+1 {
		t.Errorf("the board holds %d issuance entries (%d entries, %d before), want 1", issued, len(entries), size)
	}
}

// TestCloseCommitsWaitingBatches: closing the election first commits the
// registrations and casts waiting for their batch, so nothing lands after
// the close entry and every waiting voter is answered.
func TestCloseCommitsWaitingBatches(t *testing.T) {
	ctx := context.Background()
	sim := newSimElection(t, 2, true)
	regDone := make(chan *credential.Credential, 1)
	go func() {
		cred, err := sim.voter.Register(ctx, sim.el, "L00000", sim.codes["L00000"])
		if err != nil {
			t.Errorf("register: %v", err)
		}
		regDone <- cred
	}()
	sim.waitQueued(t, 1, 0)
	server.FlushIssues(sim.srv, sim.id)
	cred := <-regDone
	pt, _ := sim.el.E.Manifest.Plaintext(ballot.Answers{"plan": "no"})
	env, _, _, err := client.Seal(sim.el, cred, pt, 1)
	must(t, err)
	castDone := make(chan error, 1)
	go func() { _, err := sim.voter.Cast(ctx, sim.id, env); castDone <- err }()
	lateDone := make(chan error, 1)
	go func() { _, err := sim.voter.Register(ctx, sim.el, "L00001", sim.codes["L00001"]); lateDone <- err }()
	sim.waitQueued(t, 1, 1)
	must(t, sim.admin.Do(ctx, "POST", api.ElectionPath(sim.id, "/close"), "", nil, nil))
	server.FlushIssues(sim.srv, sim.id) // the ticks after the close (nothing waits any more)
	server.FlushCasts(sim.srv, sim.id)
	must(t, <-castDone)
	must(t, <-lateDone)
	entries := sim.entries(t)
	last, err := board.DecodeEntry(entries[len(entries)-1])
	must(t, err)
	if last.Type != board.TypeClose {
		t.Fatalf("the board ends with a %s entry, not the close", last.Type)
	}
	var types []string
	for _, raw := range entries[len(entries)-3:] {
		e, _ := board.DecodeEntry(raw)
		types = append(types, e.Type)
	}
	if types[0] != board.TypeCredentialIssued || types[1] != board.TypeBallot {
		t.Errorf("the board ends with %v, want the waiting issuance and ballot before the close", types)
	}
}

// TestMetricsAreTheAdministrators: the metrics move with every request,
// so read often they would time each cast within its batch; only the
// administrator may read them.
func TestMetricsAreTheAdministrators(t *testing.T) {
	h := start(t, sqliteStore(t))
	resp, err := http.Get(h.url + "/metrics")
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /metrics without the administrator's token: %s, want 401", resp.Status)
	}
	body, err := h.admin.Raw(context.Background(), "GET", "/metrics", "", nil)
	must(t, err)
	if !bytes.Contains(body, []byte("koe_casts_total")) && !bytes.Contains(body, []byte("koe_http_request_duration_seconds")) {
		t.Errorf("the administrator's /metrics holds no koe metric:\n%.300s", body)
	}
}
