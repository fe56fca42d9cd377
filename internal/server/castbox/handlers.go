package castbox

import (
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/server/httpx"
	"github.com/koe-vote/koe/internal/store"
)

// Cast answers POST /elections/{id}/ballots (SPEC.md §15.4).
func (b *Box) Cast(w http.ResponseWriter, r *http.Request) error {
	data, err := httpx.ReadBody(w, r, MaxBallotBody)
	if err != nil {
		return err
	}
	env, err := ballotbox.ParseEnvelope(data)
	if err != nil {
		b.cfg.Metrics.Casts.WithLabelValues("malformed").Inc()
		return httpx.Errorf(http.StatusBadRequest, api.CodeMalformed, "%v", err)
	}
	e, err := b.open(r.Context())
	if err != nil {
		b.cfg.Metrics.Casts.WithLabelValues("closed").Inc()
		return err
	}
	batch := group.NewBatch()
	c, err := ballotbox.Check(e, b.cfg.Registrar, env, batch)
	// Re-votes are limited per credential key (SPEC.md §15.4), once the
	// credential and the cast signature are known to be good (so no one
	// can spend another credential's allowance) and before the proofs,
	// the costly part, are checked.
	if err == nil && !b.cfg.Recasts.AllowKey(string(c.Key[:])) {
		b.cfg.Metrics.Casts.WithLabelValues("too-many-casts").Inc()
		w.Header().Set("Retry-After", "20")
		return httpx.Errorf(http.StatusTooManyRequests, api.CodeTooManyCasts, "this credential has cast too often in the last minutes; wait a minute and cast again (only the last ballot counts)")
	}
	if err == nil && !batch.Verify() {
		// Name the failing proof.
		// Name the failing proof: ballot.Verify's errors wrap
		// ballotbox.ErrInvalidBallot (= ballot.ErrBallot) already.
		if err = c.Ballot.Verify(e); err == nil {
			err = fmt.Errorf("%w: a proof fails in the batch check", ballotbox.ErrInvalidBallot)
		}
	}
	if err != nil {
		code, status := api.CodeInvalidBallot, http.StatusBadRequest
		switch {
		case errors.Is(err, ballotbox.ErrInvalidCredential):
			code, status = api.CodeInvalidCredential, http.StatusForbidden
		case errors.Is(err, ballotbox.ErrInvalidSignature):
			code, status = api.CodeInvalidSignature, http.StatusForbidden
		}
		b.cfg.Metrics.Casts.WithLabelValues(code).Inc()
		return httpx.Errorf(status, code, "%v", err)
	}
	entry, err := b.entry(board.TypeBallot, env)
	if err != nil {
		return httpx.Errorf(http.StatusBadRequest, api.CodeTooLarge, "%v", err)
	}
	res := b.committer.submit(r.Context(), store.Cast{Credential: c.Key, Counter: env.Counter, Tracking: c.Tracking, Ciphertexts: c.Ballot.CiphertextAs(), Entry: entry})
	switch {
	case errors.Is(res.Err, store.ErrReplay):
		b.cfg.Metrics.Casts.WithLabelValues("replay").Inc()
		return httpx.Errorf(http.StatusConflict, api.CodeReplay, "this credential has cast a ballot with counter %d or higher, or this ballot was cast before; to vote again, read the credential's last counter (GET …/credentials/{key}) and cast with the next", env.Counter)
	case errors.Is(res.Err, store.ErrWrongCounter):
		b.cfg.Metrics.Casts.WithLabelValues("wrong-counter").Inc()
		return httpx.Errorf(http.StatusConflict, api.CodeWrongCounter, "%v; read the credential's last counter (GET …/credentials/{key}) and cast with the next", res.Err)
	case errors.Is(res.Err, store.ErrSpoiledBallot):
		b.cfg.Metrics.Casts.WithLabelValues("spoiled").Inc()
		return httpx.Errorf(http.StatusConflict, api.CodeSpoiled, "%v: encrypt your answers again to cast them", res.Err)
	case errors.Is(res.Err, store.ErrReusedCiphertext):
		b.cfg.Metrics.Casts.WithLabelValues("reused-ciphertext").Inc()
		return httpx.Errorf(http.StatusConflict, api.CodeReusedCiphertext, "%v", res.Err)
	case errors.Is(res.Err, store.ErrStateConflict):
		b.cfg.Metrics.Casts.WithLabelValues("closed").Inc()
		return httpx.Errorf(http.StatusConflict, api.CodeClosed, "the election %s is closed", b.cfg.Election)
	case res.Err != nil:
		return res.Err
	}
	b.cfg.Metrics.Casts.WithLabelValues("accepted").Inc()
	httpx.WriteJSON(w, http.StatusCreated, api.CastResponse{TrackingCode: ballot.FormatTrackingCode(c.Tracking), Receipt: res.Receipt})
	return nil
}

