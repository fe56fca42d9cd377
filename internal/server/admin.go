package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/server/httpx"
	"github.com/koe-vote/koe/internal/server/registrar"
	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/strictjson"
	"github.com/koe-vote/koe/internal/tally"
)

func (s *Server) info(ctx context.Context, el *election, withManifest bool) (api.ElectionInfo, error) {
	pub, _ := el.registrarPub.MarshalText()
	el.mu.Lock()
	defer el.mu.Unlock()
	if err := s.refresh(ctx, el); err != nil {
		return api.ElectionInfo{}, err
	}
	in := api.ElectionInfo{
		ID: el.id, State: el.state, Title: el.manifest.Title, Kind: el.manifest.Kind,
		RegistrarKey: string(pub), BoardKey: el.boardKey, Origin: el.log.Origin(),
		DigitalID: digitalIDInfo(el.oidc),
	}
	if withManifest {
		in.Manifest = el.manifestBytes
	}
	if el.e != nil {
		in.Params = record.ParamsOf(el.e, el.ceremony)
	}
	return in, nil
}

func (s *Server) listElections(w http.ResponseWriter, r *http.Request) error {
	rows, err := s.cfg.Store.Elections(r.Context())
	if err != nil {
		return err
	}
	out := []api.ElectionInfo{}
	admin := tokenMatches(bearer(r), s.adminHash)
	for _, row := range rows {
		if row.State == api.StateSetup && !admin {
			continue // not listed publicly until it opens; its pages stay reachable by id
		}
		el, err := s.lookup(r.Context(), row.ID)
		if err != nil {
			return err
		}
		in, err := s.info(r.Context(), el, false)
		if err != nil {
			return err
		}
		out = append(out, in)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getElection(w http.ResponseWriter, r *http.Request) error {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	in, err := s.info(r.Context(), el, true)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, in)
	return nil
}

func (s *Server) getManifest(w http.ResponseWriter, r *http.Request) error {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(el.manifestBytes)
	return nil
}

func (s *Server) createElection(w http.ResponseWriter, r *http.Request) error {
	data, err := httpx.ReadBody(w, r, maxManifestBody)
	if err != nil {
		return err
	}
	m, err := ballot.ParseManifest(data)
	if err != nil {
		return httpx.Errorf(http.StatusBadRequest, api.CodeInvalidManifest, "%v", err)
	}
	if data, m, err = s.withBoardKey(data, m); err != nil {
		return err
	}
	if len(data) > maxServerManifest || m.Trustees > maxServerTrustees || ballot.StyleOf(m).Selections() > maxServerSelections {
		return httpx.Errorf(http.StatusBadRequest, api.CodeTooLarge, "the server runs elections with a manifest of at most %d bytes, %d trustees and %d selections", maxServerManifest, maxServerTrustees, maxServerSelections)
	}
	reg, err := credential.NewRegistrar(rand.Reader, s.cfg.RegistrarBits)
	if err != nil {
		return err
	}
	secret, err := reg.MarshalPrivate()
	if err != nil {
		return err
	}
	rollKey := make([]byte, 32)
	rand.Read(rollKey)
	cfg := electionConfig{Registrar: string(secret), RollKey: hex.EncodeToString(rollKey)}
	tokens := make([]string, m.Trustees)
	for i := range tokens {
		t, h := newToken()
		tokens[i] = t
		cfg.TrusteeTokens = append(cfg.TrusteeTokens, hex.EncodeToString(h[:]))
	}
	sealed, err := s.sealConfig(m.ID, cfg)
	if err != nil {
		return err
	}
	row := store.Election{ID: m.ID, State: api.StateSetup, Manifest: data, Config: sealed}
	if err := s.cfg.Store.CreateElection(r.Context(), row); errors.Is(err, store.ErrDeleted) {
		return httpx.Errorf(http.StatusConflict, api.CodeDeletedID, "the id %q was a deleted draft's, and an id is never used twice (a record or receipt of the deleted draft names it): choose another id", m.ID)
	} else if errors.Is(err, store.ErrExists) {
		return httpx.Errorf(http.StatusConflict, api.CodeExists, "an election with id %q exists already", m.ID)
	} else if err != nil {
		return err
	}
	el, err := s.lookup(r.Context(), m.ID)
	if err != nil {
		return err
	}
	pub, _ := reg.PublicKey().MarshalText()
	manifestEntry, err := s.entry(el, board.TypeManifest, board.ManifestBody{Manifest: base64.StdEncoding.EncodeToString(data)})
	if err != nil {
		return err
	}
	keyEntry, err := s.entry(el, board.TypeRegistrarKey, board.RegistrarKeyBody{Key: string(pub)})
	if err != nil {
		return err
	}
	if _, err := s.cfg.Store.Append(r.Context(), el.id, [][]byte{manifestEntry, keyEntry}); err != nil {
		return err
	}
	s.log.Info("election created", "election", el.id)
	noteElection(r, el.id)
	in, err := s.info(r.Context(), el, true)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, api.Created{ElectionInfo: in, TrusteeTokens: tokens})
	return nil
}

