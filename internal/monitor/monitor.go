// Package monitor follows an election's board as any organisation can
// (SPEC.md §13.9): it reads the board through its tlog tiles, keeps a
// full durable copy in a directory, checks every checkpoint it sees
// against the key and witness policy the manifest fixes and against every
// checkpoint it saw before, checks every entry as it arrives (the checks
// of koe verify, incrementally: verify.Follower), verifies the whole
// record once the election is published, and serves what it holds under
// the server's read paths, so that it is also a mirror.
package monitor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/verify"
	"github.com/koe-vote/koe/internal/witness"
)

// Exit statuses of koe monitor (SPEC.md §13.9), one for each kind of
// problem; 1 is any other error (the server unreachable with --once, a
// directory that cannot be written) and 2 a usage error, as for every koe
// command.
const (
	CodeFork       = 3 // two checkpoints of the board that are not of one history
	CodeCheckpoint = 4 // a checkpoint the policy refuses, or tiles that do not match a signed checkpoint
	CodeEntry      = 5 // an entry that fails a check of koe verify
	CodeRecord     = 6 // the published election's record fails verification
	CodeLocal      = 7 // the monitor's own directory fails its checks on start
)

// Problem is what the monitor found wrong with the board: it stops
// following at the first one, and it keeps it in its directory, so that a
// restart reports it again rather than go on past it.
type Problem struct {
	Code int
	Kind string // fork, checkpoint, entry, record, local
	Err  error
}

func (p *Problem) Error() string {
	if msg := p.Err.Error(); strings.HasPrefix(msg, p.Kind+":") {
		return msg
	}
	return p.Kind + ": " + p.Err.Error()
}
func (p *Problem) Unwrap() error { return p.Err }

func problem(code int, err error) *Problem {
	kind := map[int]string{CodeFork: "fork", CodeCheckpoint: "checkpoint", CodeEntry: "entry", CodeRecord: "record", CodeLocal: "local"}[code]
	return &Problem{Code: code, Kind: kind, Err: err}
}

// Config configures a monitor.
type Config struct {
	Server   string // the koe server's base URL
	Election string // the election id
	Dir      string // where the copy of the board is kept
	// ManifestHash, if not nil, is the manifest hash the election's
	// official notice publishes: the manifest, so the board key and the
	// witness policy, must hash to it. Without it the server's manifest is
	// trusted on first use, and kept.
	ManifestHash []byte
	Logger       *slog.Logger // nil: slog.Default()
	// ProgressEvery is how many entries go between two progress lines
	// while a long stretch of the board is read; 0 means 5000.
	ProgressEvery int
}

// Monitor follows one election's board.
type Monitor struct {
	cfg      Config
	c        *client.Client
	log      *slog.Logger
	dir      *store
	manifest []byte
	policy   *witness.Policy
	verifier note.Verifier
	follower *verify.Follower
	metrics  *metrics

	mu       sync.RWMutex
	raw      [][]byte
	hashes   []tlog.Hash
	latest   *board.Checkpoint // the largest checkpoint verified, entries held
	cosigned *board.Checkpoint // the largest held that satisfies the policy
	problem  *Problem
	record   bool // the published record was written and verified
}

// Open opens (or creates) the monitor's directory and checks what it
// holds: the manifest, every entry (through a Follower, as when they
// arrived) and every checkpoint saved (signed under the manifest's board
// key, of the tree the entries make at its size). A directory that fails
// is a *Problem with CodeLocal; a problem found earlier and saved is
// returned again as it was, with the monitor, which then serves what it
// holds but follows no further.
func Open(ctx context.Context, cfg Config) (*Monitor, error) {
	m := &Monitor{cfg: cfg, c: client.New(cfg.Server, ""), log: cfg.Logger, metrics: newMetrics(cfg.Election)}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.cfg.ProgressEvery <= 0 {
		m.cfg.ProgressEvery = 5000
	}
	st, err := openStore(cfg.Dir)
	if err != nil {
		return nil, err
	}
	m.dir = st
	if m.manifest, err = st.readManifest(); err != nil {
		return nil, problem(CodeLocal, err)
	}
	if m.manifest == nil {
		if m.manifest, err = m.fetchManifest(ctx); err != nil {
			return nil, err
		}
	}
	if err := m.usePolicy(); err != nil {
		return nil, problem(CodeLocal, err)
	}
	if p, err := st.readProblem(); err != nil {
		return nil, problem(CodeLocal, err)
	} else if p != nil {
		m.problem = p
		m.metrics.setProblem(p)
	}
	if err := m.load(); err != nil {
		return nil, err
	}
	return m, m.problemErr()
}

