package board

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/strictjson"
)

// Receipt proves that an entry (a ballot, for a voter) is on the board
// (SPEC.md §13.4): its index, its RFC 6962 leaf hash, an inclusion proof
// and the signed checkpoint the proof is against. The entry itself is
// fetched separately (it is the leaf's exact bytes).
type Receipt struct {
	Election   string   `json:"election"`
	Tracking   string   `json:"tracking"`   // the ballot's tracking code, 64 lowercase hex digits
	Index      int64    `json:"index"`      // the entry's index in the log
	LeafHash   string   `json:"leafHash"`   // tlog.RecordHash(entry), lowercase hex
	Proof      []string `json:"proof"`      // the inclusion proof, lowercase hex hashes
	Checkpoint string   `json:"checkpoint"` // the signed checkpoint note
}

// MakeReceipt returns the receipt of entry index, with the given tracking
// code, proved against the latest checkpoint.
func (l *Log) MakeReceipt(ctx context.Context, index int64, tracking [32]byte) (*Receipt, error) {
	cp, err := l.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	if index < 0 || index >= cp.Size {
		return nil, fmt.Errorf("board: entry %d is not in the log of size %d", index, cp.Size)
	}
	rs, err := l.ReceiptsAt(ctx, cp, []int64{index}, [][32]byte{tracking})
	if err != nil {
		return nil, err
	}
	return rs[0], nil
}

// ReceiptsAt returns the receipts of several entries, all proved against
// cp, a checkpoint of this log, reading each stored hash once: a ballot box
// answers a batch of casts with it.
func (l *Log) ReceiptsAt(ctx context.Context, cp *Checkpoint, indexes []int64, trackings [][32]byte) ([]*Receipt, error) {
	cache := map[int64]tlog.Hash{}
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		var missing []int64
		for _, i := range idx {
			if _, ok := cache[i]; !ok {
				missing = append(missing, i)
			}
		}
		if len(missing) > 0 {
			hs, err := l.st.ReadHashes(ctx, l.election, missing)
			if err != nil {
				return nil, err
			}
			for k, i := range missing {
				cache[i] = hs[k]
			}
		}
		out := make([]tlog.Hash, len(idx))
		for k, i := range idx {
			out[k] = cache[i]
		}
		return out, nil
	})
	out := make([]*Receipt, len(indexes))
	for k, index := range indexes {
		if index < 0 || index >= cp.Size {
			return nil, fmt.Errorf("board: entry %d is not in the log of size %d", index, cp.Size)
		}
		proof, err := tlog.ProveRecord(cp.Size, index, reader)
		if err != nil {
			return nil, fmt.Errorf("board: inclusion proof: %w", err)
		}
		leaf, err := reader.ReadHashes([]int64{tlog.StoredHashIndex(0, index)})
		if err != nil {
			return nil, fmt.Errorf("board: reading leaf hash %d: %v", index, err)
		}
		out[k] = l.receipt(cp, index, trackings[k], leaf[0], proof)
	}
	return out, nil
}

func (l *Log) receipt(cp *Checkpoint, index int64, tracking [32]byte, leaf tlog.Hash, proof tlog.RecordProof) *Receipt {
	r := &Receipt{
		Election:   l.election,
		Tracking:   hex.EncodeToString(tracking[:]),
		Index:      index,
		LeafHash:   hex.EncodeToString(leaf[:]),
		Proof:      make([]string, len(proof)),
		Checkpoint: string(cp.Note),
	}
	for i, h := range proof {
		r.Proof[i] = hex.EncodeToString(h[:])
	}
	return r
}

// DecodeReceipt decodes a receipt strictly (strictjson).
func DecodeReceipt(data []byte) (*Receipt, error) {
	var r Receipt
	if err := strictjson.Decode(data, &r); err != nil {
		return nil, fmt.Errorf("board: decoding receipt: %v", err)
	}
	return &r, nil
}

// VerifyReceipt checks a receipt against the entry it is for: the
// checkpoint is signed by verifier (the log's key) and its origin is
// "<host>/koe/<election>" with the receipt's election; the entry is a canonical entry of that
// election whose leaf hash is the receipt's; and the inclusion proof takes
// the leaf to the checkpoint's tree hash; and the entry is a ballot entry
// whose envelope's ballot has the receipt's tracking code (SPEC.md §8.5).
// It does not check the ballot or the envelope's credential, signature or
// proofs: a verifier of the record does.
func VerifyReceipt(r *Receipt, entry []byte, verifier note.Verifier) error {
	cp, err := ParseCheckpoint([]byte(r.Checkpoint), verifier)
	if err != nil {
		return fmt.Errorf("board: receipt: %w", err)
	}
	return VerifyReceiptAt(r, cp, entry)
}

