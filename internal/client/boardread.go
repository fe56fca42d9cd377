package client

import (
	"context"
	"encoding/binary"
	"fmt"
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
	signed, err := c.Raw(ctx, "GET", api.ElectionPath(id, "/log/checkpoint"), "", nil)
	if err != nil {
		return nil, fmt.Errorf("board: fetching the checkpoint: %w", err)
	}
	cp, err := board.ParseCheckpoint(signed, verifier)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(cp.Origin, "/koe/"+id) {
		return nil, fmt.Errorf("board: the checkpoint's origin %q is not election %s's board", cp.Origin, id)
	}
	tiles := &tileFetcher{ctx: ctx, c: c, id: id}
	hashes := tlog.TileHashReader(tlog.Tree{N: cp.Size, Hash: cp.Hash}, tiles)
	if prev != nil {
		old, err := board.ParseCheckpoint(prev, verifier)
		if err != nil {
			return nil, fmt.Errorf("board: the checkpoint saved earlier: %w", err)
		}
		var proof tlog.TreeProof
		if old.Size > 0 && old.Size < cp.Size {
			if proof, err = tlog.ProveTree(cp.Size, old.Size, hashes); err != nil {
				return nil, fmt.Errorf("board: the server's tiles do not match its signed checkpoint of size %d: %v", cp.Size, err)
			}
		}
		if old.Size == cp.Size && old.Hash != cp.Hash {
			return nil, fmt.Errorf("board: the server signed two different trees of size %d: the one you saw earlier and the one it serves now (a forked board)", cp.Size)
		}
		if err := board.CheckConsistency(prev, signed, proof, verifier); err != nil {
			return nil, fmt.Errorf("board: the board the server serves now (size %d) does not extend the one you saw earlier (size %d): %w", cp.Size, old.Size, err)
		}
	}
	v := &BoardView{Checkpoint: cp}
	for start := int64(0); start < cp.Size; start += 1 << board.TileHeight {
		w := min(cp.Size-start, 1<<board.TileHeight)
		t := tlog.Tile{H: board.TileHeight, L: -1, N: start >> board.TileHeight, W: int(w)}
		data, err := tiles.fetch(t)
		if err != nil {
			return nil, err
		}
		bundle, err := SplitBundle(data, t.W)
		if err != nil {
			return nil, fmt.Errorf("board: entry bundle %d: %w", t.N, err)
		}
		for k, raw := range bundle {
			i := start + int64(k)
			if err := checkIncluded(cp, hashes, i, raw); err != nil {
				return nil, err
			}
			e, err := board.DecodeEntry(raw)
			if err != nil {
				return nil, fmt.Errorf("board: entry %d: %w", i, err)
			}
			if e.Election != id {
				return nil, fmt.Errorf("board: entry %d is of election %q, not %q", i, e.Election, id)
			}
			v.Entries = append(v.Entries, e)
			v.Raw = append(v.Raw, raw)
			if stop != nil && stop(e) {
				return v, nil
			}
		}
	}
	return v, nil
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
		return fmt.Errorf("board: the server's tiles do not match its signed checkpoint of size %d: %v", cp.Size, err)
	}
	if err := tlog.CheckRecord(proof, cp.Size, cp.Hash, i, tlog.RecordHash(raw)); err != nil {
		return fmt.Errorf("board: entry %d as the server serves it is not the one its signed checkpoint (size %d) commits to", i, cp.Size)
	}
	return nil
}

// tileFetcher reads tiles of height 8 from the server's tlog-tiles
// endpoint. tlog.TileHashReader checks hash tiles against the tree.
type tileFetcher struct {
	ctx context.Context
	c   *Client
	id  string
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
		return nil, fmt.Errorf("board: fetching tile %s: %w", p, err)
	}
	return data, nil
}
