package client

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/record"
)

// ReadBoard reads an election's whole board from the server's tlog-tiles
// API (SPEC.md §13.5): the latest checkpoint, verified under boardKey (a
// note verifier key) and of this election's log, then every entry bundle.
// It checks that the entries' RFC 6962 tree hash is the checkpoint's, so
// the entries are the ones the board's signer committed to.
func (c *Client) ReadBoard(ctx context.Context, id, boardKey string) ([]board.Entry, *board.Checkpoint, error) {
	verifier, err := note.NewVerifier(strings.TrimSpace(boardKey))
	if err != nil {
		return nil, nil, fmt.Errorf("board key: %w", err)
	}
	signed, err := c.Raw(ctx, "GET", ElectionPath(id, "/log/checkpoint"), "", nil)
	if err != nil {
		return nil, nil, err
	}
	cp, err := board.ParseCheckpoint(signed, verifier)
	if err != nil {
		return nil, nil, fmt.Errorf("board checkpoint: %w", err)
	}
	if !strings.HasSuffix(cp.Origin, "/koe/"+id) {
		return nil, nil, fmt.Errorf("the checkpoint is of log %q, not of election %q", cp.Origin, id)
	}
	hashes := make([]tlog.Hash, 0, cp.Size)
	entries := make([]board.Entry, 0, cp.Size)
	for n := int64(0); n*256 < cp.Size; n++ {
		w := min(cp.Size-n*256, 256)
		t := tlog.Tile{H: board.TileHeight, L: -1, N: n, W: int(w)}
		path := "/log/tile/entries/" + strings.TrimPrefix(t.Path(), "tile/8/data/")
		bundle, err := c.Raw(ctx, "GET", ElectionPath(id, path), "", nil)
		if err != nil {
			return nil, nil, err
		}
		for k := int64(0); k < w; k++ {
			if len(bundle) < 2 || len(bundle) < 2+int(binary.BigEndian.Uint16(bundle)) {
				return nil, nil, fmt.Errorf("board entry bundle %d is truncated", n)
			}
			size := int(binary.BigEndian.Uint16(bundle))
			leaf := bundle[2 : 2+size]
			bundle = bundle[2+size:]
			e, err := board.DecodeEntry(leaf)
			if err != nil {
				return nil, nil, fmt.Errorf("board entry %d: %w", n*256+k, err)
			}
			entries = append(entries, e)
			hashes = append(hashes, tlog.RecordHash(leaf))
		}
		if len(bundle) != 0 {
			return nil, nil, fmt.Errorf("board entry bundle %d has %d bytes after its %d entries", n, len(bundle), w)
		}
	}
	if treeHash(hashes) != cp.Hash {
		return nil, nil, fmt.Errorf("the board's entries do not hash to its signed checkpoint (size %d)", cp.Size)
	}
	return entries, cp, nil
}

// treeHash is the RFC 6962 Merkle tree hash over leaf hashes.
func treeHash(leaves []tlog.Hash) tlog.Hash {
	switch len(leaves) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	return tlog.NodeHash(treeHash(leaves[:k]), treeHash(leaves[k:]))
}

// RollCheck is what a voter, or an abstainer, finds about their letter on
// the board (SPEC.md §15.3).
type RollCheck struct {
	Commitment [32]byte // c, recomputed from the letter
	OnRoll     bool     // the roll published before open lists c
	Issued     []int64  // indexes of the credential-issued entries naming c
	Open       bool     // the board has an open entry
	Size       int64    // the size of the checkpoint the board was read at
}

// CheckRoll recomputes a voter's roll commitment from the voter id and
// one-time code of their letter and looks for it on the board: on the roll
// published before open, and in the credential-issued entries. A voter who
// registered expects exactly one issuance; one who did not expects none,
// so an entry naming them is a credential someone else was issued in their
// name. The voter id and code leave this machine only as c.
func (c *Client) CheckRoll(ctx context.Context, el *Election, voter, code string) (*RollCheck, error) {
	commitment, err := credential.RollCommitment(el.ID, voter, code)
	if err != nil {
		return nil, err
	}
	entries, cp, err := c.ReadBoard(ctx, el.ID, el.BoardKey)
	if err != nil {
		return nil, err
	}
	return FindOnRoll(entries, commitment, cp.Size)
}

// FindOnRoll looks for a roll commitment in a board's entries.
func FindOnRoll(entries []board.Entry, commitment [32]byte, size int64) (*RollCheck, error) {
	rc := &RollCheck{Commitment: commitment, Size: size}
	for i, e := range entries {
		switch e.Type {
		case board.TypeOpen:
			rc.Open = true
		case board.TypeRoll:
			cs, err := record.DecodeRoll(e.Body)
			if err != nil {
				return nil, fmt.Errorf("board entry %d: %w", i, err)
			}
			for _, x := range cs {
				if x == commitment && !rc.Open {
					rc.OnRoll = true
				}
			}
		case board.TypeCredentialIssued:
			in, err := record.DecodeIssued(e.Body)
			if err != nil {
				return nil, fmt.Errorf("board entry %d: %w", i, err)
			}
			if !in.DigitalID && in.Value == commitment {
				rc.Issued = append(rc.Issued, int64(i))
			}
		}
	}
	return rc, nil
}
