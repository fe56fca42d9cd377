package server

import (
	"context"

	"github.com/koe-vote/koe/internal/credential"
)

// RegistrarOf returns an election's registrar, for tests that play a
// dishonest operator holding the database and the board key, who can
// unseal the election's configuration and so sign credentials at will.
func RegistrarOf(ctx context.Context, s *Server, id string) (*credential.Registrar, error) {
	el, err := s.lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	return el.registrar, nil
}
