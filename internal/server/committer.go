package server

import (
	"context"
	"sync"
	"time"

	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/store"
)

// A committer groups the casts of concurrent requests into one store
// transaction (group commit): the first cast to arrive waits at most
// maxDelay for others, up to maxBatch, then all are committed together, one
// checkpoint is signed for the batch, and every waiting request gets its own
// outcome with its receipt. One committer serves one election; its casts
// are committed in arrival order.
type committer struct {
	st       store.Store
	log      *board.Log
	election string
	in       chan *pendingCast
	maxBatch int
	maxDelay time.Duration
	metrics  *metrics
	done     chan struct{}
	once     sync.Once
}

type pendingCast struct {
	ctx    context.Context
	cast   store.Cast
	result chan castOutcome
}

// castOutcome is a cast's result and, if it was stored, its receipt.
type castOutcome struct {
	store.CastResult
	Receipt *board.Receipt
}

func newCommitter(st store.Store, log *board.Log, election string, m *metrics) *committer {
	c := &committer{st: st, log: log, election: election, in: make(chan *pendingCast, 1024),
		maxBatch: 128, maxDelay: 2 * time.Millisecond, metrics: m, done: make(chan struct{})}
	go c.run()
	return c
}

// submit commits one cast and returns its outcome once it is durable.
func (c *committer) submit(ctx context.Context, cast store.Cast) castOutcome {
	p := &pendingCast{ctx: ctx, cast: cast, result: make(chan castOutcome, 1)}
	select {
	case c.in <- p:
	case <-ctx.Done():
		return castOutcome{CastResult: store.CastResult{Err: ctx.Err()}}
	case <-c.done:
		return castOutcome{CastResult: store.CastResult{Err: errClosing}}
	}
	select {
	case r := <-p.result:
		return r
	case <-c.done:
		// The committer stops only after answering everything it took.
		return <-p.result
	}
}

func (c *committer) stop() { c.once.Do(func() { close(c.done) }) }

func (c *committer) run() {
	for {
		var first *pendingCast
		select {
		case first = <-c.in:
		case <-c.done:
			c.drain()
			return
		}
		batch := []*pendingCast{first}
		timer := time.NewTimer(c.maxDelay)
	collect:
		for len(batch) < c.maxBatch {
			select {
			case p := <-c.in:
				batch = append(batch, p)
			case <-timer.C:
				break collect
			}
		}
		timer.Stop()
		c.commit(batch)
	}
}

// drain answers casts that arrived before the committer stopped.
func (c *committer) drain() {
	for {
		select {
		case p := <-c.in:
			c.commit([]*pendingCast{p})
		default:
			return
		}
	}
}

func (c *committer) commit(batch []*pendingCast) {
	casts := make([]store.Cast, len(batch))
	for i, p := range batch {
		casts[i] = p.cast
	}
	// The commit must not be abandoned half-way because one client went
	// away: it uses its own context.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	results, err := c.st.CastBallots(ctx, c.election, casts)
	c.metrics.commitLag.Observe(time.Since(start).Seconds())
	c.metrics.batch.Observe(float64(len(batch)))
	out := make([]castOutcome, len(batch))
	for i := range out {
		if err != nil {
			out[i].Err = err
		} else {
			out[i].CastResult = results[i]
		}
	}
	if err == nil {
		// One checkpoint for the batch, and every receipt proved against it.
		var indexes []int64
		var trackings [][32]byte
		var who []int
		for i, r := range results {
			if r.Err == nil {
				indexes, trackings, who = append(indexes, r.Index), append(trackings, casts[i].Tracking), append(who, i)
			}
		}
		cp, cerr := c.log.Checkpoint(ctx)
		var receipts []*board.Receipt
		if cerr == nil && len(indexes) > 0 {
			receipts, cerr = c.log.ReceiptsAt(ctx, cp, indexes, trackings)
		}
		for k, i := range who {
			if cerr != nil {
				out[i].Err = cerr // stored, but no receipt now: the voter can fetch it by tracking code
				continue
			}
			out[i].Receipt = receipts[k]
		}
	}
	for i, p := range batch {
		p.result <- out[i]
	}
}
