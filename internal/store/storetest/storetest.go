// Package storetest is the conformance suite every [store.Store] backend
// passes: call [Run] from the backend's tests, and [BenchmarkCastBallots]
// from its benchmarks.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/koe-vote/koe/internal/store"
)

// An Option adds to what [Run] tests.
type Option func(*config)

type config struct {
	reopen func(t *testing.T, s store.Store) store.Store
}

// Reopen enables the persistence tests: reopen must close s and return a
// new Store on the same database.
func Reopen(reopen func(t *testing.T, s store.Store) store.Store) Option {
	return func(c *config) { c.reopen = reopen }
}

// A Cataloger reports the columns of a table of its database, from the
// database's own catalog. Backends implement it so that Run can check that
// the schema keeps the registrar's and the ballot box's data apart.
type Cataloger interface {
	TableColumns(ctx context.Context, table string) ([]string, error)
}

// Run runs the conformance suite. open must return a new, empty store and
// arrange (with t.Cleanup) for it to be closed and removed.
func Run(t *testing.T, open func(t *testing.T) store.Store, opts ...Option) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	tests := []struct {
		name string
		f    func(t *testing.T, s store.Store)
	}{
		{"Elections", testElections},
		{"SetState", testSetState},
		{"SetConfig", testSetConfig},
		{"SetManifest", testSetManifest},
		{"DeleteElection", testDeleteElection},
		{"CastOnlyWhenOpen", testCastOnlyWhenOpen},
		{"Log", testLog},
		{"LogErrors", testLogErrors},
		{"Roll", testRoll},
		{"Issue", testIssue},
		{"Reissue", testReissue},
		{"Cast", testCast},
		{"CastConcurrentReplay", testCastConcurrentReplay},
		{"CounterRace", testCounterRace},
		{"CrossBallotRules", testCrossBallotRules},
		{"SpoilCastRace", testSpoilCastRace},
		{"ConcurrentAppends", testConcurrentAppends},
		{"Isolation", testIsolation},
		{"Checkpoint", testCheckpoint},
		{"Schema", testSchema},
		{"Pending", testPending},
		{"Accounts", testAccounts},
		{"Audit", testAudit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.f(t, open(t)) })
	}
	t.Run("Reopen", func(t *testing.T) {
		if c.reopen == nil {
			t.Skip("backend has no Reopen hook")
		}
		testReopen(t, open(t), c.reopen)
	})
}

func newElection(t *testing.T, s store.Store, id string) {
	t.Helper()
	err := s.CreateElection(t.Context(), store.Election{
		ID: id, State: "setup", Manifest: []byte("manifest of " + id), Config: []byte(`{"id":"` + id + `"}`),
	})
	if err != nil {
		t.Fatalf("CreateElection(%q): %v", id, err)
	}
}

// openElection creates an election and opens it for casting.
func openElection(t *testing.T, s store.Store, id string) {
	t.Helper()
	newElection(t, s, id)
	if err := s.SetState(t.Context(), id, "setup", store.StateOpen, nil); err != nil {
		t.Fatalf("SetState(%q, open): %v", id, err)
	}
}

func testCastOnlyWhenOpen(t *testing.T, s store.Store) {
	ctx := t.Context()
	newElection(t, s, "e")
	c := []store.Cast{{Credential: cred(1), Counter: 1, Tracking: track(1), Entry: entry("cast", 0)}}
	if _, err := s.CastBallots(ctx, "e", c); !errors.Is(err, store.ErrStateConflict) {
		t.Fatalf("CastBallots before opening = %v, want ErrStateConflict", err)
	}
	if err := s.SetState(ctx, "e", "setup", store.StateOpen, nil); err != nil {
		t.Fatal(err)
	}
	if res, err := s.CastBallots(ctx, "e", c); err != nil || res[0].Err != nil {
		t.Fatalf("CastBallots while open = %v, %v", res, err)
	}
	if err := s.SetState(ctx, "e", store.StateOpen, "closed", []byte("closed")); err != nil {
		t.Fatal(err)
	}
	c[0].Counter, c[0].Tracking = 2, track(2)
	if _, err := s.CastBallots(ctx, "e", c); !errors.Is(err, store.ErrStateConflict) {
		t.Fatalf("CastBallots after closing = %v, want ErrStateConflict", err)
	}
	if n, _ := s.TreeSize(ctx, "e"); n != 2 {
		t.Fatalf("tree size %d after a cast and a close, want 2", n)
	}
}

func testElections(t *testing.T, s store.Store) {
	ctx := t.Context()
	if es, err := s.Elections(ctx); err != nil || len(es) != 0 {
		t.Fatalf("Elections of an empty store = %v, %v; want none", es, err)
	}
	ids := []string{"zeta", "alpha", "mu"}
	for _, id := range ids {
		newElection(t, s, id)
	}
	err := s.CreateElection(ctx, store.Election{ID: "alpha", State: "open", Manifest: []byte("other")})
	if !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateElection of a taken id: %v, want ErrExists", err)
	}
	for _, id := range ids {
		e, err := s.Election(ctx, id)
		if err != nil {
			t.Fatalf("Election(%q): %v", id, err)
		}
		if e.ID != id || e.State != "setup" || string(e.Manifest) != "manifest of "+id || string(e.Config) != `{"id":"`+id+`"}` {
			t.Errorf("Election(%q) = %+v", id, e)
		}
	}
	if _, err := s.Election(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Election of a missing id: %v, want ErrNotFound", err)
	}
	es, err := s.Elections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.ID)
	}
	if !slices.Equal(got, ids) {
		t.Errorf("Elections = %q, want %q (order of creation)", got, ids)
	}
}

func testSetManifest(t *testing.T, s store.Store) {
	ctx := t.Context()
	newElection(t, s, "e")
	if _, err := s.Append(ctx, "e", [][]byte{entry("manifest", 0), entry("registrar-key", 1)}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, id, state string
		size            int64
		err             error
	}{
		{"wrong state", "e", "open", 2, store.ErrStateConflict},
		{"log grew meanwhile", "e", "setup", 1, store.ErrStateConflict},
		{"log larger than seen", "e", "setup", 3, store.ErrStateConflict},
		{"no such election", "nope", "setup", 0, store.ErrNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.SetManifest(ctx, tt.id, tt.state, tt.size, []byte("refused"), entry("refused", 0)); !errors.Is(err, tt.err) {
				t.Fatalf("SetManifest = %v, want %v", err, tt.err)
			}
		})
	}
	if n, _ := s.TreeSize(ctx, "e"); n != 2 {
		t.Fatalf("tree size %d after refused SetManifest calls, want 2", n)
	}
	if err := s.SetManifest(ctx, "e", "setup", 2, []byte("manifest v2"), entry("manifest", 2)); err != nil {
		t.Fatalf("SetManifest: %v", err)
	}
	e, err := s.Election(ctx, "e")
	if err != nil || string(e.Manifest) != "manifest v2" || e.State != "setup" {
		t.Fatalf("Election after SetManifest = %q %q, %v; want the new manifest, still in setup", e.Manifest, e.State, err)
	}
	got, err := s.ReadEntries(ctx, "e", 2, 1)
	if err != nil || !bytes.Equal(got[0], entry("manifest", 2)) {
		t.Fatalf("entry 2 after SetManifest = %q, %v; want the superseding entry", got, err)
	}
}

