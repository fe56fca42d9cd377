package registrar

import (
	"context"
	"encoding/json"
	"time"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/server/httpx"
	"github.com/koe-vote/koe/internal/store"
)

// entry builds a board entry of the election, made now.
func (rg *Registrar) entry(typ string, body any) ([]byte, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return board.Entry{Type: typ, Election: rg.cfg.Election, Time: rg.cfg.Now(), Body: raw}.Encode()
}

// An issuer appends the registrar's issuance entries in timed batches
// (SPEC.md §15.5), in random order: each request's store.IssueCredential
// runs at its batch's tick, one after the other, and every request of the
// batch is answered once all of them are committed.
type issuer struct {
	st       store.Roll
	election string
	state    func(context.Context) (string, error)
	interval time.Duration
	now      func() time.Time
	b        *httpx.Batcher[*pendingIssue]
}

type pendingIssue struct {
	req    store.Issue
	result chan issueOutcome
}

type issueOutcome struct {
	index int64
	err   error
}

func newIssuer(st store.Roll, election string, state func(context.Context) (string, error), interval time.Duration, manual bool, now func() time.Time) *issuer {
	is := &issuer{st: st, election: election, state: state, interval: interval, now: now}
	if interval > 0 {
		is.b = httpx.NewBatcher(interval, manual, is.commit)
		go is.b.Run()
	}
	return is
}

// submit issues the credential as store.IssueCredential does, at the next
// tick; without an interval, at once.
func (is *issuer) submit(ctx context.Context, req store.Issue) (int64, error) {
	if is.b == nil {
		return is.st.IssueCredential(ctx, is.election, req)
	}
	start := time.Now()
	defer func() { httpx.RecordWait(ctx, time.Since(start)) }()
	p := &pendingIssue{req: req, result: make(chan issueOutcome, 1)}
	if !is.b.Add(ctx, p) {
		if ctx.Err() != nil {
			return -1, ctx.Err()
		}
		return -1, httpx.ErrClosing
	}
	// The batcher answers everything it took, even when stopping.
	r := <-p.result
	return r.index, r.err
}

func (is *issuer) stop() {
	if is.b != nil {
		is.b.Stop()
	}
}

// flush commits the waiting registrations now (before the election closes).
func (is *issuer) flush() {
	if is.b != nil {
		is.b.Flush()
	}
}

func (is *issuer) queued() int64 {
	if is.b == nil {
		return 0
	}
	return is.b.Queued()
}

func (is *issuer) commit(batch []*pendingIssue) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t := httpx.BatchTime(is.now(), is.interval)
	keys := make([][32]byte, len(batch))
	for i, p := range batch {
		keys[i] = p.req.Voter
	}
	out := make([]issueOutcome, len(batch))
	// A registration that waited while the election closed must not
	// follow the close entry (closing flushes first; this catches what
	// reached the batch after that).
	state, err := is.state(ctx)
	if err == nil && state != api.StateOpen {
		err = store.ErrStateConflict
	}
	if err != nil {
		for _, p := range batch {
			p.result <- issueOutcome{-1, err}
		}
		return
	}
	for _, i := range httpx.ShuffleOrder(keys) {
		req := batch[i].req
		entry, err := httpx.Restamp(req.Entry, t)
		if err != nil {
			out[i] = issueOutcome{-1, err}
			continue
		}
		req.Entry = entry
		index, err := is.st.IssueCredential(ctx, is.election, req)
		out[i] = issueOutcome{index, err}
	}
	for i, p := range batch {
		p.result <- out[i]
	}
}
