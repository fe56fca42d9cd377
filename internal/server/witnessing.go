package server

import (
	"context"
	"errors"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/server/httpx"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/witness"
)

// Witnessing timings (SPEC.md §15.7): one submission's limit, and the
// backoff between rounds while the quorum is not met.
const (
	witnessTimeout = 10 * time.Second
	retryMin       = 500 * time.Millisecond
	retryMax       = 30 * time.Second
)

// A cosigner keeps one election's checkpoints cosigned by the witnesses
// of its manifest (SPEC.md §13.7, §15.7). Each new checkpoint kicks it;
// it submits the latest to every witness in parallel, each with a timeout,
// adds the cosignatures that come back to the stored checkpoint (one of
// equal size is replaced) and, while fewer than the quorum cosigned,
// tries again with backoff. Casting never waits for it.
type cosigner struct {
	election string
	log      *board.Log
	st       store.Store
	policy   *witness.Policy
	peers    []*witness.Peer
	metrics  *witnessMetrics
	logger   *slog.Logger

	kick chan struct{}
	quit chan struct{}
	done chan struct{}

	rounds sync.Mutex // one round at a time: rounds read and replace the stored checkpoint

	mu   sync.Mutex
	best []byte // the latest checkpoint that satisfies the policy
}

// startCosigner starts the election's cosigner if its manifest names
// witnesses, and hooks it to the board's checkpoints.
func (s *Server) startCosigner(el *election) error {
	pol, err := el.manifest.WitnessPolicy()
	if err != nil || pol == nil || len(pol.Witnesses) == 0 {
		return err
	}
	c := &cosigner{election: el.id, log: el.log, st: s.cfg.Store, policy: pol, metrics: &s.metrics.witness, logger: s.log,
		kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	client := &http.Client{Timeout: witnessTimeout}
	for i, w := range el.manifest.Board.Witnesses {
		c.peers = append(c.peers, &witness.Peer{Name: pol.Witnesses[i].Name(), Key: pol.Witnesses[i], Client: &witness.Client{URL: w.URL, HTTP: client}})
	}
	el.cosigner = c
	el.log.SetOnSign(c.signal)
	go c.run()
	c.signal() // a checkpoint may be waiting from before a restart
	return nil
}

// signal asks for a round without blocking (rounds coalesce).
func (c *cosigner) signal() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *cosigner) stop() {
	close(c.quit)
	<-c.done
}

func (c *cosigner) run() {
	defer close(c.done)
	var retry <-chan time.Time
	backoff := retryMin
	for {
		select {
		case <-c.quit:
			return
		case <-c.kick:
		case <-retry:
		}
		retry = nil
		ctx, cancel := context.WithTimeout(context.Background(), witnessTimeout+time.Second)
		ok, err := c.round(ctx)
		cancel()
		if err != nil {
			c.logger.Warn("witnessing", "election", c.election, "err", err)
		}
		if ok {
			backoff = retryMin
			continue
		}
		retry = time.After(backoff)
		backoff = min(2*backoff, retryMax)
	}
}

// round submits the latest checkpoint to the witnesses that have not
// cosigned it and saves what they return. It reports whether the stored
// checkpoint now satisfies the policy.
func (c *cosigner) round(ctx context.Context) (bool, error) {
	c.rounds.Lock()
	defer c.rounds.Unlock()
	signed, err := c.st.Checkpoint(ctx, c.election)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	cp, have, err := c.policy.Verify(signed)
	if err == nil {
		c.keep(signed)
		c.observeLag(cp.Size)
		return true, nil
	}
	if !errors.Is(err, witness.ErrQuorum) {
		return false, err
	}
	// Each cosignature is added to the stored checkpoint as it arrives, so
	// the quorum is served as soon as enough witnesses answered, not when
	// the slowest answers or times out.
	cur, met := signed, false
	var saveErr error
	c.submit(ctx, cp, have, func(line []byte) {
		if saveErr != nil {
			return
		}
		merged, err := witness.AddCosignatures(cur, line)
		if err == nil {
			err = c.st.SaveCheckpoint(ctx, c.election, cp.Size, merged)
		}
		if err != nil {
			saveErr = err
			return
		}
		cur = merged
		if _, _, err := c.policy.Verify(merged); err == nil {
			met = true
			c.keep(merged)
		}
	})
	c.observeLag(cp.Size)
	return met && saveErr == nil, saveErr
}

// submit sends cp to every witness not among have, in parallel, and calls
// add with each verified cosignature line as it comes back, one call at a
// time.
func (c *cosigner) submit(ctx context.Context, cp *board.Checkpoint, have []*witness.Key, add func(line []byte)) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range c.peers {
		if slices.Contains(have, p.Key) {
			continue
		}
		wg.Go(func() {
			start := time.Now()
			line, err := p.Cosign(ctx, cp, c.log.ConsistencyProof)
			if err != nil {
				c.metrics.failures.WithLabelValues(c.election, p.Name, reason(err)).Inc()
				c.logger.Warn("witness did not cosign", "election", c.election, "witness", p.Name, "size", cp.Size, "err", err)
				return
			}
			c.metrics.latency.WithLabelValues(c.election, p.Name).Observe(time.Since(start).Seconds())
			mu.Lock()
			defer mu.Unlock()
			add(line)
		})
	}
	wg.Wait()
}

// reason names a failure for the failures metric.
func reason(err error) string {
	switch {
	case errors.Is(err, witness.ErrInconsistent):
		return "inconsistent"
	case errors.Is(err, witness.ErrStale):
		return "stale"
	case errors.Is(err, witness.ErrUnknownLog), errors.Is(err, witness.ErrForbidden):
		return "refused"
	case errors.Is(err, witness.ErrPushback):
		return "pushback"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "unavailable"
}

func (c *cosigner) observeLag(size int64) {
	for _, p := range c.peers {
		c.metrics.lag.WithLabelValues(c.election, p.Name).Set(float64(max(0, size-p.Size())))
	}
}

func (c *cosigner) keep(signed []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.best = signed
}

// latest returns the latest checkpoint known to satisfy the policy.
func (c *cosigner) latest() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.best
}

// cosignNow runs a round now (for the record's export) and returns the
// stored checkpoint if it satisfies the policy.
func (c *cosigner) cosignNow(ctx context.Context) error {
	ok, err := c.round(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return httpx.Errorf(http.StatusServiceUnavailable, api.CodeNotCosigned, "the witnesses have not cosigned the board's latest checkpoint yet (quorum %d); try again later", c.policy.Quorum)
	}
	return nil
}

// getCosigned serves the latest checkpoint of the election that satisfies
// its witness policy (SPEC.md §15.7): the booth fetches it after casting
// to show which witnesses hold a history that includes its ballot.
func (s *Server) getCosigned(w http.ResponseWriter, r *http.Request) error {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	var signed []byte
	if el.cosigner != nil {
		signed = el.cosigner.latest()
	} else if cp, err := el.log.Checkpoint(r.Context()); err == nil {
		signed = cp.Note // no witnesses: the board's signature is the policy
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if signed == nil {
		return httpx.Errorf(http.StatusNotFound, api.CodeNotCosigned, "no checkpoint of election %s is cosigned yet", el.id)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(signed)
	return nil
}
