package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/server/httpx"
	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/strictjson"
)

// An election in setup is a draft (SPEC.md §15.2 *Drafts*): until a
// trustee posts the first key-ceremony message its manifest may be
// replaced by a superseding manifest entry, and until it opens it may be
// deleted with everything stored of it, its id retired.

// putManifest replaces a draft's manifest: PUT /api/v1/elections/{id}/manifest.
func (s *Server) putManifest(w http.ResponseWriter, r *http.Request) error {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	data, err := httpx.ReadBody(w, r, maxManifestBody)
	if err != nil {
		return err
	}
	m, err := ballot.ParseManifest(data)
	if err != nil {
		return httpx.Errorf(http.StatusBadRequest, api.CodeInvalidManifest, "%v", err)
	}
	if m.ID != el.id {
		return httpx.Errorf(http.StatusBadRequest, api.CodeInvalidManifest, "the manifest's id is %q, not %q: an election's id never changes (create a new election instead)", m.ID, el.id)
	}
	if m.Trustees != el.manifest.Trustees {
		return httpx.Errorf(http.StatusBadRequest, api.CodeInvalidManifest, "the manifest names %d trustees, the election has %d whose tokens were handed out: the number of trustees never changes (delete the draft and create a new one)", m.Trustees, el.manifest.Trustees)
	}
	if data, m, err = s.withBoardKey(data, m); err != nil {
		return err
	}
	if len(data) > maxServerManifest || ballot.StyleOf(m).Selections() > maxServerSelections {
		return httpx.Errorf(http.StatusBadRequest, api.CodeTooLarge, "the server runs elections with a manifest of at most %d bytes and %d selections", maxServerManifest, maxServerSelections)
	}
	replaced, err := s.replaceManifest(r, data)
	if err != nil {
		return err
	}
	if replaced {
		s.forget(el)
	}
	fresh, err := s.lookup(r.Context(), el.id)
	if err != nil {
		return err
	}
	return s.answerManifest(w, r, fresh, http.StatusOK)
}

// replaceManifest appends the superseding manifest entry and stores the
// manifest, under the election's lock, unless the manifest is the same.
func (s *Server) replaceManifest(r *http.Request, data []byte) (replaced bool, err error) {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return false, err
	}
	el.mu.Lock()
	defer el.mu.Unlock()
	if err := s.refresh(r.Context(), el); err != nil {
		return false, err
	}
	if el.state != api.StateSetup {
		return false, httpx.Errorf(http.StatusConflict, api.CodeWrongState, "the election is %s: only a draft's manifest (in setup, before the key ceremony) can be edited", el.state)
	}
	size, err := s.cfg.Store.TreeSize(r.Context(), el.id)
	if err != nil {
		return false, err
	}
	var begun int64 = -1
	err = s.scan(r.Context(), el, func(i int64, e board.Entry) bool {
		if ceremony.IsRound(e.Type) || e.Type == board.TypeElectionKey {
			begun = i
			return false
		}
		return true
	})
	if err != nil {
		return false, err
	}
	if begun >= 0 {
		return false, httpx.Errorf(http.StatusConflict, api.CodeManifestFixed, "a trustee has begun the key ceremony (board entry %d), which binds the manifest: it can no longer be edited (delete the draft and create a new one with another id)", begun)
	}
	if bytes.Equal(data, el.manifestBytes) {
		return false, nil
	}
	entry, err := s.entry(el, board.TypeManifest, board.ManifestBody{Manifest: base64.StdEncoding.EncodeToString(data)})
	if err != nil {
		return false, err
	}
	if err := s.cfg.Store.SetManifest(r.Context(), el.id, api.StateSetup, size, data, entry); errors.Is(err, store.ErrStateConflict) {
		return false, httpx.Errorf(http.StatusConflict, api.CodeWrongState, "the election changed meanwhile (a trustee may have begun the key ceremony); reload it")
	} else if err != nil {
		return false, err
	}
	s.log.Info("election manifest replaced", "election", el.id, "entry", size)
	return true, nil
}
func (s *Server) answerManifest(w http.ResponseWriter, r *http.Request, el *election, status int) error {
	in, err := s.info(r.Context(), el, true)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, status, in)
	return nil
}

