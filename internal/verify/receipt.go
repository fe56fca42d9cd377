package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/strictjson"
)

// CheckpointVerifier decides whether a signed checkpoint of an election's
// board is to be believed, and parses it (SPEC.md §13.3). A receipt's
// checkpoint is the board key's alone (it is given before any witness
// answers, §15.7), so receipts are checked with KeyVerifier; the record's
// final checkpoint is held to the witness policy by the board check
// (§13.6 step 1).
type CheckpointVerifier interface {
	Verify(signed []byte) (*board.Checkpoint, error)
}

// KeyVerifier believes a checkpoint signed by the board key.
type KeyVerifier struct{ Key note.Verifier }

// Verify checks the board key's signature and parses the checkpoint.
func (k KeyVerifier) Verify(signed []byte) (*board.Checkpoint, error) {
	return board.ParseCheckpoint(signed, k.Key)
}

// Name says in plain words whose signature the verifier requires.
func (k KeyVerifier) Name() string { return "the board's key " + k.Key.Name() }

// FinalBoard is the board of a record (SPEC.md §10.1): its entries, their
// tree's hashes and the signed checkpoint that covers exactly them.
type FinalBoard struct {
	Checkpoint *board.Checkpoint
	Leaves     [][]byte    // the entries' exact bytes, in log order
	hashes     []tlog.Hash // the tree's stored hashes (tlog.StoredHashIndex)
}

// RecordCheckpointVerifier returns the checkpoint verifier of the record
// in dir: its board key (board/key).
func RecordCheckpointVerifier(dir string) (CheckpointVerifier, error) {
	keyText, err := record.ReadFile(filepath.Join(dir, filepath.FromSlash(record.BoardKey)))
	if err != nil {
		return nil, err
	}
	key, err := board.ParseVerifierKeyFile(keyText)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", record.BoardKey, err)
	}
	return KeyVerifier{Key: key}, nil
}

// LoadFinalBoard reads the board of the record in dir and checks that its
// checkpoint is believed by cv and covers exactly its entries (SPEC.md
// §13.6 steps 1–2).
func LoadFinalBoard(dir string, cv CheckpointVerifier) (*FinalBoard, error) {
	if !hasBoard(dir) {
		return nil, errors.New("the record has no board (board/entries.jsonl): it was not exported from a server, so it cannot confirm a receipt")
	}
	signed, err := record.ReadFile(filepath.Join(dir, filepath.FromSlash(record.BoardCheckpoint)))
	if err != nil {
		return nil, err
	}
	lines, err := record.ReadFile(filepath.Join(dir, filepath.FromSlash(record.BoardEntries)))
	if err != nil {
		return nil, err
	}
	cp, err := cv.Verify(signed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", record.BoardCheckpoint, err)
	}
	if len(lines) == 0 || lines[len(lines)-1] != '\n' {
		return nil, fmt.Errorf("%s must end with a newline", record.BoardEntries)
	}
	return NewFinalBoard(cp, bytes.Split(lines[:len(lines)-1], []byte("\n")))
}

// NewFinalBoard checks that leaves are exactly the entries of the tree of
// the verified checkpoint cp and returns them as a board.
func NewFinalBoard(cp *board.Checkpoint, leaves [][]byte) (*FinalBoard, error) {
	if int64(len(leaves)) != cp.Size {
		return nil, fmt.Errorf("the board has %d entries, its checkpoint covers %d", len(leaves), cp.Size)
	}
	b := &FinalBoard{Checkpoint: cp, Leaves: leaves}
	for i, leaf := range leaves {
		hs, err := tlog.StoredHashes(int64(i), leaf, b.reader())
		if err != nil {
			return nil, err
		}
		b.hashes = append(b.hashes, hs...)
	}
	root, err := tlog.TreeHash(cp.Size, b.reader())
	if err != nil {
		return nil, err
	}
	if root != cp.Hash {
		return nil, errors.New("the entries' Merkle tree hash is not the signed checkpoint's")
	}
	return b, nil
}

