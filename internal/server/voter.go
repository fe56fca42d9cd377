package server

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/store"
)

// openElectionFor returns the election if it is open for voters.
func (s *Server) openElectionFor(r *http.Request) (*election, error) {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	el.mu.Lock()
	err = s.refresh(r.Context(), el)
	state := el.state
	el.mu.Unlock()
	if err != nil {
		return nil, err
	}
	switch state {
	case api.StateOpen:
		return el, nil
	case api.StateSetup:
		return nil, errorf(http.StatusConflict, api.CodeNotOpen, "the election %s is not open yet", el.id)
	default:
		return nil, errorf(http.StatusConflict, api.CodeClosed, "the election %s is closed", el.id)
	}
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) error {
	if !s.limiter.allow(r) {
		w.Header().Set("Retry-After", "10")
		return errorf(http.StatusTooManyRequests, api.CodeRateLimited, "too many registration attempts; wait a little and try again")
	}
	var req api.RegisterRequest
	if err := decodeBody(w, r, maxRegisterBody, &req); err != nil {
		return err
	}
	el, err := s.openElectionFor(r)
	if err != nil {
		return err
	}
	voter, err := credential.NormalizeVoter(req.Voter)
	if err != nil || req.Code == "" {
		return errorf(http.StatusBadRequest, api.CodeMalformed, "voter and code are required (a voter id has 1 to %d bytes)", credential.MaxVoterID)
	}
	code, err := credential.NormalizeCode(req.Code)
	if err != nil {
		return errorf(http.StatusForbidden, api.CodeNotEligible, "this voter id and code are not on the voter roll of %s (%v)", el.id, err)
	}
	c, _ := credential.RollCommitment(el.id, voter, code)
	in := board.Issuance{Value: c}
	sig, err := s.issue(r.Context(), el, rollHash(el.rollKey, "voter", voter), rollHash(el.rollKey, "code", code), req.Blinded, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.RegisterResponse{BlindSignature: sig, Issuance: hex.EncodeToString(c[:])})
	return nil
}

// issue records the issuance of a credential to the voter hash vh (code
// is the one-time code's hash, zero for a digital ID) in a
// credential-issued entry naming in (SPEC.md §13.2), then blind-signs
// the blinded message: the signature is handed out only once the
// issuance is durable, and the very same request made again (a retry
// after a lost answer) is signed again, recording nothing.
func (s *Server) issue(ctx context.Context, el *election, vh, code [32]byte, blinded []byte, in board.Issuance) ([]byte, error) {
	if err := el.registrar.CheckBlinded(blinded); err != nil {
		return nil, errorf(http.StatusBadRequest, api.CodeMalformed, "blinded message: %v", err)
	}
	entry, err := s.entry(el, board.TypeCredentialIssued, in.Body())
	if err != nil {
		return nil, err
	}
	_, err = el.issuer.submit(ctx, store.Issue{Voter: vh, Code: code, Blinded: sha256.Sum256(blinded), Entry: entry})
	switch {
	case errors.Is(err, store.ErrIssuedBefore):
	case errors.Is(err, store.ErrNotEligible):
		return nil, errorf(http.StatusForbidden, api.CodeNotEligible, "this voter id and code are not on the voter roll of %s", el.id)
	case errors.Is(err, store.ErrAlreadyIssued):
		return nil, errorf(http.StatusConflict, api.CodeAlreadyRegistered, "a credential was already issued to this voter for %s", el.id)
	case errors.Is(err, store.ErrStateConflict):
		return nil, errorf(http.StatusConflict, api.CodeClosed, "the election %s closed while this registration waited for its batch", el.id)
	case err != nil:
		return nil, err
	default:
		s.metrics.issued.Inc()
	}
	return el.registrar.Sign(blinded)
}

