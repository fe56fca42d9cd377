package web

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/tally"
)

// handlerTransport is an http.RoundTripper that serves requests with an
// http.Handler in process: the site calls the API as any client would,
// without a network.
type handlerTransport struct{ h http.Handler }

// auditedTransport marks each request's context as recorded in the audit
// log already (store.Audited).
type auditedTransport struct{ next http.RoundTripper }

func (t auditedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.next.RoundTrip(req.WithContext(store.Audited(req.Context())))
}

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if r.Body == nil {
		r.Body = http.NoBody
	}
	r.RequestURI = r.URL.RequestURI()
	r.RemoteAddr = "127.0.0.1:0"
	w := &memoryWriter{header: http.Header{}}
	t.h.ServeHTTP(w, r)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return &http.Response{
		Status: fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)), StatusCode: w.status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: w.header, Body: io.NopCloser(&w.body), ContentLength: int64(w.body.Len()), Request: req,
	}, nil
}

// memoryWriter is an http.ResponseWriter that keeps the response in memory.
type memoryWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *memoryWriter) Header() http.Header { return w.header }
func (w *memoryWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}
func (w *memoryWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

// elections lists every election.
func (s *Site) listElections(ctx context.Context) ([]api.ElectionInfo, error) {
	var out []api.ElectionInfo
	err := s.api.Do(ctx, "GET", "/api/v1/elections", "", nil, &out)
	return out, err
}

// election fetches an election's public description, with its manifest.
func (s *Site) election(ctx context.Context, id string) (*api.ElectionInfo, error) {
	var in api.ElectionInfo
	if err := s.api.Do(ctx, "GET", api.ElectionPath(id, ""), "", nil, &in); err != nil {
		if client.IsCode(err, api.CodeNoElection) {
			return nil, noElection(id)
		}
		return nil, err
	}
	return &in, nil
}

// encryptedTally fetches an election's encrypted tally, or nil if there is none yet.
func (s *Site) encryptedTally(ctx context.Context, id string) (*tally.Encrypted, error) {
	var t tally.Encrypted
	err := s.api.Do(ctx, "GET", api.ElectionPath(id, "/tally"), "", nil, &t)
	if client.IsCode(err, api.CodeNoTally) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// results fetches an election's published results, or nil if there are none yet.
func (s *Site) publishedResults(ctx context.Context, id string) (*tally.Results, error) {
	raw, err := s.api.Raw(ctx, "GET", api.ElectionPath(id, "/results"), "", nil)
	if client.IsCode(err, api.CodeNoResults) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return tally.ParseResults(raw)
}

// checkpoint fetches the board's latest checkpoint and verifies its
// signature with the election's board key and its origin.
func (s *Site) checkpoint(ctx context.Context, in *api.ElectionInfo) (*board.Checkpoint, error) {
	raw, err := s.api.Raw(ctx, "GET", api.ElectionPath(in.ID, "/log/checkpoint"), "", nil)
	if err != nil {
		return nil, err
	}
	v, err := board.ParseVerifierKey(in.BoardKey)
	if err != nil {
		return nil, fmt.Errorf("board key of %s: %w", in.ID, err)
	}
	cp, err := board.ParseCheckpoint(raw, v)
	if err != nil {
		return nil, err
	}
	if cp.Origin != in.Origin {
		return nil, fmt.Errorf("checkpoint origin %q is not the election's %q", cp.Origin, in.Origin)
	}
	return cp, nil
}

// bundlePath is the tlog-tiles path of entry bundle n of width w (SPEC.md
// §13.5): n in groups of three digits, all but the last prefixed by "x",
// and ".p/W" for a partial bundle.
func bundlePath(n int64, w int) string {
	s := strconv.FormatInt(n, 10)
	for len(s)%3 != 0 {
		s = "0" + s
	}
	var parts []string
	for i := 0; i < len(s); i += 3 {
		parts = append(parts, "x"+s[i:i+3])
	}
	parts[len(parts)-1] = strings.TrimPrefix(parts[len(parts)-1], "x")
	p := "tile/entries/" + strings.Join(parts, "/")
	if w < 1<<board.TileHeight {
		p += ".p/" + strconv.Itoa(w)
	}
	return p
}

// readBundle reads the entries of bundle n, which holds w entries.
func (s *Site) readBundle(ctx context.Context, id string, n int64, w int) ([][]byte, error) {
	raw, err := s.api.Raw(ctx, "GET", api.ElectionPath(id, "/log/"+bundlePath(n, w)), "", nil)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, w)
	for len(raw) > 0 {
		if len(raw) < 2 {
			return nil, errors.New("entry bundle: truncated length")
		}
		l := int(binary.BigEndian.Uint16(raw))
		if len(raw) < 2+l {
			return nil, errors.New("entry bundle: truncated entry")
		}
		out = append(out, raw[2:2+l])
		raw = raw[2+l:]
	}
	if len(out) != w {
		return nil, fmt.Errorf("entry bundle %d has %d entries, not %d", n, len(out), w)
	}
	return out, nil
}

// readEntries reads entries [from, to) of a board of size at least to,
// from its entry bundles; full bundles never change and are cached.
func (s *Site) readEntries(ctx context.Context, id string, from, to int64) ([][]byte, error) {
	const per = 1 << board.TileHeight
	var out [][]byte
	for n := from / per; n*per < to; n++ {
		w := int(min(per, to-n*per))
		bundle, ok := s.cache.bundle(id, n)
		if !ok || len(bundle) < w {
			var err error
			if bundle, err = s.readBundle(ctx, id, n, w); err != nil {
				return nil, err
			}
			if w == per {
				s.cache.putBundle(id, n, bundle)
			}
		}
		lo, hi := max(from-n*per, 0), min(to-n*per, int64(w))
		out = append(out, bundle[lo:hi]...)
	}
	return out, nil
}

// boardCache keeps full entry bundles (immutable) and each election's
// board summary, updated as the board grows.
type boardCache struct {
	mu        sync.Mutex
	bundles   map[bundleKey][][]byte
	order     []bundleKey
	summaries map[string]*summary
}

type bundleKey struct {
	id string
	n  int64
}

const maxCachedBundles = 64

func newBoardCache() *boardCache {
	return &boardCache{bundles: map[bundleKey][][]byte{}, summaries: map[string]*summary{}}
}

func (c *boardCache) bundle(id string, n int64) ([][]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.bundles[bundleKey{id, n}]
	return b, ok
}

func (c *boardCache) putBundle(id string, n int64, b [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := bundleKey{id, n}
	if _, ok := c.bundles[k]; ok {
		return
	}
	if len(c.order) >= maxCachedBundles {
		delete(c.bundles, c.order[0])
		c.order = c.order[1:]
	}
	c.bundles[k] = b
	c.order = append(c.order, k)
}
