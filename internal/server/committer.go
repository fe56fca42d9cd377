package server

import (
	"context"
	"sync"
	"time"

	"github.com/koe-vote/koe/internal/store"
)

// A committer groups the casts of concurrent requests into one store
// transaction (group commit): the first cast to arrive waits at most
// maxDelay for others, up to maxBatch, then all are committed together and
// every waiting request learns its own outcome. One committer serves one
// election; its casts are committed in arrival order.
type committer struct {
	st       store.Store
	election string
	in       chan *pendingCast
	maxBatch int
	maxDelay time.Duration
	after    func(ctx context.Context) // called after each commit (e.g. to sign a checkpoint)
	done     chan struct{}
	once     sync.Once
}

type pendingCast struct {
	ctx    context.Context
	cast   store.Cast
	result chan store.CastResult
}

func newCommitter(st store.Store, election string, after func(context.Context)) *committer {
	c := &committer{st: st, election: election, in: make(chan *pendingCast, 1024),
		maxBatch: 128, maxDelay: 2 * time.Millisecond, after: after, done: make(chan struct{})}
	go c.run()
	return c
}

// submit commits one cast and returns its result once it is durable.
func (c *committer) submit(ctx context.Context, cast store.Cast) store.CastResult {
	p := &pendingCast{ctx: ctx, cast: cast, result: make(chan store.CastResult, 1)}
	select {
	case c.in <- p:
	case <-ctx.Done():
		return store.CastResult{Err: ctx.Err()}
	case <-c.done:
		return store.CastResult{Err: errClosing}
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
	results, err := c.st.CastBallots(ctx, c.election, casts)
	if err == nil && c.after != nil {
		c.after(ctx)
	}
	for i, p := range batch {
		if err != nil {
			p.result <- store.CastResult{Err: err}
			continue
		}
		p.result <- results[i]
	}
}