func (s *Server) castBallot(w http.ResponseWriter, r *http.Request) error {
	data, err := readBody(w, r, maxBallotBody)
	if err != nil {
		return err
	}
	env, err := ballotbox.ParseEnvelope(data)
	if err != nil {
		s.metrics.casts.WithLabelValues("malformed").Inc()
		return errorf(http.StatusBadRequest, api.CodeMalformed, "%v", err)
	}
	el, err := s.openElectionFor(r)
	if err != nil {
		s.metrics.casts.WithLabelValues("closed").Inc()
		return err
	}
	batch := group.NewBatch()
	c, err := ballotbox.Check(el.e, el.registrar.PublicKey(), env, batch)
	// Re-votes are limited per credential key (SPEC.md §15.4), once the
	// credential and the cast signature are known to be good (so no one
	// can spend another credential's allowance) and before the proofs,
	// the costly part, are checked.
	if err == nil && !s.casts.allowKey(string(c.Key[:])) {
		s.metrics.casts.WithLabelValues("too-many-casts").Inc()
		w.Header().Set("Retry-After", "20")
		return errorf(http.StatusTooManyRequests, api.CodeTooManyCasts, "this credential has cast too often in the last minutes; wait a minute and cast again (only the last ballot counts)")
	}
	if err == nil && !batch.Verify() {
		// Name the failing proof.
		if err = c.Ballot.Verify(el.e); err == nil {
			err = ballotbox.ErrInvalidBallot
		}
		err = errors.Join(ballotbox.ErrInvalidBallot, err)
	}
	if err != nil {
		code, status := api.CodeInvalidBallot, http.StatusBadRequest
		switch {
		case errors.Is(err, ballotbox.ErrInvalidCredential):
			code, status = api.CodeInvalidCredential, http.StatusForbidden
		case errors.Is(err, ballotbox.ErrInvalidSignature):
			code, status = api.CodeInvalidSignature, http.StatusForbidden
		}
		s.metrics.casts.WithLabelValues(code).Inc()
		return errorf(status, code, "%v", err)
	}
	entry, err := s.entry(el, board.TypeBallot, env)
	if err != nil {
		return errorf(http.StatusBadRequest, api.CodeTooLarge, "%v", err)
	}
	res := el.committer.submit(r.Context(), store.Cast{Credential: c.Key, Counter: env.Counter, Tracking: c.Tracking, Ciphertexts: c.Ballot.CiphertextAs(), Entry: entry})
	switch {
	case errors.Is(res.Err, store.ErrReplay):
		s.metrics.casts.WithLabelValues("replay").Inc()
		return errorf(http.StatusConflict, api.CodeReplay, "this credential has cast a ballot with counter %d or higher, or this ballot was cast before; to vote again, read the credential's last counter (GET …/credentials/{key}) and cast with the next", env.Counter)
	case errors.Is(res.Err, store.ErrWrongCounter):
		s.metrics.casts.WithLabelValues("wrong-counter").Inc()
		return errorf(http.StatusConflict, api.CodeWrongCounter, "%v; read the credential's last counter (GET …/credentials/{key}) and cast with the next", res.Err)
	case errors.Is(res.Err, store.ErrSpoiledBallot):
		s.metrics.casts.WithLabelValues("spoiled").Inc()
		return errorf(http.StatusConflict, api.CodeSpoiled, "%v: encrypt your answers again to cast them", res.Err)
	case errors.Is(res.Err, store.ErrReusedCiphertext):
		s.metrics.casts.WithLabelValues("reused-ciphertext").Inc()
		return errorf(http.StatusConflict, api.CodeReusedCiphertext, "%v", res.Err)
	case errors.Is(res.Err, store.ErrStateConflict):
		s.metrics.casts.WithLabelValues("closed").Inc()
		return errorf(http.StatusConflict, api.CodeClosed, "the election %s is closed", el.id)
	case res.Err != nil:
		return res.Err
	}
	s.metrics.casts.WithLabelValues("accepted").Inc()
	writeJSON(w, http.StatusCreated, api.CastResponse{TrackingCode: ballot.FormatTrackingCode(c.Tracking), Receipt: res.Receipt})
	return nil
}

