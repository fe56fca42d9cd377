package client

import (
	"context"
	"fmt"
	"strings"

	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/credential"
)

// ReadWholeBoard reads an election's whole board from the server's
// tlog-tiles API (SPEC.md §13.5) with ReadBoard: the latest checkpoint,
// verified under boardKey (the text of a note verifier key, SPEC.md §13.3)
// and of this election's log, then every entry, each proved by an
// inclusion proof against that checkpoint.
func (c *Client) ReadWholeBoard(ctx context.Context, id, boardKey string) ([]board.Entry, *board.Checkpoint, error) {
	verifier, err := board.ParseVerifierKey(strings.TrimSpace(boardKey))
	if err != nil {
		return nil, nil, fmt.Errorf("board key: %w", err)
	}
	v, err := c.ReadBoard(ctx, id, verifier, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	return v.Entries, v.Checkpoint, nil
}

// RollCheck is what a voter, or an abstainer, finds about their letter on
// the board (SPEC.md §15.3).
type RollCheck struct {
	Commitment [32]byte // c, recomputed from the letter
	OnRoll     bool     // the roll published before open, or a reissue entry before close, lists c
	Issued     []int64  // indexes of the credential-issued entries naming c
	Revoked    []int64  // indexes of the reissue entries revoking c: a newer letter replaced this one
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
	entries, cp, err := c.ReadWholeBoard(ctx, el.ID, el.BoardKey)
	if err != nil {
		return nil, err
	}
	return FindOnRoll(entries, commitment, cp.Size)
}

// FindOnRoll looks for a roll commitment in a board's entries.
func FindOnRoll(entries []board.Entry, commitment [32]byte, size int64) (*RollCheck, error) {
	rc := &RollCheck{Commitment: commitment, Size: size}
	closed := false
	for i, e := range entries {
		switch e.Type {
		case board.TypeOpen:
			rc.Open = true
		case board.TypeRoll:
			cs, err := board.DecodeRoll(e.Body)
			if err != nil {
				return nil, fmt.Errorf("board entry %d: %w", i, err)
			}
			for _, x := range cs {
				if x == commitment && !rc.Open {
					rc.OnRoll = true
				}
			}
		case board.TypeClose:
			closed = true
		case board.TypeReissue:
			re, err := board.DecodeReissue(e.Body)
			if err != nil {
				return nil, fmt.Errorf("board entry %d: %w", i, err)
			}
			if re.Roll == commitment && !closed {
				rc.OnRoll = true
			}
			if re.Revoked == commitment {
				rc.Revoked = append(rc.Revoked, int64(i))
			}
		case board.TypeCredentialIssued:
			in, err := board.DecodeIssued(e.Body)
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
