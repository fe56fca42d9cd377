package board_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"net/url"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/client"

	"github.com/koe-vote/koe/internal/board"
)

// TestTesseraClient checks the board with a standard tlog-tiles client,
// transparency-dev/tessera's, over HTTP: it fetches and verifies
// checkpoints, builds inclusion and consistency proofs from the tiles
// alone, and reads entry bundles.
func TestTesseraClient(t *testing.T) {
	ctx := context.Background()
	l := newTestLog(t)
	_, root := serve(t, l.Log)
	u, err := url.Parse(root)
	if err != nil {
		t.Fatal(err)
	}
	f, err := client.NewHTTPFetcher(u, nil)
	if err != nil {
		t.Fatal(err)
	}

	// A voter's receipt at one size…
	l.grow(t, 300)
	receipt, err := l.MakeReceipt(ctx, 123, trackingOf(123))
	if err != nil {
		t.Fatal(err)
	}
	entry := l.entry(t, 123)
	if err := board.VerifyReceipt(receipt, entry, l.verifier); err != nil {
		t.Fatal(err)
	}
	oldCP, oldRaw, _, err := client.FetchCheckpoint(ctx, f.ReadCheckpoint, l.verifier, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	if oldCP.Size != 300 || string(oldRaw) != receipt.Checkpoint {
		t.Fatalf("tessera fetched checkpoint of size %d, receipt has %q", oldCP.Size, receipt.Checkpoint)
	}

	// …is included in a later checkpoint, as tessera's client proves.
	l.grow(t, 256*256+1000)
	newCP, newRaw, _, err := client.FetchCheckpoint(ctx, f.ReadCheckpoint, l.verifier, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	if newCP.Size != 256*256+1000 {
		t.Fatalf("size %d", newCP.Size)
	}
	pb, err := client.NewProofBuilder(ctx, newCP.Size, f.ReadTile)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := hex.DecodeString(receipt.LeafHash)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(leaf, rfc6962.DefaultHasher.HashLeaf(entry)) {
		t.Fatal("receipt's leaf hash is not RFC 6962's")
	}
	incl, err := pb.InclusionProof(ctx, uint64(receipt.Index))
	if err != nil {
		t.Fatal(err)
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(receipt.Index), newCP.Size, leaf, incl, newCP.Hash); err != nil {
		t.Fatalf("tessera: receipt leaf not included in the later checkpoint: %v", err)
	}
	// The receipt's own proof, checked by the same library against its checkpoint.
	var rp [][]byte
	for _, h := range receipt.Proof {
		b, _ := hex.DecodeString(h)
		rp = append(rp, b)
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(receipt.Index), oldCP.Size, leaf, rp, oldCP.Hash); err != nil {
		t.Fatalf("merkle/proof rejects the receipt's proof: %v", err)
	}

	// The two checkpoints are consistent: a tessera proof from the tiles…
	cons, err := pb.ConsistencyProof(ctx, oldCP.Size, newCP.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, oldCP.Size, newCP.Size, cons, oldCP.Hash, newCP.Hash); err != nil {
		t.Fatalf("tessera: checkpoints not consistent: %v", err)
	}
	// …equal to the board's own, which CheckConsistency accepts.
	ours, err := l.ConsistencyProof(ctx, int64(oldCP.Size), int64(newCP.Size))
	if err != nil {
		t.Fatal(err)
	}
	if len(ours) != len(cons) {
		t.Fatalf("consistency proofs of %d and %d hashes", len(ours), len(cons))
	}
	for i := range ours {
		if !bytes.Equal(ours[i][:], cons[i]) {
			t.Fatalf("consistency proof hash %d differs", i)
		}
	}
	if err := board.CheckConsistency(oldRaw, newRaw, ours, l.verifier); err != nil {
		t.Fatal(err)
	}
	// Every inclusion proof tessera builds matches the board's.
	for _, i := range []int64{0, 1, 255, 256, 65535, 65536, 66535} {
		got, err := pb.InclusionProof(ctx, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		want, err := l.InclusionProof(ctx, i, int64(newCP.Size))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("entry %d: proofs of %d and %d hashes", i, len(got), len(want))
		}
		for k := range got {
			if !bytes.Equal(got[k], want[k][:]) {
				t.Fatalf("entry %d: proof hash %d differs", i, k)
			}
		}
	}

	// tessera's LogStateTracker follows the log from the old checkpoint
	// to the new, verifying consistency itself.
	lst, err := client.NewLogStateTracker(ctx, f.ReadTile, oldRaw, l.verifier, testOrigin, client.UnilateralConsensus(f.ReadCheckpoint))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := lst.Update(ctx); err != nil {
		t.Fatalf("tessera LogStateTracker: %v", err)
	}
	if got := lst.Latest(); got.Size != newCP.Size || !bytes.Equal(got.Hash, newCP.Hash) {
		t.Fatalf("tracker at size %d", got.Size)
	}

	// Entry bundles, read by tessera, hold the entries; their RFC 6962
	// leaf hashes are the level-0 tiles'.
	for _, b := range []uint64{0, 1, 256, 259} {
		bundle, err := client.GetEntryBundle(ctx, f.ReadEntryBundle, b, newCP.Size)
		if err != nil {
			t.Fatal(err)
		}
		n := min(256, newCP.Size-b*256)
		if uint64(len(bundle.Entries)) != n {
			t.Fatalf("bundle %d: %d entries, want %d", b, len(bundle.Entries), n)
		}
		hashes, err := client.FetchLeafHashes(ctx, f.ReadTile, b*256, n, newCP.Size)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range bundle.Entries {
			if !bytes.Equal(e, l.entry(t, int64(b*256)+int64(i))) {
				t.Fatalf("bundle %d entry %d differs", b, i)
			}
			if !bytes.Equal(hashes[i], rfc6962.DefaultHasher.HashLeaf(e)) {
				t.Fatalf("bundle %d entry %d: leaf hash differs", b, i)
			}
		}
	}

	// A checkpoint signed by another key is rejected by tessera's client.
	other := newTestLog(t)
	if _, _, _, err := client.FetchCheckpoint(ctx, f.ReadCheckpoint, other.verifier, testOrigin); err == nil {
		t.Fatal("tessera accepted a checkpoint with the wrong key")
	}
}
