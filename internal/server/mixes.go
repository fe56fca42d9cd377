package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/mixnet"
	"github.com/koe-vote/koe/internal/server/httpx"
	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/tally"
)

// mixState is an election's mix of text and rank answers as its board
// holds it (SPEC.md §16.6): one mixnet.Chain per mixed question, built from
// the counted ballots and then every mix and mix-decryption message, each
// checked as it is added. It lives in memory and is brought up to date
// from the board (syncMix) before each use, so a new Server on the same
// store rebuilds it, and a front end follows the rounds another one
// posted.
type mixState struct {
	next    int64           // the board entries read so far
	asm     board.Assembler // joins the parts of mix messages
	ballots []board.Entry   // the ballot entries, until the tally entry
	tallied bool
	noMix   bool            // the tally is below the privacy threshold: nothing is mixed
	chains  []*mixnet.Chain // the mixed questions', in manifest order
	byID    map[string]*mixnet.Chain
	// published: the results entry is on the board; results holds each
	// question's decrypted answers once computed (they do not change
	// after the results: no mix message may follow them).
	published bool
	results   map[string]*tally.MixedResult
}

// ownMessage is a message this server has just appended, checked before
// (outside the election's lock): syncMix adds it to its chain without
// checking it again when it meets it at index first.
type ownMessage struct {
	first    int64
	question string
	rounds   int           // the rounds of the chain when round was checked
	round    *mixnet.Round // a mix round, or
	share    *mixnet.Share // a list decryption share
}

// syncMix brings el's mix up to date with the board and returns it.
// Callers hold el.mu, with the election tallied or published. An error
// of the board (an invalid message on it) drops the state, so that the
// next call reads the board again from the start.
func (s *Server) syncMix(ctx context.Context, el *election, own *ownMessage) (*mixState, error) {
	if el.e == nil {
		return nil, fmt.Errorf("election %s: no key ceremony", el.id)
	}
	if el.mix == nil {
		ms := &mixState{byID: map[string]*mixnet.Chain{}, results: map[string]*tally.MixedResult{}}
		ms.asm.Size = ms.size
		el.mix = ms
	}
	ms := el.mix
	size, err := s.cfg.Store.TreeSize(ctx, el.id)
	if err != nil {
		return nil, err
	}
	for ms.next < size {
		n := min(scanChunk, size-ms.next)
		raws, err := s.cfg.Store.ReadEntries(ctx, el.id, ms.next, n)
		if err != nil {
			return nil, err
		}
		for k, raw := range raws {
			i := ms.next + int64(k)
			e, err := board.DecodeEntry(raw)
			if err == nil {
				err = ms.feed(el, i, e, own)
			}
			if err != nil {
				el.mix = nil
				return nil, fmt.Errorf("the mix on the board of %s: board entry %d: %w", el.id, i, err)
			}
		}
		ms.next += n
	}
	if !ms.tallied {
		el.mix = nil
		return nil, httpx.Errorf(http.StatusConflict, api.CodeNoTally, "the election has no tally yet")
	}
	return ms, nil
}

// size is the Assembler's rule (SPEC.md §16.6): the exact size of a
// message, or why none may be posted.
func (ms *mixState) size(typ string, _ int, question string) (int, error) {
	switch {
	case !ms.tallied:
		return 0, errors.New("a mix message before the tally")
	case ms.published:
		return 0, errors.New("a mix message after the results")
	case ms.noMix:
		return 0, errors.New("a mix message of a tally below the privacy threshold")
	}
	c := ms.byID[question]
	if c == nil {
		return 0, fmt.Errorf("%q is not a text or rank question", question)
	}
	if typ == board.TypeMix {
		return c.NextRoundSize(), nil
	}
	return c.ShareSize(), nil
}

