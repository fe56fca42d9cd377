package server

import (
	"context"

	"github.com/koe-vote/koe/internal/credential"
)

// RegistrarOf returns an election's registrar, for tests that play a
// dishonest operator holding the database and the board key, who can
// unseal the election's configuration and so sign credentials at will.
func RegistrarOf(ctx context.Context, s *Server, id string) (*credential.Registrar, error) {
	cfg, err := s.storedConfig(ctx, id)
	if err != nil {
		return nil, err
	}
	return credential.UnmarshalRegistrar([]byte(cfg.Registrar))
}

// ManualBatches makes s's timed batches close only when FlushIssues or
// FlushCasts says so, instead of at the ticks of the clock; call it
// before the elections are opened or loaded. The intervals must be set.
func ManualBatches(s *Server) { s.manualBatches = true }

func testElection(s *Server, id string) *election {
	el, err := s.lookup(context.Background(), id)
	if err != nil {
		panic(err)
	}
	return el
}

// FlushIssues commits the election's waiting registrations, as a tick
// of the registration interval does, and returns once they are answered.
func FlushIssues(s *Server, id string) { testElection(s, id).reg.Flush() }

// FlushCasts commits the election's waiting casts, as a tick of the cast
// interval does, and returns once they are answered.
func FlushCasts(s *Server, id string) { testElection(s, id).box.Flush() }

// Queued returns how many registrations and casts wait for their batch.
func Queued(s *Server, id string) (issues, casts int64) {
	el := testElection(s, id)
	return el.reg.Queued(), el.box.Queued()
}