// trustee returns the index of the trustee whose token the request bears.
func (s *Server) trustee(r *http.Request, el *election) (int, error) {
	t := bearer(r)
	for j, h := range el.trusteeTokens {
		want, err := hex.DecodeString(h)
		if err == nil && len(want) == 32 && tokenMatches(t, [32]byte(want)) {
			return j + 1, nil
		}
	}
	return 0, httpx.Errorf(http.StatusUnauthorized, api.CodeUnauthorized, "this needs a trustee's token of election %s (Authorization: Bearer …)", el.id)
}

// ceremonyMessages returns the ceremony messages on the board, by round.
func (s *Server) ceremonyMessages(ctx context.Context, el *election) (map[string][]board.CeremonyBody, error) {
	entries, err := s.ceremonyEntries(ctx, el)
	if err != nil {
		return nil, err
	}
	out := map[string][]board.CeremonyBody{ceremony.RoundAnnounce: {}, ceremony.RoundDeal: {}, ceremony.RoundVerdict: {}, ceremony.RoundRespond: {}}
	for _, e := range entries {
		round := e.Type // the entry types of the ceremony are its rounds
		if !ceremony.IsRound(round) {
			continue
		}
		var b board.CeremonyBody
		if err := strictjson.Decode(e.Body, &b); err != nil {
			return nil, err
		}
		out[round] = append(out[round], b)
	}
	return out, nil
}

func (s *Server) getCeremony(w http.ResponseWriter, r *http.Request) error {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	msgs, err := s.ceremonyMessages(r.Context(), el)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, msgs)
	return nil
}

func (s *Server) postCeremony(w http.ResponseWriter, r *http.Request) error {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	j, err := s.trustee(r, el)
	if err != nil {
		return err
	}
	round := r.PathValue("round")
	typ := round // the entry type of a round's message is the round's name
	if !ceremony.IsRound(round) {
		return httpx.Errorf(http.StatusNotFound, api.CodeNoRound, "no ceremony round %q (announce, deal, verdict, respond)", round)
	}
	data, err := httpx.ReadBody(w, r, maxCeremonyBody)
	if err != nil {
		return err
	}
	// The message must decode as the record holds it, signed by trustee j.
	probe := &ceremony.Transcript{Params: ceremony.Params{N: el.manifest.Trustees, T: el.manifest.Threshold}}
	if err := probe.AddMessage(round, j, data); err != nil {
		return httpx.Errorf(http.StatusBadRequest, api.CodeInvalidMessage, "trustee %d's %s message: %v", j, round, err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return httpx.Errorf(http.StatusBadRequest, api.CodeMalformed, "%v", err)
	}
	el.mu.Lock()
	defer el.mu.Unlock()
	if err := s.refresh(r.Context(), el); err != nil {
		return err
	}
	if el.state != api.StateSetup {
		return httpx.Errorf(http.StatusConflict, api.CodeWrongState, "the key ceremony is over: the election is %s", el.state)
	}
	msgs, err := s.ceremonyMessages(r.Context(), el)
	if err != nil {
		return err
	}
	for _, m := range msgs[round] {
		if m.Trustee == j {
			return httpx.Errorf(http.StatusConflict, api.CodeDuplicate, "trustee %d has already posted its %s message", j, round)
		}
	}
	entry, err := s.entry(el, typ, board.CeremonyBody{Trustee: j, Message: compact.Bytes()})
	if err != nil {
		return httpx.Errorf(http.StatusBadRequest, api.CodeTooLarge, "%v", err)
	}
	index, err := s.cfg.Store.Append(r.Context(), el.id, [][]byte{entry})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, map[string]any{"trustee": j, "round": round, "index": index})
	return nil
}

