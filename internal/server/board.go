package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/server/httpx"
	"github.com/koe-vote/koe/internal/store"
)

func (s *Server) serveLog(w http.ResponseWriter, r *http.Request) {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		httpx.WriteError(w, err)
		return
	}
	http.StripPrefix("/api/v1/elections/"+el.id+"/log", el.log.Handler()).ServeHTTP(w, r)
}

// getEntry serves one board entry, byte for byte as hashed into the log.
func (s *Server) getEntry(w http.ResponseWriter, r *http.Request) error {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	index, err := strconv.ParseInt(r.PathValue("index"), 10, 64)
	if err != nil || index < 0 {
		return httpx.Errorf(http.StatusBadRequest, api.CodeMalformed, "an entry index is a whole number")
	}
	raws, err := s.cfg.Store.ReadEntries(r.Context(), el.id, index, 1)
	if errors.Is(err, store.ErrNotFound) || (err == nil && len(raws) != 1) {
		return httpx.Errorf(http.StatusNotFound, api.CodeNotFound, "the board of %s has no entry %d", el.id, index)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(raws[0])
	return nil
}
