package monitor

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/verify"
)

// Poll follows the board once (SPEC.md §13.9): it fetches the server's
// latest checkpoint and its cosigned checkpoint, checks each (the board
// key's signature; for the cosigned one the whole witness policy), and,
// smallest first, checks that each is of one history with every
// checkpoint seen before and reads the entries it adds, each with an
// inclusion proof, checking them as they come. Once the election is
// published and a checkpoint satisfying the policy covers the whole
// board, it writes the record and verifies it. A problem with the board
// is a *Problem, and the monitor follows no further; any other error
// (the server unreachable) leaves the monitor as it was.
func (m *Monitor) Poll(ctx context.Context) error {
	if err := m.problemErr(); err != nil {
		return err
	}
	id := m.cfg.Election
	signed, err := m.c.LogCheckpoint(ctx, id)
	if err != nil {
		return err
	}
	cp, err := m.checkCheckpoint(signed)
	if err != nil {
		m.metrics.invalidCheckpoints.Inc()
		return m.fail(problem(CodeCheckpoint, fmt.Errorf("the server's latest checkpoint (GET …/log/checkpoint): %w", err)))
	}
	cands := []*board.Checkpoint{cp}
	cosignedNote, err := m.c.CosignedCheckpoint(ctx, id)
	if err != nil {
		return err
	}
	if cosignedNote != nil {
		ccp, _, err := m.policy.Verify(cosignedNote)
		if err == nil {
			_, err = m.checkCheckpoint(cosignedNote)
		}
		if err != nil {
			m.metrics.invalidCheckpoints.Inc()
			return m.fail(problem(CodeCheckpoint, fmt.Errorf("the server's cosigned checkpoint (GET …/cosigned-checkpoint) does not satisfy the election's witness policy: %w", err)))
		}
		cands = append(cands, ccp)
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].Size < cands[j].Size })
	for _, c := range cands {
		if err := m.advance(ctx, c); err != nil {
			return err
		}
	}
	m.metrics.lastSuccess.SetToCurrentTime()
	if err := m.maybeRecord(); err != nil {
		return err
	}
	return nil
}

// advance takes in one verified checkpoint: one of the trees seen, or a
// larger tree that extends the latest, whose new entries it reads.
func (m *Monitor) advance(ctx context.Context, cp *board.Checkpoint) error {
	mine := m.Latest()
	if mine != nil && cp.Origin != mine.Origin {
		m.metrics.invalidCheckpoints.Inc()
		return m.fail(problem(CodeCheckpoint, fmt.Errorf("a checkpoint of log %q, the board's is %q", cp.Origin, mine.Origin)))
	}
	if mine != nil && cp.Size <= mine.Size {
		m.mu.RLock()
		h, err := tlog.TreeHash(cp.Size, m.reader())
		m.mu.RUnlock()
		if err != nil {
			return err
		}
		if h != cp.Hash {
			ours := &board.Checkpoint{Origin: mine.Origin, Size: cp.Size, Hash: h, Note: m.dir.checkpointAt(cp.Size)}
			return m.forked(&client.ForkError{Old: ours, New: cp, Err: errors.New("different tree hashes")})
		}
		if cp.Size < mine.Size {
			m.log.Debug("monitor: a checkpoint behind the latest, of the same history", "size", cp.Size, "latest", mine.Size)
		}
		return m.keep(cp)
	}
	id := m.cfg.Election
	if mine != nil {
		proof, err := m.c.ProveTree(ctx, id, cp, mine.Size)
		if err != nil {
			return m.tileErr(err)
		}
		if err := client.CheckProof(mine, cp, proof); err != nil {
			var fork *client.ForkError
			if errors.As(err, &fork) {
				return m.forked(fork)
			}
			return err
		}
	}
	start := int64(len(m.raw))
	total := cp.Size - start
	if total > int64(m.cfg.ProgressEvery) {
		m.log.Info("monitor: reading entries", "from", start, "to", cp.Size)
	}
	var batch [][]byte
	began := time.Now()
	err := m.c.ReadEntries(ctx, id, cp, start, func(i int64, raw []byte) error {
		batch = append(batch, raw)
		if n := len(batch); n%m.cfg.ProgressEvery == 0 {
			m.log.Info("monitor: reading entries", "done", n, "of", total, "seconds", time.Since(began).Seconds())
		}
		return nil
	})
	if err != nil {
		return m.tileErr(err)
	}
	// Every entry of the batch is in the signed tree: the copy keeps them
	// all, the invalid ones too (they are the evidence).
	var bad []error
	for k, raw := range batch {
		err := m.follower.Add(raw)
		if err == nil {
			continue
		}
		bad = append(bad, err)
		if len(bad) <= 20 {
			m.log.Error("monitor: invalid entry", "election", id, "err", err.Error())
		}
		var ee *verify.EntryError
		if errors.As(err, &ee) && ee.Fatal {
			// The board's state is unknown from here: the later entries
			// are not checked (and not counted).
			break
		}
		if (k+1)%m.cfg.ProgressEvery == 0 {
			m.log.Info("monitor: checking entries", "done", k+1, "of", len(batch))
		}
	}
	if err := m.dir.appendEntries(batch); err != nil {
		return err
	}
	m.mu.Lock()
	for k, raw := range batch {
		if err := m.addHashes(start+int64(k), raw); err != nil {
			m.mu.Unlock()
			return err
		}
	}
	m.raw = append(m.raw, batch...)
	h, err := tlog.TreeHash(cp.Size, m.reader())
	m.mu.Unlock()
	if err != nil || h != cp.Hash {
		// ReadEntries proved every entry against cp: unreachable unless
		// the copy is broken.
		return m.fail(problem(CodeLocal, fmt.Errorf("the copy's tree of size %d is not the checkpoint's after reading it", cp.Size)))
	}
	if err := m.keep(cp); err != nil {
		return err
	}
	m.mu.Lock()
	m.latest = cp
	m.mu.Unlock()
	m.metrics.size.Set(float64(cp.Size))
	m.log.Info("monitor: checkpoint verified", "election", id, "size", cp.Size, "new_entries", len(batch), "phase", m.follower.Phase(), "ballots", m.follower.Ballots())
	if len(bad) > 0 {
		m.metrics.invalidEntries.Add(float64(len(bad)))
		err := bad[0]
		if len(bad) > 1 {
			err = fmt.Errorf("%w (and %d more invalid entries)", bad[0], len(bad)-1)
		}
		return m.fail(problem(CodeEntry, err))
	}
	return nil
}

