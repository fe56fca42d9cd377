package board_test

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/koe-vote/koe/internal/store"
)

// memStore is a store.Board in memory, computing hashes with
// tlog.StoredHashes as the real backends do.
type memStore struct {
	mu          sync.Mutex
	entries     map[string][][]byte
	hashes      map[string][]tlog.Hash
	checkpoints map[string][]byte
}

var _ store.Board = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{
		entries:     map[string][][]byte{},
		hashes:      map[string][]tlog.Hash{},
		checkpoints: map[string][]byte{},
	}
}

func (m *memStore) AppendAt(ctx context.Context, election string, at int64, entries [][]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n := int64(len(m.entries[election])); n != at {
		return fmt.Errorf("memstore: %d entries, not %d: %w", n, at, store.ErrLogMoved)
	}
	_, err := m.appendLocked(election, entries)
	return err
}

func (m *memStore) Append(ctx context.Context, election string, entries [][]byte) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.appendLocked(election, entries)
}

func (m *memStore) appendLocked(election string, entries [][]byte) (int64, error) {
	first := int64(len(m.entries[election]))
	hashes := m.hashes[election]
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x < 0 || x >= int64(len(hashes)) {
				return nil, fmt.Errorf("memstore: no hash %d", x)
			}
			out[i] = hashes[x]
		}
		return out, nil
	})
	for i, e := range entries {
		n := first + int64(i)
		if tlog.StoredHashIndex(0, n) != int64(len(hashes)) {
			panic("memstore: bad hash count")
		}
		hs, err := tlog.StoredHashes(n, e, r)
		if err != nil {
			return 0, err
		}
		hashes = append(hashes, hs...)
	}
	m.hashes[election] = hashes
	for _, e := range entries {
		m.entries[election] = append(m.entries[election], append([]byte(nil), e...))
	}
	return first, nil
}

func (m *memStore) TreeSize(ctx context.Context, election string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(len(m.entries[election])), nil
}

func (m *memStore) ReadHashes(ctx context.Context, election string, indexes []int64) ([]tlog.Hash, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	hashes := m.hashes[election]
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(hashes)) {
			return nil, fmt.Errorf("memstore: hash %d: %w", x, store.ErrNotFound)
		}
		out[i] = hashes[x]
	}
	return out, nil
}

func (m *memStore) ReadEntries(ctx context.Context, election string, start, n int64) ([][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	es := m.entries[election]
	if start < 0 || n < 0 || start+n > int64(len(es)) {
		return nil, fmt.Errorf("memstore: entries [%d, %d): %w", start, start+n, store.ErrNotFound)
	}
	return es[start : start+n], nil
}

func (m *memStore) SaveCheckpoint(ctx context.Context, election string, size int64, cp []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.checkpoints[election] = append([]byte(nil), cp...)
	return nil
}

func (m *memStore) Checkpoint(ctx context.Context, election string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp, ok := m.checkpoints[election]
	if !ok {
		return nil, store.ErrNotFound
	}
	return cp, nil
}