func (b *FinalBoard) reader() tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for k, i := range idx {
			if i < 0 || i >= int64(len(b.hashes)) {
				return nil, fmt.Errorf("hash %d is not in the tree", i)
			}
			out[k] = b.hashes[i]
		}
		return out, nil
	})
}

// ConsistencyProof proves that the tree of size n is a prefix of the
// board's (RFC 9162 §2.1.4).
func (b *FinalBoard) ConsistencyProof(n int64) (tlog.TreeProof, error) {
	if n <= 0 || n >= b.Checkpoint.Size {
		return tlog.TreeProof{}, nil
	}
	return tlog.ProveTree(b.Checkpoint.Size, n, b.reader())
}

// ReceiptCheck is what CheckReceipt found: the receipted ballot's entry
// and the two trees a voter's receipt ties together.
type ReceiptCheck struct {
	Tracking  [32]byte
	Index     int64 // the ballot's entry
	Size      int64 // the tree the receipt was signed for
	FinalSize int64 // the final board's
}

// Extended reports whether the final board grew after the receipt.
func (c *ReceiptCheck) Extended() bool { return c.FinalSize > c.Size }

// CheckReceipt checks a voter's receipt against the final board (SPEC.md
// §13.4, §13.8): the receipt's checkpoint is believed by cv and is of the
// same log; the receipt is valid for the final board's entry at its index
// (the entry is the ballot with the receipt's tracking code, and the
// inclusion proof takes it to the receipt's tree); and the receipt's tree
// is a prefix of the final one (a consistency proof computed from the
// board and checked against both tree hashes). A server that showed the
// voter one log and published another, or dropped the ballot, fails one of
// them; the error says which, in plain words.
func (b *FinalBoard) CheckReceipt(r *board.Receipt, cv CheckpointVerifier) (*ReceiptCheck, error) {
	cp, err := cv.Verify([]byte(r.Checkpoint))
	if err != nil {
		return nil, fmt.Errorf("the receipt's checkpoint is not signed as the election requires: %w", err)
	}
	if cp.Origin != b.Checkpoint.Origin {
		return nil, fmt.Errorf("the receipt is for log %q, the record's board is %q", cp.Origin, b.Checkpoint.Origin)
	}
	if r.Index < 0 || r.Index >= b.Checkpoint.Size {
		return nil, fmt.Errorf("the receipt names entry %d, but the final board has only %d entries: the ballot was dropped or the board cut back", r.Index, b.Checkpoint.Size)
	}
	if cp.Size > b.Checkpoint.Size {
		return nil, fmt.Errorf("the receipt's board had %d entries, the final board only %d: the board was cut back", cp.Size, b.Checkpoint.Size)
	}
	if err := board.VerifyReceiptAt(r, cp, b.Leaves[r.Index]); err != nil {
		return nil, fmt.Errorf("entry %d of the final board is not the receipted ballot (dropped or replaced), or the receipt is invalid: %w", r.Index, err)
	}
	if err := b.checkPrefix(cp); err != nil {
		return nil, err
	}
	c := &ReceiptCheck{Index: r.Index, Size: cp.Size, FinalSize: b.Checkpoint.Size}
	c.Tracking, _ = decodeHex32(r.Tracking)
	return c, nil
}

// checkPrefix checks, with a consistency proof, that the tree of cp is a
// prefix of the final board's.
func (b *FinalBoard) checkPrefix(cp *board.Checkpoint) error {
	fork := fmt.Errorf("the board the receipt was signed for (%d entries) is not a prefix of the final board: the server showed the voter one history and published another (a forked board)", cp.Size)
	if cp.Size == b.Checkpoint.Size {
		if cp.Hash != b.Checkpoint.Hash {
			return fork
		}
		return nil
	}
	proof, err := b.ConsistencyProof(cp.Size)
	if err != nil {
		return fmt.Errorf("consistency proof: %w", err)
	}
	if err := tlog.CheckTree(proof, b.Checkpoint.Size, b.Checkpoint.Hash, cp.Size, cp.Hash); err != nil {
		return fork
	}
	return nil
}