// testDeleteElection deletes an election with something in every table
// of its data, and checks that nothing of it can be read, that its id is
// never taken again and that another election is untouched.
func testDeleteElection(t *testing.T, s store.Store) {
	ctx := t.Context()
	fill := func(id string) {
		openElection(t, s, id)
		if _, err := s.Append(ctx, id, [][]byte{entry("manifest", 0)}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveCheckpoint(ctx, id, 1, []byte(id+"@1")); err != nil {
			t.Fatal(err)
		}
		if err := s.ImportRoll(ctx, id, []store.RollEntry{{Voter: voter(1), Code: code(1)}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.IssueCredential(ctx, id, store.Issue{Voter: voter(1), Code: code(1), Blinded: sha256.Sum256([]byte("b")), Entry: entry("issued", 1)}); err != nil {
			t.Fatal(err)
		}
		if res, err := s.CastBallots(ctx, id, []store.Cast{{Credential: cred(1), Counter: 1, Tracking: track(1), Ciphertexts: [][32]byte{cred(9)}, Entry: entry("cast", 2)}}); err != nil || res[0].Err != nil {
			t.Fatalf("CastBallots: %v, %v", res, err)
		}
		if _, err := s.SpoilBallot(ctx, id, store.Spoil{Tracking: track(2), Ciphertexts: [][32]byte{cred(8)}, Entry: entry("spoiled", 3)}); err != nil {
			t.Fatal(err)
		}
	}
	fill("gone")
	fill("kept")
	if err := s.DeleteElection(ctx, "gone", "setup"); !errors.Is(err, store.ErrStateConflict) {
		t.Fatalf("DeleteElection in the wrong state = %v, want ErrStateConflict", err)
	}
	if n, _ := s.TreeSize(ctx, "gone"); n != 4 {
		t.Fatalf("tree size %d after a refused delete, want 4", n)
	}
	if err := s.DeleteElection(ctx, "nope", "setup"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteElection of a missing election = %v, want ErrNotFound", err)
	}
	if err := s.DeleteElection(ctx, "gone", store.StateOpen); err != nil {
		t.Fatalf("DeleteElection: %v", err)
	}
	checks := []struct {
		name string
		err  error
	}{}
	add := func(name string, err error) {
		checks = append(checks, struct {
			name string
			err  error
		}{name, err})
	}
	_, err := s.Election(ctx, "gone")
	add("Election", err)
	_, err = s.TreeSize(ctx, "gone")
	add("TreeSize", err)
	_, err = s.ReadEntries(ctx, "gone", 0, 1)
	add("ReadEntries", err)
	_, err = s.ReadHashes(ctx, "gone", []int64{0})
	add("ReadHashes", err)
	_, err = s.Checkpoint(ctx, "gone")
	add("Checkpoint", err)
	_, _, err = s.RollSize(ctx, "gone")
	add("RollSize", err)
	_, _, err = s.LastCast(ctx, "gone", cred(1))
	add("LastCast", err)
	_, err = s.LookupTracking(ctx, "gone", track(1))
	add("LookupTracking", err)
	_, err = s.Append(ctx, "gone", [][]byte{entry("late", 0)})
	add("Append", err)
	err = s.SetState(ctx, "gone", store.StateOpen, "closed", nil)
	add("SetState", err)
	err = s.SetManifest(ctx, "gone", store.StateOpen, 0, []byte("m"), entry("m", 0))
	add("SetManifest", err)
	err = s.DeleteElection(ctx, "gone", store.StateOpen)
	add("DeleteElection again", err)
	for _, c := range checks {
		if !errors.Is(c.err, store.ErrNotFound) {
			t.Errorf("%s of a deleted election = %v, want ErrNotFound", c.name, c.err)
		}
	}
	if err := s.ImportRoll(ctx, "gone", []store.RollEntry{{Voter: voter(2), Code: code(2)}}); err == nil {
		t.Error("ImportRoll to a deleted election succeeded")
	}
	es, err := s.Elections(ctx)
	if err != nil || len(es) != 1 || es[0].ID != "kept" {
		t.Fatalf("Elections after a delete = %v, %v; want only kept", es, err)
	}
	// The id is never taken again: a record of the deleted election names it.
	err = s.CreateElection(ctx, store.Election{ID: "gone", State: "setup", Manifest: []byte("again"), Config: []byte(`{}`)})
	if !errors.Is(err, store.ErrDeleted) {
		t.Fatalf("CreateElection of a deleted id = %v, want ErrDeleted", err)
	}
	if errors.Is(err, store.ErrExists) {
		t.Fatalf("CreateElection of a deleted id = %v: ErrDeleted must not also be ErrExists", err)
	}
	// The other election is untouched.
	if n, err := s.TreeSize(ctx, "kept"); err != nil || n != 4 {
		t.Fatalf("TreeSize(kept) = %d, %v; want 4", n, err)
	}
	if cp, err := s.Checkpoint(ctx, "kept"); err != nil || string(cp) != "kept@1" {
		t.Fatalf("Checkpoint(kept) = %q, %v", cp, err)
	}
	if v, i := rollSize(t, s, "kept"); v != 1 || i != 1 {
		t.Fatalf("RollSize(kept) = %d, %d; want 1, 1", v, i)
	}
	if c, _, err := s.LastCast(ctx, "kept", cred(1)); err != nil || c != 1 {
		t.Fatalf("LastCast(kept) = %d, %v", c, err)
	}
	// Its ciphertexts are still indexed; the deleted one's are not.
	if _, err := s.SpoilBallot(ctx, "kept", store.Spoil{Tracking: track(3), Ciphertexts: [][32]byte{cred(8)}, Entry: entry("spoiled", 4)}); !errors.Is(err, store.ErrReusedCiphertext) {
		t.Fatalf("SpoilBallot(kept) reusing a ciphertext = %v, want ErrReusedCiphertext", err)
	}
}

func testSetConfig(t *testing.T, s store.Store) {
	ctx := t.Context()
	newElection(t, s, "e")
	if err := s.SetConfig(ctx, "e", "setup", []byte(`{"v":2}`)); err != nil {
		t.Fatalf("SetConfig in setup: %v", err)
	}
	if err := s.SetConfig(ctx, "e", "open", []byte(`{"v":3}`)); !errors.Is(err, store.ErrStateConflict) {
		t.Fatalf("SetConfig in the wrong state = %v, want ErrStateConflict", err)
	}
	if err := s.SetConfig(ctx, "nope", "setup", []byte(`{}`)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetConfig of a missing election = %v, want ErrNotFound", err)
	}
	e, err := s.Election(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	if string(e.Config) != `{"v":2}` || e.State != "setup" {
		t.Errorf("after SetConfig: config %s, state %q", e.Config, e.State)
	}
}

func testSetState(t *testing.T, s store.Store) {
	ctx := t.Context()
	newElection(t, s, "e")
	steps := []struct {
		name     string
		id       string
		from, to string
		entry    []byte
		err      error
		state    string // afterwards
		size     int64  // afterwards
	}{
		{"open with entry", "e", "setup", "open", []byte("open"), nil, "open", 1},
		{"stale from", "e", "setup", "open", []byte("open again"), store.ErrStateConflict, "open", 1},
		{"stale from, no entry", "e", "setup", "closed", nil, store.ErrStateConflict, "open", 1},
		{"close without entry", "e", "open", "closed", nil, nil, "closed", 1},
		{"empty entry", "e", "closed", "tallied", []byte{}, nil, "tallied", 2},
		{"missing election", "nope", "setup", "open", []byte("x"), store.ErrNotFound, "tallied", 2},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := s.SetState(ctx, st.id, st.from, st.to, st.entry)
			if !errors.Is(err, st.err) || (err != nil) != (st.err != nil) {
				t.Fatalf("SetState(%q, %q, %q) = %v, want %v", st.id, st.from, st.to, err, st.err)
			}
			e, err := s.Election(ctx, "e")
			if err != nil {
				t.Fatal(err)
			}
			if e.State != st.state {
				t.Errorf("state = %q, want %q", e.State, st.state)
			}
			if n := treeSize(t, s, "e"); n != st.size {
				t.Errorf("tree size = %d, want %d", n, st.size)
			}
		})
	}
	ents, err := s.ReadEntries(ctx, "e", 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if string(ents[0]) != "open" || len(ents[1]) != 0 {
		t.Errorf("entries = %q, want [open, \"\"]", ents)
	}
}

// refTree is an in-memory reference log.
type refTree struct {
	entries [][]byte
	hashes  []tlog.Hash
}

func (r *refTree) add(t *testing.T, entries ...[]byte) {
	t.Helper()
	for _, e := range entries {
		hs, err := tlog.StoredHashes(int64(len(r.entries)), e, r)
		if err != nil {
			t.Fatal(err)
		}
		r.hashes = append(r.hashes, hs...)
		r.entries = append(r.entries, e)
	}
}

func (r *refTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(r.hashes)) {
			return nil, fmt.Errorf("reference tree has no hash %d", x)
		}
		out[i] = r.hashes[x]
	}
	return out, nil
}

// reader is a store's log as a tlog.HashReader.
func reader(ctx context.Context, s store.Store, election string) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		return s.ReadHashes(ctx, election, indexes)
	})
}

func treeSize(t *testing.T, s store.Store, election string) int64 {
	t.Helper()
	n, err := s.TreeSize(t.Context(), election)
	if err != nil {
		t.Fatalf("TreeSize(%q): %v", election, err)
	}
	return n
}