// fetchManifest fetches the election's manifest from the server, checks
// it against the pinned hash (or says that it is trusted on first use)
// and saves it.
func (m *Monitor) fetchManifest(ctx context.Context) ([]byte, error) {
	data, err := m.c.Raw(ctx, "GET", api.ElectionPath(m.cfg.Election, "/manifest"), "", nil)
	if err != nil {
		return nil, fmt.Errorf("fetching the manifest: %w", err)
	}
	h := ballot.Hash(data)
	if m.cfg.ManifestHash != nil {
		if !bytes.Equal(h[:], m.cfg.ManifestHash) {
			return nil, problem(CodeCheckpoint, fmt.Errorf("the server's manifest hashes to %x, not to the pinned %x", h, m.cfg.ManifestHash))
		}
	} else {
		m.log.Warn("monitor: trusting the server's manifest on first use: compare its hash with the one the election's official notice publishes, or pin it with --manifest-hash", "election", m.cfg.Election, "manifest_hash", fmt.Sprintf("%x", h))
	}
	if err := m.dir.writeManifest(data); err != nil {
		return nil, err
	}
	return data, nil
}

// usePolicy parses the manifest and takes its board key and witness
// policy (SPEC.md §7.1, §13.7).
func (m *Monitor) usePolicy() error {
	h := ballot.Hash(m.manifest)
	if m.cfg.ManifestHash != nil && !bytes.Equal(h[:], m.cfg.ManifestHash) {
		return fmt.Errorf("the manifest kept in %s hashes to %x, not to the pinned %x", m.cfg.Dir, h, m.cfg.ManifestHash)
	}
	man, err := ballot.ParseManifest(m.manifest)
	if err != nil {
		return fmt.Errorf("the manifest: %w", err)
	}
	if man.ID != m.cfg.Election {
		return fmt.Errorf("the manifest is of election %q, not %q", man.ID, m.cfg.Election)
	}
	if man.Board == nil {
		return errors.New("the manifest names no board key (SPEC.md §7.1): nothing fixes the key a monitor could check checkpoints with")
	}
	if m.policy, err = man.WitnessPolicy(); err != nil {
		return err
	}
	m.verifier = m.policy.Board
	m.follower = verify.NewFollower(m.cfg.Election, m.manifest)
	return nil
}

// load reads and checks the entries and checkpoints the directory holds.
func (m *Monitor) load() error {
	raws, err := m.dir.readEntries()
	if err != nil {
		return problem(CodeLocal, err)
	}
	cps, err := m.dir.readCheckpoints()
	if err != nil {
		return problem(CodeLocal, err)
	}
	if len(cps) == 0 && len(raws) > 0 {
		return problem(CodeLocal, fmt.Errorf("%s holds %d entries but no checkpoint", m.cfg.Dir, len(raws)))
	}
	var latest *board.Checkpoint
	parsed := make([]*board.Checkpoint, 0, len(cps))
	for _, signed := range cps {
		cp, err := m.checkCheckpoint(signed)
		if err != nil {
			return problem(CodeLocal, fmt.Errorf("a checkpoint kept in %s: %w", m.cfg.Dir, err))
		}
		if len(parsed) > 0 && cp.Origin != parsed[0].Origin {
			return problem(CodeLocal, fmt.Errorf("the checkpoints kept in %s are of two logs, %q and %q", m.cfg.Dir, parsed[0].Origin, cp.Origin))
		}
		parsed = append(parsed, cp)
		if latest == nil || cp.Size > latest.Size {
			latest = cp
		}
	}
	if latest == nil {
		return nil
	}
	if int64(len(raws)) < latest.Size {
		return problem(CodeLocal, fmt.Errorf("%s holds %d entries, its latest checkpoint covers %d", m.cfg.Dir, len(raws), latest.Size))
	}
	if int64(len(raws)) > latest.Size {
		// Entries written before a crash, never covered by a saved
		// checkpoint: dropped, to be read again.
		m.log.Info("monitor: dropping entries no saved checkpoint covers", "entries", len(raws), "checkpoint_size", latest.Size)
		raws = raws[:latest.Size]
		if err := m.dir.truncateEntries(raws); err != nil {
			return err
		}
	}
	m.log.Info("monitor: checking the copy kept", "dir", m.cfg.Dir, "entries", len(raws), "checkpoints", len(parsed))
	start := time.Now()
	invalid := 0
	var firstBad error
	check := true // until a fatal entry error: then the later entries are not checked
	for i, raw := range raws {
		if err := m.addHashes(int64(i), raw); err != nil {
			return problem(CodeLocal, err)
		}
		if !check {
			continue
		}
		if err := m.follower.Add(raw); err != nil {
			invalid++
			if firstBad == nil {
				firstBad = err
			}
			var ee *verify.EntryError
			check = !(errors.As(err, &ee) && ee.Fatal)
		}
		if (i+1)%m.cfg.ProgressEvery == 0 {
			m.log.Info("monitor: checking the copy kept", "done", i+1, "of", len(raws))
		}
	}
	m.raw = raws
	for _, cp := range parsed {
		h, err := tlog.TreeHash(cp.Size, m.reader())
		if err != nil || h != cp.Hash {
			return problem(CodeLocal, fmt.Errorf("the checkpoint of size %d kept in %s is not the tree of the entries it holds", cp.Size, m.cfg.Dir))
		}
		if _, _, err := m.policy.Verify(cp.Note); err == nil && (m.cosigned == nil || cp.Size > m.cosigned.Size) {
			m.cosigned = cp
		}
	}
	m.latest = latest
	m.metrics.size.Set(float64(latest.Size))
	if m.cosigned != nil {
		m.metrics.cosignedSize.Set(float64(m.cosigned.Size))
	}
	m.log.Info("monitor: the copy kept checks", "entries", len(raws), "seconds", time.Since(start).Seconds())
	if firstBad != nil && m.problem == nil {
		m.metrics.invalidEntries.Add(float64(invalid))
		return m.fail(problem(CodeEntry, firstBad))
	}
	return nil
}