// VerifyReceiptAt is VerifyReceipt for a caller that has verified the
// receipt's checkpoint itself (under the board key, or a witness policy
// that also requires cosignatures): cp must be r.Checkpoint parsed and
// verified. It checks everything else VerifyReceipt checks.
func VerifyReceiptAt(r *Receipt, cp *Checkpoint, entry []byte) error {
	if !bytes.Equal(cp.Note, []byte(r.Checkpoint)) {
		return errors.New("board: receipt: the checkpoint given is not the receipt's")
	}
	if e, _ := splitOrigin(cp.Origin); e != r.Election {
		return fmt.Errorf("board: receipt: checkpoint origin %q is not of election %q", cp.Origin, r.Election)
	}
	e, err := DecodeEntry(entry)
	if err != nil {
		return fmt.Errorf("board: receipt: %w", err)
	}
	if e.Election != r.Election {
		return fmt.Errorf("board: receipt: entry is of election %q, not %q", e.Election, r.Election)
	}
	if err := checkTracking(e, r.Tracking); err != nil {
		return fmt.Errorf("board: receipt: %w", err)
	}
	if r.Index < 0 || r.Index >= cp.Size {
		return fmt.Errorf("board: receipt: index %d is not in the checkpoint's tree of size %d", r.Index, cp.Size)
	}
	leaf, err := decodeHash(r.LeafHash)
	if err != nil {
		return fmt.Errorf("board: receipt: leaf hash: %v", err)
	}
	if leaf != tlog.RecordHash(entry) {
		return errors.New("board: receipt: leaf hash is not the entry's")
	}
	proof := make(tlog.RecordProof, len(r.Proof))
	for i, s := range r.Proof {
		if proof[i], err = decodeHash(s); err != nil {
			return fmt.Errorf("board: receipt: proof hash %d: %v", i, err)
		}
	}
	if err := tlog.CheckRecord(proof, cp.Size, cp.Hash, r.Index, leaf); err != nil {
		return fmt.Errorf("board: receipt: inclusion proof does not verify: %v", err)
	}
	return nil
}

// CheckConsistency checks that the log whose signed checkpoint is newer
// extends the one whose signed checkpoint is older, with a consistency
// proof between their sizes (Log.ConsistencyProof). Both must be signed
// by verifier and have the same origin.
func CheckConsistency(older, newer []byte, proof tlog.TreeProof, verifier note.Verifier) error {
	oc, err := ParseCheckpoint(older, verifier)
	if err != nil {
		return fmt.Errorf("board: older checkpoint: %w", err)
	}
	nc, err := ParseCheckpoint(newer, verifier)
	if err != nil {
		return fmt.Errorf("board: newer checkpoint: %w", err)
	}
	switch {
	case oc.Origin != nc.Origin:
		return fmt.Errorf("board: checkpoints of different logs %q and %q", oc.Origin, nc.Origin)
	case oc.Size > nc.Size:
		return fmt.Errorf("board: older checkpoint's size %d exceeds the newer's %d", oc.Size, nc.Size)
	case oc.Size == 0:
		if oc.Hash != emptyTreeHash() || len(proof) != 0 {
			return errors.New("board: bad empty-tree checkpoint or proof")
		}
		return nil
	}
	if err := tlog.CheckTree(proof, nc.Size, nc.Hash, oc.Size, oc.Hash); err != nil {
		return fmt.Errorf("board: checkpoints of sizes %d and %d are not consistent: %v", oc.Size, nc.Size, err)
	}
	return nil
}

// emptyTreeHash is SHA-256 of the empty string (RFC 6962 §2.1).
func emptyTreeHash() tlog.Hash {
	h, _ := tlog.TreeHash(0, nil)
	return h
}

// envelopeBody is the schema of a ballot entry's body, the cast envelope
// of SPEC.md §15.4 (ballotbox.Envelope), decoded here only to find the
// ballot a receipt names.
type envelopeBody struct {
	Ballot     []byte `json:"ballot"`
	Credential []byte `json:"credential"`
	Salt       []byte `json:"salt"`
	Counter    uint64 `json:"counter"`
	Signature  []byte `json:"signature"`
}

// checkTracking checks that e is a ballot entry whose ballot's tracking
// code, H256("koe/v2/tracking"; Bytes("ballot", ballot)), is tracking
// (64 lowercase hex digits).
func checkTracking(e Entry, tracking string) error {
	want, err := decodeHash(tracking)
	if err != nil {
		return fmt.Errorf("tracking code: %v", err)
	}
	if e.Type != TypeBallot {
		return fmt.Errorf("the entry is a %s entry, not a ballot", e.Type)
	}
	var env envelopeBody
	if err := strictjson.Decode(e.Body, &env); err != nil {
		return fmt.Errorf("the entry's cast envelope: %v", err)
	}
	if group.NewDigest("koe/v2/tracking").Bytes("ballot", env.Ballot).Digest32() != want {
		return errors.New("the entry holds a ballot with another tracking code than the receipt's")
	}
	return nil
}

// decodeHash decodes 64 lowercase hex digits.
func decodeHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	if len(s) != 2*tlog.HashSize {
		return h, fmt.Errorf("%q is not %d hex digits", s, 2*tlog.HashSize)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil || hex.EncodeToString(h[:]) != s {
		return h, fmt.Errorf("%q is not lowercase hex", s)
	}
	return h, nil
}
