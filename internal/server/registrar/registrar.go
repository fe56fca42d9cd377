// Package registrar is koe's registrar (SPEC.md §15.3, §15.6): it checks
// a voter's eligibility, by the voter roll and one-time code or by a
// digital ID, records the issuance on the board and blind-signs one
// anonymous credential per voter. It also turns an imported roll into the
// keyed hashes it keeps and the commitments the board publishes.
//
// A Registrar is given the registrar's part of the store only
// (store.Roll, and store.Pending through PendingStore): it cannot read the
// ballot box's data (SPEC.md §15.5), and the ballot box (package castbox)
// cannot reach the registrar's secret key or the roll. A test of package
// server fails if either package imports the other or names the other's
// part of the store.
package registrar

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/oidcreg"
	"github.com/koe-vote/koe/internal/server/httpx"
	"github.com/koe-vote/koe/internal/store"
)

// MaxRegisterBody bounds a registration request.
const MaxRegisterBody = 8 << 10

// Config configures one election's registrar.
type Config struct {
	Election string                // the election id
	Key      *credential.Registrar // the registrar's secret key
	RollKey  []byte                // k_R, the HMAC key of voter ids and one-time codes (32 bytes)
	Roll     store.Roll
	Pending  oidcreg.PendingStore // digital-ID sign-ins in progress (see PendingStore)
	// State returns the election's state, read afresh where front ends
	// share it (the lifecycle layer's; the registrar never changes it).
	State func(ctx context.Context) (string, error)
	// Closes is the manifest's close time (RFC 3339), the day on which the
	// digital-ID rules compute ages; empty: today.
	Closes string
	OIDC   *oidcreg.Config // registration by digital ID, if configured
	// OIDCReturn, if set, is where the voter's browser goes after a
	// digital-ID sign-in (see server.Config.OIDCReturn).
	OIDCReturn func(election string) string
	Interval   time.Duration // the registration interval of SPEC.md §15.5; zero: at once
	Manual     bool          // batches close only on Flush (tests)
	Now        func() time.Time
	// Limiter counts failed registrations per client address, and
	// VoterFails wrong codes per voter id (its keyed hash), both in
	// memory only (SPEC §15.10).
	Limiter    *httpx.Limiter
	VoterFails *httpx.Limiter
	Issued     prometheus.Counter
	Log        *slog.Logger
}

// Registrar is one election's registrar.
type Registrar struct {
	cfg    Config
	issuer *issuer

	mu   sync.Mutex
	oidc *oidcreg.Client // the provider's client, made on first use
}

// New returns the election's registrar; call Stop to release it.
func New(cfg Config) *Registrar {
	return &Registrar{cfg: cfg, issuer: newIssuer(cfg.Roll, cfg.Election, cfg.State, cfg.Interval, cfg.Manual, cfg.Now)}
}

// PublicKey returns the registrar's public key.
func (rg *Registrar) PublicKey() *credential.PublicKey { return rg.cfg.Key.PublicKey() }

// SetOIDC replaces the digital-ID configuration (nil: none).
func (rg *Registrar) SetOIDC(c *oidcreg.Config) {
	rg.mu.Lock()
	defer rg.mu.Unlock()
	rg.cfg.OIDC, rg.oidc = c, nil
}

// Flush commits the waiting registrations now (before the election closes).
func (rg *Registrar) Flush() { rg.issuer.flush() }

// Stop stops the registrar's batches, committing what waits.
func (rg *Registrar) Stop() { rg.issuer.stop() }

// Queued returns how many registrations wait for their batch.
func (rg *Registrar) Queued() int64 { return rg.issuer.queued() }

// open is nil if the election is open for voters, else its API error.
func (rg *Registrar) open(ctx context.Context) error {
	state, err := rg.cfg.State(ctx)
	if err != nil {
		return err
	}
	switch state {
	case api.StateOpen:
		return nil
	case api.StateSetup:
		return httpx.Errorf(http.StatusConflict, api.CodeNotOpen, "the election %s is not open yet", rg.cfg.Election)
	default:
		return httpx.Errorf(http.StatusConflict, api.CodeClosed, "the election %s is closed", rg.cfg.Election)
	}
}

// hash is the registrar's keyed hash of a voter id or a one-time code.
func (rg *Registrar) hash(kind, value string) [32]byte {
	m := hmac.New(sha256.New, rg.cfg.RollKey)
	m.Write([]byte("koe/v2/roll/" + kind + "\x00" + value))
	return [32]byte(m.Sum(nil))
}

