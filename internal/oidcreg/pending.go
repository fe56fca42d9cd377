package oidcreg

import (
	"context"
	"errors"
	"time"
)

// PendingTTL is how long a sign-in may take, from start to callback.
const PendingTTL = 10 * time.Minute

// ErrUnknownState is returned by Take for a state that was never issued,
// was used already, or expired.
var ErrUnknownState = errors.New("unknown, used or expired sign-in state")

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
