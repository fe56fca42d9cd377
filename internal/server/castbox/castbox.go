// Package castbox is koe's ballot box (SPEC.md §15.4): it accepts ballots
// authorised by an anonymous credential, appends them to the board in
// timed batches (SPEC.md §15.5) and answers with receipts; it publishes
// spoiled (challenged) ballots, and tells a device its credential's next
// counter.
//
// A Box is given the ballot box's part of the store only (store.Casts),
// the board's receipts, and the registrar's public key: it cannot read
// the roll nor reach the registrar's secret key (SPEC.md §15.5), and the
// registrar (package registrar) cannot read the casts. A test of package
// server fails if either package imports the other or names the other's
// part of the store.
package castbox

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/server/httpx"
	"github.com/koe-vote/koe/internal/store"
)

// MaxBallotBody bounds a cast envelope or a spoiled ballot.
const MaxBallotBody = 256 << 10

// Receipts is the board access the ballot box needs: signing a
// checkpoint after a batch and proving receipts against it (board.Log).
type Receipts interface {
	Checkpoint(ctx context.Context) (*board.Checkpoint, error)
	ReceiptsAt(ctx context.Context, cp *board.Checkpoint, indexes []int64, trackings [][32]byte) ([]*board.Receipt, error)
	MakeReceipt(ctx context.Context, index int64, tracking [32]byte) (*board.Receipt, error)
}

// Metrics are the ballot box's Prometheus metrics; their labels never
// hold an identifier of a credential or a ballot.
type Metrics struct {
	Casts     *prometheus.CounterVec // by outcome
	CommitLag prometheus.Histogram   // seconds to commit a batch
	Batch     prometheus.Histogram   // casts per transaction
}

// Config configures one election's ballot box.
type Config struct {
	Election  string                // the election id
	Registrar *credential.PublicKey // the registrar's public key, which signs credentials
	Casts     store.Casts
	Board     Receipts
	// State returns the election's state, read afresh where front ends
	// share it (the lifecycle layer's; the ballot box never changes it).
	State    func(ctx context.Context) (string, error)
	Interval time.Duration // the cast interval of SPEC.md §15.5; zero: group commit
	Manual   bool          // batches close only on Flush (tests)
	Now      func() time.Time
	// Closes is the manifest's close time (zero: none): from then on no
	// ballot is accepted, even before the schedule (or the administrator)
	// has moved the election to closed.
	Closes  time.Time
	Spoils  *httpx.Limiter // spoiled ballots per client address
	Recasts *httpx.Limiter // casts per credential key
	Metrics Metrics
}

// Box is one election's ballot box.
type Box struct {
	cfg       Config
	committer *committer

	mu sync.Mutex
	e  *ballot.Election // once the ceremony is complete
}

// New returns the election's ballot box; it accepts ballots once Open
// gives it the election's key. Call Stop to release it.
func New(cfg Config) *Box {
	return &Box{cfg: cfg, committer: newCommitter(cfg.Casts, cfg.Board, cfg.Election, cfg.Interval, cfg.Manual, cfg.Now, cfg.Metrics)}
}

// Open gives the box the election, with its key, once the key ceremony
// is complete.
func (b *Box) Open(e *ballot.Election) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.e = e
}

// Flush commits the waiting casts now (before the election closes).
func (b *Box) Flush() { b.committer.flush() }

// Stop stops the box's batches, committing what waits.
func (b *Box) Stop() { b.committer.stop() }

// Queued returns how many casts wait for their batch.
func (b *Box) Queued() int64 { return b.committer.b.Queued() }

// open returns the election if it is open for voters, else its API error.
func (b *Box) open(ctx context.Context) (*ballot.Election, error) {
	state, err := b.cfg.State(ctx)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	e := b.e
	b.mu.Unlock()
	switch {
	case state == api.StateOpen && e != nil && !b.cfg.Closes.IsZero() && !b.cfg.Now().Before(b.cfg.Closes):
		return nil, httpx.Errorf(http.StatusConflict, api.CodeClosed, "the election %s closed at %s", b.cfg.Election, b.cfg.Closes.UTC().Format(time.RFC3339))
	case state == api.StateOpen && e != nil:
		return e, nil
	case state == api.StateSetup || state == api.StateOpen:
		return nil, httpx.Errorf(http.StatusConflict, api.CodeNotOpen, "the election %s is not open yet", b.cfg.Election)
	default:
		return nil, httpx.Errorf(http.StatusConflict, api.CodeClosed, "the election %s is closed", b.cfg.Election)
	}
}

// entry builds a board entry of the election, made now.
func (b *Box) entry(typ string, body any) ([]byte, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return board.Entry{Type: typ, Election: b.cfg.Election, Time: b.cfg.Now(), Body: raw}.Encode()
}