// checkCheckpoint verifies a signed checkpoint under the manifest's board
// key and checks that it is of this election's log.
func (m *Monitor) checkCheckpoint(signed []byte) (*board.Checkpoint, error) {
	cp, err := board.ParseCheckpoint(signed, m.verifier)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(cp.Origin, "/koe/"+m.cfg.Election) {
		return nil, fmt.Errorf("the checkpoint's origin %q is not election %s's board", cp.Origin, m.cfg.Election)
	}
	if m.latest != nil && cp.Origin != m.latest.Origin {
		return nil, fmt.Errorf("the checkpoint's origin %q is not the board's, %q", cp.Origin, m.latest.Origin)
	}
	return cp, nil
}

func (m *Monitor) addHashes(i int64, raw []byte) error {
	hs, err := tlog.StoredHashes(i, raw, m.reader())
	if err != nil {
		return err
	}
	m.hashes = append(m.hashes, hs...)
	return nil
}

// reader reads the stored hashes; the caller holds mu or is the only
// writer.
func (m *Monitor) reader() tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for k, i := range idx {
			if i < 0 || i >= int64(len(m.hashes)) {
				return nil, fmt.Errorf("hash %d is not held", i)
			}
			out[k] = m.hashes[i]
		}
		return out, nil
	})
}

// fail records a problem: logged at ERROR, counted, saved in the
// directory. The monitor follows no further.
func (m *Monitor) fail(p *Problem) *Problem {
	m.mu.Lock()
	if m.problem == nil {
		m.problem = p
	}
	m.mu.Unlock()
	m.metrics.setProblem(p)
	m.log.Error("monitor: "+p.Kind+" problem: the board is not to be trusted", "election", m.cfg.Election, "err", p.Err.Error(), "exit_status", p.Code)
	if err := m.dir.writeProblem(p); err != nil {
		m.log.Error("monitor: saving the problem", "err", err)
	}
	return p
}

func (m *Monitor) problemErr() error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.problem != nil {
		return m.problem
	}
	return nil
}

// Latest returns the largest checkpoint the monitor verified and holds
// the entries of, nil before any.
func (m *Monitor) Latest() *board.Checkpoint {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.latest
}

// Cosigned returns the largest checkpoint held that satisfies the
// election's witness policy, nil before any.
func (m *Monitor) Cosigned() *board.Checkpoint {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.cosigned
}

// Problem returns the problem found, nil if none.
func (m *Monitor) Problem() *Problem {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.problem
}

// RecordVerified reports whether the election is published and its
// record, written from the copy, verified.
func (m *Monitor) RecordVerified() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.record
}

// Run polls the server every interval until ctx ends or a problem is
// found, which it returns. Errors reaching the server are logged,
// counted and retried at the next poll.
func (m *Monitor) Run(ctx context.Context, interval time.Duration) error {
	for {
		err := m.Poll(ctx)
		var p *Problem
		if errors.As(err, &p) {
			return p
		}
		if err != nil && ctx.Err() == nil {
			m.metrics.pollErrors.Inc()
			m.log.Warn("monitor: poll failed; trying again", "election", m.cfg.Election, "err", err, "in", interval)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
}