// feed takes board entry i.
func (ms *mixState) feed(el *election, i int64, e board.Entry, own *ownMessage) error {
	switch e.Type {
	case board.TypeBallot:
		if !ms.tallied {
			ms.ballots = append(ms.ballots, e)
		}
	case board.TypeTally:
		if ms.tallied {
			return errors.New("a second tally")
		}
		if err := ms.start(el); err != nil {
			return err
		}
	case board.TypeResults:
		ms.published = true
	}
	msg, err := ms.asm.Feed(i, e)
	if err != nil || msg == nil {
		return err
	}
	c := ms.byID[msg.Question]
	mine := own != nil && own.first == msg.First && own.question == msg.Question
	switch msg.Type {
	case board.TypeMix:
		if mine && own.round != nil && own.round.Trustee == msg.Trustee && len(c.Rounds) == own.rounds {
			c.Add(own.round)
			return nil
		}
		return c.AddRound(msg.Trustee, msg.Data)
	default:
		if mine && own.share != nil && own.share.Trustee == msg.Trustee {
			return c.AddChecked(own.share)
		}
		return c.AddShare(msg.Trustee, msg.Data)
	}
}

// start begins the chains at the tally entry, from the counted ballots in
// ballots.bin order (SPEC.md §10.1, §16.6).
func (ms *mixState) start(el *election) error {
	envs, err := ballotbox.Counted(ms.ballots)
	if err != nil {
		return err
	}
	ms.ballots, ms.tallied = nil, true
	if len(el.manifest.Mixed()) == 0 {
		return nil
	}
	if tally.CheckPrivacy(el.manifest, len(envs)) != nil {
		ms.noMix = true
		return nil
	}
	ballots := make([]*ballot.Ballot, len(envs))
	for k, env := range envs {
		if ballots[k], err = ballot.Decode(el.e, env.Ballot); err != nil {
			return fmt.Errorf("counted ballot %d: %w", k+1, err)
		}
	}
	for _, qi := range el.manifest.Mixed() {
		c, err := mixnet.NewChain(el.e, qi, ballots, el.ceremony.VerificationKeys, el.manifest.Threshold)
		if err != nil {
			return err
		}
		ms.chains = append(ms.chains, c)
		ms.byID[c.ID] = c
	}
	return nil
}

// result returns a question's decrypted answers once the results are
// published.
func (ms *mixState) result(c *mixnet.Chain) (*tally.MixedResult, error) {
	if r := ms.results[c.ID]; r != nil {
		return r, nil
	}
	r, err := c.Result()
	if err != nil {
		return nil, err
	}
	if ms.published {
		ms.results[c.ID] = r
	}
	return r, nil
}

// complete returns nil if every mixed question has its t rounds and at
// least t shares (SPEC.md §16.6), the 409 mix-incomplete otherwise.
func (ms *mixState) complete(t int) error {
	for _, c := range ms.chains {
		if !c.Complete() {
			return httpx.Errorf(http.StatusConflict, api.CodeMixIncomplete, "question %q has %d of its %d mix rounds; the results wait for the mix of every text and rank question", c.ID, len(c.Rounds), t)
		}
		if js, _ := c.Shares(); len(js) < t {
			return httpx.Errorf(http.StatusConflict, api.CodeMixIncomplete, "question %q: %d trustees have decrypted its mixed list, the threshold is %d", c.ID, len(js), t)
		}
	}
	return nil
}

