package witness_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/store/sqlite"
	"github.com/koe-vote/koe/internal/witness"
	"github.com/koe-vote/koe/internal/witness/witnesstest"
)

// testBoard is a board in a fresh SQLite store with a fresh key.
type testBoard struct {
	log      *board.Log
	verifier note.Verifier
	vkey     string
	signer   note.Signer
}

func newBoard(t testing.TB, election string, signer note.Signer, vkey string) *testBoard {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "koe.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.CreateElection(context.Background(), store.Election{ID: election, State: "setup", Manifest: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	origin := board.Origin("koe.test", election)
	if signer == nil {
		skey, v, err := note.GenerateKey(rand.Reader, origin)
		if err != nil {
			t.Fatal(err)
		}
		if signer, err = note.NewSigner(skey); err != nil {
			t.Fatal(err)
		}
		vkey = v
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return &testBoard{log: board.New(st, election, origin, signer), verifier: verifier, vkey: vkey, signer: signer}
}

// add appends n entries whose bodies carry tag and returns a signed
// checkpoint of the whole board.
func (b *testBoard) add(t testing.TB, n int, tag string) *board.Checkpoint {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		e := board.Entry{Type: board.TypeOpen, Election: b.log.Election(), Time: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
			Body: []byte(fmt.Sprintf(`{"n":%q}`, fmt.Sprint(tag, i)))}
		if _, err := b.log.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	cp, err := b.log.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// cosignAll submits cp to every peer and returns the note with the
// cosignatures that came back, and the errors of those that did not.
func cosignAll(t testing.TB, b *testBoard, cp *board.Checkpoint, peers []*witness.Peer) ([]byte, []error) {
	t.Helper()
	var lines [][]byte
	var errs []error
	for _, p := range peers {
		l, err := p.Cosign(context.Background(), cp, b.log.ConsistencyProof)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		lines = append(lines, l)
	}
	signed, err := witness.AddCosignatures(cp.Note, lines...)
	if err != nil {
		t.Fatal(err)
	}
	return signed, errs
}

func startThree(t testing.TB, b *testBoard) ([]*witnesstest.Witness, []*witness.Peer, *witness.Policy) {
	t.Helper()
	var ws []*witnesstest.Witness
	var peers []*witness.Peer
	var keys []*witness.Key
	for _, name := range []string{"witness.city.example", "witness.univ.example", "witness.news.example"} {
		w := witnesstest.Start(t, name, witnesstest.Log{Origin: b.log.Origin(), Key: b.vkey})
		ws, peers, keys = append(ws, w), append(peers, w.Peer()), append(keys, w.Key)
	}
	pol, err := witness.NewPolicy(b.verifier, keys, 2)
	if err != nil {
		t.Fatal(err)
	}
	return ws, peers, pol
}

// TestOmniwitnessCosigns runs three omniwitnesses on loopback: each
// cosigns the board's first checkpoint, then later ones with consistency
// proofs; the policy accepts the cosigned checkpoints and refuses the
// operator's alone.
func TestOmniwitnessCosigns(t *testing.T) {
	b := newBoard(t, "e1", nil, "")
	ws, peers, pol := startThree(t, b)
	for round, n := range []int{1, 5, 1, 37} {
		cp := b.add(t, n, fmt.Sprint("r", round))
		if _, _, err := pol.Verify(cp.Note); !errors.Is(err, witness.ErrQuorum) {
			t.Fatalf("round %d: the operator's checkpoint alone: %v, want ErrQuorum", round, err)
		}
		signed, errs := cosignAll(t, b, cp, peers)
		if len(errs) > 0 {
			t.Fatalf("round %d: %v\n%s", round, errs, ws[0].Log())
		}
		got, cosigners, err := pol.Verify(signed)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if got.Size != cp.Size || len(cosigners) != 3 {
			t.Fatalf("round %d: size %d with %d cosigners, want %d with 3", round, got.Size, len(cosigners), cp.Size)
		}
		for _, p := range peers {
			if p.Size() != cp.Size {
				t.Fatalf("round %d: peer %s at size %d, want %d", round, p.Name, p.Size(), cp.Size)
			}
		}
	}
	// The same checkpoint again: the witness cosigns it afresh.
	cp, _ := b.log.Checkpoint(context.Background())
	if _, errs := cosignAll(t, b, cp, peers); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// TestOmniwitnessConflict: a board process that does not know what a
// witness cosigned (size 0) gets 409 with the witness's size and retries
// with the right consistency proof.
func TestOmniwitnessConflict(t *testing.T) {
	b := newBoard(t, "e1", nil, "")
	ws, peers, _ := startThree(t, b)
	cosignAll(t, b, b.add(t, 3, "a"), peers[:1])
	cp := b.add(t, 4, "b")
	fresh := ws[0].Peer() // knows nothing: submits "old 0"
	if _, err := fresh.Cosign(context.Background(), cp, b.log.ConsistencyProof); err != nil {
		t.Fatal(err)
	}
	if fresh.Size() != cp.Size {
		t.Fatalf("size %d, want %d", fresh.Size(), cp.Size)
	}
	// A checkpoint older than what the witness cosigned cannot be.
	old := &board.Checkpoint{Size: 3, Note: nil}
	if _, err := fresh.Cosign(context.Background(), old, b.log.ConsistencyProof); !errors.Is(err, witness.ErrStale) {
		t.Fatalf("older checkpoint: %v, want ErrStale", err)
	}
}

// TestOmniwitnessRefusesFork: a server that rewrites its history — the
// same origin and key, another log — gets no cosignature for it: not for a
// checkpoint of the same size with another hash, nor for a larger tree
// that does not extend the cosigned one (whatever proof it sends).
func TestOmniwitnessRefusesFork(t *testing.T) {
	honest := newBoard(t, "e1", nil, "")
	_, peers, pol := startThree(t, honest)
	cp := honest.add(t, 8, "honest")
	if _, errs := cosignAll(t, honest, cp, peers); len(errs) > 0 {
		t.Fatal(errs)
	}
	forked := newBoard(t, "e1", honest.signer, honest.vkey)
	same := forked.add(t, 8, "rewritten")
	for _, p := range peers {
		if _, err := p.Cosign(context.Background(), same, forked.log.ConsistencyProof); !errors.Is(err, witness.ErrInconsistent) {
			t.Fatalf("%s: rewritten checkpoint of the same size: %v, want ErrInconsistent", p.Name, err)
		}
	}
	longer := forked.add(t, 5, "more")
	signed, errs := cosignAll(t, forked, longer, peers)
	if len(errs) != 3 {
		t.Fatalf("the forked board got %d cosignatures", 3-len(errs))
	}
	for _, err := range errs {
		if !errors.Is(err, witness.ErrInconsistent) {
			t.Fatalf("forked board: %v, want ErrInconsistent", err)
		}
	}
	if _, _, err := pol.Verify(signed); !errors.Is(err, witness.ErrQuorum) {
		t.Fatalf("policy on the forked checkpoint: %v, want ErrQuorum", err)
	}
	// The honest board goes on being cosigned.
	if _, errs := cosignAll(t, honest, honest.add(t, 2, "later"), peers); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// TestOmniwitnessDown: with one witness of three stopped, the quorum of 2
// is still met; with two stopped it is not; restarted, they catch up with
// a consistency proof from the size they had cosigned.
func TestOmniwitnessDown(t *testing.T) {
	b := newBoard(t, "e1", nil, "")
	ws, peers, pol := startThree(t, b)
	cosignAll(t, b, b.add(t, 2, "a"), peers)
	ws[2].Stop()
	signed, errs := cosignAll(t, b, b.add(t, 3, "b"), peers)
	if len(errs) != 1 {
		t.Fatalf("%d failures, want 1", len(errs))
	}
	if _, c, err := pol.Verify(signed); err != nil || len(c) != 2 {
		t.Fatalf("one witness down: %v (%d cosigners)", err, len(c))
	}
	ws[1].Stop()
	signed, errs = cosignAll(t, b, b.add(t, 3, "c"), peers)
	if len(errs) != 2 {
		t.Fatalf("%d failures, want 2", len(errs))
	}
	if _, _, err := pol.Verify(signed); !errors.Is(err, witness.ErrQuorum) {
		t.Fatalf("two witnesses down: %v, want ErrQuorum", err)
	}
	ws[1].Restart()
	ws[2].Restart()
	cp := b.add(t, 1, "d")
	signed, errs = cosignAll(t, b, cp, peers)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if _, c, err := pol.Verify(signed); err != nil || len(c) != 3 {
		t.Fatalf("after restart: %v (%d cosigners)", err, len(c))
	}
}

// BenchmarkCosign3 measures submitting a checkpoint to three loopback
// omniwitnesses, one after another (the server submits in parallel).
func BenchmarkCosign3(b *testing.B) {
	tb := newBoard(b, "e1", nil, "")
	_, peers, pol := startThree(b, tb)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		cp := tb.add(b, 1, fmt.Sprint(i))
		b.StartTimer()
		signed, errs := cosignAll(b, tb, cp, peers)
		if len(errs) > 0 {
			b.Fatal(errs)
		}
		if _, _, err := pol.Verify(signed); err != nil {
			b.Fatal(err)
		}
	}
}