// checkLog checks the store's log against ref: entries, every stored hash,
// the tree hash, and inclusion and consistency proofs made from the store's
// hashes and checked against the reference tree.
func checkLog(t *testing.T, s store.Store, election string, ref *refTree) {
	t.Helper()
	ctx := t.Context()
	n := int64(len(ref.entries))
	if got := treeSize(t, s, election); got != n {
		t.Fatalf("TreeSize = %d, want %d", got, n)
	}
	ents, err := s.ReadEntries(ctx, election, 0, n)
	if err != nil {
		t.Fatalf("ReadEntries(0, %d): %v", n, err)
	}
	for i := range ents {
		if !bytes.Equal(ents[i], ref.entries[i]) {
			t.Fatalf("entry %d = %.40q, want %.40q", i, ents[i], ref.entries[i])
		}
	}
	all := make([]int64, tlog.StoredHashCount(n))
	for i := range all {
		all[i] = int64(i)
	}
	hs, err := s.ReadHashes(ctx, election, all)
	if err != nil {
		t.Fatalf("ReadHashes(all %d): %v", len(all), err)
	}
	for i := range hs {
		if hs[i] != ref.hashes[i] {
			t.Fatalf("stored hash %d = %v, want %v", i, hs[i], ref.hashes[i])
		}
	}
	r := reader(ctx, s, election)
	th, err := tlog.TreeHash(n, r)
	if err != nil {
		t.Fatal(err)
	}
	want, err := tlog.TreeHash(n, ref)
	if err != nil {
		t.Fatal(err)
	}
	if th != want {
		t.Fatalf("TreeHash(%d) = %v, want %v", n, th, want)
	}
	if n == 0 {
		return
	}
	for _, i := range []int64{0, n / 3, n / 2, n - 1} {
		p, err := tlog.ProveRecord(n, i, r)
		if err != nil {
			t.Fatalf("ProveRecord(%d, %d): %v", n, i, err)
		}
		if err := tlog.CheckRecord(p, n, want, i, tlog.RecordHash(ref.entries[i])); err != nil {
			t.Fatalf("CheckRecord(%d, %d): %v", n, i, err)
		}
	}
	for _, m := range []int64{1, n / 2, n - 1, n} {
		if m < 1 {
			continue
		}
		p, err := tlog.ProveTree(n, m, r)
		if err != nil {
			t.Fatalf("ProveTree(%d, %d): %v", n, m, err)
		}
		old, err := tlog.TreeHash(m, ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckTree(p, n, want, m, old); err != nil {
			t.Fatalf("CheckTree(%d, %d): %v", n, m, err)
		}
	}
}

func entry(kind string, i int) []byte {
	return fmt.Appendf(nil, "koe/test/%s/%d", kind, i)
}

func testLog(t *testing.T, s store.Store) {
	ctx := t.Context()
	newElection(t, s, "e")
	ref := new(refTree)
	checkLog(t, s, "e", ref)
	k := 0
	for _, batch := range []int{1, 1, 2, 3, 5, 8, 13, 0, 1, 32, 64, 127, 1, 1, 1} {
		t.Run(fmt.Sprint("batch=", batch), func(t *testing.T) {
			var ents [][]byte
			for range batch {
				ents = append(ents, entry("log", k))
				k++
			}
			if batch == 1 && k%3 == 0 {
				ents[0] = []byte{} // empty entries are entries too
			}
			first, err := s.Append(ctx, "e", ents)
			if err != nil {
				t.Fatalf("Append(%d entries): %v", batch, err)
			}
			if first != int64(len(ref.entries)) {
				t.Errorf("Append returned %d, want %d", first, len(ref.entries))
			}
			ref.add(t, ents...)
			checkLog(t, s, "e", ref)
		})
	}
	// Entries read in pieces match too.
	n := int64(len(ref.entries))
	for _, r := range [][2]int64{{0, 0}, {0, 1}, {5, 17}, {n - 1, 1}, {n, 0}} {
		ents, err := s.ReadEntries(ctx, "e", r[0], r[1])
		if err != nil {
			t.Fatalf("ReadEntries(%d, %d): %v", r[0], r[1], err)
		}
		if int64(len(ents)) != r[1] {
			t.Fatalf("ReadEntries(%d, %d) returned %d entries", r[0], r[1], len(ents))
		}
		for i := range ents {
			if !bytes.Equal(ents[i], ref.entries[r[0]+int64(i)]) {
				t.Fatalf("ReadEntries(%d, %d)[%d] = %q", r[0], r[1], i, ents[i])
			}
		}
	}
	// Hashes come back in the order asked, repeats included.
	idx := []int64{7, 0, 7, 3}
	hs, err := s.ReadHashes(ctx, "e", idx)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range idx {
		if hs[i] != ref.hashes[x] {
			t.Errorf("ReadHashes(%v)[%d] = %v, want %v", idx, i, hs[i], ref.hashes[x])
		}
	}
}

func testLogErrors(t *testing.T, s store.Store) {
	ctx := t.Context()
	newElection(t, s, "e")
	if _, err := s.Append(ctx, "e", [][]byte{[]byte("a"), []byte("b"), []byte("c")}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		f        func() error
		notFound bool // the error must wrap ErrNotFound
	}{
		{"Append to missing election", func() error {
			_, err := s.Append(ctx, "nope", [][]byte{[]byte("x")})
			return err
		}, true},
		{"TreeSize of missing election", func() error { _, err := s.TreeSize(ctx, "nope"); return err }, true},
		{"ReadEntries past the end", func() error { _, err := s.ReadEntries(ctx, "e", 2, 2); return err }, true},
		{"ReadEntries of missing election", func() error { _, err := s.ReadEntries(ctx, "nope", 0, 1); return err }, true},
		{"ReadEntries negative", func() error { _, err := s.ReadEntries(ctx, "e", -1, 1); return err }, false},
		{"ReadHashes past the end", func() error {
			_, err := s.ReadHashes(ctx, "e", []int64{0, tlog.StoredHashCount(3)})
			return err
		}, true},
		{"ReadHashes of missing election", func() error { _, err := s.ReadHashes(ctx, "nope", []int64{0}); return err }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.f()
			if err == nil {
				t.Fatal("no error")
			}
			if tt.notFound && !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("error %v does not wrap ErrNotFound", err)
			}
		})
	}
	// AppendAt appends only at the size its caller saw.
	if err := s.AppendAt(ctx, "e", 2, [][]byte{[]byte("late")}); !errors.Is(err, store.ErrLogMoved) {
		t.Errorf("AppendAt(2) on a log of 3: %v, want ErrLogMoved", err)
	}
	if err := s.AppendAt(ctx, "e", 4, [][]byte{[]byte("early")}); !errors.Is(err, store.ErrLogMoved) {
		t.Errorf("AppendAt(4) on a log of 3: %v, want ErrLogMoved", err)
	}
	if err := s.AppendAt(ctx, "nope", 0, [][]byte{[]byte("x")}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AppendAt to a missing election: %v, want ErrNotFound", err)
	}
	if n := treeSize(t, s, "e"); n != 3 {
		t.Fatalf("tree size after refused AppendAt = %d, want 3", n)
	}
	if err := s.AppendAt(ctx, "e", 3, [][]byte{[]byte("d"), []byte("e")}); err != nil {
		t.Fatalf("AppendAt(3) on a log of 3: %v", err)
	}
	if got, err := s.ReadEntries(ctx, "e", 3, 2); err != nil || string(got[0]) != "d" || string(got[1]) != "e" {
		t.Fatalf("entries after AppendAt: %q, %v", got, err)
	}
	// Of two racing appends at one size, exactly one succeeds.
	errs := make(chan error, 2)
	for _, x := range []string{"f", "g"} {
		go func() { errs <- s.AppendAt(ctx, "e", 5, [][]byte{[]byte(x)}) }()
	}
	var won, lost int
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			won++
		case errors.Is(err, store.ErrLogMoved):
			lost++
		default:
			t.Fatalf("racing AppendAt: %v", err)
		}
	}
	if won != 1 || lost != 1 || treeSize(t, s, "e") != 6 {
		t.Fatalf("racing AppendAt: %d won, %d lost, tree size %d; want 1, 1, 6", won, lost, treeSize(t, s, "e"))
	}
	if first, err := s.Append(ctx, "e", nil); err != nil || first != 6 {
		t.Errorf("Append(no entries) = %d, %v; want 6, nil", first, err)
	}
	if n := treeSize(t, s, "e"); n != 6 {
		t.Errorf("tree size after failed calls = %d, want 6", n)
	}
}

func voter(i int) [32]byte { return sha256.Sum256(fmt.Appendf(nil, "voter %d", i)) }
func code(i int) [32]byte  { return sha256.Sum256(fmt.Appendf(nil, "code %d", i)) }

func rollSize(t *testing.T, s store.Store, election string) (int64, int64) {
	t.Helper()
	v, i, err := s.RollSize(t.Context(), election)
	if err != nil {
		t.Fatalf("RollSize(%q): %v", election, err)
	}
	return v, i
}

