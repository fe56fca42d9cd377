package server

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/strictjson"
)

// recordFiles builds the election record (SPEC.md §10) from the board: the
// files of §10.1, derived from the entries, and under board/ the entries
// themselves, the latest signed checkpoint and the key that signs it, so a
// verifier can re-derive everything (SPEC.md §13.6).
func (s *Server) recordFiles(ctx context.Context, el *election) (map[string][]byte, error) {
	cp, err := el.log.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	raws, err := s.cfg.Store.ReadEntries(ctx, el.id, 0, cp.Size)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	var entriesFile, spoiled strings.Builder
	var entries []board.Entry
	for i, raw := range raws {
		e, err := board.DecodeEntry(raw)
		if err != nil {
			return nil, fmt.Errorf("board entry %d: %w", i, err)
		}
		entries = append(entries, e)
		entriesFile.Write(raw)
		entriesFile.WriteByte('\n')
		switch e.Type {
		case board.TypeManifest:
			var b struct {
				Manifest string `json:"manifest"`
			}
			if err := strictjson.Decode(e.Body, &b); err != nil {
				return nil, err
			}
			m, err := base64.StdEncoding.DecodeString(b.Manifest)
			if err != nil {
				return nil, err
			}
			files[record.Manifest] = m
		case board.TypeAnnounce, board.TypeDeal, board.TypeVerdict, board.TypeRespond:
			var b ceremonyBody
			if err := strictjson.Decode(e.Body, &b); err != nil {
				return nil, err
			}
			files[path.Join(record.CeremonyDir, fmt.Sprintf("%s-%d.json", roundOf[e.Type], b.Trustee))] = reindent(b.Message)
		case board.TypeElectionKey:
			files[record.Election] = reindent(e.Body)
		case board.TypeSpoiled:
			spoiled.Write(e.Body)
			spoiled.WriteByte('\n')
		case board.TypeTally:
			files[record.Tally] = reindent(e.Body)
		case board.TypeDecryption:
			var b decryptionBody
			if err := strictjson.Decode(e.Body, &b); err != nil {
				return nil, err
			}
			files[path.Join(record.DecryptDir, fmt.Sprintf("trustee-%d.json", b.Trustee))] = reindent(b.Share)
		case board.TypeResults:
			files[record.Results] = reindent(e.Body)
		}
	}
	counted, err := ballotbox.Counted(entries)
	if err != nil {
		return nil, err
	}
	var ballots []byte
	for _, env := range counted {
		ballots = append(ballots, env.Ballot...)
	}
	if len(ballots) > 0 {
		files[record.Ballots] = ballots
	}
	if spoiled.Len() > 0 {
		files[record.Spoiled] = []byte(spoiled.String())
	}
	files[record.BoardEntries] = []byte(entriesFile.String())
	files[record.BoardCheckpoint] = cp.Note
	files[record.BoardKey] = []byte(el.boardKey + "\n")
	return files, nil
}

// reindent turns compact JSON from the board into the record's indented form.
func reindent(raw []byte) []byte {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return raw
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	return append(out, '\n')
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
