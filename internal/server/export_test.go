package server

import (
	"context"
	"encoding/hex"
)

// ManualBatches makes s's timed batches close only when FlushIssues or
// FlushCasts says so, instead of at the ticks of the clock; call it
// before the elections are opened or loaded. The intervals must be set.
func ManualBatches(s *Server) { s.manualBatches = true }

func testElection(s *Server, id string) *election {
	el, err := s.lookup(context.Background(), id)
	if err != nil {
		panic(err)
	}
	el.mu.Lock()
	defer el.mu.Unlock()
	if el.issuer == nil || el.committer == nil {
		panic("election " + id + " is not open")
	}
	return el
}

// FlushIssues commits the election's waiting registrations, as a tick
// of the registration interval does, and returns once they are answered.
func FlushIssues(s *Server, id string) { testElection(s, id).issuer.b.flush() }

// FlushCasts commits the election's waiting casts, as a tick of the cast
// interval does, and returns once they are answered.
func FlushCasts(s *Server, id string) { testElection(s, id).committer.b.flush() }

// Queued returns how many registrations and casts wait for their batch.
func Queued(s *Server, id string) (issues, casts int64) {
	el := testElection(s, id)
	return el.issuer.b.queued.Load(), el.committer.b.queued.Load()
}

// VoterHash is the hex voter hash the election's issuance entries name:
// the registrar's view of which entry is whose.
func VoterHash(s *Server, id, voter string) string {
	el := testElection(s, id)
	h := rollHash(el.rollKey, "voter", voter)
	return hex.EncodeToString(h[:])
}