// lockMix returns the request's election, locked, refreshed and with its
// mix up to date, and the chain of the question the path names (if it
// names one); the caller must call unlock.
func (s *Server) lockMix(r *http.Request) (el *election, ms *mixState, c *mixnet.Chain, unlock func(), err error) {
	if el, err = s.lookup(r.Context(), r.PathValue("id")); err != nil {
		return nil, nil, nil, nil, err
	}
	el.mu.Lock()
	fail := func(err error) (*election, *mixState, *mixnet.Chain, func(), error) {
		el.mu.Unlock()
		return nil, nil, nil, nil, err
	}
	if err := s.refresh(r.Context(), el); err != nil {
		return fail(err)
	}
	if el.state != api.StateTallied && el.state != api.StatePublished {
		code := api.CodeNoTally
		if r.Method == http.MethodPost {
			code = api.CodeWrongState
		}
		return fail(httpx.Errorf(http.StatusConflict, code, "the election is %s: it has no tally yet, and the mix follows the tally", el.state))
	}
	if ms, err = s.syncMix(r.Context(), el, nil); err != nil {
		return fail(err)
	}
	if ms.noMix {
		return fail(httpx.Errorf(http.StatusConflict, api.CodeBelowPrivacyThreshold, "the tally counts fewer ballots than the manifest's privacy threshold of %d: nothing is mixed or decrypted, to protect the voters' privacy", el.manifest.PrivacyThreshold()))
	}
	if q := r.PathValue("question"); q != "" {
		if c = ms.byID[q]; c == nil {
			return fail(httpx.Errorf(http.StatusNotFound, api.CodeNoQuestion, "election %s has no text or rank question %q", el.id, q))
		}
	}
	return el, ms, c, el.mu.Unlock, nil
}

// getMixes serves the state of the election's mix.
func (s *Server) getMixes(w http.ResponseWriter, r *http.Request) error {
	el, ms, _, unlock, err := s.lockMix(r)
	if err != nil {
		return err
	}
	defer unlock()
	out := api.Mixes{Threshold: el.manifest.Threshold, Questions: []api.MixState{}}
	for _, c := range ms.chains {
		q := api.MixState{Question: c.ID, Count: c.Input.Len(), Width: c.Input.Width(), Rounds: []api.MixRound{}}
		for k, round := range c.Rounds {
			q.Rounds = append(q.Rounds, api.MixRound{Round: k + 1, Trustee: round.Trustee})
		}
		q.Decryptions, _ = c.Shares()
		out.Questions = append(out.Questions, q)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// getMixList serves list r of a question's mix (0: the input), encoded as
// SPEC.md §16.3.
func (s *Server) getMixList(w http.ResponseWriter, r *http.Request) error {
	_, _, c, unlock, err := s.lockMix(r)
	if err != nil {
		return err
	}
	text := r.PathValue("round")
	round, err := strconv.Atoi(text)
	if err != nil || strconv.Itoa(round) != text || round < 0 || round > len(c.Rounds) {
		n := len(c.Rounds)
		unlock()
		return httpx.Errorf(http.StatusNotFound, api.CodeNotFound, "question %q has lists 0 (its input) to %d, not %q", c.ID, n, text)
	}
	list := c.Input
	if round > 0 {
		list = c.Rounds[round-1].Output
	}
	unlock() // a list does not change once it is posted
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(list.Bytes())))
	w.Write(list.Bytes())
	return nil
}

// lockPost locks the chain of the question in r's path for trustee j's
// message and checks, under el.mu, that the election is tallied and that
// may (roundError or shareError) allows it. A trustee's message is read
// and checked between two such calls: outside the lock, and then again
// under it, where the message is appended only if nothing moved.
func (s *Server) lockPost(r *http.Request, j int, may func(*election, *mixnet.Chain, int) error) (*election, *mixnet.Chain, func(), error) {
	el, _, c, unlock, err := s.lockMix(r)
	if err != nil {
		return nil, nil, nil, err
	}
	if el.state != api.StateTallied {
		err = httpx.Errorf(http.StatusConflict, api.CodeWrongState, "the election is %s; trustees mix and decrypt the text and rank answers while it is tallied, before the results", el.state)
	} else {
		err = may(el, c, j)
	}
	if err != nil {
		unlock()
		return nil, nil, nil, err
	}
	return el, c, unlock, nil
}

