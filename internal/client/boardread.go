package client

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/board"
)

// BoardView is a prefix of an election's board read from its tlog tiles
// (SPEC.md §13.5) and checked against a signed checkpoint: every entry it
// holds is proved by an inclusion proof against Checkpoint, and Checkpoint
// is consistent with the one the reader saw before, if any.
type BoardView struct {
	Checkpoint *board.Checkpoint
	Entries    []board.Entry // entries 0, 1, … in log order
	Raw        [][]byte      // each entry's bytes, as hashed into the log
}

// ReadBoard fetches the board's latest checkpoint, verifies its signature
// under verifier and that its origin names election id, checks that it
// extends prev (a signed checkpoint of this board the caller saw earlier,
// nil if none) with a consistency proof, and reads the entries from the
// entry bundles, from the first up to and including the first for which
// stop returns true (all of them if stop is nil or never does). Each entry
// is checked by an inclusion proof against the checkpoint's tree; hash
// tiles are checked against the tree hash as they are read
// (tlog.TileHashReader). A server that serves an entry not in the signed
// tree, or a tree that does not extend prev, is refused with an error
// saying so.
func (c *Client) ReadBoard(ctx context.Context, id string, verifier note.Verifier, prev []byte, stop func(board.Entry) bool) (*BoardView, error) {
	signed, err := c.LogCheckpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	cp, err := board.ParseCheckpoint(signed, verifier)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(cp.Origin, "/koe/"+id) {
		return nil, fmt.Errorf("board: the checkpoint's origin %q is not election %s's board", cp.Origin, id)
	}
	if prev != nil {
		old, err := board.ParseCheckpoint(prev, verifier)
		if err != nil {
			return nil, fmt.Errorf("board: the checkpoint saved earlier: %w", err)
		}
		if err := c.CheckExtends(ctx, id, old, cp); err != nil {
			var fork *ForkError
			if errors.As(err, &fork) && old.Size == cp.Size {
				return nil, fmt.Errorf("board: the server signed two different trees of size %d: the one you saw earlier and the one it serves now (a forked board)", cp.Size)
			}
			if errors.As(err, &fork) {
				return nil, fmt.Errorf("board: the board the server serves now (size %d) does not extend the one you saw earlier (size %d): board: checkpoints of sizes %d and %d are not consistent: %w", cp.Size, old.Size, old.Size, cp.Size, fork)
			}
			return nil, err
		}
	}
	v := &BoardView{Checkpoint: cp}
	errStop := errors.New("stop")
	err = c.ReadEntries(ctx, id, cp, 0, func(i int64, raw []byte) error {
		e, err := board.DecodeEntry(raw)
		if err != nil {
			return fmt.Errorf("board: entry %d: %w", i, err)
		}
		if e.Election != id {
			return fmt.Errorf("board: entry %d is of election %q, not %q", i, e.Election, id)
		}
		v.Entries = append(v.Entries, e)
		v.Raw = append(v.Raw, raw)
		if stop != nil && stop(e) {
			return errStop
		}
		return nil
	})
	if err != nil && err != errStop {
		return nil, err
	}
	return v, nil
}

// LogCheckpoint fetches the board's latest signed checkpoint
// (GET …/log/checkpoint, SPEC.md §13.5), unverified.
func (c *Client) LogCheckpoint(ctx context.Context, id string) ([]byte, error) {
	signed, err := c.Raw(ctx, "GET", api.ElectionPath(id, "/log/checkpoint"), "", nil)
	if err != nil {
		return nil, fmt.Errorf("board: fetching the checkpoint: %w", err)
	}
	return signed, nil
}

// CosignedCheckpoint fetches the latest checkpoint known to satisfy the
// election's witness policy (GET …/cosigned-checkpoint, SPEC.md §15.7),
// unverified. Before any does the server answers 404, and this returns
// nil and no error.
func (c *Client) CosignedCheckpoint(ctx context.Context, id string) ([]byte, error) {
	signed, err := c.Raw(ctx, "GET", api.ElectionPath(id, "/cosigned-checkpoint"), "", nil)
	var he *Error
	if errors.As(err, &he) && he.Status == http.StatusNotFound && he.Code == api.CodeNotCosigned {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("board: fetching the cosigned checkpoint: %w", err)
	}
	return signed, nil
}

// ForkError says that two signed checkpoints of one board are not of one
// history: equal sizes with different tree hashes, or no consistency
// proof from the smaller to the larger (SPEC.md §13.9).
type ForkError struct {
	Old, New *board.Checkpoint // Old the one seen first (or the smaller)
	Err      error
}

