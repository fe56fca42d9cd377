package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/koe-vote/koe/internal/server/registrar"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/oidcreg"
	"github.com/koe-vote/koe/internal/server/castbox"
	"github.com/koe-vote/koe/internal/server/httpx"
	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/strictjson"
)

// Limits for elections run by the server: every board entry must fit in
// a tlog-tiles entry bundle (board.MaxEntrySize).
const (
	maxServerManifest   = 40 << 10
	maxServerTrustees   = 16
	maxServerSelections = 160
)

// electionConfig is an election's private server-side configuration,
// kept in the store and never published.
type electionConfig struct {
	TrusteeTokens []string `json:"trusteeTokens"` // hex token hashes, trustee j at j−1
	Registrar     string   `json:"registrar"`     // the registrar's secret key (credential.SecretKeyPrefix…)
	RollKey       string   `json:"rollKey"`       // hex HMAC key for voter ids and one-time codes
	// OIDC configures registration by digital ID (SPEC.md §15.6); its
	// client secret or key never leaves this configuration.
	OIDC *oidcreg.Config `json:"oidc,omitempty"`
}

// election is the server's in-memory view of one election. It holds
// neither role's secrets nor state: the registrar's key, roll key and
// issuance batches are in reg, the ballot box's casts in box (SPEC.md
// §15.5), each built with only its part of the store.
type election struct {
	id            string
	boardKey      string // the note verifier key of the election's checkpoints
	manifest      *ballot.Manifest
	manifestBytes []byte
	trusteeTokens []string              // hex token hashes, trustee j at j−1
	registrarPub  *credential.PublicKey // the registrar's public key
	log           *board.Log
	reg           *registrar.Registrar
	box           *castbox.Box
	// draft is set while the election was last seen in setup, when its
	// manifest may be edited or the election deleted (drafts.go): lookup
	// then checks the stored row before answering from memory.
	draft atomic.Bool

	mu           sync.Mutex // guards the fields below and serialises state changes
	state        string
	e            *ballot.Election // once the ceremony is complete (state ≥ open)
	ceremony     *ceremony.Result
	oidc         *oidcreg.Config // the digital-ID configuration, if any
	cosigner     *cosigner       // submits checkpoints to the witnesses (witnessing.go), if any
	mix          *mixState       // the mix of text and rank answers (mixes.go), once tallied
	scheduleNote string          // why the schedule could not move it, said once (schedule.go)
}

func (el *election) stop() {
	el.box.Stop()
	el.reg.Stop()
	if el.cosigner != nil {
		el.cosigner.stop()
	}
}

// lookup returns the election with this id, loading it from the store.
// A draft (an election in setup) is checked against its stored row, so
// that a manifest edited or a draft deleted by any front end sharing the
// store is seen at once (drafts.go).
func (s *Server) lookup(ctx context.Context, id string) (*election, error) {
	s.mu.Lock()
	el, ok := s.elections[id]
	s.mu.Unlock()
	if ok && !el.draft.Load() {
		return el, nil
	}
	row, err := s.cfg.Store.Election(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		if ok {
			s.forget(el)
		}
		return nil, httpx.Errorf(http.StatusNotFound, api.CodeNoElection, "there is no election %q", id)
	}
	if err != nil {
		return nil, err
	}
	if ok {
		if bytes.Equal(row.Manifest, el.manifestBytes) {
			el.draft.Store(row.State == api.StateSetup)
			return el, nil
		}
		s.forget(el) // its manifest was edited: load it afresh
	}
	el, err = s.load(ctx, row)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.elections[id]; ok {
		el.stop() // loaded twice at once: keep the first
		return prev, nil
	}
	s.elections[id] = el
	return el, nil
}