func (s *Server) spoilBallot(w http.ResponseWriter, r *http.Request) error {
	// Limited per client address, as registrations are: a spoiled ballot
	// names no credential, and the ballot box asks for none (SPEC.md §15.4).
	if !s.spoils.allow(r) {
		w.Header().Set("Retry-After", "10")
		return errorf(http.StatusTooManyRequests, api.CodeRateLimited, "too many spoiled ballots from this address; wait a little and try again")
	}
	data, err := readBody(w, r, maxBallotBody)
	if err != nil {
		return err
	}
	sp, err := ballot.ParseSpoiled(data)
	if err != nil {
		return errorf(http.StatusBadRequest, api.CodeMalformed, "%v", err)
	}
	el, err := s.openElectionFor(r)
	if err != nil {
		return err
	}
	b, err := sp.Check(el.e)
	if err != nil {
		return errorf(http.StatusBadRequest, api.CodeInvalidSpoiled, "%v", err)
	}
	tracking := b.TrackingCode()
	entry, err := s.entry(el, board.TypeSpoiled, sp)
	if err != nil {
		return errorf(http.StatusBadRequest, api.CodeTooLarge, "%v", err)
	}
	// The checks and the append are one transaction: a spoil racing a cast
	// of the same ballot cannot both succeed (SPEC.md §15.4).
	index, err := s.cfg.Store.SpoilBallot(r.Context(), el.id, store.Spoil{Tracking: tracking, Ciphertexts: b.CiphertextAs(), Entry: entry})
	switch {
	case errors.Is(err, store.ErrCastBallot):
		return errorf(http.StatusConflict, api.CodeCast, "this ballot was cast; it cannot be spoiled")
	case errors.Is(err, store.ErrReplay):
		return errorf(http.StatusConflict, api.CodeSpoiled, "this ballot was spoiled already")
	case errors.Is(err, store.ErrReusedCiphertext):
		return errorf(http.StatusConflict, api.CodeReusedCiphertext, "%v", err)
	case errors.Is(err, store.ErrStateConflict):
		return errorf(http.StatusConflict, api.CodeClosed, "the election %s is closed", el.id)
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"trackingCode": ballot.FormatTrackingCode(tracking), "index": index,
		"answers": el.manifest.Answers(sp.Values),
	})
	return nil
}

// getCredential tells a device the counter its next cast needs. The key
// is the credential's Ed25519 key vk, 64 hex digits.
func (s *Server) getCredential(w http.ResponseWriter, r *http.Request) error {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	vk, err := hex.DecodeString(r.PathValue("vk"))
	if err != nil || len(vk) != 32 || hex.EncodeToString(vk) != r.PathValue("vk") {
		return errorf(http.StatusBadRequest, api.CodeMalformed, "a credential key is its Ed25519 key, 64 lowercase hex digits")
	}
	last, index, err := s.cfg.Store.LastCast(r.Context(), el.id, credential.KeyHash(vk))
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeJSON(w, http.StatusOK, api.CredentialState{Next: store.NextCounter(0, false)})
		return nil
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, api.CredentialState{Next: store.NextCounter(last, true), Last: &last, Index: &index})
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

func (s *Server) getReceipt(w http.ResponseWriter, r *http.Request) error {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	tracking, ok := parseTracking(r.PathValue("tracking"))
	if !ok {
		return errorf(http.StatusBadRequest, api.CodeMalformed, "a tracking code is 64 hex digits or 52 base32 characters")
	}
	index, err := s.cfg.Store.LookupTracking(r.Context(), el.id, tracking)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, api.CodeNotFound, "no ballot with this tracking code is on the board of %s", el.id)
	}
	if err != nil {
		return err
	}
	receipt, err := el.log.MakeReceipt(r.Context(), index, tracking)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.CastResponse{TrackingCode: ballot.FormatTrackingCode(tracking), Receipt: receipt})
	return nil
}

func (s *Server) serveLog(w http.ResponseWriter, r *http.Request) {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	http.StripPrefix("/api/v1/elections/"+el.id+"/log", el.log.Handler()).ServeHTTP(w, r)
}

// getEntry serves one board entry, byte for byte as hashed into the log.
func (s *Server) getEntry(w http.ResponseWriter, r *http.Request) error {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	index, err := strconv.ParseInt(r.PathValue("index"), 10, 64)
	if err != nil || index < 0 {
		return errorf(http.StatusBadRequest, api.CodeMalformed, "an entry index is a whole number")
	}
	raws, err := s.cfg.Store.ReadEntries(r.Context(), el.id, index, 1)
	if errors.Is(err, store.ErrNotFound) || (err == nil && len(raws) != 1) {
		return errorf(http.StatusNotFound, api.CodeNotFound, "the board of %s has no entry %d", el.id, index)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(raws[0])
	return nil
}