// Register answers POST /elections/{id}/register (SPEC.md §15.3).
//
// Only failures count against the client's address (SPEC §15.10): a
// registration that succeeds, or a retry of one, is never limited, so
// junk from one address cannot keep the voters who share it (a proxy, a
// city hall's network) from registering. A wrong code counts once, and
// ten times once its voter id has had too many wrong codes, which slows
// down whoever guesses one voter's code; the voter's own right code is
// always accepted.
func (rg *Registrar) Register(w http.ResponseWriter, r *http.Request) error {
	if rg.cfg.Limiter.Blocked(r) {
		w.Header().Set("Retry-After", "10")
		return httpx.Errorf(http.StatusTooManyRequests, api.CodeRateLimited, "too many failed registration attempts from this address; wait a little and try again")
	}
	cost, err := rg.register(w, r)
	if cost > 0 {
		rg.cfg.Limiter.Fail(r, cost)
	}
	return err
}

// register registers; cost is how many failures the attempt counts.
func (rg *Registrar) register(w http.ResponseWriter, r *http.Request) (cost int, err error) {
	var req api.RegisterRequest
	if err := httpx.DecodeBody(w, r, MaxRegisterBody, &req); err != nil {
		return 1, err
	}
	if err := rg.open(r.Context()); err != nil {
		return 0, err
	}
	id := rg.cfg.Election
	voter, err := credential.NormalizeVoter(req.Voter)
	if err != nil || req.Code == "" {
		return 1, httpx.Errorf(http.StatusBadRequest, api.CodeMalformed, "voter and code are required (a voter id has 1 to %d bytes)", credential.MaxVoterID)
	}
	vh := rg.hash("voter", voter)
	code, err := credential.NormalizeCode(req.Code)
	if err != nil {
		return rg.wrongCode(vh), httpx.Errorf(http.StatusForbidden, api.CodeNotEligible, "this voter id and code are not on the voter roll of %s (%v)", id, err)
	}
	c, _ := credential.RollCommitment(id, voter, code)
	in := board.Issuance{Value: c}
	sig, err := rg.issue(r.Context(), vh, rg.hash("code", code), req.Blinded, in)
	var he *httpx.Error
	switch {
	case err == nil:
	case errors.As(err, &he) && he.Code == api.CodeNotEligible:
		return rg.wrongCode(vh), err
	case errors.As(err, &he) && he.Status < 500 && he.Code != api.CodeClosed:
		return 1, err
	default:
		return 0, err
	}
	httpx.WriteJSON(w, http.StatusOK, api.RegisterResponse{BlindSignature: sig, Issuance: hex.EncodeToString(c[:])})
	return 0, nil
}

// wrongCode counts a wrong code for voter hash vh and says what it costs
// the client's address.
func (rg *Registrar) wrongCode(vh [32]byte) int {
	if rg.cfg.VoterFails == nil {
		return 1
	}
	key := rg.cfg.Election + "/" + hex.EncodeToString(vh[:])
	if rg.cfg.VoterFails.BlockedKey(key) {
		return 10
	}
	rg.cfg.VoterFails.FailKey(key, 1)
	return 1
}

// issue records the issuance of a credential to the voter hash vh (code
// is the one-time code's hash, zero for a digital ID) in a
// credential-issued entry naming in (SPEC.md §13.2), then blind-signs
// the blinded message: the signature is handed out only once the
// issuance is durable, and the very same request made again (a retry
// after a lost answer) is signed again, recording nothing.
func (rg *Registrar) issue(ctx context.Context, vh, code [32]byte, blinded []byte, in board.Issuance) ([]byte, error) {
	id := rg.cfg.Election
	if err := rg.cfg.Key.CheckBlinded(blinded); err != nil {
		return nil, httpx.Errorf(http.StatusBadRequest, api.CodeMalformed, "blinded message: %v", err)
	}
	entry, err := rg.entry(board.TypeCredentialIssued, in.Body())
	if err != nil {
		return nil, err
	}
	_, err = rg.issuer.submit(ctx, store.Issue{Voter: vh, Code: code, Blinded: sha256.Sum256(blinded), Entry: entry})
	switch {
	case errors.Is(err, store.ErrIssuedBefore):
	case errors.Is(err, store.ErrNotEligible):
		return nil, httpx.Errorf(http.StatusForbidden, api.CodeNotEligible, "this voter id and code are not on the voter roll of %s", id)
	case errors.Is(err, store.ErrRevoked):
		// Logged by reason only: the line names no voter.
		rg.cfg.Log.Info("registration refused", "election", id, "reason", "revoked")
		return nil, httpx.Errorf(http.StatusForbidden, api.CodeRevoked, "this one-time code was replaced: a new letter was issued for this voter of %s; use the code of the newest letter", id)
	case errors.Is(err, store.ErrAlreadyIssued):
		return nil, httpx.Errorf(http.StatusConflict, api.CodeAlreadyRegistered, "a credential was already issued to this voter for %s", id)
	case errors.Is(err, store.ErrStateConflict):
		return nil, httpx.Errorf(http.StatusConflict, api.CodeClosed, "the election %s closed while this registration waited for its batch", id)
	case err != nil:
		return nil, err
	default:
		rg.cfg.Issued.Inc()
	}
	return rg.cfg.Key.Sign(blinded)
}