// roundError is the API error for a trustee who may not post the next
// round of c (mixnet.Chain.CanMix's reasons).
func roundError(el *election, c *mixnet.Chain, j int) error {
	if c.Complete() {
		return httpx.Errorf(http.StatusConflict, api.CodeMixComplete, "question %q has its %d mix rounds already", c.ID, len(c.Rounds))
	}
	if _, ok := el.ceremony.VerificationKeys[j]; !ok {
		return httpx.Errorf(http.StatusForbidden, api.CodeNotQualified, "trustee %d is not a qualified trustee of the ceremony", j)
	}
	for k, round := range c.Rounds {
		if round.Trustee == j {
			return httpx.Errorf(http.StatusConflict, api.CodeDuplicate, "trustee %d mixed question %q already, in round %d", j, c.ID, k+1)
		}
	}
	return c.CanMix(j)
}

// postMix takes a trustee's round of a question's mix: its message (the
// output list, then the proof of shuffle) of exactly the size the chain
// expects. The proof is checked outside the election's lock (it takes
// seconds for thousands of ballots); then, under the lock, the chain must
// not have moved, and the round's parts are appended in one transaction,
// so they are consecutive (SPEC.md §16.6).
func (s *Server) postMix(w http.ResponseWriter, r *http.Request) error {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	j, err := s.trustee(r, el)
	if err != nil {
		return err
	}
	el, c, unlock, err := s.lockPost(r, j, roundError)
	if err != nil {
		return err
	}
	snapshot := *c // CheckRound reads only the rounds so far and the keys
	snapshot.Rounds = c.Rounds[:len(c.Rounds):len(c.Rounds)]
	rounds, size := len(c.Rounds), c.NextRoundSize()
	unlock()

	msg, err := httpx.ReadBody(w, r, int64(size))
	if err != nil {
		return err
	}
	round, err := snapshot.CheckRound(j, msg)
	if err != nil {
		return httpx.Errorf(http.StatusBadRequest, api.CodeInvalidMix, "%v", err)
	}

	moved := func(c *mixnet.Chain) error {
		if len(c.Rounds) == rounds {
			return nil
		}
		return httpx.Errorf(http.StatusConflict, api.CodeMixMoved, "round %d of question %q was posted by trustee %d while yours was checked: your round shuffles list %d; shuffle list %d instead", rounds+1, c.ID, c.Rounds[rounds].Trustee, rounds, len(c.Rounds))
	}
	el, c, first, unlock, err := s.appendMessage(r, j, roundError, moved, board.TypeMix, msg)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.syncMix(r.Context(), el, &ownMessage{first: first, question: c.ID, rounds: rounds, round: round}); err != nil {
		return err
	}
	s.log.Info("mix round", "election", el.id, "question", c.ID, "round", rounds+1, "trustee", j)
	httpx.WriteJSON(w, http.StatusCreated, api.MixPosted{Question: c.ID, Round: rounds + 1})
	return nil
}

// appendMessage appends trustee j's checked message to the board as its
// parts, under the election's lock taken by lockPost(r, j, may), if moved
// finds that the chain has not moved since the message was checked. The
// parts go in one transaction at the log's size as the chain was synced
// to: if another front end appended in between (to this chain or any
// other), nothing is appended, the chain is synced again and checked
// again (SPEC.md §16.6). It returns the index of the first part, with the
// lock held.
func (s *Server) appendMessage(r *http.Request, j int, may func(*election, *mixnet.Chain, int) error, moved func(*mixnet.Chain) error, typ string, msg []byte) (*election, *mixnet.Chain, int64, func(), error) {
	for attempt := 0; ; attempt++ {
		el, c, unlock, err := s.lockPost(r, j, may)
		if err != nil {
			return nil, nil, 0, nil, err
		}
		if err := moved(c); err != nil {
			unlock()
			return nil, nil, 0, nil, err
		}
		parts := board.SplitParts(j, c.ID, msg)
		entries := make([][]byte, len(parts))
		for k, p := range parts {
			if entries[k], err = s.entry(el, typ, p); err != nil {
				unlock()
				return nil, nil, 0, nil, err
			}
		}
		at := el.mix.next
		err = s.cfg.Store.AppendAt(r.Context(), el.id, at, entries)
		if err == nil {
			return el, c, at, unlock, nil
		}
		unlock()
		if !errors.Is(err, store.ErrLogMoved) {
			return nil, nil, 0, nil, err
		}
		if attempt == maxAppendAttempts {
			return nil, nil, 0, nil, httpx.Errorf(http.StatusServiceUnavailable, api.CodeMixMoved, "the board grew during each of %d attempts to append your message: post it again", attempt+1)
		}
	}
}

