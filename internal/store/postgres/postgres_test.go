package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/store/postgres"
	"github.com/koe-vote/koe/internal/store/storetest"
)

var _ storetest.Cataloger = (*postgres.Store)(nil)

const defaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// serverURL returns the test server's URL ($KOE_POSTGRES_URL, or a local
// server with trust authentication: see scripts/postgres), skipping the
// test if the server can't be reached, unless $CI is set.
func serverURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("KOE_POSTGRES_URL")
	if u == "" {
		u = defaultURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("PostgreSQL at $KOE_POSTGRES_URL (or %s) unreachable: %v", defaultURL, err)
		}
		tb.Skipf("PostgreSQL unreachable (run scripts/postgres, or set $KOE_POSTGRES_URL): %v", err)
	}
	conn.Close(ctx)
	return u
}

// withSearchPath returns u with its search_path set to schema.
func withSearchPath(tb testing.TB, u, schema string) string {
	if !strings.Contains(u, "://") {
		return u + " search_path=" + schema
	}
	p, err := url.Parse(u)
	if err != nil {
		tb.Fatal(err)
	}
	q := p.Query()
	q.Set("search_path", schema)
	p.RawQuery = q.Encode()
	return p.String()
}

// freshSchema creates a schema with a random name, dropped when the test
// ends, and returns the URL that uses it.
func freshSchema(tb testing.TB) string {
	tb.Helper()
	u := serverURL(tb)
	schema := "koetest_" + hex.EncodeToString(randBytes(8))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			tb.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Error(err)
		}
	})
	return withSearchPath(tb, u, schema)
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

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

func open(tb testing.TB) store.Store { return openAt(tb, freshSchema(tb)) }

func TestStore(t *testing.T) {
	serverURL(t) // skip (or fail) once, not in every subtest
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
	u := freshSchema(t)
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
	u := withSearchPath(t, serverURL(t), "koetest_missing_"+hex.EncodeToString(randBytes(4)))
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
	serverURL(b)
	storetest.BenchmarkCastBallots(b, func(b *testing.B) store.Store { return open(b) })
}
