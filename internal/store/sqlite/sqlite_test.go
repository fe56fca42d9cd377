package sqlite_test

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/store/sqlite"
	"github.com/koe-vote/koe/internal/store/storetest"
)

var _ storetest.Cataloger = (*sqlite.Store)(nil)

// paths remembers each open store's file, for reopening.
var paths sync.Map // store.Store → string

func openAt(tb testing.TB, path string) store.Store {
	tb.Helper()
	s, err := sqlite.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	paths.Store(s, path)
	return s
}

func open(tb testing.TB) store.Store {
	return openAt(tb, filepath.Join(tb.TempDir(), "koe.db"))
}

func TestStore(t *testing.T) {
	storetest.Run(t,
		func(t *testing.T) store.Store { return open(t) },
		storetest.Reopen(func(t *testing.T, s store.Store) store.Store {
			path, _ := paths.Load(s)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return openAt(t, path.(string))
		}))
}

func TestOpenTwice(t *testing.T) {
	// Two stores on one file (as two processes would) see each other's
	// writes, and their appends interleave into one log.
	path := filepath.Join(t.TempDir(), "koe.db")
	a, b := openAt(t, path), openAt(t, path)
	ctx := t.Context()
	if err := a.CreateElection(ctx, store.Election{ID: "e", State: "setup"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, s := range []store.Store{a, b} {
		wg.Go(func() {
			for range 20 {
				if _, err := s.Append(ctx, "e", [][]byte{[]byte("x"), []byte("y")}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, s := range []store.Store{a, b} {
		if n, err := s.TreeSize(ctx, "e"); err != nil || n != 80 {
			t.Errorf("TreeSize = %d, %v; want 80", n, err)
		}
	}
}

func TestOpenBadPath(t *testing.T) {
	for _, p := range []string{"", "a?b", "file:x.db", filepath.Join(t.TempDir(), "missing", "koe.db")} {
		if s, err := sqlite.Open(p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func BenchmarkCastBallots(b *testing.B) {
	storetest.BenchmarkCastBallots(b, func(b *testing.B) store.Store { return open(b) })
}
