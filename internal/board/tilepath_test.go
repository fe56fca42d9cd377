package board

import (
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

func TestTilePath(t *testing.T) {
	for _, tt := range []struct {
		tile tlog.Tile
		path string
	}{
		{tlog.Tile{H: 8, L: 0, N: 0, W: 256}, "tile/0/000"},
		{tlog.Tile{H: 8, L: 1, N: 1234067, W: 256}, "tile/1/x001/x234/067"},
		{tlog.Tile{H: 8, L: 2, N: 5, W: 7}, "tile/2/005.p/7"},
		{tlog.Tile{H: 8, L: -1, N: 1234, W: 256}, "tile/entries/x001/234"},
		{tlog.Tile{H: 8, L: -1, N: 0, W: 255}, "tile/entries/000.p/255"},
	} {
		if got := tilePath(tt.tile); got != tt.path {
			t.Errorf("tilePath(%+v) = %q, want %q", tt.tile, got, tt.path)
		}
		got, err := parseTilePath(tt.path)
		if err != nil || got != tt.tile {
			t.Errorf("parseTilePath(%q) = %+v, %v", tt.path, got, err)
		}
	}
}

func FuzzParseTilePath(f *testing.F) {
	for _, s := range []string{
		"tile/0/000", "tile/1/x001/x234/067", "tile/2/005.p/7", "tile/entries/x001/234",
		"tile/entries/000.p/255", "tile/data/000", "tile/8/0/000", "tile/0/000.p/256",
		"tile/0/x999/x999/x999/x999/x999/x999/999", "tile/+1/000",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		tile, err := parseTilePath(p)
		if err != nil {
			return
		}
		if tile.H != TileHeight || tile.L < -1 || tile.N < 0 || tile.W < 1 || tile.W > 1<<TileHeight {
			t.Fatalf("parseTilePath(%q) = %+v", p, tile)
		}
		if got := tilePath(tile); got != p {
			t.Fatalf("parseTilePath(%q) = %+v, which is %q", p, tile, got)
		}
		// Range checks must not overflow: a tile either fits a huge tree or not.
		_ = tileInTree(tile, 1<<63-1)
		if tileInTree(tile, 0) {
			t.Fatalf("tile %q in the empty tree", p)
		}
	})
}