func (s *Server) load(ctx context.Context, row store.Election) (*election, error) {
	m, err := ballot.ParseManifest(row.Manifest)
	if err != nil {
		return nil, fmt.Errorf("stored manifest of %s: %w", row.ID, err)
	}
	el := &election{id: row.ID, manifest: m, manifestBytes: row.Manifest, state: row.State}
	el.draft.Store(row.State == api.StateSetup)
	cfg, err := s.openConfig(row.ID, row.Config)
	if err != nil {
		return nil, fmt.Errorf("stored configuration of %s: %w", row.ID, err)
	}
	key, err := credential.UnmarshalRegistrar([]byte(cfg.Registrar))
	if err != nil {
		return nil, fmt.Errorf("stored registrar key of %s: %w", row.ID, err)
	}
	rollKey, err := hex.DecodeString(cfg.RollKey)
	if err != nil || len(rollKey) != 32 {
		return nil, fmt.Errorf("stored roll key of %s is malformed", row.ID)
	}
	el.trusteeTokens, el.oidc, el.registrarPub = cfg.TrusteeTokens, cfg.OIDC, key.PublicKey()
	origin := board.Origin(s.cfg.Origin, row.ID)
	signer, vkey, err := signerFor(s.cfg.BoardKey, origin)
	if err != nil {
		return nil, err
	}
	el.log, el.boardKey = board.New(s.cfg.Store, row.ID, origin, signer), vkey
	// The registrar's and the ballot box's parts of the store, each alone.
	var roll store.Roll = s.cfg.Store
	var casts store.Casts = s.cfg.Store
	el.reg = registrar.New(registrar.Config{
		Election: row.ID, Key: key, RollKey: rollKey, Roll: roll, Pending: s.cfg.OIDCPending,
		State: s.storedState(row.ID), Closes: m.Closes, OIDC: cfg.OIDC, OIDCReturn: s.cfg.OIDCReturn,
		Interval: s.cfg.RegisterInterval, Manual: s.manualBatches, Now: s.cfg.Now,
		Limiter: s.limiter, VoterFails: s.voterFails, Issued: s.metrics.issued, Log: s.log,
	})
	el.box = castbox.New(castbox.Config{
		Election: row.ID, Registrar: key.PublicKey(), Casts: casts, Board: el.log,
		State:    func(ctx context.Context) (string, error) { return s.currentState(ctx, el) },
		Interval: s.cfg.CastInterval, Manual: s.manualBatches, Now: s.cfg.Now, Closes: m.ClosesAt(),
		Spoils: s.spoils, Recasts: s.casts,
		Metrics: castbox.Metrics{Casts: s.metrics.casts, CommitLag: s.metrics.commitLag, Batch: s.metrics.batch},
	})
	if err := s.startCosigner(el); err != nil {
		return nil, err
	}
	if row.State != api.StateSetup {
		if err := s.completeCeremony(ctx, el); err != nil {
			el.stop()
			return nil, err
		}
	}
	return el, nil
}

// storedState returns a reader of the election's state as the store
// holds it, for the registrar: it takes no lock, so a batch may read it
// while closing the election waits for that batch.
func (s *Server) storedState(id string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		row, err := s.cfg.Store.Election(ctx, id)
		return row.State, err
	}
}

// currentState returns the election's state for the ballot box, which
// needs the election's key once it is open. Before that it refreshes the
// election from the store (completing its ceremony if another front end
// opened it). Once open, with the key at hand, it answers from memory
// without reading the election's row for every cast (code review item 9):
// a close by another front end is caught where it matters, by the state
// check inside the transaction that stores a cast or a spoiled ballot
// (store.Casts), which refuses with ErrStateConflict, answered as closed.
func (s *Server) currentState(ctx context.Context, el *election) (string, error) {
	el.mu.Lock()
	defer el.mu.Unlock()
	if el.state == api.StateOpen && el.e != nil {
		return el.state, nil
	}
	err := s.refresh(ctx, el)
	return el.state, err
}

// storedConfig returns the election's private configuration as stored,
// unsealed: the registrar's keys are in it, so the server reads it only
// to seal it again with a change.
func (s *Server) storedConfig(ctx context.Context, id string) (electionConfig, error) {
	row, err := s.cfg.Store.Election(ctx, id)
	if err != nil {
		return electionConfig{}, err
	}
	return s.openConfig(id, row.Config)
}

// entry builds a board entry of this election.
func (s *Server) entry(el *election, typ string, body any) ([]byte, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return board.Entry{Type: typ, Election: el.id, Time: s.cfg.Now(), Body: raw}.Encode()
}

// refresh reloads the election's state from the store, where several
// koe serve front ends sharing one database record it, and completes the
// ceremony if another front end opened the election. Callers hold el.mu.
func (s *Server) refresh(ctx context.Context, el *election) error {
	row, err := s.cfg.Store.Election(ctx, el.id)
	if err != nil {
		return err
	}
	if row.State == api.StateSetup && !bytes.Equal(row.Manifest, el.manifestBytes) {
		return httpx.Errorf(http.StatusConflict, api.CodeWrongState, "the manifest of %s was edited meanwhile; reload it", el.id)
	}
	if row.State != api.StateSetup && el.e == nil {
		if err := s.completeCeremony(ctx, el); err != nil {
			return err
		}
	}
	el.state = row.State
	el.draft.Store(row.State == api.StateSetup)
	return nil
}

