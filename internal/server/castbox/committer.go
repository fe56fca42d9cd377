package castbox

import (
	"context"
	"time"

	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/server/httpx"
	"github.com/koe-vote/koe/internal/store"
)

// A committer appends the ballot box's casts to the board in batches.
// With a cast interval (SPEC.md §15.5) a batch is every cast that arrived
// before the next tick, put in random order (a credential's own casts
// keep theirs) and stamped with the tick's time. Without one it is group
// commit: the first cast to arrive waits at most maxDelay for others, up
// to maxBatch, and they are appended in arrival order. Either way each
// store transaction holds at most maxBatch casts, one checkpoint is signed
// for the batch, and every waiting request gets its own outcome with its
// receipt once the batch is durable. One committer serves one election.
type committer struct {
	st       store.Casts
	log      Receipts
	election string
	interval time.Duration
	now      func() time.Time
	metrics  Metrics
	b        *httpx.Batcher[*pendingCast]
}

type pendingCast struct {
	cast   store.Cast
	result chan castOutcome
}

// castOutcome is a cast's result and, if it was stored, its receipt.
type castOutcome struct {
	store.CastResult
	Receipt *board.Receipt
}

func newCommitter(st store.Casts, log Receipts, election string, interval time.Duration, manual bool, now func() time.Time, m Metrics) *committer {
	c := &committer{st: st, log: log, election: election, interval: interval, now: now, metrics: m}
	c.b = httpx.NewBatcher(interval, manual, c.commit)
	go c.b.Run()
	return c
}

// submit commits one cast and returns its outcome once it is durable.
func (c *committer) submit(ctx context.Context, cast store.Cast) castOutcome {
	start := time.Now()
	defer func() { httpx.RecordWait(ctx, time.Since(start)) }()
	p := &pendingCast{cast: cast, result: make(chan castOutcome, 1)}
	if !c.b.Add(ctx, p) {
		if ctx.Err() != nil {
			return castOutcome{CastResult: store.CastResult{Err: ctx.Err()}}
		}
		return castOutcome{CastResult: store.CastResult{Err: httpx.ErrClosing}}
	}
	// The batcher answers everything it took, even when stopping.
	return <-p.result
}

func (c *committer) stop() { c.b.Stop() }

// flush commits the waiting casts now (before the election closes).
func (c *committer) flush() { c.b.Flush() }

func (c *committer) commit(batch []*pendingCast) {
	// The commit must not be abandoned half-way because one client went
	// away: it uses its own context.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := make([]castOutcome, len(batch))
	order := make([]int, len(batch))
	for i := range order {
		order[i] = i
	}
	if c.interval > 0 {
		keys := make([][32]byte, len(batch))
		for i, p := range batch {
			keys[i] = p.cast.Credential
		}
		order = httpx.ShuffleOrder(keys)
	}
	t := httpx.BatchTime(c.now(), c.interval)
	var indexes []int64
	var trackings [][32]byte
	var who []int
	for len(order) > 0 {
		chunk := order[:min(len(order), c.b.MaxBatch)]
		order = order[len(chunk):]
		var casts []store.Cast
		var in []int
		for _, i := range chunk {
			cast := batch[i].cast
			if c.interval > 0 {
				entry, err := httpx.Restamp(cast.Entry, t)
				if err != nil {
					out[i].Index, out[i].Err = -1, err
					continue
				}
				cast.Entry = entry
			}
			casts, in = append(casts, cast), append(in, i)
		}
		if len(casts) == 0 {
			continue
		}
		start := time.Now()
		results, err := c.st.CastBallots(ctx, c.election, casts)
		c.metrics.CommitLag.Observe(time.Since(start).Seconds())
		c.metrics.Batch.Observe(float64(len(casts)))
		for k, i := range in {
			if err != nil {
				out[i].Index, out[i].Err = -1, err
				continue
			}
			out[i].CastResult = results[k]
			if results[k].Err == nil {
				indexes, trackings, who = append(indexes, results[k].Index), append(trackings, casts[k].Tracking), append(who, i)
			}
		}
	}
	if len(indexes) > 0 {
		// One checkpoint for the batch, and every receipt proved against it.
		cp, cerr := c.log.Checkpoint(ctx)
		var receipts []*board.Receipt
		if cerr == nil {
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
