package postgres_test

import (
	"context"
	"encoding/hex"
	"strings"
	"sync"
	"testing"

	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/store/postgres"
	"github.com/koe-vote/koe/internal/store/postgres/pgtest"
	"github.com/koe-vote/koe/internal/store/storetest"
)

var _ storetest.Cataloger = (*postgres.Store)(nil)

// urls remembers each open store's URL, for reopening.
var urls sync.Map // store.Store → string

func openAt(tb testing.TB, u string) store.Store {
	tb.Helper()
	s, err := postgres.Open(context.Background(), u)
	if err != nil {
		tb.Fatal(err)
	}
	// Registered after freshSchema's cleanup, so it runs first.
	tb.Cleanup(func() { s.Close() })
	urls.Store(s, u)
	return s
}

func open(tb testing.TB) store.Store { return openAt(tb, pgtest.FreshSchema(tb)) }

func TestStore(t *testing.T) {
	pgtest.ServerURL(t) // skip (or fail) once, not in every subtest
	storetest.Run(t,
		func(t *testing.T) store.Store { return open(t) },
		storetest.Reopen(func(t *testing.T, s store.Store) store.Store {
			u, _ := urls.Load(s)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return openAt(t, u.(string))
		}))
}

func TestOpenTwice(t *testing.T) {
	// Two stores on one database (as two koe processes would): their
	// appends interleave into one log, and casts of one credential race
	// across them to a single ballot.
	u := pgtest.FreshSchema(t)
	a, b := openAt(t, u), openAt(t, u)
	ctx := t.Context()
	if err := a.CreateElection(ctx, store.Election{ID: "e", State: "open"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	stored := 0
	for i, s := range []store.Store{a, b, a, b} {
		wg.Go(func() {
			for k := range 10 {
				if _, err := s.Append(ctx, "e", [][]byte{[]byte("x"), []byte("y")}); err != nil {
					t.Error(err)
					return
				}
				res, err := s.CastBallots(ctx, "e", []store.Cast{{
					Credential: [32]byte{byte(k)}, Counter: 1, Tracking: [32]byte{byte(i), byte(k)}, Entry: []byte("ballot"),
				}})
				if err != nil {
					t.Error(err)
					return
				}
				if res[0].Err == nil {
					mu.Lock()
					stored++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if stored != 10 {
		t.Errorf("%d ballots stored, want 10", stored)
	}
	for _, s := range []store.Store{a, b} {
		if n, err := s.TreeSize(ctx, "e"); err != nil || n != 90 {
			t.Errorf("TreeSize = %d, %v; want 90", n, err)
		}
	}
}

func TestOpenMissingSchema(t *testing.T) {
	u := pgtest.WithSearchPath(t, pgtest.ServerURL(t), "koetest_missing_"+hex.EncodeToString(pgtest.RandBytes(4)))
	s, err := postgres.Open(t.Context(), u)
	if err == nil {
		s.Close()
		t.Fatal("Open with a missing schema succeeded")
	}
	if !strings.Contains(err.Error(), "CREATE SCHEMA") {
		t.Errorf("error %q gives no hint", err)
	}
}

func BenchmarkCastBallots(b *testing.B) {
	pgtest.ServerURL(b)
	storetest.BenchmarkCastBallots(b, func(b *testing.B) store.Store { return open(b) })
}