// scanChunk is how many entries a scan reads at once.
const scanChunk = 512

// scan calls f with the board's entries in order, reading them in chunks,
// until f returns false.
func (s *Server) scan(ctx context.Context, el *election, f func(i int64, e board.Entry) bool) error {
	size, err := s.cfg.Store.TreeSize(ctx, el.id)
	if err != nil {
		return err
	}
	for start := int64(0); start < size; start += scanChunk {
		raws, err := s.cfg.Store.ReadEntries(ctx, el.id, start, min(scanChunk, size-start))
		if err != nil {
			return err
		}
		for k, raw := range raws {
			e, err := board.DecodeEntry(raw)
			if err != nil {
				return fmt.Errorf("board entry %d: %w", start+int64(k), err)
			}
			if !f(start+int64(k), e) {
				return nil
			}
		}
	}
	return nil
}

// scanBack is scan from the last entry to the first.
func (s *Server) scanBack(ctx context.Context, el *election, f func(i int64, e board.Entry) bool) error {
	size, err := s.cfg.Store.TreeSize(ctx, el.id)
	if err != nil {
		return err
	}
	for end := size; end > 0; end -= scanChunk {
		start := max(0, end-scanChunk)
		raws, err := s.cfg.Store.ReadEntries(ctx, el.id, start, end-start)
		if err != nil {
			return err
		}
		for k := len(raws) - 1; k >= 0; k-- {
			e, err := board.DecodeEntry(raws[k])
			if err != nil {
				return fmt.Errorf("board entry %d: %w", start+int64(k), err)
			}
			if !f(start+int64(k), e) {
				return nil
			}
		}
	}
	return nil
}

// ceremonyEntries returns the board's key-ceremony entries, which all come
// before the election opens.
func (s *Server) ceremonyEntries(ctx context.Context, el *election) ([]board.Entry, error) {
	var out []board.Entry
	err := s.scan(ctx, el, func(_ int64, e board.Entry) bool {
		if ceremony.IsRound(e.Type) {
			out = append(out, e)
		}
		return e.Type != board.TypeOpen
	})
	return out, err
}

// transcript assembles the ceremony transcript from the board.
func (s *Server) transcript(ctx context.Context, el *election) (*ceremony.Transcript, error) {
	entries, err := s.ceremonyEntries(ctx, el)
	if err != nil {
		return nil, err
	}
	tr := &ceremony.Transcript{Params: ceremony.Params{N: el.manifest.Trustees, T: el.manifest.Threshold}}
	for _, e := range entries {
		var body board.CeremonyBody
		switch e.Type {
		case board.TypeAnnounce, board.TypeDeal, board.TypeVerdict, board.TypeRespond:
		default:
			continue
		}
		if err := strictjson.Decode(e.Body, &body); err != nil {
			return nil, fmt.Errorf("ceremony entry: %w", err)
		}
		if err := tr.AddMessage(e.Type, body.Trustee, body.Message); err != nil {
			return nil, err
		}
	}
	return tr, nil
}

// completeCeremony verifies the ceremony on the board and fixes the
// election's key. Callers hold el.mu or own el exclusively.
func (s *Server) completeCeremony(ctx context.Context, el *election) error {
	tr, err := s.transcript(ctx, el)
	if err != nil {
		return err
	}
	h := ballot.Hash(el.manifestBytes)
	res, err := tr.Verify(h[:])
	if err != nil {
		return httpx.Errorf(http.StatusConflict, api.CodeCeremonyIncomplete, "the key ceremony is not complete: %v", err)
	}
	e, err := ballot.NewElection(el.manifestBytes, res.JointKey, el.registrarPub.ID())
	if err != nil {
		return err
	}
	el.e, el.ceremony = e, res
	el.box.Open(e)
	return nil
}

func newToken() (string, [32]byte) {
	var b [24]byte
	rand.Read(b[:])
	t := base64.RawURLEncoding.EncodeToString(b[:])
	return t, tokenHash(t)
}