// maxReceiptFile bounds a receipt file: a receipt's proof has at most 63
// hashes, its checkpoint a few signatures.
const maxReceiptFile = 64 << 10

// boothReceipt is the receipt file the booth lets the voter save: the
// ballot box's answer to the cast (SPEC.md §13.4, §15.4).
type boothReceipt struct {
	TrackingCode string         `json:"trackingCode"`
	Receipt      *board.Receipt `json:"receipt"`
}

// ParseReceiptFile decodes a saved receipt strictly: either the booth's
// file, {"trackingCode": …, "receipt": {…}}, whose tracking code for
// people must be the receipt's, or a bare receipt (SPEC.md §13.4).
func ParseReceiptFile(data []byte) (*board.Receipt, error) {
	if len(data) > maxReceiptFile {
		return nil, fmt.Errorf("a receipt file is at most %d bytes, this one is %d", maxReceiptFile, len(data))
	}
	// Which of the two forms: every key either may hold, all optional here;
	// the form's own decoder then requires its fields.
	var probe struct {
		TrackingCode json.RawMessage `json:"trackingCode,omitempty"`
		Receipt      json.RawMessage `json:"receipt,omitempty"`
		Election     json.RawMessage `json:"election,omitempty"`
		Tracking     json.RawMessage `json:"tracking,omitempty"`
		Index        json.RawMessage `json:"index,omitempty"`
		LeafHash     json.RawMessage `json:"leafHash,omitempty"`
		Proof        json.RawMessage `json:"proof,omitempty"`
		Checkpoint   json.RawMessage `json:"checkpoint,omitempty"`
	}
	if err := strictjson.Decode(data, &probe); err != nil {
		return nil, fmt.Errorf("not a receipt: %v", err)
	}
	if probe.Receipt == nil {
		r, err := board.DecodeReceipt(data)
		if err != nil {
			return nil, err
		}
		return r, checkReceiptFields(r)
	}
	var f boothReceipt
	if err := strictjson.Decode(data, &f); err != nil {
		return nil, fmt.Errorf("not a booth receipt file: %v", err)
	}
	if f.Receipt == nil {
		return nil, errors.New("not a booth receipt file: no receipt")
	}
	if err := checkReceiptFields(f.Receipt); err != nil {
		return nil, err
	}
	code, _ := decodeHex32(f.Receipt.Tracking)
	if f.TrackingCode != ballot.FormatTrackingCode(code) {
		return nil, fmt.Errorf("the file's tracking code %q is not its receipt's (%s)", f.TrackingCode, ballot.FormatTrackingCode(code))
	}
	return f.Receipt, nil
}

// checkReceiptFields checks what a receipt's decoding alone can: every
// field present and of its form.
func checkReceiptFields(r *board.Receipt) error {
	switch {
	case r.Election == "":
		return errors.New("receipt: no election")
	case r.Checkpoint == "":
		return errors.New("receipt: no checkpoint")
	case r.Index < 0:
		return fmt.Errorf("receipt: negative index %d", r.Index)
	case len(r.Proof) > 63:
		return fmt.Errorf("receipt: an inclusion proof of %d hashes", len(r.Proof))
	}
	if _, err := decodeHex32(r.Tracking); err != nil {
		return fmt.Errorf("receipt: tracking code: %v", err)
	}
	if _, err := decodeHex32(r.LeafHash); err != nil {
		return fmt.Errorf("receipt: leaf hash: %v", err)
	}
	return nil
}

// decodeHex32 decodes 64 lowercase hex digits.
func decodeHex32(s string) ([32]byte, error) {
	var h [32]byte
	if len(s) != 64 {
		return h, fmt.Errorf("%q is not 64 hex digits", s)
	}
	for i := 0; i < 32; i++ {
		hi, lo := unhex(s[2*i]), unhex(s[2*i+1])
		if hi < 0 || lo < 0 {
			return h, fmt.Errorf("%q is not lowercase hex", s)
		}
		h[i] = byte(hi<<4 | lo)
	}
	return h, nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}