func (e *ForkError) Error() string {
	if e.Old.Size == e.New.Size {
		return fmt.Sprintf("fork: two different trees of size %d were signed for %s (hashes %x… and %x…)", e.Old.Size, e.Old.Origin, e.Old.Hash[:8], e.New.Hash[:8])
	}
	return fmt.Sprintf("fork: the tree of size %d (%x…) does not extend the tree of size %d (%x…) of %s: %v", e.New.Size, e.New.Hash[:8], e.Old.Size, e.Old.Hash[:8], e.Old.Origin, e.Err)
}

func (e *ForkError) Unwrap() error { return e.Err }

// CheckExtends checks that cp, a verified checkpoint this server serves,
// extends old, a verified checkpoint of the same board seen before (from
// this server or another): equal hashes if the sizes are equal, else a
// consistency proof from old's size to cp's, read from this server's
// hash tiles and checked against both tree hashes. A cp smaller than old
// is a board cut back. Failures of the history are a *ForkError; a
// server whose tiles do not match its own checkpoint is another error.
func (c *Client) CheckExtends(ctx context.Context, id string, old, cp *board.Checkpoint) error {
	if old.Origin != cp.Origin {
		return fmt.Errorf("board: checkpoints of different logs %q and %q", old.Origin, cp.Origin)
	}
	switch {
	case old.Size == cp.Size && old.Hash == cp.Hash:
		return nil
	case old.Size == cp.Size:
		return &ForkError{Old: old, New: cp, Err: errors.New("different tree hashes")}
	case old.Size > cp.Size:
		return &ForkError{Old: old, New: cp, Err: fmt.Errorf("the board was cut back from %d to %d entries", old.Size, cp.Size)}
	}
	proof, err := c.ProveTree(ctx, id, cp, old.Size)
	if err != nil {
		return err
	}
	return CheckProof(old, cp, proof)
}

// CheckProof checks a consistency proof from old's tree to the larger
// cp's (RFC 9162 §2.1.4.2); a failure is a *ForkError.
func CheckProof(old, cp *board.Checkpoint, proof tlog.TreeProof) error {
	if old.Size == 0 {
		if h, _ := tlog.TreeHash(0, nil); old.Hash != h {
			return &ForkError{Old: old, New: cp, Err: errors.New("the empty tree's hash is wrong")}
		}
		return nil
	}
	if err := tlog.CheckTree(proof, cp.Size, cp.Hash, old.Size, old.Hash); err != nil {
		return &ForkError{Old: old, New: cp, Err: err}
	}
	return nil
}

// ProveTree computes the consistency proof from oldSize to cp's size from
// the server's hash tiles, each checked against cp's tree hash as it is
// read (tlog.TileHashReader).
func (c *Client) ProveTree(ctx context.Context, id string, cp *board.Checkpoint, oldSize int64) (tlog.TreeProof, error) {
	if oldSize == 0 || oldSize == cp.Size {
		return nil, nil
	}
	tiles := &tileFetcher{ctx: ctx, c: c, id: id}
	hashes := tlog.TileHashReader(tlog.Tree{N: cp.Size, Hash: cp.Hash}, tiles)
	proof, err := tlog.ProveTree(cp.Size, oldSize, hashes)
	if err != nil {
		if tiles.failed != nil {
			return nil, tiles.failed
		}
		return nil, fmt.Errorf("board: %w of size %d: %v", ErrBadTiles, cp.Size, err)
	}
	return proof, nil
}

// ReadEntries reads the board's entries start, start+1, … up to cp's
// size from the entry bundles (SPEC.md §13.5) and calls each with every
// entry's index and bytes, in log order, stopping at its first error.
// Every entry is checked first by an inclusion proof against cp, whose
// hashes are read from hash tiles checked against cp's tree hash. cp
// must be a verified checkpoint of election id's board.
func (c *Client) ReadEntries(ctx context.Context, id string, cp *board.Checkpoint, start int64, each func(i int64, raw []byte) error) error {
	tiles := &tileFetcher{ctx: ctx, c: c, id: id}
	hashes := tlog.TileHashReader(tlog.Tree{N: cp.Size, Hash: cp.Hash}, tiles)
	const full = 1 << board.TileHeight
	for first := start - start%full; first < cp.Size; first += full {
		t := tlog.Tile{H: board.TileHeight, L: -1, N: first / full, W: int(min(cp.Size-first, full))}
		data, err := tiles.fetch(t)
		if err != nil {
			return err
		}
		bundle, err := SplitBundle(data, t.W)
		if err != nil {
			return fmt.Errorf("board: entry bundle %d: %w (%w)", t.N, err, ErrBadTiles)
		}
		for k, raw := range bundle {
			i := first + int64(k)
			if i < start {
				continue
			}
			if err := checkIncluded(cp, hashes, i, raw); err != nil {
				if tiles.failed != nil {
					return tiles.failed
				}
				return err
			}
			if err := each(i, raw); err != nil {
				return err
			}
		}
	}
	return nil
}