// maxAppendAttempts bounds appendMessage's retries when other front ends
// keep appending.
const maxAppendAttempts = 8

// shareError is the API error for a trustee who may not post a decryption
// share of c's final list.
func shareError(el *election, c *mixnet.Chain, j int) error {
	if !c.Complete() {
		return httpx.Errorf(http.StatusConflict, api.CodeMixIncomplete, "question %q has %d of its %d mix rounds: its list is decrypted once it is mixed", c.ID, len(c.Rounds), el.manifest.Threshold)
	}
	if _, ok := el.ceremony.VerificationKeys[j]; !ok {
		return httpx.Errorf(http.StatusForbidden, api.CodeNotQualified, "trustee %d is not a qualified trustee of the ceremony", j)
	}
	if js, _ := c.Shares(); contains(js, j) {
		return httpx.Errorf(http.StatusConflict, api.CodeDuplicate, "trustee %d has decrypted question %q already", j, c.ID)
	}
	return nil
}

func contains(js []int, j int) bool {
	for _, k := range js {
		if k == j {
			return true
		}
	}
	return false
}

// postMixShare takes a trustee's decryption share of a question's final
// list (SPEC.md §16.5), checked outside the election's lock: the final
// list does not change once the chain is complete.
func (s *Server) postMixShare(w http.ResponseWriter, r *http.Request) error {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	j, err := s.trustee(r, el)
	if err != nil {
		return err
	}
	el, c, unlock, err := s.lockPost(r, j, shareError)
	if err != nil {
		return err
	}
	size := c.ShareSize()
	unlock()

	data, err := httpx.ReadBody(w, r, int64(size))
	if err != nil {
		return err
	}
	if len(data) >= 4 {
		if who := int(uint32(data[0])<<24 | uint32(data[1])<<16 | uint32(data[2])<<8 | uint32(data[3])); who != j {
			return httpx.Errorf(http.StatusForbidden, api.CodeWrongTrustee, "your token is trustee %d's, the share says it is trustee %d's", j, who)
		}
	}
	share, err := c.CheckShare(j, data)
	if err != nil {
		return httpx.Errorf(http.StatusBadRequest, api.CodeInvalidShare, "%v", err)
	}

	el, c, first, unlock, err := s.appendMessage(r, j, shareError, func(*mixnet.Chain) error { return nil }, board.TypeMixDecryption, data)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.syncMix(r.Context(), el, &ownMessage{first: first, question: c.ID, share: share}); err != nil {
		return err
	}
	s.log.Info("mix decryption", "election", el.id, "question", c.ID, "trustee", j)
	httpx.WriteJSON(w, http.StatusCreated, api.MixSharePosted{Question: c.ID, Trustee: j})
	return nil
}

// getMixed serves a question's decrypted answers (mixed/Q.json) once the
// results are published.
func (s *Server) getMixed(w http.ResponseWriter, r *http.Request) error {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	el.mu.Lock()
	err = s.refresh(r.Context(), el)
	state := el.state
	el.mu.Unlock()
	if err != nil {
		return err
	}
	if state != api.StatePublished {
		return httpx.Errorf(http.StatusNotFound, api.CodeNoResults, "the results are not published yet")
	}
	_, ms, c, unlock, err := s.lockMix(r)
	if err != nil {
		return err
	}
	defer unlock()
	res, err := ms.result(c)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}
