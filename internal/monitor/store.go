package monitor

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/strictjson"
)

// The monitor's directory (SPEC.md §13.9):
//
//	manifest.json          the manifest's exact bytes
//	entries.jsonl          every entry held, in log order, each followed by "\n"
//	checkpoints/SIZE       a signed checkpoint seen of each size (20 decimal digits), the one with most signatures
//	problem.json           the problem found, if any: {"code", "kind", "error"}
//	evidence/fork-T.txt    a fork's two signed checkpoints
//	record/                the published election's record, once verified
//
// Entries are appended and synced before the checkpoint that covers them
// is written, so a crash leaves entries no checkpoint covers, which Open
// drops, never a checkpoint without its entries.
const (
	manifestFile = "manifest.json"
	entriesFile  = "entries.jsonl"
	cpDir        = "checkpoints"
	problemFile  = "problem.json"
	evidenceDir  = "evidence"
)

type store struct{ dir string }

func openStore(dir string) (*store, error) {
	if dir == "" {
		return nil, errors.New("monitor: no directory")
	}
	if err := os.MkdirAll(filepath.Join(dir, cpDir), 0o755); err != nil {
		return nil, err
	}
	return &store{dir: dir}, nil
}

func (s *store) path(name string) string { return filepath.Join(s.dir, name) }

// readManifest returns the manifest kept, nil if none.
func (s *store) readManifest() ([]byte, error) {
	data, err := os.ReadFile(s.path(manifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

func (s *store) writeManifest(data []byte) error {
	return record.WriteFile(s.path(manifestFile), data)
}

// problemJSON is problem.json.
type problemJSON struct {
	Code  int    `json:"code"`
	Kind  string `json:"kind"`
	Error string `json:"error"`
}

func (s *store) readProblem() (*Problem, error) {
	data, err := os.ReadFile(s.path(problemFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p problemJSON
	if err := strictjson.Decode(data, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", s.path(problemFile), err)
	}
	if p.Code < CodeFork || p.Code > CodeLocal {
		return nil, fmt.Errorf("%s: code %d", s.path(problemFile), p.Code)
	}
	return problem(p.Code, fmt.Errorf("found earlier and kept in %s (remove it only once the cause is understood): %s", s.path(problemFile), p.Error)), nil
}

func (s *store) writeProblem(p *Problem) error {
	if _, err := os.Stat(s.path(problemFile)); err == nil {
		return nil // the first problem stays
	}
	data, err := json.MarshalIndent(problemJSON{Code: p.Code, Kind: p.Kind, Error: p.Err.Error()}, "", "  ")
	if err != nil {
		return err
	}
	return record.WriteFile(s.path(problemFile), append(data, '\n'))
}

// readEntries reads entries.jsonl; a last line without its "\n" (a write
// cut short) is dropped.
func (s *store) readEntries() ([][]byte, error) {
	data, err := os.ReadFile(s.path(entriesFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		out = append(out, data[:i])
		data = data[i+1:]
	}
	return out, nil
}

// truncateEntries rewrites entries.jsonl to hold exactly raws.
func (s *store) truncateEntries(raws [][]byte) error {
	var b bytes.Buffer
	for _, r := range raws {
		b.Write(r)
		b.WriteByte('\n')
	}
	return record.WriteFile(s.path(entriesFile), b.Bytes())
}

// appendEntries appends entries and syncs the file.
func (s *store) appendEntries(raws [][]byte) error {
	if len(raws) == 0 {
		return nil
	}
	f, err := os.OpenFile(s.path(entriesFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, r := range raws {
		w.Write(r)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func cpName(size int64) string { return fmt.Sprintf("%020d", size) }

// readCheckpoints reads every checkpoint kept.
func (s *store) readCheckpoints() ([][]byte, error) {
	des, err := os.ReadDir(s.path(cpDir))
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, de := range des {
		if strings.HasPrefix(de.Name(), ".") {
			continue // an interrupted write
		}
		if n, err := strconv.ParseInt(de.Name(), 10, 64); err != nil || cpName(n) != de.Name() {
			return nil, fmt.Errorf("%s: not a checkpoint file", filepath.Join(s.path(cpDir), de.Name()))
		}
		data, err := os.ReadFile(filepath.Join(s.path(cpDir), de.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, data)
	}
	return out, nil
}

// checkpointAt returns the checkpoint kept of size n, nil if none.
func (s *store) checkpointAt(n int64) []byte {
	data, _ := os.ReadFile(filepath.Join(s.path(cpDir), cpName(n)))
	return data
}

// saveCheckpoint keeps cp unless one of its size with at least as many
// signature lines is kept already.
func (s *store) saveCheckpoint(cp *board.Checkpoint) error {
	old := s.checkpointAt(cp.Size)
	if old != nil && bytes.Count(old, []byte("\n\u2014 ")) >= bytes.Count(cp.Note, []byte("\n\u2014 ")) {
		return nil
	}
	return record.WriteFile(filepath.Join(s.path(cpDir), cpName(cp.Size)), cp.Note)
}

// writeEvidence keeps a fork's two signed checkpoints.
func (s *store) writeEvidence(fork *client.ForkError) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n\nThe checkpoint the monitor held (size %d):\n\n", fork.Error(), fork.Old.Size)
	if fork.Old.Note != nil {
		b.Write(fork.Old.Note)
	} else {
		fmt.Fprintf(&b, "(none of this size kept; the tree the monitor's entries make at size %d has hash %x)\n", fork.Old.Size, fork.Old.Hash)
	}
	fmt.Fprintf(&b, "\nThe checkpoint the server served (size %d):\n\n", fork.New.Size)
	b.Write(fork.New.Note)
	name := filepath.Join(s.path(evidenceDir), fmt.Sprintf("fork-%d.txt", time.Now().Unix()))
	return record.WriteFile(name, b.Bytes())
}

// writeDir writes files (paths with '/') into dir, replacing it.
func writeDir(dir string, files map[string][]byte) error {
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	for name, data := range files {
		if err := record.WriteFile(filepath.Join(tmp, filepath.FromSlash(name)), data); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}
