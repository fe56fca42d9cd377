package board

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// TileHeight is the height of the log's tiles (C2SP tlog-tiles): 256
// hashes or entries per full tile.
const TileHeight = 8

// Handler serves the log in the C2SP tlog-tiles layout (SPEC.md §13.5),
// at paths relative to the log's root (mount it with http.StripPrefix):
//
//	checkpoint                  the latest signed checkpoint (text/plain)
//	tile/<L>/<N>[.p/<W>]        hash tile N of level L (height 8)
//	tile/entries/<N>[.p/<W>]    entry bundle N: each entry as a big-endian uint16 length and its bytes
//
// <N> is written in groups of three digits, all but the last prefixed with
// "x" (x001/x234/067). Full tiles never change and may be cached forever;
// partial tiles (.p/<W>, 1 ≤ W < 256) and the checkpoint are served with
// no-cache. Tiles beyond the tree are 404; malformed paths are 400.
func (l *Log) Handler() http.Handler {
	return http.HandlerFunc(l.serveHTTP)
}

func (l *Log) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ctx := r.Context()
	p := strings.TrimPrefix(r.URL.Path, "/")
	if p == "checkpoint" {
		cp, err := l.Checkpoint(ctx)
		if err != nil {
			serverError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(cp.Note)
		return
	}
	if !strings.HasPrefix(p, "tile/") {
		http.NotFound(w, r)
		return
	}
	t, err := parseTilePath(p)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	size, err := l.st.TreeSize(ctx, l.election)
	if err != nil {
		serverError(w, r, err)
		return
	}
	if !tileInTree(t, size) {
		w.Header().Set("Cache-Control", "no-cache")
		http.Error(w, "tile beyond the tree", http.StatusNotFound)
		return
	}
	var data []byte
	if t.L == -1 {
		data, err = l.entryBundle(r, t)
	} else {
		data, err = tlog.ReadTileData(t, l.hashReader(ctx))
	}
	if err != nil {
		serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if t.W == 1<<TileHeight {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

// entryBundle reads the entries of data tile t and bundles them.
func (l *Log) entryBundle(r *http.Request, t tlog.Tile) ([]byte, error) {
	entries, err := l.st.ReadEntries(r.Context(), l.election, t.N<<TileHeight, int64(t.W))
	if err != nil {
		return nil, err
	}
	if len(entries) != t.W {
		return nil, fmt.Errorf("board: store returned %d entries, not %d", len(entries), t.W)
	}
	var data []byte
	for _, e := range entries {
		if len(e) > 0xffff {
			return nil, fmt.Errorf("board: stored entry of %d bytes", len(e))
		}
		data = binary.BigEndian.AppendUint16(data, uint16(len(e)))
		data = append(data, e...)
	}
	return data, nil
}

func serverError(w http.ResponseWriter, r *http.Request, err error) {
	slog.ErrorContext(r.Context(), "board: serving log", "path", r.URL.Path, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// tileInTree reports whether every hash or entry of t is in a tree of size n.
func tileInTree(t tlog.Tile, n int64) bool {
	level := t.L
	if level == -1 {
		level = 0
	}
	if level*TileHeight >= 63 || t.N >= 1<<54 {
		return false // would need more than 2^63 leaves
	}
	// The tile's last hash is node N·256+W−1 at tree level L·8, which
	// covers leaves up to (N·256+W)·2^(L·8).
	return t.N<<TileHeight+int64(t.W) <= n>>(level*TileHeight)
}

// parseTilePath parses a tlog-tiles path, "tile/<L>/<N>[.p/<W>]" or
// "tile/entries/<N>[.p/<W>]", into a tlog.Tile of height 8 (L = -1 for
// entry bundles). Only the canonical spelling is accepted.
func parseTilePath(p string) (tlog.Tile, error) {
	if len(p) > 64 {
		return tlog.Tile{}, errors.New("malformed tile path")
	}
	rest, ok := strings.CutPrefix(p, "tile/")
	if !ok {
		return tlog.Tile{}, fmt.Errorf("malformed tile path %q", p)
	}
	var tp string
	switch {
	case strings.HasPrefix(rest, "entries/"):
		tp = "tile/8/data/" + strings.TrimPrefix(rest, "entries/")
	case strings.HasPrefix(rest, "data/"):
		return tlog.Tile{}, fmt.Errorf("malformed tile path %q", p)
	default:
		tp = "tile/8/" + rest
	}
	t, err := tlog.ParseTilePath(tp)
	if err != nil || t.H != TileHeight || tilePath(t) != p {
		return tlog.Tile{}, fmt.Errorf("malformed tile path %q", p)
	}
	return t, nil
}

// tilePath is the tlog-tiles path of a tile of height 8.
func tilePath(t tlog.Tile) string {
	p := strings.TrimPrefix(t.Path(), "tile/8/")
	if rest, ok := strings.CutPrefix(p, "data/"); ok {
		return "tile/entries/" + rest
	}
	return "tile/" + p
}

// ParseTilePath parses a tlog-tiles path relative to a log's root,
// "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]" (SPEC.md §13.5),
// in its one canonical spelling, as Handler does; a monitor's mirror
// serves the same paths.
func ParseTilePath(p string) (tlog.Tile, error) { return parseTilePath(p) }

// TileInTree reports whether every hash or entry of tile t is in a tree
// of size n, so that t can be served for it.
func TileInTree(t tlog.Tile, n int64) bool { return tileInTree(t, n) }
