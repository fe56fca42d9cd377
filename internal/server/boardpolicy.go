package server

import (
	"bytes"
	"encoding/json"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/server/httpx"
	"net/http"
	"regexp"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
)

// electionKey returns the board verifier key text of election id's
// checkpoints on this server (SPEC.md §13.3).
func (s *Server) electionKey(id string) (string, error) {
	_, vkey, err := signerFor(s.cfg.BoardKey, board.Origin(s.cfg.Origin, id))
	return vkey, err
}

// withBoardKey fixes the board key in a manifest being created (SPEC.md
// §7.1, §15.2): a manifest that names a board key must name this server's
// for the election; one without a board object gets
// {"key": K} inserted before its final "}", the rest of its bytes kept.
// The manifest is final from then on: its hash, which the ceremony and
// every proof bind, covers the key.
func (s *Server) withBoardKey(data []byte, m *ballot.Manifest) ([]byte, *ballot.Manifest, error) {
	vkey, err := s.electionKey(m.ID)
	if err != nil {
		return nil, nil, err
	}
	if m.Board != nil {
		if m.Board.Key != vkey {
			return nil, nil, httpx.Errorf(http.StatusBadRequest, "board-key", "the manifest's board key is not this server's for election %s: %s (GET /api/v1/board-key/%s)", m.ID, vkey, m.ID)
		}
		return data, m, nil
	}
	body := bytes.TrimRight(data, " \t\r\n")
	if !bytes.HasSuffix(body, []byte("}")) {
		return nil, nil, httpx.Errorf(http.StatusBadRequest, "invalid-manifest", "the manifest does not end with }")
	}
	key, _ := json.Marshal(vkey)
	out := append([]byte{}, body[:len(body)-1]...)
	out = append(out, `,"board":{"key":`...)
	out = append(out, key...)
	out = append(out, "}}\n"...)
	filled, err := ballot.ParseManifest(out)
	if err != nil {
		return nil, nil, httpx.Errorf(http.StatusBadRequest, "invalid-manifest", "%v", err)
	}
	return out, filled, nil
}

var electionIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// getBoardKey serves the board key an election of that id would have on
// this server, for a manifest that names witnesses and so must carry its
// board object, key included, before the election is created.
func (s *Server) getBoardKey(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !electionIDPattern.MatchString(id) {
		return httpx.Errorf(http.StatusBadRequest, api.CodeBadID, "%q is not an election id", id)
	}
	vkey, err := s.electionKey(id)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte(vkey + "\n"))
	return nil
}