// Spoil answers POST /elections/{id}/spoiled (SPEC.md §15.4).
func (b *Box) Spoil(w http.ResponseWriter, r *http.Request) error {
	// Limited per client address, as registrations are: a spoiled ballot
	// names no credential, and the ballot box asks for none (SPEC.md §15.4).
	if !b.cfg.Spoils.Allow(r) {
		w.Header().Set("Retry-After", "10")
		return httpx.Errorf(http.StatusTooManyRequests, api.CodeRateLimited, "too many spoiled ballots from this address; wait a little and try again")
	}
	data, err := httpx.ReadBody(w, r, MaxBallotBody)
	if err != nil {
		return err
	}
	sp, err := ballot.ParseSpoiled(data)
	if err != nil {
		return httpx.Errorf(http.StatusBadRequest, api.CodeMalformed, "%v", err)
	}
	e, err := b.open(r.Context())
	if err != nil {
		return err
	}
	opened, err := sp.Check(e)
	if err != nil {
		return httpx.Errorf(http.StatusBadRequest, api.CodeInvalidSpoiled, "%v", err)
	}
	tracking := opened.TrackingCode()
	entry, err := b.entry(board.TypeSpoiled, sp)
	if err != nil {
		return httpx.Errorf(http.StatusBadRequest, api.CodeTooLarge, "%v", err)
	}
	// The checks and the append are one transaction: a spoil racing a cast
	// of the same ballot cannot both succeed (SPEC.md §15.4).
	index, err := b.cfg.Casts.SpoilBallot(r.Context(), b.cfg.Election, store.Spoil{Tracking: tracking, Ciphertexts: opened.CiphertextAs(), Entry: entry})
	switch {
	case errors.Is(err, store.ErrCastBallot):
		return httpx.Errorf(http.StatusConflict, api.CodeCast, "this ballot was cast; it cannot be spoiled")
	case errors.Is(err, store.ErrReplay):
		return httpx.Errorf(http.StatusConflict, api.CodeSpoiled, "this ballot was spoiled already")
	case errors.Is(err, store.ErrReusedCiphertext):
		return httpx.Errorf(http.StatusConflict, api.CodeReusedCiphertext, "%v", err)
	case errors.Is(err, store.ErrStateConflict):
		return httpx.Errorf(http.StatusConflict, api.CodeClosed, "the election %s is closed", b.cfg.Election)
	case err != nil:
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, map[string]any{
		"trackingCode": ballot.FormatTrackingCode(tracking), "index": index,
		"answers": e.Manifest.Answers(sp.Values),
	})
	return nil
}

// Credential answers GET /elections/{id}/credentials/{vk}: it tells a device the counter its next cast needs. The key
// is the credential's Ed25519 key vk, 64 hex digits.
func (b *Box) Credential(w http.ResponseWriter, r *http.Request) error {
	vk, err := hex.DecodeString(r.PathValue("vk"))
	if err != nil || len(vk) != 32 || hex.EncodeToString(vk) != r.PathValue("vk") {
		return httpx.Errorf(http.StatusBadRequest, api.CodeMalformed, "a credential key is its Ed25519 key, 64 lowercase hex digits")
	}
	last, index, err := b.cfg.Casts.LastCast(r.Context(), b.cfg.Election, credential.KeyHash(vk))
	switch {
	case errors.Is(err, store.ErrNotFound):
		httpx.WriteJSON(w, http.StatusOK, api.CredentialState{Next: store.NextCounter(0, false)})
		return nil
	case err != nil:
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, api.CredentialState{Next: store.NextCounter(last, true), Last: &last, Index: &index})
	return nil
}

// parseTracking accepts a tracking code as 64 hex digits or in its
// human form (base32, dashes and case ignored).
func parseTracking(s string) ([32]byte, bool) {
	var out [32]byte
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return [32]byte(b), true
	}
	clean := strings.ToUpper(strings.ReplaceAll(s, "-", ""))
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(clean)
	if err != nil || len(b) != 32 {
		return out, false
	}
	return [32]byte(b), true
}

// Receipt answers GET /elections/{id}/receipts/{tracking} (SPEC.md §13.4).
func (b *Box) Receipt(w http.ResponseWriter, r *http.Request) error {
	tracking, ok := parseTracking(r.PathValue("tracking"))
	if !ok {
		return httpx.Errorf(http.StatusBadRequest, api.CodeMalformed, "a tracking code is 64 hex digits or 52 base32 characters")
	}
	index, err := b.cfg.Casts.LookupTracking(r.Context(), b.cfg.Election, tracking)
	if errors.Is(err, store.ErrNotFound) {
		return httpx.Errorf(http.StatusNotFound, api.CodeNotFound, "no ballot with this tracking code is on the board of %s", b.cfg.Election)
	}
	if err != nil {
		return err
	}
	receipt, err := b.cfg.Board.MakeReceipt(r.Context(), index, tracking)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, api.CastResponse{TrackingCode: ballot.FormatTrackingCode(tracking), Receipt: receipt})
	return nil
}