func testRoll(t *testing.T, s store.Store) {
	ctx := t.Context()
	newElection(t, s, "e")
	if v, i := rollSize(t, s, "e"); v != 0 || i != 0 {
		t.Fatalf("RollSize of a new election = %d, %d", v, i)
	}
	var roll []store.RollEntry
	for i := range 1200 { // more than one chunk of anything
		roll = append(roll, store.RollEntry{Voter: voter(i), Code: code(i)})
	}
	tests := []struct {
		name     string
		election string
		voters   []store.RollEntry
		err      error
		size     int64 // afterwards
	}{
		{"import", "e", roll[:1000], nil, 1000},
		{"empty import", "e", nil, nil, 1000},
		{"one already on the roll", "e", append(slices.Clone(roll[1000:1100]), roll[5]), store.ErrExists, 1000},
		{"twice in one import", "e", append(slices.Clone(roll[1000:1100]), roll[1050]), store.ErrExists, 1000},
		{"same voter, other code", "e", []store.RollEntry{{Voter: voter(3), Code: code(9999)}}, store.ErrExists, 1000},
		{"more", "e", roll[1100:], nil, 1100},
		{"missing election", "nope", roll[:1], store.ErrNotFound, 1100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.ImportRoll(ctx, tt.election, tt.voters)
			if !errors.Is(err, tt.err) || (err != nil) != (tt.err != nil) {
				t.Fatalf("ImportRoll = %v, want %v", err, tt.err)
			}
			if v, i := rollSize(t, s, "e"); v != tt.size || i != 0 {
				t.Fatalf("RollSize = %d, %d; want %d, 0", v, i, tt.size)
			}
		})
	}
	if _, _, err := s.RollSize(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RollSize of a missing election: %v, want ErrNotFound", err)
	}
	// Nothing of the failed imports was stored.
	_, err := s.IssueCredential(ctx, "e", store.Issue{Voter: voter(1050), Code: code(1050), Entry: []byte("i")})
	if !errors.Is(err, store.ErrNotEligible) {
		t.Fatalf("IssueCredential to a voter of a rejected import: %v, want ErrNotEligible", err)
	}
	_, err = s.IssueCredential(ctx, "e", store.Issue{Voter: voter(3), Code: code(9999), Entry: []byte("i")})
	if !errors.Is(err, store.ErrNotEligible) {
		t.Fatalf("IssueCredential with the rejected import's code: %v, want ErrNotEligible", err)
	}
}

func testIssue(t *testing.T, s store.Store) {
	ctx := t.Context()
	newElection(t, s, "e")
	if err := s.ImportRoll(ctx, "e", []store.RollEntry{
		{Voter: voter(1), Code: code(1)},
		{Voter: voter(2), Code: code(2)},
		{Voter: voter(3), Code: code(3)},
	}); err != nil {
		t.Fatal(err)
	}
	var zero [32]byte
	ref := new(refTree)
	steps := []struct {
		name          string
		election      string
		voter, code   [32]byte
		err           error
		voters, issue int64 // RollSize afterwards
		blinded       int   // the blinded message's number, 0 for none
	}{
		{"not on the roll", "e", voter(9), code(9), store.ErrNotEligible, 3, 0, 0},
		{"wrong code", "e", voter(1), code(2), store.ErrNotEligible, 3, 0, 0},
		{"on the roll", "e", voter(1), code(1), nil, 3, 1, 1},
		{"retry of the same request", "e", voter(1), code(1), store.ErrIssuedBefore, 3, 1, 1},
		{"retry with another blinded message", "e", voter(1), code(1), store.ErrAlreadyIssued, 3, 1, 2},
		{"retry with a wrong code", "e", voter(1), code(2), store.ErrNotEligible, 3, 1, 1},
		{"again", "e", voter(1), code(1), store.ErrAlreadyIssued, 3, 1, 0},
		{"again, wrong code", "e", voter(1), code(3), store.ErrNotEligible, 3, 1, 0},
		{"again, digital ID", "e", voter(1), zero, store.ErrAlreadyIssued, 3, 1, 0},
		{"digital ID, new voter", "e", voter(10), zero, nil, 4, 2, 10},
		{"digital ID, retry of the same request", "e", voter(10), zero, store.ErrIssuedBefore, 4, 2, 10},
		{"digital ID, again", "e", voter(10), zero, store.ErrAlreadyIssued, 4, 2, 0},
		{"digital ID, another new voter", "e", voter(11), zero, nil, 5, 3, 0},
		{"digital-ID voter with a code", "e", voter(11), code(11), store.ErrNotEligible, 5, 3, 0},
		{"digital ID, on the roll", "e", voter(2), zero, nil, 5, 4, 0},
		{"code after digital ID", "e", voter(2), code(2), store.ErrAlreadyIssued, 5, 4, 0},
		{"missing election", "nope", voter(3), code(3), store.ErrNotFound, 5, 4, 0},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			e := entry("issue", i)
			req := store.Issue{Voter: st.voter, Code: st.code, Entry: e}
			if st.blinded != 0 {
				req.Blinded = sha256.Sum256(fmt.Appendf(nil, "blinded %d", st.blinded))
			}
			index, err := s.IssueCredential(ctx, st.election, req)
			if !errors.Is(err, st.err) || (err != nil) != (st.err != nil) {
				t.Fatalf("IssueCredential = %v, want %v", err, st.err)
			}
			if err == nil {
				if index != int64(len(ref.entries)) {
					t.Errorf("index = %d, want %d", index, len(ref.entries))
				}
				ref.add(t, e)
			}
			checkLog(t, s, "e", ref)
			if v, n := rollSize(t, s, "e"); v != st.voters || n != st.issue {
				t.Errorf("RollSize = %d, %d; want %d, %d", v, n, st.voters, st.issue)
			}
		})
	}
}

func commitment(i int) [32]byte { return sha256.Sum256(fmt.Appendf(nil, "commitment %d", i)) }