// keep saves a verified checkpoint of the copy's history and notes it if
// it satisfies the witness policy.
func (m *Monitor) keep(cp *board.Checkpoint) error {
	if err := m.dir.saveCheckpoint(cp); err != nil {
		return err
	}
	if _, _, err := m.policy.Verify(cp.Note); err == nil {
		m.mu.Lock()
		if m.cosigned == nil || cp.Size > m.cosigned.Size {
			m.cosigned = cp
		}
		m.mu.Unlock()
		m.metrics.cosignedSize.Set(float64(m.Cosigned().Size))
	}
	return nil
}

// forked records a fork with its evidence: both signed checkpoints.
func (m *Monitor) forked(fork *client.ForkError) error {
	if err := m.dir.writeEvidence(fork); err != nil {
		m.log.Error("monitor: saving the fork's evidence", "err", err)
	}
	return m.fail(problem(CodeFork, fork))
}

// tileErr classifies an error reading tiles: the server's tiles not
// matching its own signed checkpoint is a problem, a failure to fetch is
// not.
func (m *Monitor) tileErr(err error) error {
	if errors.Is(err, client.ErrBadTiles) {
		m.metrics.invalidCheckpoints.Inc()
		return m.fail(problem(CodeCheckpoint, err))
	}
	return err
}

// maybeRecord writes the record and verifies it once the election is
// published and a checkpoint satisfying the policy covers every entry.
func (m *Monitor) maybeRecord() error {
	if !m.follower.Published() || m.RecordVerified() {
		return nil
	}
	final := m.Cosigned()
	if final == nil || final.Size != int64(len(m.raw)) {
		m.log.Info("monitor: the election is published; waiting for a cosigned checkpoint of the whole board", "entries", len(m.raw))
		return nil
	}
	dir := filepath.Join(m.cfg.Dir, "record")
	m.log.Info("monitor: the election is published: writing and verifying its record", "dir", dir, "entries", final.Size)
	if err := m.WriteRecord(dir); err != nil {
		return err
	}
	rep := verify.Record(dir, verify.Options{})
	if !rep.OK() {
		fails := rep.Failures()
		msg := "no check ran"
		if len(fails) > 0 {
			msg = fails[0].What + ": " + fails[0].Detail
		}
		return m.fail(problem(CodeRecord, fmt.Errorf("the published record (%s) fails verification: %s (%d failures)", dir, msg, len(fails))))
	}
	m.mu.Lock()
	m.record = true
	m.mu.Unlock()
	m.metrics.recordVerified.Set(1)
	m.log.Info("monitor: the published record verifies", "dir", dir, "checks", len(rep.Checks), "ballots", rep.Ballots)
	return nil
}

// RecordFiles returns the election record as GET /record gives it
// (SPEC.md §10, §13.6) from the copy: the files derived from the
// entries, and under board/ the entries, the largest checkpoint held that
// satisfies the witness policy, and the manifest's board key. The
// checkpoint must cover every entry held.
func (m *Monitor) RecordFiles() (map[string][]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	final := m.cosigned
	if final == nil || final.Size != int64(len(m.raw)) {
		return nil, errors.New("no checkpoint satisfying the witness policy covers the whole board yet")
	}
	entries := make([]board.Entry, len(m.raw))
	var lines []byte
	for i, raw := range m.raw {
		e, err := board.DecodeEntry(raw)
		if err != nil {
			return nil, fmt.Errorf("board entry %d: %w", i, err)
		}
		entries[i] = e
		lines = append(append(lines, raw...), '\n')
	}
	files, err := record.FromBoard(entries)
	if err != nil {
		return nil, err
	}
	// The decrypted answers of text and rank questions are not entries
	// but follow from them (SPEC.md §16.6); verification then checks them.
	if err := verify.MixedFilesOf(files); err != nil {
		return nil, err
	}
	files[record.BoardEntries] = lines
	files[record.BoardCheckpoint] = final.Note
	key, err := m.boardKeyText()
	if err != nil {
		return nil, err
	}
	files[record.BoardKey] = []byte(key + "\n")
	return files, nil
}

// WriteRecord writes RecordFiles into dir, replacing what it held.
func (m *Monitor) WriteRecord(dir string) error {
	files, err := m.RecordFiles()
	if err != nil {
		return err
	}
	return writeDir(dir, files)
}