// SplitBundle splits a tlog-tiles entry bundle (SPEC.md §13.5) that must
// hold exactly w entries, each a big-endian uint16 length and that many
// bytes, into the entries.
func SplitBundle(data []byte, w int) ([][]byte, error) {
	out := make([][]byte, 0, w)
	for k := 0; k < w; k++ {
		if len(data) < 2 {
			return nil, fmt.Errorf("truncated: %d of %d entries", k, w)
		}
		n := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+n {
			return nil, fmt.Errorf("truncated in entry %d of %d", k, w)
		}
		out = append(out, data[2:2+n])
		data = data[2+n:]
	}
	if len(data) != 0 {
		return nil, fmt.Errorf("%d bytes after its %d entries", len(data), w)
	}
	return out, nil
}

// checkIncluded checks entry i's bytes with an inclusion proof against the
// checkpoint, the proof's hashes read through tiles checked against it.
func checkIncluded(cp *board.Checkpoint, hashes tlog.HashReader, i int64, raw []byte) error {
	proof, err := tlog.ProveRecord(cp.Size, i, hashes)
	if err != nil {
		return fmt.Errorf("board: %w of size %d: %v", ErrBadTiles, cp.Size, err)
	}
	if err := tlog.CheckRecord(proof, cp.Size, cp.Hash, i, tlog.RecordHash(raw)); err != nil {
		return fmt.Errorf("board: entry %d as the server serves it is not the one its signed checkpoint (size %d) commits to (%w)", i, cp.Size, ErrBadTiles)
	}
	return nil
}

// ErrBadTiles is wrapped by the errors of a server whose tiles do not
// match its own signed checkpoint: a hash tile, an entry bundle or an
// entry that the checkpoint does not commit to. It is evidence against
// the server, unlike a failure to fetch a tile.
var ErrBadTiles = errors.New("the server's tiles do not match its signed checkpoint")

// tileFetcher reads tiles of height 8 from the server's tlog-tiles
// endpoint. tlog.TileHashReader checks hash tiles against the tree.
type tileFetcher struct {
	ctx    context.Context
	c      *Client
	id     string
	failed error // the first failure to fetch a tile
}

func (f *tileFetcher) Height() int { return board.TileHeight }

func (f *tileFetcher) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for k, t := range tiles {
		var err error
		if out[k], err = f.fetch(t); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (f *tileFetcher) SaveTiles([]tlog.Tile, [][]byte) {}

// fetch reads one tile at its tlog-tiles path (SPEC.md §13.5).
func (f *tileFetcher) fetch(t tlog.Tile) ([]byte, error) {
	p := strings.TrimPrefix(t.Path(), "tile/8/")
	if rest, ok := strings.CutPrefix(p, "data/"); ok {
		p = "entries/" + rest
	}
	data, err := f.c.Raw(f.ctx, "GET", api.ElectionPath(f.id, "/log/tile/"+p), "", nil)
	if err != nil {
		err = fmt.Errorf("board: fetching tile %s: %w", p, err)
		if f.failed == nil {
			f.failed = err
		}
		return nil, err
	}
	return data, nil
}

// CompareWithMonitor fetches a monitor's latest checkpoint of election id
// (GET …/log/checkpoint on the monitor's mirror, SPEC.md §13.9), verifies
// it under verifier, and checks that it and ours, a verified checkpoint
// of the same board, are of one history: the same tree at equal size; if
// the monitor's is smaller, the consistency proof from its size to ours
// that prove gives (from our own copy of the board, or our server's
// tiles); if it is larger, a proof from ours to it read from the
// monitor's tiles. A disagreement is a *ForkError. It returns the
// monitor's checkpoint.
func CompareWithMonitor(ctx context.Context, monitor *Client, id string, verifier note.Verifier, ours *board.Checkpoint, prove func(oldSize int64) (tlog.TreeProof, error)) (*board.Checkpoint, error) {
	signed, err := monitor.LogCheckpoint(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	theirs, err := board.ParseCheckpoint(signed, verifier)
	if err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	if theirs.Origin != ours.Origin {
		return nil, fmt.Errorf("monitor: its checkpoint is of log %q, ours of %q", theirs.Origin, ours.Origin)
	}
	if theirs.Size > ours.Size {
		return theirs, monitor.CheckExtends(ctx, id, ours, theirs)
	}
	if theirs.Size == ours.Size {
		if theirs.Hash != ours.Hash {
			return theirs, &ForkError{Old: theirs, New: ours, Err: errors.New("different tree hashes")}
		}
		return theirs, nil
	}
	proof, err := prove(theirs.Size)
	if err != nil {
		return theirs, err
	}
	return theirs, CheckProof(theirs, ours, proof)
}