// testReissue replaces the codes of voters who were not issued a
// credential (SPEC.md §15.3 Re-issue): the old code answers ErrRevoked,
// the new one issues, and each re-issue appends its entry, built from the
// revoked commitment, in the same transaction.
func testReissue(t *testing.T, s store.Store) {
	ctx := t.Context()
	newElection(t, s, "e")
	if err := s.ImportRoll(ctx, "e", []store.RollEntry{
		{Voter: voter(1), Code: code(1), Commitment: commitment(1)},
		{Voter: voter(2), Code: code(2), Commitment: commitment(2)},
		{Voter: voter(3), Code: code(3)}, // no commitment kept
	}); err != nil {
		t.Fatal(err)
	}
	ref := new(refTree)
	var revoked [32]byte
	reissue := func(election string, v, c, m int) (int64, error) {
		return s.ReissueCode(ctx, election, store.Reissue{Voter: voter(v), Code: code(c), Commitment: commitment(m),
			Entry: func(old [32]byte) ([]byte, error) {
				revoked = old
				return fmt.Appendf(nil, "reissue %x %x", old[:4], commitment(m)), nil
			}})
	}
	// In setup: voter 1 gets code 101, then 102.
	for _, k := range []int{101, 102} {
		old := revoked
		index, err := reissue("e", 1, k, k)
		if err != nil {
			t.Fatalf("ReissueCode(1 → %d): %v", k, err)
		}
		if want := map[int][32]byte{101: commitment(1), 102: commitment(101)}[k]; revoked != want {
			t.Errorf("re-issue %d revoked %x, want %x (before: %x)", k, revoked[:4], want[:4], old[:4])
		}
		if index != int64(len(ref.entries)) {
			t.Errorf("index = %d, want %d", index, len(ref.entries))
		}
		ref.add(t, fmt.Appendf(nil, "reissue %x %x", revoked[:4], commitment(k)))
	}
	checkLog(t, s, "e", ref)
	if v, i := rollSize(t, s, "e"); v != 3 || i != 0 {
		t.Fatalf("RollSize after re-issues = %d, %d; want 3, 0", v, i)
	}
	refusals := []struct {
		name        string
		election    string
		voter, code int
		err         error
	}{
		{"voter not on the roll", "e", 9, 109, store.ErrNotFound},
		{"no commitment kept", "e", 3, 103, store.ErrNotFound},
		{"missing election", "nope", 1, 104, store.ErrNotFound},
	}
	for _, tt := range refusals {
		if _, err := reissue(tt.election, tt.voter, tt.code, tt.code); !errors.Is(err, tt.err) {
			t.Errorf("%s: ReissueCode = %v, want %v", tt.name, err, tt.err)
		}
	}
	// An Entry that fails stores nothing.
	_, err := s.ReissueCode(ctx, "e", store.Reissue{Voter: voter(2), Code: code(200), Commitment: commitment(200),
		Entry: func([32]byte) ([]byte, error) { return nil, errors.New("no entry") }})
	if err == nil {
		t.Fatal("ReissueCode with a failing Entry succeeded")
	}
	checkLog(t, s, "e", ref)

	if err := s.SetState(ctx, "e", "setup", store.StateOpen, nil); err != nil {
		t.Fatal(err)
	}
	issue := func(v, c int) error {
		_, err := s.IssueCredential(ctx, "e", store.Issue{Voter: voter(v), Code: code(c),
			Blinded: sha256.Sum256(fmt.Appendf(nil, "blinded %d", v)), Entry: entry("issue", v)})
		if err == nil {
			ref.add(t, entry("issue", v))
		}
		return err
	}
	for _, tt := range []struct {
		name        string
		voter, code int
		err         error
	}{
		{"the first code, revoked", 1, 1, store.ErrRevoked},
		{"the second code, revoked", 1, 101, store.ErrRevoked},
		{"a revoked code with another voter", 2, 101, store.ErrNotEligible},
		{"a wrong code", 1, 999, store.ErrNotEligible},
		{"the new code", 1, 102, nil},
		{"a revoked code once issued", 1, 1, store.ErrRevoked},
	} {
		if err := issue(tt.voter, tt.code); !errors.Is(err, tt.err) || (err != nil) != (tt.err != nil) {
			t.Errorf("%s: IssueCredential = %v, want %v", tt.name, err, tt.err)
		}
	}
	// While open, voter 2 gets a new code; voter 1, issued, cannot.
	if _, err := reissue("e", 2, 201, 201); err != nil {
		t.Fatalf("ReissueCode while open: %v", err)
	}
	if revoked != commitment(2) {
		t.Errorf("the re-issue while open revoked %x, want voter 2's commitment", revoked[:4])
	}
	ref.add(t, fmt.Appendf(nil, "reissue %x %x", revoked[:4], commitment(201)))
	if _, err := reissue("e", 1, 105, 105); !errors.Is(err, store.ErrAlreadyIssued) {
		t.Errorf("ReissueCode for an issued voter = %v, want ErrAlreadyIssued", err)
	}
	if err := issue(2, 2); !errors.Is(err, store.ErrRevoked) {
		t.Errorf("IssueCredential with voter 2's old code = %v, want ErrRevoked", err)
	}
	if err := issue(2, 201); err != nil {
		t.Errorf("IssueCredential with voter 2's new code: %v", err)
	}
	checkLog(t, s, "e", ref)
	if v, i := rollSize(t, s, "e"); v != 3 || i != 2 {
		t.Fatalf("RollSize = %d, %d; want 3, 2", v, i)
	}
	// Once closed, nothing is re-issued.
	if err := s.SetState(ctx, "e", store.StateOpen, "closed", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := reissue("e", 3, 301, 301); !errors.Is(err, store.ErrStateConflict) {
		t.Errorf("ReissueCode once closed = %v, want ErrStateConflict", err)
	}
	checkLog(t, s, "e", ref)
}

func cred(i int) [32]byte  { return sha256.Sum256(fmt.Appendf(nil, "credential %d", i)) }
func track(i int) [32]byte { return sha256.Sum256(fmt.Appendf(nil, "tracking %d", i)) }

func testCast(t *testing.T, s store.Store) {
	ctx := t.Context()
	openElection(t, s, "e")
	if _, err := s.Append(ctx, "e", [][]byte{[]byte("manifest")}); err != nil {
		t.Fatal(err)
	}
	ref := new(refTree)
	ref.add(t, []byte("manifest"))
	type cast struct {
		cred    int
		counter uint64
		track   int
		want    error // nil, ErrReplay or ErrWrongCounter
	}
	var (
		replay = store.ErrReplay
		wrong  = store.ErrWrongCounter
	)
	// Counters start at store.FirstCounter (1) and go up by one (SPEC
	// §15.4, rule 1); a refused cast changes no counter.
	batches := []struct {
		name  string
		casts []cast
	}{
		{"first", []cast{{1, 1, 1, nil}}},
		{"same counter", []cast{{1, 1, 2, replay}}},
		{"lower counter", []cast{{1, 0, 3, replay}}},
		{"next counter", []cast{{1, 2, 4, nil}}},
		{"gap", []cast{{1, 4, 30, wrong}, {1, 1 << 40, 31, wrong}, {1, 1<<64 - 1, 32, wrong}}},
		{"first cast not 1", []cast{{10, 2, 33, wrong}, {11, 0, 34, wrong}, {12, 1<<64 - 1, 35, wrong}}},
		{"duplicate in batch", []cast{{2, 1, 5, nil}, {2, 1, 6, replay}}},
		{"increasing in batch", []cast{{3, 1, 7, nil}, {3, 2, 8, nil}, {3, 4, 9, wrong}, {3, 2, 10, replay}, {3, 3, 36, nil}}},
		{"gap in batch, then filled", []cast{{13, 2, 37, wrong}, {13, 1, 38, nil}, {13, 3, 39, wrong}, {13, 2, 40, nil}}},
		{"mixed", []cast{{4, 1, 11, nil}, {1, 2, 12, replay}, {5, 1, 13, nil}, {4, 1, 14, replay}, {1, 3, 15, nil}}},
		{"tracking code reused", []cast{{6, 1, 1, replay}, {6, 1, 16, nil}}},
		{"tracking code twice in batch", []cast{{7, 1, 17, nil}, {8, 1, 17, replay}}},
		{"replay of a rejected cast is still fresh", []cast{{8, 1, 18, nil}}},
		{"all replays", []cast{{1, 1, 19, replay}, {2, 1, 20, replay}}},
		{"after a gap was refused, the next still counts", []cast{{1, 4, 21, nil}, {1, 4, 22, replay}, {1, 6, 23, wrong}, {1, 5, 24, nil}}},
		{"empty batch", nil},
	}
	want := make(map[int]int64) // tracking code → index
	for bi, b := range batches {
		t.Run(b.name, func(t *testing.T) {
			var casts []store.Cast
			for i, c := range b.casts {
				casts = append(casts, store.Cast{
					Credential: cred(c.cred), Counter: c.counter, Tracking: track(c.track),
					Entry: entry(fmt.Sprint("cast/", bi), i),
				})
			}
			res, err := s.CastBallots(ctx, "e", casts)
			if err != nil {
				t.Fatalf("CastBallots: %v", err)
			}
			if len(res) != len(casts) {
				t.Fatalf("CastBallots returned %d results for %d casts", len(res), len(casts))
			}
			for i, c := range b.casts {
				r := res[i]
				if c.want != nil {
					if !errors.Is(r.Err, c.want) {
						t.Errorf("cast %d (credential %d, counter %d): %v, want %v", i, c.cred, c.counter, r.Err, c.want)
					}
					if r.Index != -1 {
						t.Errorf("cast %d: rejected with index %d, want -1", i, r.Index)
					}
					continue
				}
				if r.Err != nil {
					t.Errorf("cast %d: %v", i, r.Err)
					continue
				}
				if r.Index != int64(len(ref.entries)) {
					t.Errorf("cast %d: index %d, want %d", i, r.Index, len(ref.entries))
				}
				want[c.track] = int64(len(ref.entries))
				ref.add(t, casts[i].Entry)
			}
			checkLog(t, s, "e", ref)
		})
	}
	for tr := range 45 {
		index, err := s.LookupTracking(ctx, "e", track(tr))
		if w, ok := want[tr]; ok {
			if err != nil || index != w {
				t.Errorf("LookupTracking(%d) = %d, %v; want %d", tr, index, err, w)
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("LookupTracking(%d) = %d, %v; want ErrNotFound", tr, index, err)
		}
	}
	// LastCast: each credential's last accepted counter and where.
	for _, w := range []struct {
		cred    int
		counter uint64
		track   int
	}{{1, 5, 24}, {2, 1, 5}, {3, 3, 36}, {13, 2, 40}, {8, 1, 18}} {
		counter, index, err := s.LastCast(ctx, "e", cred(w.cred))
		if err != nil || counter != w.counter || index != want[w.track] {
			t.Errorf("LastCast(credential %d) = %d, %d, %v; want %d, %d", w.cred, counter, index, err, w.counter, want[w.track])
		}
	}
	for _, c := range []int{10, 11, 12, 99} {
		if _, _, err := s.LastCast(ctx, "e", cred(c)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("LastCast(credential %d, never accepted) = %v, want ErrNotFound", c, err)
		}
	}
	if _, err := s.CastBallots(ctx, "nope", []store.Cast{{Credential: cred(1), Counter: 100, Entry: []byte("x")}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CastBallots to a missing election: %v, want ErrNotFound", err)
	}
}

// testCounterRace races one credential's casts of counters 2..n+1, each
// retried until it is accepted: the ballot box must accept each only
// after the one before it, so the log holds them in counter order, and
// refuse each early try as ErrWrongCounter (SPEC §15.4, rule 1).
func testCounterRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	openElection(t, s, "e")
	first := []store.Cast{{Credential: cred(1), Counter: 1, Tracking: track(1), Entry: []byte("counter 1")}}
	if res, err := s.CastBallots(ctx, "e", first); err != nil || res[0].Err != nil {
		t.Fatalf("first cast: %v, %v", res, err)
	}
	const n = 12
	var wg sync.WaitGroup
	start := make(chan struct{})
	for c := uint64(2); c <= n+1; c++ {
		wg.Go(func() {
			<-start
			for try := 0; try < 100*n; try++ {
				res, err := s.CastBallots(ctx, "e", []store.Cast{{
					Credential: cred(1), Counter: c, Tracking: track(int(c)*1000 + try), Entry: fmt.Appendf(nil, "counter %d", c),
				}})
				switch {
				case err != nil:
					t.Errorf("counter %d: %v", c, err)
					return
				case res[0].Err == nil:
					return
				case !errors.Is(res[0].Err, store.ErrWrongCounter):
					t.Errorf("counter %d: %v, want nil or ErrWrongCounter", c, res[0].Err)
					return
				}
				time.Sleep(time.Millisecond)
			}
			t.Errorf("counter %d: never accepted", c)
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	raws, err := s.ReadEntries(ctx, "e", 0, n+1)
	if err != nil {
		t.Fatal(err)
	}
	for i, raw := range raws {
		if want := fmt.Sprintf("counter %d", i+1); string(raw) != want {
			t.Errorf("entry %d = %q, want %q", i, raw, want)
		}
	}
	if size := treeSize(t, s, "e"); size != n+1 {
		t.Errorf("tree size %d, want %d", size, n+1)
	}
}

func testCastConcurrentReplay(t *testing.T, s store.Store) {
	ctx := t.Context()
	openElection(t, s, "e")
	// Several rounds, so that later ones race on warm connections.
	const n, rounds = 50, 4
	for round := range rounds {
		var wg sync.WaitGroup
		results := make([]store.CastResult, n)
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				// Same credential and counter, different tracking codes (so
				// only the counter can stop them).
				res, err := s.CastBallots(ctx, "e", []store.Cast{{
					Credential: cred(round), Counter: 1, Tracking: track(round*n + i), Entry: entry("race", round*n+i),
				}})
				errs[i] = err
				if err == nil {
					results[i] = res[0]
				}
			})
		}
		close(start)
		wg.Wait()
		stored := 0
		for i := range n {
			switch {
			case errs[i] != nil:
				t.Errorf("round %d: CastBallots %d: %v", round, i, errs[i])
			case results[i].Err == nil:
				stored++
			case !errors.Is(results[i].Err, store.ErrReplay):
				t.Errorf("round %d: cast %d: %v, want nil or ErrReplay", round, i, results[i].Err)
			}
		}
		if stored != 1 {
			t.Errorf("round %d: %d of %d identical casts stored, want 1", round, stored, n)
		}
	}
	if size := treeSize(t, s, "e"); size != rounds {
		t.Errorf("tree size = %d, want %d", size, rounds)
	}
}

func testConcurrentAppends(t *testing.T, s store.Store) {
	ctx := t.Context()
	openElection(t, s, "e")
	const workers, rounds = 16, 12
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		placed = make(map[int64][]byte) // index → entry, as the calls reported
	)
	place := func(index int64, e []byte) {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := placed[index]; ok {
			t.Errorf("index %d returned twice", index)
		}
		placed[index] = e
	}
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				k := w*rounds + r
				switch r % 3 {
				case 0:
					ents := [][]byte{entry("append", k), entry("append", k+1e6), entry("append", k+2e6)}
					first, err := s.Append(ctx, "e", ents[:1+k%3])
					if err != nil {
						t.Errorf("Append: %v", err)
						return
					}
					for i, e := range ents[:1+k%3] {
						place(first+int64(i), e)
					}
				case 1:
					e := entry("issue", k)
					index, err := s.IssueCredential(ctx, "e", store.Issue{Voter: voter(k), Entry: e})
					if err != nil {
						t.Errorf("IssueCredential: %v", err)
						return
					}
					place(index, e)
				case 2:
					casts := []store.Cast{
						{Credential: cred(k), Counter: 1, Tracking: track(k), Entry: entry("cast", k)},
						{Credential: cred(k), Counter: 2, Tracking: track(k + 1e6), Entry: entry("cast", k+1e6)},
					}
					res, err := s.CastBallots(ctx, "e", casts)
					if err != nil {
						t.Errorf("CastBallots: %v", err)
						return
					}
					for i, r := range res {
						if r.Err != nil {
							t.Errorf("cast: %v", r.Err)
							return
						}
						place(r.Index, casts[i].Entry)
					}
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	ref := new(refTree)
	for i := range int64(len(placed)) {
		e, ok := placed[i]
		if !ok {
			t.Fatalf("no call returned index %d of %d", i, len(placed))
		}
		ref.add(t, e)
	}
	checkLog(t, s, "e", ref)
}

func testIsolation(t *testing.T, s store.Store) {
	ctx := t.Context()
	openElection(t, s, "a")
	openElection(t, s, "b")
	ra, rb := new(refTree), new(refTree)
	roll := []store.RollEntry{{Voter: voter(1), Code: code(1)}}
	for _, id := range []string{"a", "b"} {
		if err := s.ImportRoll(ctx, id, roll); err != nil {
			t.Fatalf("ImportRoll(%q): %v", id, err)
		}
	}
	do := func(id string, ref *refTree, k int) {
		t.Helper()
		e := entry(id, k)
		if _, err := s.Append(ctx, id, [][]byte{e}); err != nil {
			t.Fatal(err)
		}
		ref.add(t, e)
	}
	do("a", ra, 0)
	do("a", ra, 1)
	do("b", rb, 0)
	for _, x := range []struct {
		id  string
		ref *refTree
	}{{"a", ra}, {"b", rb}} {
		e := entry(x.id+"/issue", 0)
		if _, err := s.IssueCredential(ctx, x.id, store.Issue{Voter: voter(1), Code: code(1), Entry: e}); err != nil {
			t.Fatalf("IssueCredential(%q): %v", x.id, err)
		}
		x.ref.add(t, e)
		// The same credential and tracking code in two elections are two ballots.
		e = entry(x.id+"/cast", 0)
		res, err := s.CastBallots(ctx, x.id, []store.Cast{{Credential: cred(1), Counter: 1, Tracking: track(1), Entry: e}})
		if err != nil || res[0].Err != nil {
			t.Fatalf("CastBallots(%q): %v, %v", x.id, err, res)
		}
		x.ref.add(t, e)
		if i, err := s.LookupTracking(ctx, x.id, track(1)); err != nil || i != int64(len(x.ref.entries)-1) {
			t.Errorf("LookupTracking(%q) = %d, %v", x.id, i, err)
		}
	}
	do("b", rb, 1)
	checkLog(t, s, "a", ra)
	checkLog(t, s, "b", rb)
	if err := s.SaveCheckpoint(ctx, "a", 2, []byte("a@2")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Checkpoint(ctx, "b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Checkpoint of b after saving a's: %v, want ErrNotFound", err)
	}
}

func testCheckpoint(t *testing.T, s store.Store) {
	ctx := t.Context()
	newElection(t, s, "e")
	if _, err := s.Checkpoint(ctx, "e"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Checkpoint before any: %v, want ErrNotFound", err)
	}
	var ents [][]byte
	for i := range 20 {
		ents = append(ents, entry("cp", i))
	}
	if _, err := s.Append(ctx, "e", ents); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name     string
		election string
		size     int64
		err      bool
		want     string // afterwards
	}{
		{"first", "e", 5, false, "cp@5"},
		{"newer", "e", 10, false, "cp@10"},
		{"older is ignored", "e", 7, false, "cp@10"},
		{"empty tree is older", "e", 0, false, "cp@10"},
		{"same size replaces (more cosignatures)", "e", 10, false, "cp@10+"},
		{"whole tree", "e", 20, false, "cp@20"},
		{"beyond the tree", "e", 21, true, "cp@20"},
		{"negative", "e", -1, true, "cp@20"},
		{"missing election", "nope", 1, true, "cp@20"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			c := fmt.Sprintf("cp@%d", st.size)
			if st.want == "cp@10+" {
				c = st.want
			}
			err := s.SaveCheckpoint(ctx, st.election, st.size, []byte(c))
			if (err != nil) != st.err {
				t.Fatalf("SaveCheckpoint(%d) = %v, want error: %v", st.size, err, st.err)
			}
			got, err := s.Checkpoint(ctx, "e")
			if err != nil || string(got) != st.want {
				t.Fatalf("Checkpoint = %q, %v; want %q", got, err, st.want)
			}
		})
	}
	if _, err := s.Checkpoint(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Checkpoint of a missing election: %v, want ErrNotFound", err)
	}
}