// deleteElection deletes a draft: DELETE /api/v1/elections/{id}.
func (s *Server) deleteElection(w http.ResponseWriter, r *http.Request) error {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	el.mu.Lock()
	err = s.refresh(r.Context(), el)
	if err == nil && el.state != api.StateSetup {
		err = httpx.Errorf(http.StatusConflict, api.CodeWrongState, "the election is %s: only a draft (in setup) can be deleted, since an election that opened is part of a public record", el.state)
	}
	if err == nil {
		err = s.cfg.Store.DeleteElection(r.Context(), el.id, api.StateSetup)
		if errors.Is(err, store.ErrStateConflict) {
			err = httpx.Errorf(http.StatusConflict, api.CodeWrongState, "the election changed state meanwhile; reload it")
		}
	}
	el.mu.Unlock()
	if err != nil {
		return err
	}
	s.forget(el)
	s.log.Info("election deleted", "election", el.id)
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"deleted": el.id})
	return nil
}

// forget drops the election from memory and stops its batches, so that
// its next lookup reads it from the store.
func (s *Server) forget(el *election) {
	s.mu.Lock()
	if s.elections[el.id] == el {
		delete(s.elections, el.id)
	}
	s.mu.Unlock()
	el.stop()
}

// checkBound refuses trustee j's ceremony message of a round unless it is
// bound to the election's current manifest (SPEC.md §15.2 *Drafts*): its
// proofs (an announcement) or its signature under the trustee's announced
// C_{j,0} (a dealing or a verdict) must verify under the current manifest
// hash. Otherwise the first message would fix a manifest the ceremony can
// never verify under, and the draft could only be deleted. A message that
// verifies under a superseded manifest of the board is stale (409
// stale-manifest: the trustee read the manifest before an edit); one that
// verifies under none is invalid. A response is checked when the election
// opens (its signature covers the verdict it answers), as is everything
// else of the transcript. Callers hold el.mu, after refresh.
func (s *Server) checkBound(ctx context.Context, el *election, round string, j int, data []byte, msgs map[string][]board.CeremonyBody) error {
	p := ceremony.Params{N: el.manifest.Trustees, T: el.manifest.Threshold}
	var check func(context []byte) error
	switch round {
	case ceremony.RoundAnnounce:
		a, err := ceremony.DecodeAnnouncement(p, data)
		if err != nil {
			return err
		}
		check = func(c []byte) error { return ceremony.VerifyAnnouncement(c, p, a) }
	case ceremony.RoundDeal, ceremony.RoundVerdict:
		var c0 *group.Element
		for _, m := range msgs[ceremony.RoundAnnounce] {
			if m.Trustee != j {
				continue
			}
			a, err := ceremony.DecodeAnnouncement(p, m.Message)
			if err != nil {
				return err
			}
			c0 = a.Commitments[0]
		}
		if c0 == nil {
			return nil // no key to check against: Transcript.Verify refuses it at opening
		}
		if round == ceremony.RoundDeal {
			d, err := ceremony.DecodeDealing(p, data)
			if err != nil {
				return err
			}
			check = func(c []byte) error { return ceremony.VerifyDealingSignature(c, d, c0) }
		} else {
			v, err := ceremony.DecodeVerdict(p, data)
			if err != nil {
				return err
			}
			check = func(c []byte) error { return ceremony.VerifyVerdictSignature(c, v, c0) }
		}
	default:
		return nil
	}
	cur := ballot.Hash(el.manifestBytes)
	bad := check(cur[:])
	if bad == nil {
		return nil
	}
	stale := int64(-1)
	var staleHash [32]byte
	err := s.scan(ctx, el, func(i int64, e board.Entry) bool {
		if e.Type != board.TypeManifest {
			return true
		}
		var b board.ManifestBody
		if strictjson.Decode(e.Body, &b) != nil {
			return true
		}
		raw, err := base64.StdEncoding.DecodeString(b.Manifest)
		if err != nil {
			return true
		}
		if h := ballot.Hash(raw); h != cur && check(h[:]) == nil {
			stale, staleHash = i, h
			return false
		}
		return true
	})
	if err != nil {
		return err
	}
	if stale >= 0 {
		return httpx.Errorf(http.StatusConflict, api.CodeStaleManifest,
			"trustee %d's %s message is bound to a superseded manifest (board entry %d, SHA-256 %x…), not to the election's current manifest (SHA-256 %x…): the draft was edited after the trustee read it; read the manifest again and redo the ceremony from a new announcement (koe trustee keygen with a new key file)",
			j, round, stale, staleHash[:8], cur[:8])
	}
	return httpx.Errorf(http.StatusBadRequest, api.CodeInvalidMessage, "trustee %d's %s message does not verify under the election's manifest (SHA-256 %x…): %v", j, round, cur[:8], bad)
}
