package server

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/record"
)

// recordFiles builds the election record (SPEC.md §10, §13.6): the files
// derived from the board, and under board/ the entries themselves, the
// latest signed checkpoint and its verifier key.
func (s *Server) recordFiles(ctx context.Context, el *election) (map[string][]byte, error) {
	cp, err := el.log.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	if el.cosigner != nil { // the record's checkpoint satisfies the policy (SPEC.md §13.6 step 1)
		if err := el.cosigner.cosignNow(ctx); err != nil {
			return nil, err
		}
		if cp, err = el.log.Checkpoint(ctx); err != nil {
			return nil, err
		}
	}
	raws, err := s.cfg.Store.ReadEntries(ctx, el.id, 0, cp.Size)
	if err != nil {
		return nil, err
	}
	entries := make([]board.Entry, len(raws))
	var lines bytes.Buffer
	for i, raw := range raws {
		if entries[i], err = board.DecodeEntry(raw); err != nil {
			return nil, fmt.Errorf("board entry %d: %w", i, err)
		}
		lines.Write(raw)
		lines.WriteByte('\n')
	}
	files, err := record.FromBoard(entries)
	if err != nil {
		return nil, err
	}
	if err := s.mixFiles(ctx, el, entries, files); err != nil {
		return nil, err
	}
	files[record.BoardEntries] = lines.Bytes()
	files[record.BoardCheckpoint] = cp.Note
	files[record.BoardKey] = []byte(el.boardKey + "\n")
	return files, nil
}

// getRecord serves the election record as a gzipped tar archive of one
// directory named after the election.
func (s *Server) getRecord(w http.ResponseWriter, r *http.Request) error {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	files, err := s.recordFiles(r.Context(), el)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+el.id+`-record.tar.gz"`)
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	now := time.Now().UTC().Truncate(time.Second)
	dirs := map[string]bool{}
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: el.id + "/", Mode: 0o755, ModTime: now})
	for _, n := range names {
		for d := path.Dir(n); d != "."; d = path.Dir(d) {
			if !dirs[d] {
				dirs[d] = true
				tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: el.id + "/" + d + "/", Mode: 0o755, ModTime: now})
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: el.id + "/" + n, Mode: 0o644, Size: int64(len(files[n])), ModTime: now}); err != nil {
			return nil
		}
		tw.Write(files[n])
	}
	tw.Close()
	gz.Close()
	return nil
}

// mixFiles adds each mixed question's decrypted answers, mixed/Q.json, to
// a record once its entries hold the results (SPEC.md §16.6). The rounds'
// and shares' files come from the board itself (record.FromBoard); these
// answers are computed from them, by the server's chains.
func (s *Server) mixFiles(ctx context.Context, el *election, entries []board.Entry, files map[string][]byte) error {
	published := false
	for _, e := range entries {
		published = published || e.Type == board.TypeResults
	}
	if !published || len(el.manifest.Mixed()) == 0 {
		return nil
	}
	el.mu.Lock()
	defer el.mu.Unlock()
	if err := s.refresh(ctx, el); err != nil {
		return err
	}
	ms, err := s.syncMix(ctx, el, nil)
	if err != nil {
		return err
	}
	for _, c := range ms.chains {
		res, err := ms.result(c)
		if err != nil {
			return err
		}
		data, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		files[filepath.ToSlash(record.MixedFile("", c.ID))] = append(data, '\n')
	}
	return nil
}