// testSchema checks the structural secrecy promise: the registrar's roll and
// the ballot box's tables (credentials, tracking codes, spoiled ballots,
// ciphertexts) share no column but the election id, and none of them has a
// column that could hold a time, a client address or an insertion order.
func testSchema(t *testing.T, s store.Store) {
	c, ok := s.(Cataloger)
	if !ok {
		t.Skip("backend does not implement storetest.Cataloger")
	}
	cols := make(map[string][]string)
	box := []string{"credentials", "tracking", "spoiled", "ciphertexts"}
	for _, table := range append([]string{"roll", "revoked"}, box...) {
		cs, err := c.TableColumns(t.Context(), table)
		if err != nil {
			t.Fatalf("TableColumns(%q): %v", table, err)
		}
		if !slices.Contains(cs, "election") {
			t.Errorf("table %s has no election column: %q", table, cs)
		}
		for _, col := range cs {
			for _, bad := range []string{"time", "date", "created", "updated", "ip", "addr", "seq", "id"} {
				if col == bad || containsWord(col, bad) {
					t.Errorf("table %s has column %q", table, col)
				}
			}
		}
		cols[table] = cs
	}
	for _, other := range box {
		for _, col := range append(slices.Clone(cols["roll"]), cols["revoked"]...) {
			if col != "election" && slices.Contains(cols[other], col) {
				t.Errorf("the registrar's tables and %s share column %q", other, col)
			}
		}
	}
}

