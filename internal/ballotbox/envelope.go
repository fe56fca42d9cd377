// Package ballotbox defines what the ballot box accepts and counts
// (SPEC.md §15.4): a cast envelope carries an encrypted ballot, the anonymous
// credential that authorises it, the credential's counter and its
// signature; of every credential's casts, the one with the highest counter
// is counted.
package ballotbox

import (
	"errors"
	"fmt"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/strictjson"
)

// Envelope is a cast ballot as submitted and as published on the board.
type Envelope struct {
	Ballot     []byte `json:"ballot"`     // the encoded ballot (base64)
	Credential []byte `json:"credential"` // the credential's encoding (base64)
	Salt       []byte `json:"salt"`       // the ballot's binding salt, 32 bytes (base64)
	Counter    uint64 `json:"counter"`    // higher counters supersede lower ones
	Signature  []byte `json:"signature"`  // Ed25519 by the credential's key over the cast message (base64)
}

// Errors callers branch on.
var (
	ErrMalformed = errors.New("malformed cast")
	// ErrInvalidCredential is credential.ErrInvalidCredential: one
	// sentinel for a credential that does not verify, wherever found.
	ErrInvalidCredential = credential.ErrInvalidCredential
	ErrInvalidSignature  = errors.New("invalid cast signature")
	// ErrInvalidBallot is ballot.ErrBallot: a ballot that does not
	// decode or whose proofs fail.
	ErrInvalidBallot = ballot.ErrBallot
)

// wrap returns err as an error of sentinel: err itself if it already is
// one (so the message does not say "invalid ballot: invalid ballot: …"),
// else both, so that errors.Is finds the sentinel and err's own.
func wrap(sentinel, err error) error {
	if errors.Is(err, sentinel) {
		return err
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}

// Checked is an envelope whose credential, signature and ballot have been
// decoded and checked.
type Checked struct {
	Envelope   *Envelope
	Ballot     *ballot.Ballot
	Credential *credential.Credential
	Tracking   [32]byte
	Key        [32]byte // credential.KeyHash of the voter key: the counter's key
}

// ParseEnvelope decodes an envelope's JSON strictly.
func ParseEnvelope(data []byte) (*Envelope, error) {
	var env Envelope
	if err := strictjson.Decode(data, &env); err != nil {
		return nil, wrap(ErrMalformed, err)
	}
	return &env, nil
}

// Check verifies everything about an envelope (SPEC.md §15.4): the ballot
// decodes for the election and is bound to the credential's key, the
// credential is the registrar's signature for this election, the cast
// signature covers the ballot's tracking code and the counter, and (if
// batch is nil) every proof of the ballot holds. With a batch, the ballot's
// proof equations are added to it instead, and the envelope is valid only if
// the batch verifies.
func Check(e *ballot.Election, registrar *credential.PublicKey, env *Envelope, batch *group.Batch) (*Checked, error) {
	b, err := ballot.Decode(e, env.Ballot)
	if err != nil {
		return nil, wrap(ErrInvalidBallot, err)
	}
	cred, err := credential.DecodeCredential(registrar, env.Credential)
	if err != nil {
		return nil, wrap(ErrInvalidCredential, err)
	}
	if err := cred.Verify(registrar, e.Context); err != nil {
		return nil, wrap(ErrInvalidCredential, err)
	}
	if len(env.Salt) != credential.SaltSize {
		return nil, fmt.Errorf("%w: salt is %d bytes, want %d", ErrMalformed, len(env.Salt), credential.SaltSize)
	}
	if b.Binding != credential.Binding(cred.PublicKey, [credential.SaltSize]byte(env.Salt)) {
		return nil, fmt.Errorf("%w: the ballot is not bound to this credential's key and salt", ErrInvalidBallot)
	}
	tracking := b.TrackingCode()
	if err := credential.VerifyCast(cred.PublicKey, e.Context, tracking, env.Counter, env.Signature); err != nil {
		return nil, wrap(ErrInvalidSignature, err)
	}
	if batch == nil {
		err = b.Verify(e)
	} else {
		err = b.AddTo(batch, e)
	}
	if err != nil {
		return nil, wrap(ErrInvalidBallot, err)
	}
	return &Checked{Envelope: env, Ballot: b, Credential: cred, Tracking: tracking, Key: credential.KeyHash(cred.PublicKey)}, nil
}

// Counted returns, for every credential, the last envelope it cast, in
// the order of those envelopes on the board (SPEC.md §15.4): as the ballot
// box accepts counters 1, 2, 3, … only, that is the one with the highest
// counter. The entries' envelopes are decoded but not checked; the board's
// ballot entries were checked when cast, and a verifier checks them all,
// counters included (§13.6 step 5).
func Counted(entries []board.Entry) ([]*Envelope, error) {
	byKey := map[[32]byte]int{} // credential key → position of its last envelope
	var envs []*Envelope
	keep := []bool{}
	for i, e := range entries {
		if e.Type != board.TypeBallot {
			continue
		}
		env, err := ParseEnvelope(e.Body)
		if err != nil {
			return nil, fmt.Errorf("board entry %d: %w", i, err)
		}
		if len(env.Credential) < 32 {
			return nil, fmt.Errorf("board entry %d: %w: credential too short", i, ErrMalformed)
		}
		key := credential.KeyHash(env.Credential[:32])
		pos := len(envs)
		envs = append(envs, env)
		keep = append(keep, true)
		if prev, ok := byKey[key]; ok {
			keep[prev] = false
		}
		byKey[key] = pos
	}
	var out []*Envelope
	for i, env := range envs {
		if keep[i] {
			out = append(out, env)
		}
	}
	return out, nil
}
