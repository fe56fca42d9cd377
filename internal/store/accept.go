package store

import (
	"errors"
	"fmt"
)

// The ballot box's cross-ballot rules (SPEC §15.4). Each is a rule the
// verifier checks on the record, enforced here so that no voter can make an
// honest election's record fail.
var (
	// ErrSpoiledBallot is a cast of a ballot that was spoiled (challenged):
	// its nonces are public, so it would reveal its vote.
	ErrSpoiledBallot = errors.New("this ballot was spoiled (challenged); a challenged ballot cannot be cast")
	// ErrCastBallot is a spoil of a ballot that was cast.
	ErrCastBallot = errors.New("this ballot was cast; it cannot be spoiled")
	// ErrReusedCiphertext is a ballot with a ciphertext (its A component)
	// already in a spoiled ballot, in another credential's ballot, or twice
	// in itself.
	ErrReusedCiphertext = errors.New("a ciphertext of this ballot is in another ballot")
	// ErrWrongCounter is a cast whose counter is not the credential's
	// next: a first cast's is not FirstCounter, or a later cast's exceeds
	// the last accepted counter by more than one. A counter cannot be
	// taken ahead, so whoever holds a credential's key cannot lock its
	// vote against later casts (SPEC §15.4, rule 1).
	ErrWrongCounter = errors.New("the counter is not the credential's next: its first cast has counter 1, each later cast its last counter plus one")
)

// FirstCounter is the counter of a credential's first cast; each later
// cast has the last accepted counter plus one (SPEC §15.4, rule 1).
const FirstCounter = 1

// NextCounter is the counter the credential's next cast must carry, given
// its last accepted counter (seen false if it never cast).
func NextCounter(last uint64, seen bool) uint64 {
	if !seen {
		return FirstCounter
	}
	return last + 1
}

// CheckCounter applies SPEC §15.4 rule 1 to a cast carrying counter, given
// its credential's last accepted counter (seen false if it never cast):
// nil if counter is the next one, ErrReplay if it repeats or goes below
// the last, and ErrWrongCounter otherwise. The ballot box (AcceptCasts)
// and the verifier both judge counters with it.
func CheckCounter(last uint64, seen bool, counter uint64) error {
	switch next := NextCounter(last, seen); {
	case seen && counter <= last:
		return ErrReplay
	case counter != next:
		return fmt.Errorf("%w (counter %d, the next is %d)", ErrWrongCounter, counter, next)
	}
	return nil
}

// TrackingState is what the ballot box knows of a tracking code.
type TrackingState int

const (
	TrackingUnknown TrackingState = iota
	TrackingCast
	TrackingSpoiled
)

// CastState is the ballot box's state that the acceptance rules read: the
// drivers answer it from their tables inside the write transaction.
type CastState interface {
	// LastCounter returns the credential's last accepted counter, if any.
	LastCounter(credential [32]byte) (last uint64, ok bool, err error)
	// Tracking returns whether the tracking code was cast or spoiled.
	Tracking(tracking [32]byte) (TrackingState, error)
	// Ciphertext returns who holds a ciphertext A component: the
	// credential of a cast ballot (spoiled false), or a spoiled ballot
	// (spoiled true); ok false if none.
	Ciphertext(a [32]byte) (credential [32]byte, spoiled bool, ok bool, err error)
}

// Accepted is what a driver writes for one accepted cast, in order.
type Accepted struct {
	Cast  int   // index into the batch
	Index int64 // log index: the tree size plus the cast's position among those accepted
}

// AcceptCasts applies the acceptance rules to a batch of casts against
// state, in order, as if each accepted cast were stored before the next is
// judged (a batch-local overlay keeps what earlier casts of the batch
// changed). n is the tree size before the batch. It is the only statement
// of the rules: both drivers call it and store exactly what it accepts.
func AcceptCasts(n int64, casts []Cast, state CastState) ([]CastResult, []Accepted, error) {
	results := make([]CastResult, len(casts))
	last := map[[32]byte]uint64{}
	tracked := map[[32]byte]bool{}
	owner := map[[32]byte][32]byte{}
	var accepted []Accepted
	for i, c := range casts {
		results[i].Index = -1
		prev, seen := last[c.Credential]
		if !seen {
			var err error
			if prev, seen, err = state.LastCounter(c.Credential); err != nil {
				return nil, nil, err
			}
		}
		if err := CheckCounter(prev, seen, c.Counter); err != nil {
			results[i].Err = err
			continue
		}
		if tracked[c.Tracking] {
			results[i].Err = ErrReplay
			continue
		}
		switch ts, err := state.Tracking(c.Tracking); {
		case err != nil:
			return nil, nil, err
		case ts == TrackingCast:
			results[i].Err = ErrReplay
			continue
		case ts == TrackingSpoiled:
			results[i].Err = ErrSpoiledBallot
			continue
		}
		if err := checkCiphertexts(c.Credential, false, c.Ciphertexts, owner, state); err != nil {
			if !errors.Is(err, ErrReusedCiphertext) {
				return nil, nil, err
			}
			results[i].Err = err
			continue
		}
		for _, a := range c.Ciphertexts {
			owner[a] = c.Credential
		}
		last[c.Credential] = c.Counter
		tracked[c.Tracking] = true
		results[i].Index = n + int64(len(accepted))
		accepted = append(accepted, Accepted{Cast: i, Index: results[i].Index})
	}
	return results, accepted, nil
}

// AcceptSpoil applies the rules to one spoiled ballot: its tracking code
// was neither cast nor spoiled, and none of its ciphertexts is in a cast
// ballot (whose vote its nonces would reveal) or another spoiled one.
func AcceptSpoil(sp Spoil, state CastState) error {
	switch ts, err := state.Tracking(sp.Tracking); {
	case err != nil:
		return err
	case ts == TrackingCast:
		return ErrCastBallot
	case ts == TrackingSpoiled:
		return ErrReplay
	}
	return checkCiphertexts([32]byte{}, true, sp.Ciphertexts, nil, state)
}

// checkCiphertexts refuses a ballot (of credential, or spoiled) whose A
// components repeat, or are held by a spoiled ballot, by another
// credential's ballot, or (for a spoiled ballot) by any cast ballot.
// batch holds the A components accepted earlier in the same batch.
func checkCiphertexts(credential [32]byte, spoiled bool, as [][32]byte, batch map[[32]byte][32]byte, state CastState) error {
	mine := make(map[[32]byte]bool, len(as))
	for k, a := range as {
		if mine[a] {
			return fmt.Errorf("%w: selection %d repeats an earlier ciphertext of the ballot", ErrReusedCiphertext, k+1)
		}
		mine[a] = true
		if holder, ok := batch[a]; ok {
			if spoiled || holder != credential {
				return fmt.Errorf("%w: selection %d is in another credential's ballot", ErrReusedCiphertext, k+1)
			}
			continue
		}
		holder, heldBySpoiled, ok, err := state.Ciphertext(a)
		switch {
		case err != nil:
			return err
		case !ok:
		case heldBySpoiled:
			return fmt.Errorf("%w: selection %d is in a spoiled ballot", ErrReusedCiphertext, k+1)
		case spoiled:
			return fmt.Errorf("%w: selection %d is in a cast ballot", ErrReusedCiphertext, k+1)
		case holder != credential:
			return fmt.Errorf("%w: selection %d is in another credential's ballot", ErrReusedCiphertext, k+1)
		}
	}
	return nil
}
