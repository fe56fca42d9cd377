package server

import (
	"context"
	"errors"
	"time"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/server/httpx"
)

// DefaultScheduleInterval is how often a server looks for elections whose
// manifest's opens or closes time has come (SPEC.md §15.2).
const DefaultScheduleInterval = 5 * time.Second

// runSchedule opens and closes elections on time (SPEC.md §15.2) until
// stop is closed: an election in setup whose opens time has come opens
// once its ceremony is complete, and an open one whose closes time has
// come closes. Every front end sharing a store runs it; the store's state
// transition lets exactly one of them make each move.
func (s *Server) runSchedule(interval time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.scheduleOnce(context.Background())
		}
	}
}

// scheduleOnce makes the moves that are due now.
func (s *Server) scheduleOnce(ctx context.Context) {
	rows, err := s.cfg.Store.Elections(ctx)
	if err != nil {
		s.log.Error("schedule: listing elections", "err", err)
		return
	}
	now := s.cfg.Now()
	for _, row := range rows {
		if row.State != api.StateSetup && row.State != api.StateOpen {
			continue
		}
		el, err := s.lookup(ctx, row.ID)
		if err != nil {
			s.log.Error("schedule: loading election", "election", row.ID, "err", err)
			continue
		}
		opens, closes := el.manifest.OpensAt(), el.manifest.ClosesAt()
		switch {
		case row.State == api.StateSetup && !opens.IsZero() && !now.Before(opens) && (closes.IsZero() || now.Before(closes)):
			s.scheduled(ctx, el, api.StateSetup, "opened", s.open)
		case row.State == api.StateOpen && !closes.IsZero() && !now.Before(closes):
			s.scheduled(ctx, el, api.StateOpen, "closed", s.close)
		}
	}
}

// scheduled makes one move of the schedule under the election's lock, if
// the election is still in the state it was listed in.
func (s *Server) scheduled(ctx context.Context, el *election, from, done string, move func(context.Context, *election) error) {
	el.mu.Lock()
	defer el.mu.Unlock()
	if err := s.refresh(ctx, el); err != nil {
		s.log.Error("schedule: reading election", "election", el.id, "err", err)
		return
	}
	if el.state != from {
		return // another front end, or the administrator, moved it
	}
	err := move(ctx, el)
	var he *httpx.Error
	switch {
	case err == nil:
		el.scheduleNote = ""
		s.log.Info("schedule: election "+done+" on time", "election", el.id)
	case errors.As(err, &he) && he.Code == api.CodeWrongState:
		// Moved meanwhile by another front end.
	case errors.As(err, &he):
		// Not ready (a ceremony not complete): tried again at the next
		// tick, and said once.
		if el.scheduleNote != he.Error() {
			el.scheduleNote = he.Error()
			s.log.Warn("schedule: election not "+done+" on time", "election", el.id, "reason", he.Error())
		}
	default:
		s.log.Error("schedule: election not "+done+" on time", "election", el.id, "err", err)
	}
}