// importRoll reads voter ids (the first CSV column; a "voter_id" header is
// skipped) and answers with a CSV of voter_id,code for the letters. The
// registrar draws the codes and keeps the roll; the roll's commitments go
// on the board (SPEC.md §15.3).
func (s *Server) importRoll(w http.ResponseWriter, r *http.Request) error {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	data, err := httpx.ReadBody(w, r, registrar.MaxRollBody)
	if err != nil {
		return err
	}
	ids, err := registrar.ParseRoll(data)
	if err != nil {
		return err
	}
	el.mu.Lock()
	defer el.mu.Unlock()
	if err := s.refresh(r.Context(), el); err != nil {
		return err
	}
	if el.state != api.StateSetup {
		return httpx.Errorf(http.StatusConflict, api.CodeWrongState, "voters can be added only before the election opens, when the roll is published (it is %s)", el.state)
	}
	codes, commitments, err := el.reg.ImportRoll(r.Context(), ids)
	if err != nil {
		return err
	}
	// The roll's commitments (SPEC.md §15.3), sorted, in entries of at
	// most board.MaxRollChunk: they name nobody, yet each voter can find
	// their own from their letter.
	var rollEntries [][]byte
	for _, body := range board.RollEntries(commitments) {
		entry, err := s.entry(el, board.TypeRoll, body)
		if err != nil {
			return err
		}
		rollEntries = append(rollEntries, entry)
	}
	if _, err := s.cfg.Store.Append(r.Context(), el.id, rollEntries); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+el.id+`-codes.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cw.Write([]string{"voter_id", "code"})
	for i, id := range ids {
		cw.Write([]string{id, codes[i]})
	}
	cw.Flush()
	return nil
}

// reissueCodes draws new one-time codes for voters who lost their letter
// and have not registered (SPEC.md §15.3 Re-issue), in setup or while
// open: the old codes are revoked and reissue entries, naming no voter, go
// on the board. The new codes are in the answer only.
func (s *Server) reissueCodes(w http.ResponseWriter, r *http.Request) error {
	var req api.ReissueRequest
	if err := httpx.DecodeBody(w, r, registrar.MaxRollBody, &req); err != nil {
		return err
	}
	if len(req.Voters) == 0 || len(req.Voters) > api.MaxReissue {
		return httpx.Errorf(http.StatusBadRequest, api.CodeMalformed, "name 1 to %d voters to re-issue codes for", api.MaxReissue)
	}
	ids := make([]string, len(req.Voters))
	seen := map[string]bool{}
	for i, v := range req.Voters {
		id, err := credential.NormalizeVoter(v)
		if err != nil {
			return httpx.Errorf(http.StatusBadRequest, api.CodeMalformed, "voter %d: a voter id must have 1 to %d bytes of UTF-8", i+1, credential.MaxVoterID)
		}
		if seen[id] {
			return httpx.Errorf(http.StatusBadRequest, api.CodeDuplicate, "voter %q is named twice", id)
		}
		seen[id], ids[i] = true, id
	}
	el, unlock, err := s.lockIn(r, api.StateSetup, api.StateOpen)
	if err != nil {
		return err
	}
	defer unlock()
	out, err := el.reg.Reissue(r.Context(), ids, req.SkipRegistered)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// lockIn returns the request's election, locked and refreshed from the
// store, if it is in one of the states; the caller must call unlock.
func (s *Server) lockIn(r *http.Request, states ...string) (el *election, unlock func(), err error) {
	if el, err = s.lookup(r.Context(), r.PathValue("id")); err != nil {
		return nil, nil, err
	}
	el.mu.Lock()
	if err = s.refresh(r.Context(), el); err == nil && !slices.Contains(states, el.state) {
		err = httpx.Errorf(http.StatusConflict, api.CodeWrongState, "the election is %s; this needs it %s", el.state, strings.Join(states, " or "))
	}
	if err != nil {
		el.mu.Unlock()
		return nil, nil, err
	}
	return el, el.mu.Unlock, nil
}

// transition moves the election from one state to another, appending
// entry, under el.mu.
func (s *Server) transition(ctx context.Context, el *election, from, to, typ string, body any) error {
	if el.state != from {
		return httpx.Errorf(http.StatusConflict, api.CodeWrongState, "the election is %s, not %s", el.state, from)
	}
	entry, err := s.entry(el, typ, body)
	if err != nil {
		return err
	}
	if err := s.cfg.Store.SetState(ctx, el.id, from, to, entry); errors.Is(err, store.ErrStateConflict) {
		return httpx.Errorf(http.StatusConflict, api.CodeWrongState, "the election changed state meanwhile; reload it")
	} else if err != nil {
		return err
	}
	el.state = to
	s.log.Info("election state", "election", el.id, "state", to)
	return nil
}

func (s *Server) openElection(w http.ResponseWriter, r *http.Request) error {
	el, unlock, err := s.lockIn(r, api.StateSetup)
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.open(r.Context(), el); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, record.ParamsOf(el.e, el.ceremony))
	return nil
}

// open opens an election in setup, under el.mu: the ceremony must be
// complete and the manifest's close time, if any, still ahead.
func (s *Server) open(ctx context.Context, el *election) error {
	if c := el.manifest.ClosesAt(); !c.IsZero() && !s.cfg.Now().Before(c) {
		return httpx.Errorf(http.StatusConflict, api.CodeClosesPassed, "the manifest's close time %s has passed: an election that would close at once is not opened", el.manifest.Closes)
	}
	if err := s.completeCeremony(ctx, el); err != nil {
		return err
	}
	keyEntry, err := s.entry(el, board.TypeElectionKey, record.ParamsOf(el.e, el.ceremony))
	if err != nil {
		return err
	}
	if _, err := s.cfg.Store.Append(ctx, el.id, [][]byte{keyEntry}); err != nil {
		return err
	}
	return s.transition(ctx, el, api.StateSetup, api.StateOpen, board.TypeOpen, map[string]string{})
}

func (s *Server) closeElection(w http.ResponseWriter, r *http.Request) error {
	el, unlock, err := s.lockIn(r, api.StateOpen)
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.close(r.Context(), el); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"state": el.state})
	return nil
}

// close closes an open election, under el.mu.
func (s *Server) close(ctx context.Context, el *election) error {
	// What waits for a timed batch is committed before the close entry.
	el.reg.Flush()
	el.box.Flush()
	return s.transition(ctx, el, api.StateOpen, api.StateClosed, board.TypeClose, map[string]string{})
}

// countedBallots reads the board's ballot entries and returns, for every
// credential, the ballot it cast with its highest counter (SPEC.md §15.4),
// in board order.
func (s *Server) countedBallots(ctx context.Context, el *election) ([][]byte, error) {
	var ballots []board.Entry
	err := s.scan(ctx, el, func(_ int64, e board.Entry) bool {
		if e.Type == board.TypeBallot {
			ballots = append(ballots, e)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	envs, err := ballotbox.Counted(ballots)
	if err != nil {
		return nil, err
	}
	raws := make([][]byte, len(envs))
	for i, env := range envs {
		raws[i] = env.Ballot
	}
	return raws, nil
}

func (s *Server) tallyElection(w http.ResponseWriter, r *http.Request) error {
	el, unlock, err := s.lockIn(r, api.StateClosed)
	if err != nil {
		return err
	}
	defer unlock()
	raws, err := s.countedBallots(r.Context(), el)
	if err != nil {
		return err
	}
	acc, err := tally.Sum(el.e, raws)
	if err != nil {
		return err
	}
	pub := acc.Publish()
	if err := s.transition(r.Context(), el, api.StateClosed, api.StateTallied, board.TypeTally, pub); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, pub)
	return nil
}

// latest returns the body of the last board entry of a type, or nil.
func (s *Server) latest(ctx context.Context, el *election, typ string) (json.RawMessage, error) {
	var body json.RawMessage
	err := s.scanBack(ctx, el, func(_ int64, e board.Entry) bool {
		if e.Type == typ {
			body = e.Body
			return false
		}
		return true
	})
	return body, err
}

func (s *Server) loadTally(ctx context.Context, el *election) (*tally.Accumulator, error) {
	body, err := s.latest(ctx, el, board.TypeTally)
	if err != nil {
		return nil, err
	}
	if body == nil {
		return nil, httpx.Errorf(http.StatusConflict, api.CodeNoTally, "the election has no tally yet")
	}
	var pub tally.Encrypted
	if err := strictjson.Decode(body, &pub); err != nil {
		return nil, err
	}
	return tally.ParseEncrypted(&pub, el.e.Style)
}

// serveLatest serves the body of the election's latest entry of a type,
// as it is on the board.
func (s *Server) serveLatest(typ, code, missing string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		el, err := s.lookup(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		body, err := s.latest(r.Context(), el, typ)
		if err != nil {
			return err
		}
		if body == nil {
			return httpx.Errorf(http.StatusNotFound, code, "%s", missing)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(body)
		return nil
	}
}

func (s *Server) postDecryption(w http.ResponseWriter, r *http.Request) error {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	j, err := s.trustee(r, el)
	if err != nil {
		return err
	}
	data, err := httpx.ReadBody(w, r, maxShareBody)
	if err != nil {
		return err
	}
	share, err := tally.ParseShare(data)
	if err != nil {
		return httpx.Errorf(http.StatusBadRequest, api.CodeMalformed, "%v", err)
	}
	el.mu.Lock()
	defer el.mu.Unlock()
	if err := s.refresh(r.Context(), el); err != nil {
		return err
	}
	if el.state != api.StateTallied {
		return httpx.Errorf(http.StatusConflict, api.CodeWrongState, "the election is %s; trustees decrypt once it is tallied", el.state)
	}
	if share.Trustee != j {
		return httpx.Errorf(http.StatusForbidden, api.CodeWrongTrustee, "your token is trustee %d's, the share is trustee %d's", j, share.Trustee)
	}
	Y, ok := el.ceremony.VerificationKeys[j]
	if !ok {
		return httpx.Errorf(http.StatusForbidden, api.CodeNotQualified, "trustee %d is not a qualified trustee of the ceremony", j)
	}
	acc, err := s.loadTally(r.Context(), el)
	if err != nil {
		return err
	}
	if err := belowPrivacy(el, acc); err != nil {
		return err
	}
	if _, err := tally.Check(el.e, acc, share, Y); err != nil {
		return httpx.Errorf(http.StatusBadRequest, api.CodeInvalidShare, "%v", err)
	}
	if done, err := s.decryptions(r.Context(), el); err != nil {
		return err
	} else if _, dup := done[j]; dup {
		return httpx.Errorf(http.StatusConflict, api.CodeDuplicate, "trustee %d has already decrypted", j)
	}
	var compact bytes.Buffer
	json.Compact(&compact, data)
	entry, err := s.entry(el, board.TypeDecryption, board.DecryptionBody{Trustee: j, Share: compact.Bytes()})
	if err != nil {
		return err
	}
	if _, err := s.cfg.Store.Append(r.Context(), el.id, [][]byte{entry}); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, map[string]int{"trustee": j})
	return nil
}

// belowPrivacy is the API error for a tally of fewer ballots than the
// manifest's privacy threshold (SPEC.md §9.2): nothing of it is decrypted,
// and its results are withheld.
func belowPrivacy(el *election, acc *tally.Accumulator) error {
	if tally.CheckPrivacy(el.manifest, acc.Ballots) == nil {
		return nil
	}
	return httpx.Errorf(http.StatusConflict, api.CodeBelowPrivacyThreshold, "the tally counts %d ballots, fewer than the manifest's privacy threshold of %d: no trustee decrypts it and the results are withheld, to protect the voters' privacy", acc.Ballots, el.manifest.PrivacyThreshold())
}

// decryptions returns the trustees' shares on the board.
func (s *Server) decryptions(ctx context.Context, el *election) (map[int]*tally.Share, error) {
	out := map[int]*tally.Share{}
	var ferr error
	err := s.scanBack(ctx, el, func(_ int64, e board.Entry) bool {
		if e.Type == board.TypeTally {
			return false // decryptions follow the tally
		}
		if e.Type != board.TypeDecryption {
			return true
		}
		var b board.DecryptionBody
		if ferr = strictjson.Decode(e.Body, &b); ferr != nil {
			return false
		}
		sh, err := tally.ParseShare(b.Share)
		if err != nil {
			ferr = err
			return false
		}
		out[b.Trustee] = sh
		return true
	})
	if err == nil {
		err = ferr
	}
	return out, err
}

func (s *Server) publishResults(w http.ResponseWriter, r *http.Request) error {
	el, unlock, err := s.lockIn(r, api.StateTallied)
	if err != nil {
		return err
	}
	defer unlock()
	acc, err := s.loadTally(r.Context(), el)
	if err != nil {
		return err
	}
	if err := belowPrivacy(el, acc); err != nil {
		return err
	}
	// Every text and rank question mixed in t rounds and decrypted by at
	// least t trustees (SPEC.md §16.6).
	ms, err := s.syncMix(r.Context(), el, nil)
	if err != nil {
		return err
	}
	if err := ms.complete(el.manifest.Threshold); err != nil {
		return err
	}
	var mixed []*tally.MixedResult
	for _, c := range ms.chains {
		mr, err := ms.result(c)
		if err != nil {
			return err
		}
		mixed = append(mixed, mr)
	}
	shares, err := s.decryptions(r.Context(), el)
	if err != nil {
		return err
	}
	partials := map[int][]*group.Element{}
	for j, sh := range shares {
		Ds, err := tally.Check(el.e, acc, sh, el.ceremony.VerificationKeys[j])
		if err != nil {
			return err
		}
		partials[j] = Ds
	}
	if len(partials) < el.manifest.Threshold {
		return httpx.Errorf(http.StatusConflict, api.CodeTooFewShares, "%d trustees have decrypted, the threshold is %d", len(partials), el.manifest.Threshold)
	}
	totals, err := tally.Combine(acc, partials, el.manifest.Threshold, elgamal.NewDlogTable(tally.MaxTotal(el.e.Style, acc.Ballots)))
	if err != nil {
		return err
	}
	res := tally.ResultsOf(el.manifest, acc.Ballots, totals)
	if err := res.AddMixed(mixed); err != nil {
		return err
	}
	if err := s.transition(r.Context(), el, api.StateTallied, api.StatePublished, board.TypeResults, res); err != nil {
		return err
	}
	for _, mr := range mixed { // no share may follow the results: these are final
		ms.results[mr.Question] = mr
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}
