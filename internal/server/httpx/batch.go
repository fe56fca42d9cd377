package httpx

import (
	"context"
	crand "crypto/rand"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/koe-vote/koe/internal/board"
)

// Timed batches (SPEC.md §15.5). Unless its interval is zero, the
// registrar's credential-issued entries and the ballot box's ballot
// entries are appended only at the ticks of a fixed schedule: the
// multiples of the interval since the Unix epoch, the same on every front
// end. What arrives between two ticks is one batch: it is put in a
// uniformly random order, appended at the tick, and every entry of it
// carries the tick's time (the time of the commit rounded down to a
// multiple of the interval). A request is answered only after its batch
// commits, so a blind signature is still handed out only once its issuance
// is durable, and a receipt still proves its ballot is on the board.

// tickAtOrBefore returns t rounded down to a multiple of d since the Unix
// epoch (time.Truncate counts from year 1, which differs for a d that
// does not divide a day).
func tickAtOrBefore(t time.Time, d time.Duration) time.Time {
	ns := t.UnixNano()
	k := ns / int64(d)
	if ns%int64(d) < 0 {
		k--
	}
	return time.Unix(0, k*int64(d)).In(t.Location())
}

// NextTick returns the first multiple of d (since the Unix epoch) after t.
func NextTick(t time.Time, d time.Duration) time.Time {
	return tickAtOrBefore(t, d).Add(d)
}

// BatchTime is the time of entries appended at t in batches of interval
// d: t rounded down to a multiple of d (t itself when d is zero).
func BatchTime(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	return tickAtOrBefore(t, d)
}

// Restamp returns the entry with its time replaced by t.
func Restamp(entry []byte, t time.Time) ([]byte, error) {
	e, err := board.DecodeEntry(entry)
	if err != nil {
		return nil, err
	}
	e.Time = t
	return e.Encode()
}

// shuffleRNG is a ChaCha8 generator seeded from crypto/rand: the order of
// a batch must be unpredictable to whoever watches the requests.
func shuffleRNG() *rand.Rand {
	var seed [32]byte
	crand.Read(seed[:])
	return rand.New(rand.NewChaCha8(seed))
}

// ShuffleOrder returns a uniformly random order of the items whose keys
// are given, except that items sharing a key keep their arrival order
// (a credential's casts in one batch must reach the counter rule in the
// order the voter sent them): each item draws a random position, and the
// positions drawn by one key's items are handed to them in arrival order.
func ShuffleOrder(keys [][32]byte) []int {
	n := len(keys)
	pos := shuffleRNG().Perm(n) // item i goes to position pos[i]
	byKey := map[[32]byte][]int{}
	for i, k := range keys {
		byKey[k] = append(byKey[k], i)
	}
	for _, items := range byKey {
		if len(items) < 2 {
			continue
		}
		ps := make([]int, len(items))
		for j, i := range items {
			ps[j] = pos[i]
		}
		slices.Sort(ps)
		for j, i := range items {
			pos[i] = ps[j]
		}
	}
	order := make([]int, n)
	for i, p := range pos {
		order[p] = i
	}
	return order
}

// A Batcher collects jobs and hands them to commit in batches. With an
// interval, a batch is everything that arrived before the next tick; with
// none, it is group commit: the first job waits at most maxDelay for
// others, up to maxBatch. One goroutine commits, so batches are appended
// one after the other.
type Batcher[J any] struct {
	interval time.Duration
	maxDelay time.Duration
	MaxBatch int
	in       chan J
	commit   func(batch []J)
	// flushes closes the current batch at once: the channel received is
	// closed once the batch is committed. If manual, only flushes close
	// batches, not the clock (tests drive the ticks; see ManualBatches).
	flushes chan chan struct{}
	manual  bool
	queued  atomic.Int64 // jobs taken in and not yet committed (Queued)
	done    chan struct{}
	once    sync.Once
}

// NewBatcher returns a batcher that hands its batches to commit, at the
// ticks of interval (group commit if zero); if manual, only Flush closes a
// batch.
func NewBatcher[J any](interval time.Duration, manual bool, commit func([]J)) *Batcher[J] {
	b := &Batcher[J]{interval: interval, maxDelay: 2 * time.Millisecond, MaxBatch: 128,
		in: make(chan J, 1024), commit: commit, flushes: make(chan chan struct{}), manual: manual, done: make(chan struct{})}
	return b
}

// Flush closes the current batch before its tick and returns once it is
// committed (at once if there is none).
func (b *Batcher[J]) Flush() {
	ack := make(chan struct{})
	select {
	case b.flushes <- ack:
		<-ack
	case <-b.done:
	}
}

// Stop stops the batcher; what it took is still committed.
func (b *Batcher[J]) Stop() { b.once.Do(func() { close(b.done) }) }

// Add hands a job to the batcher; false if it is stopping or ctx ends.
func (b *Batcher[J]) Add(ctx context.Context, j J) bool {
	select {
	case b.in <- j:
		return true
	case <-ctx.Done():
		return false
	case <-b.done:
		return false
	}
}

// Run collects and commits batches until Stop; run it in its own goroutine.
func (b *Batcher[J]) Run() {
	for {
		var first J
		select {
		case first = <-b.in:
		case ack := <-b.flushes:
			close(ack) // an empty batch
			continue
		case <-b.done:
			b.drain()
			return
		}
		b.queued.Add(1)
		batch := []J{first}
		var deadline <-chan time.Time
		var timer *time.Timer
		if !b.manual {
			wait := b.maxDelay
			if b.interval > 0 {
				wait = time.Until(NextTick(time.Now(), b.interval))
			}
			timer = time.NewTimer(wait)
			deadline = timer.C
		}
		var ack chan struct{}
		stopping := false
	collect:
		for b.interval > 0 || b.manual || len(batch) < b.MaxBatch {
			select {
			case j := <-b.in:
				b.queued.Add(1)
				batch = append(batch, j)
			case <-deadline:
				break collect
			case ack = <-b.flushes:
				break collect
			case <-b.done:
				stopping = true
				break collect
			}
		}
		if timer != nil {
			timer.Stop()
		}
		b.commit(batch)
		b.queued.Add(-int64(len(batch)))
		if ack != nil {
			close(ack)
		}
		if stopping {
			b.drain()
			return
		}
	}
}

// drain commits the jobs that arrived before the batcher stopped.
func (b *Batcher[J]) drain() {
	for {
		select {
		case j := <-b.in:
			b.commit([]J{j})
		default:
			return
		}
	}
}

// waitKey keys the request context's record of the time a request spent
// waiting for its batch, which logRequests and the request metrics leave
// out of the duration they record: a request's duration would otherwise
// tell when within its batch it arrived.
type waitKey struct{}

// WithWaitRecord returns ctx with a place to record batch waits (the one
// ctx has already, if any).
func WithWaitRecord(ctx context.Context) (context.Context, *atomic.Int64) {
	if w, ok := ctx.Value(waitKey{}).(*atomic.Int64); ok {
		return ctx, w
	}
	w := new(atomic.Int64)
	return context.WithValue(ctx, waitKey{}, w), w
}

// RecordWait adds d to the request's batch wait.
func RecordWait(ctx context.Context, d time.Duration) {
	if w, ok := ctx.Value(waitKey{}).(*atomic.Int64); ok {
		w.Add(int64(d))
	}
}

// Queued returns how many jobs were taken in and are not yet committed.
func (b *Batcher[J]) Queued() int64 { return b.queued.Load() }
