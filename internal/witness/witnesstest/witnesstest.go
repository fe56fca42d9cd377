// Package witnesstest runs real, off-the-shelf witnesses for koe's tests:
// the omniwitness of github.com/transparency-dev/witness, at the version
// that tools/omniwitness/go.mod pins (a module of its own, so that the
// witness's dependencies stay out of koe's go.mod), started by package
// omniwitness. Each instance listens on loopback at a random port with a
// fresh key and a SQLite database in a temporary directory, configured to
// witness the board origins it is given; several instances stand for the
// organisations of a witness policy (SPEC.md §13.7). Nothing here
// implements a witness.
package witnesstest

import (
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/koe-vote/koe/internal/witness"
	"github.com/koe-vote/koe/internal/witness/omniwitness"
)

// Log is a board the witnesses accept: its checkpoint origin and the
// board's note verifier key text (SPEC.md §13.3).
type Log = omniwitness.Log

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds the omniwitness of this source tree's tools/omniwitness
// once per test process (omniwitness.Build caches it by its go.sum) and
// returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		binPath, buildErr = omniwitness.Build(filepath.Join(filepath.Dir(file), "..", "..", "..", "tools", "omniwitness"))
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Witness is one running omniwitness, stopped when its test ends.
type Witness struct {
	*omniwitness.Witness
	t testing.TB
}

// Start runs an omniwitness named name that witnesses logs.
func Start(t testing.TB, name string, logs ...Log) *Witness {
	t.Helper()
	w, err := omniwitness.Start(Binary(t), t.TempDir(), name, logs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return &Witness{Witness: w, t: t}
}

// Restart starts a stopped witness again on the same address, with the
// same key and database: it remembers what it cosigned.
func (w *Witness) Restart() {
	w.t.Helper()
	if err := w.Witness.Restart(); err != nil {
		w.t.Fatal(err)
	}
}

// Peer returns a witness.Peer that submits to this witness.
func (w *Witness) Peer() *witness.Peer {
	return &witness.Peer{Name: w.Name, Key: w.Key, Client: &witness.Client{URL: w.URL}}
}
