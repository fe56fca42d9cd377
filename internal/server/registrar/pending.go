package registrar

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"time"

	"github.com/koe-vote/koe/internal/oidcreg"
	"github.com/koe-vote/koe/internal/store"
)

// storePending keeps digital-ID sign-ins in progress in the store, so
// that a sign-in started at one front end may return to another. A
// sign-in is kept under SHA-256 of its state, and holds no identity: the
// election, the blinded message, the PKCE verifier and the nonce.
type storePending struct {
	st  store.Pending
	now func() time.Time
}

// PendingStore returns the store-backed keeper of sign-ins in progress
// that a registrar uses by default; now is its clock (nil: time.Now).
func PendingStore(st store.Pending, now func() time.Time) oidcreg.PendingStore {
	if now == nil {
		now = time.Now
	}
	return storePending{st: st, now: now}
}

func pendingKey(state string) [32]byte { return sha256.Sum256([]byte("koe/v2/oidc/state\x00" + state)) }

func (p storePending) Put(ctx context.Context, state string, pending oidcreg.Pending) error {
	data, err := json.Marshal(pending)
	if err != nil {
		return err
	}
	return p.st.PutPending(ctx, pendingKey(state), data, pending.Expires, p.now())
}

func (p storePending) Take(ctx context.Context, state string) (oidcreg.Pending, error) {
	data, err := p.st.TakePending(ctx, pendingKey(state), p.now())
	if errors.Is(err, store.ErrNotFound) {
		return oidcreg.Pending{}, oidcreg.ErrUnknownState
	}
	if err != nil {
		return oidcreg.Pending{}, err
	}
	var pending oidcreg.Pending
	if err := json.Unmarshal(data, &pending); err != nil {
		return oidcreg.Pending{}, err
	}
	return pending, nil
}
