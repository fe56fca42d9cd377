package oidcreg

import (
	"context"
	"errors"
	"sync"
	"time"
)

// PendingTTL is how long a sign-in may take, from start to callback.
const PendingTTL = 10 * time.Minute

// ErrUnknownState is returned by Take for a state that was never issued,
// was used already, or expired.
var ErrUnknownState = errors.New("unknown, used or expired sign-in state")

// ErrTooManyPending is returned by Put when the store is full.
var ErrTooManyPending = errors.New("too many sign-ins in progress")

// Pending is what the registrar remembers of a sign-in between its start
// and the provider's callback. It names no person.
type Pending struct {
	Election string
	Blinded  []byte // the voter's blinded credential message
	Verifier string // PKCE code verifier
	Nonce    string
	Expires  time.Time
}

// PendingStore keeps sign-ins in progress, by state. Take is single-use:
// it removes the state, so a replayed callback finds nothing.
type PendingStore interface {
	Put(ctx context.Context, state string, p Pending) error
	Take(ctx context.Context, state string) (Pending, error)
}

// MemoryPending is a PendingStore in memory, for one server process.
type MemoryPending struct {
	now func() time.Time
	max int

	mu sync.Mutex
	m  map[string]Pending
}

// NewMemoryPending returns an in-memory store of at most max sign-ins
// (0: 100,000); now is its clock (nil: time.Now).
func NewMemoryPending(max int, now func() time.Time) *MemoryPending {
	if max == 0 {
		max = 100_000
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryPending{now: now, max: max, m: map[string]Pending{}}
}

// Put implements PendingStore. It drops expired sign-ins when full.
func (s *MemoryPending) Put(_ context.Context, state string, p Pending) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= s.max {
		now := s.now()
		for k, v := range s.m {
			if !now.Before(v.Expires) {
				delete(s.m, k)
			}
		}
		if len(s.m) >= s.max {
			return ErrTooManyPending
		}
	}
	s.m[state] = p
	return nil
}

// Take implements PendingStore.
func (s *MemoryPending) Take(_ context.Context, state string) (Pending, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.m[state]
	delete(s.m, state)
	if !ok || !s.now().Before(p.Expires) {
		return Pending{}, ErrUnknownState
	}
	return p, nil
}
