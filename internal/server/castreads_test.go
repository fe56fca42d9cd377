package server_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/store"
)

// countingStore counts the reads of election rows (manifest and sealed
// configuration) that the server makes.
type countingStore struct {
	store.Store
	reads atomic.Int64
}

func (c *countingStore) Election(ctx context.Context, id string) (store.Election, error) {
	c.reads.Add(1)
	return c.Store.Election(ctx, id)
}

// TestCastDoesNotReadElectionRow checks code review item 9: once an
// election is open, casting does not read the election's row for every
// ballot (the store's transaction checks the state), yet a ballot cast
// after the close is still refused as closed.
func TestCastDoesNotReadElectionRow(t *testing.T) {
	ctx := context.Background()
	st := &countingStore{Store: sqliteStore(t)}
	h := start(t, st)
	manifest, _ := examples.Manifest("referendum")
	var created api.Created
	must(t, h.admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created))
	id := created.ID
	_, err := demo.ServerCeremony(ctx, h.url, id, manifest, created.TrusteeTokens)
	must(t, err)
	const n = 6
	codes, err := demo.ImportRoll(ctx, h.admin, id, "R", n+1)
	must(t, err)
	must(t, h.admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil))
	voter := client.New(h.url, "")
	el, err := voter.Election(ctx, id)
	must(t, err)
	pt, _ := el.E.Manifest.Plaintext(ballot.Answers{"plan": "no"})
	var envs []*ballotbox.Envelope
	for i := range n + 1 {
		vid := fmt.Sprintf("R%05d", i)
		cred, err := voter.Register(ctx, el, vid, codes[vid])
		must(t, err)
		env, _, _, err := client.Seal(el, cred, pt, 1)
		must(t, err)
		envs = append(envs, env)
	}
	if _, err := voter.Cast(ctx, id, envs[0]); err != nil { // the first cast may load the key
		t.Fatal(err)
	}
	before := st.reads.Load()
	for _, env := range envs[1:n] {
		if _, err := voter.Cast(ctx, id, env); err != nil {
			t.Fatal(err)
		}
	}
	if reads := st.reads.Load() - before; reads != 0 {
		t.Errorf("%d casts read the election's row %d times, want 0", n-1, reads)
	}
	must(t, h.admin.Do(ctx, "POST", api.ElectionPath(id, "/close"), "", nil, nil))
	_, err = voter.Cast(ctx, id, envs[n])
	wantCode(t, err, "closed")
}