// containsWord reports whether word is one of the _-separated words of col.
func containsWord(col, word string) bool {
	for w := range bytes.SplitSeq([]byte(col), []byte("_")) {
		if string(w) == word {
			return true
		}
	}
	return false
}

func testReopen(t *testing.T, s store.Store, reopen func(t *testing.T, s store.Store) store.Store) {
	ctx := t.Context()
	newElection(t, s, "e")
	if err := s.SetState(ctx, "e", "setup", "open", []byte("open")); err != nil {
		t.Fatal(err)
	}
	ref := new(refTree)
	ref.add(t, []byte("open"))
	if err := s.ImportRoll(ctx, "e", []store.RollEntry{{Voter: voter(1), Code: code(1)}, {Voter: voter(2), Code: code(2)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IssueCredential(ctx, "e", store.Issue{Voter: voter(1), Code: code(1), Entry: []byte("issue 1")}); err != nil {
		t.Fatal(err)
	}
	ref.add(t, []byte("issue 1"))
	if _, err := s.CastBallots(ctx, "e", []store.Cast{{Credential: cred(1), Counter: 1, Tracking: track(1), Entry: []byte("cast 1")}}); err != nil {
		t.Fatal(err)
	}
	ref.add(t, []byte("cast 1"))
	if err := s.SaveCheckpoint(ctx, "e", 3, []byte("cp@3")); err != nil {
		t.Fatal(err)
	}

	s = reopen(t, s)

	if e, err := s.Election(ctx, "e"); err != nil || e.State != "open" || string(e.Manifest) != "manifest of e" {
		t.Fatalf("Election after reopening = %+v, %v", e, err)
	}
	checkLog(t, s, "e", ref)
	if v, i := rollSize(t, s, "e"); v != 2 || i != 1 {
		t.Errorf("RollSize after reopening = %d, %d; want 2, 1", v, i)
	}
	if _, err := s.IssueCredential(ctx, "e", store.Issue{Voter: voter(1), Code: code(1), Entry: []byte("x")}); !errors.Is(err, store.ErrAlreadyIssued) {
		t.Errorf("IssueCredential after reopening: %v, want ErrAlreadyIssued", err)
	}
	res, err := s.CastBallots(ctx, "e", []store.Cast{
		{Credential: cred(1), Counter: 1, Tracking: track(2), Entry: []byte("replay")},
		{Credential: cred(1), Counter: 2, Tracking: track(3), Entry: []byte("cast 2")},
	})
	if err != nil || !errors.Is(res[0].Err, store.ErrReplay) || res[1].Err != nil {
		t.Fatalf("CastBallots after reopening = %v, %v; want [ErrReplay, nil]", res, err)
	}
	ref.add(t, []byte("cast 2"))
	if i, err := s.LookupTracking(ctx, "e", track(1)); err != nil || i != 2 {
		t.Errorf("LookupTracking after reopening = %d, %v; want 2", i, err)
	}
	if c, err := s.Checkpoint(ctx, "e"); err != nil || string(c) != "cp@3" {
		t.Errorf("Checkpoint after reopening = %q, %v", c, err)
	}
	if _, err := s.Append(ctx, "e", [][]byte{[]byte("more")}); err != nil {
		t.Fatal(err)
	}
	ref.add(t, []byte("more"))
	checkLog(t, s, "e", ref)
}

// BenchmarkCastBallots measures CastBallots with fresh credentials and
// ~4 KB entries, in batches of 1 and of 32, from one goroutine and from
// several, and reports casts/s. open must return a new, empty store.
func BenchmarkCastBallots(b *testing.B, open func(b *testing.B) store.Store) {
	// Ballots are ciphertexts and signatures: incompressible.
	entry := make([]byte, 4096)
	rand.Read(entry)
	for _, batch := range []int{1, 32} {
		for _, parallel := range []bool{false, true} {
			name := fmt.Sprintf("batch=%d", batch)
			if parallel {
				name += "/parallel"
			}
			b.Run(name, func(b *testing.B) {
				s := open(b)
				ctx := b.Context()
				if err := s.CreateElection(ctx, store.Election{ID: "bench", State: "open"}); err != nil {
					b.Fatal(err)
				}
				var next sync.Mutex
				k := uint64(0)
				castBatch := func() error {
					next.Lock()
					base := k
					k += uint64(batch)
					next.Unlock()
					casts := make([]store.Cast, batch)
					for i := range casts {
						var id [32]byte
						binary.BigEndian.PutUint64(id[:], base+uint64(i))
						e := slices.Clone(entry)
						copy(e, id[:8])
						casts[i] = store.Cast{Credential: sha256.Sum256(id[:]), Counter: 1, Tracking: id, Entry: e}
					}
					res, err := s.CastBallots(ctx, "bench", casts)
					if err != nil {
						return err
					}
					for _, r := range res {
						if r.Err != nil {
							return r.Err
						}
					}
					return nil
				}
				b.SetBytes(int64(batch * len(entry)))
				b.ResetTimer()
				if parallel {
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if err := castBatch(); err != nil {
								b.Error(err)
								return
							}
						}
					})
				} else {
					for b.Loop() {
						if err := castBatch(); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "casts/s")
			})
		}
	}
}

func testPending(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	key := func(i int) [32]byte { return sha256.Sum256(fmt.Appendf(nil, "state %d", i)) }
	if err := s.PutPending(ctx, key(1), []byte("one"), now.Add(10*time.Minute), now); err != nil {
		t.Fatal(err)
	}
	if err := s.PutPending(ctx, key(1), []byte("again"), now.Add(10*time.Minute), now); !errors.Is(err, store.ErrExists) {
		t.Fatalf("PutPending of a kept key: %v, want ErrExists", err)
	}
	if err := s.PutPending(ctx, key(2), []byte("two"), now.Add(time.Minute), now); err != nil {
		t.Fatal(err)
	}
	if err := s.PutPending(ctx, key(3), []byte("three"), now.Add(time.Minute), now); err != nil {
		t.Fatal(err)
	}
	// Taken once.
	if data, err := s.TakePending(ctx, key(1), now.Add(time.Minute)); err != nil || string(data) != "one" {
		t.Fatalf("TakePending = %q, %v", data, err)
	}
	if _, err := s.TakePending(ctx, key(1), now.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TakePending again: %v, want ErrNotFound", err)
	}
	if _, err := s.TakePending(ctx, key(9), now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TakePending of an unknown key: %v, want ErrNotFound", err)
	}
	// Expired: refused when taken, and removed by a later Put.
	if _, err := s.TakePending(ctx, key(2), now.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TakePending at its expiry: %v, want ErrNotFound", err)
	}
	if err := s.PutPending(ctx, key(4), []byte("four"), now.Add(20*time.Minute), now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakePending(ctx, key(3), now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a sign-in expired before a later Put is still kept: %v", err)
	}
	if data, err := s.TakePending(ctx, key(4), now.Add(3*time.Minute)); err != nil || string(data) != "four" {
		t.Fatalf("TakePending = %q, %v", data, err)
	}
}

// cipher returns distinct fake A components for tests.
func cipher(i int) [32]byte { return sha256.Sum256(fmt.Appendf(nil, "ciphertext %d", i)) }

// testCrossBallotRules checks the ballot box's cross-ballot rules (SPEC
// §15.4), whose breach would make an honest election's record fail.
func testCrossBallotRules(t *testing.T, s store.Store) {
	ctx := t.Context()
	openElection(t, s, "e")
	castOne := func(c store.Cast) error {
		t.Helper()
		res, err := s.CastBallots(ctx, "e", []store.Cast{c})
		if err != nil {
			t.Fatalf("CastBallots: %v", err)
		}
		return res[0].Err
	}
	spoil := func(tr [32]byte, as ...[32]byte) error {
		_, err := s.SpoilBallot(ctx, "e", store.Spoil{Tracking: tr, Ciphertexts: as, Entry: entry("spoil", int(tr[0]))})
		return err
	}
	// Spoil then cast: refused.
	if err := spoil(track(1), cipher(1), cipher(2)); err != nil {
		t.Fatalf("SpoilBallot: %v", err)
	}
	if err := castOne(store.Cast{Credential: cred(1), Counter: 1, Tracking: track(1), Ciphertexts: [][32]byte{cipher(1), cipher(2)}, Entry: entry("cast", 1)}); !errors.Is(err, store.ErrSpoiledBallot) {
		t.Errorf("cast of a spoiled ballot: %v, want ErrSpoiledBallot", err)
	}
	// A spoiled ballot spoiled again: refused.
	if err := spoil(track(1), cipher(1), cipher(2)); !errors.Is(err, store.ErrReplay) {
		t.Errorf("second spoil of a ballot: %v, want ErrReplay", err)
	}
	// A cast reusing a spoiled ballot's ciphertext, under a new tracking code.
	if err := castOne(store.Cast{Credential: cred(1), Counter: 1, Tracking: track(2), Ciphertexts: [][32]byte{cipher(3), cipher(2)}, Entry: entry("cast", 2)}); !errors.Is(err, store.ErrReusedCiphertext) {
		t.Errorf("cast reusing a spoiled ciphertext: %v, want ErrReusedCiphertext", err)
	}
	// Cast then spoil: refused.
	if err := castOne(store.Cast{Credential: cred(1), Counter: 1, Tracking: track(3), Ciphertexts: [][32]byte{cipher(4), cipher(5)}, Entry: entry("cast", 3)}); err != nil {
		t.Fatalf("honest cast: %v", err)
	}
	if err := spoil(track(3), cipher(4), cipher(5)); !errors.Is(err, store.ErrCastBallot) {
		t.Errorf("spoil of a cast ballot: %v, want ErrCastBallot", err)
	}
	// A spoiled ballot sharing a ciphertext with a cast one (whose vote
	// its nonces would reveal).
	if err := spoil(track(4), cipher(6), cipher(5)); !errors.Is(err, store.ErrReusedCiphertext) {
		t.Errorf("spoil sharing a cast ciphertext: %v, want ErrReusedCiphertext", err)
	}
	// Another credential copying a ciphertext of credential 1's ballot.
	if err := castOne(store.Cast{Credential: cred(2), Counter: 1, Tracking: track(5), Ciphertexts: [][32]byte{cipher(7), cipher(4)}, Entry: entry("cast", 5)}); !errors.Is(err, store.ErrReusedCiphertext) {
		t.Errorf("cast copying another credential's ciphertext: %v, want ErrReusedCiphertext", err)
	}
	// One ciphertext twice in a ballot.
	if err := castOne(store.Cast{Credential: cred(2), Counter: 1, Tracking: track(6), Ciphertexts: [][32]byte{cipher(8), cipher(8)}, Entry: entry("cast", 6)}); !errors.Is(err, store.ErrReusedCiphertext) {
		t.Errorf("cast repeating a ciphertext: %v, want ErrReusedCiphertext", err)
	}
	// A re-vote may repeat its own credential's ciphertext (only the last
	// ballot counts).
	if err := castOne(store.Cast{Credential: cred(1), Counter: 2, Tracking: track(7), Ciphertexts: [][32]byte{cipher(4), cipher(9)}, Entry: entry("cast", 7)}); err != nil {
		t.Errorf("re-vote repeating its own ciphertext: %v", err)
	}
	// In one batch: the second credential's copy of the first's fresh
	// ciphertext is refused, the first is stored.
	res, err := s.CastBallots(ctx, "e", []store.Cast{
		{Credential: cred(3), Counter: 1, Tracking: track(8), Ciphertexts: [][32]byte{cipher(10)}, Entry: entry("cast", 8)},
		{Credential: cred(4), Counter: 1, Tracking: track(9), Ciphertexts: [][32]byte{cipher(10)}, Entry: entry("cast", 9)},
	})
	if err != nil || res[0].Err != nil || !errors.Is(res[1].Err, store.ErrReusedCiphertext) {
		t.Errorf("batch with a copied ciphertext: %v, %v", res, err)
	}
	// Nothing refused reached the board: 1 spoil + 2 casts + 1 in the batch.
	if size := treeSize(t, s, "e"); size != 4 {
		t.Errorf("tree size = %d, want 4", size)
	}
	if _, err := s.LookupTracking(ctx, "e", track(1)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LookupTracking of a spoiled ballot: %v, want ErrNotFound (it is not cast)", err)
	}
	if err := s.SetState(ctx, "e", store.StateOpen, "closed", nil); err != nil {
		t.Fatal(err)
	}
	if err := spoil(track(10), cipher(11)); !errors.Is(err, store.ErrStateConflict) {
		t.Errorf("spoil after closing: %v, want ErrStateConflict", err)
	}
}

// testSpoilCastRace races a spoil and a cast of the same ballot 100 times:
// exactly one of each pair is stored, never both (abuse-test C-1).
func testSpoilCastRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	openElection(t, s, "e")
	const rounds = 100
	casts, spoils := 0, 0
	for round := range rounds {
		tr := track(1000 + round)
		as := [][32]byte{cipher(2*round + 1000), cipher(2*round + 1001)}
		var castErr, spoilErr error
		var castRes []store.CastResult
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			castRes, castErr = s.CastBallots(ctx, "e", []store.Cast{{Credential: cred(1000 + round), Counter: 1, Tracking: tr, Ciphertexts: as, Entry: entry("cast", round)}})
		})
		wg.Go(func() {
			<-start
			_, spoilErr = s.SpoilBallot(ctx, "e", store.Spoil{Tracking: tr, Ciphertexts: as, Entry: entry("spoil", round)})
		})
		close(start)
		wg.Wait()
		if castErr != nil {
			t.Fatalf("round %d: CastBallots: %v", round, castErr)
		}
		castOK, spoilOK := castRes[0].Err == nil, spoilErr == nil
		switch {
		case castOK && spoilOK:
			t.Fatalf("round %d: the ballot was both cast and spoiled", round)
		case !castOK && !spoilOK:
			t.Fatalf("round %d: neither stored: cast %v, spoil %v", round, castRes[0].Err, spoilErr)
		case castOK && !errors.Is(spoilErr, store.ErrCastBallot):
			t.Errorf("round %d: spoil after cast: %v, want ErrCastBallot", round, spoilErr)
		case spoilOK && !errors.Is(castRes[0].Err, store.ErrSpoiledBallot):
			t.Errorf("round %d: cast after spoil: %v, want ErrSpoiledBallot", round, castRes[0].Err)
		}
		if castOK {
			casts++
		} else {
			spoils++
		}
	}
	if size := treeSize(t, s, "e"); size != rounds {
		t.Errorf("tree size = %d, want %d (one entry per round)", size, rounds)
	}
	t.Logf("%d rounds: %d casts won, %d spoils won", rounds, casts, spoils)
}
