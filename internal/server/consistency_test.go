package server_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
)

// TestConsistencyRoute checks GET /elections/{id}/consistency (SPEC.md
// §13.5): the proof between a checkpoint taken after the election's
// creation and one after its key ceremony checks against both signed
// checkpoints, and bad sizes are refused with 400 and a clear message.
func TestConsistencyRoute(t *testing.T) {
	ctx := context.Background()
	h := start(t, sqliteStore(t))
	voter := client.New(h.url, "")
	manifest, _ := examples.Manifest("referendum")
	var created api.Created
	must(t, h.admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created))
	id := created.ID
	v, err := note.NewVerifier(created.BoardKey)
	must(t, err)
	checkpoint := func() *board.Checkpoint {
		raw, err := voter.Raw(ctx, "GET", api.ElectionPath(id, "/log/checkpoint"), "", nil)
		must(t, err)
		cp, err := board.ParseCheckpoint(raw, v)
		must(t, err)
		return cp
	}
	older := checkpoint()
	manifest = serverManifest(t, h.url, id, manifest)
	_, err = demo.ServerCeremony(ctx, h.url, id, manifest, created.TrusteeTokens)
	must(t, err)
	newer := checkpoint()
	if newer.Size <= older.Size {
		t.Fatalf("the ceremony added no entries (%d, %d)", older.Size, newer.Size)
	}
	get := func(query string) (*api.ConsistencyProof, error) {
		raw, err := voter.Raw(ctx, "GET", api.ElectionPath(id, "/consistency?"+query), "", nil)
		if err != nil {
			return nil, err
		}
		var p api.ConsistencyProof
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		return &p, nil
	}
	proofOf := func(p *api.ConsistencyProof) tlog.TreeProof {
		var out tlog.TreeProof
		for _, s := range p.Proof {
			b, err := hex.DecodeString(s)
			if err != nil || len(b) != 32 {
				t.Fatalf("proof hash %q", s)
			}
			out = append(out, tlog.Hash(b))
		}
		return out
	}
	p, err := get(fmt.Sprintf("from=%d&to=%d", older.Size, newer.Size))
	must(t, err)
	if p.From != older.Size || p.To != newer.Size || len(p.Proof) == 0 {
		t.Fatalf("answer %+v", p)
	}
	must(t, board.CheckConsistency(older.Note, newer.Note, proofOf(p), v))
	// The proof does not take a forked tree of the older size to the newer.
	forked := *older
	forked.Hash[0] ^= 1
	if err := tlog.CheckTree(proofOf(p), newer.Size, newer.Hash, forked.Size, forked.Hash); err == nil {
		t.Fatal("the proof takes an altered older tree to the newer one")
	}
	for _, q := range []string{fmt.Sprintf("from=0&to=%d", newer.Size), fmt.Sprintf("from=%d&to=%d", newer.Size, newer.Size)} {
		p, err := get(q)
		must(t, err)
		if len(p.Proof) != 0 {
			t.Fatalf("%s: %d hashes, want none", q, len(p.Proof))
		}
	}
	for _, c := range []struct{ query, why string }{
		{fmt.Sprintf("from=%d&to=%d", newer.Size, older.Size), "from > to"},
		{fmt.Sprintf("from=1&to=%d", newer.Size+1), "to beyond the board"},
		{"from=a&to=2", "not a number"},
		{"from=1&to=2x", "trailing garbage"},
		{"from=-1&to=2", "a sign"},
		{"from=01&to=2", "a leading zero"},
		{"from=1", "to missing"},
		{"to=2", "from missing"},
		{"from=1&from=1&to=2", "from twice"},
		{"from=1&to=99999999999999999999", "too large"},
		{"from=&to=2", "empty"},
	} {
		_, err := get(c.query)
		var ae *client.Error
		if !errors.As(err, &ae) || ae.Code != api.CodeMalformed || ae.Status != 400 || ae.Message == "" {
			t.Errorf("%s (%s): %v, want 400 malformed with a message", c.query, c.why, err)
		}
	}
	_, err = voter.Raw(ctx, "GET", api.ElectionPath("no-such-election", "/consistency?from=0&to=0"), "", nil)
	wantCode(t, err, api.CodeNoElection)
}
