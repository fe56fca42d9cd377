package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/oidcreg"
	"github.com/koe-vote/koe/internal/server/httpx"
	"github.com/koe-vote/koe/internal/store"
)

// The digital-ID configuration of an election (SPEC.md §15.6) is the
// administrator's; registration by digital ID is the registrar's
// (package registrar).

const maxOIDCBody = 64 << 10

func digitalIDInfo(c *oidcreg.Config) *api.DigitalIDInfo {
	if c == nil {
		return nil
	}
	return &api.DigitalIDInfo{Issuer: c.Issuer, Scopes: c.Scopes, Rules: c.Rules}
}

// putOIDC sets (or replaces) the election's digital-ID configuration,
// only while the election is being set up.
func (s *Server) putOIDC(w http.ResponseWriter, r *http.Request) error {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	data, err := httpx.ReadBody(w, r, maxOIDCBody)
	if err != nil {
		return err
	}
	c, err := oidcreg.Parse(data)
	if err != nil {
		return httpx.Errorf(http.StatusBadRequest, api.CodeInvalidOidc, "%v", err)
	}
	if want := "/elections/" + el.id + "/oidc/callback"; !strings.HasSuffix(c.RedirectURL, want) {
		return httpx.Errorf(http.StatusBadRequest, api.CodeInvalidOidc, "oidc configuration: redirectURL must end in %s (this election's callback)", want)
	}
	el.mu.Lock()
	defer el.mu.Unlock()
	if el.state != api.StateSetup {
		return httpx.Errorf(http.StatusConflict, api.CodeWrongState, "the digital-ID configuration can be set only during setup (the election is %s)", el.state)
	}
	cfg, err := s.storedConfig(r.Context(), el.id)
	if err != nil {
		return err
	}
	cfg.OIDC = c
	sealed, err := s.sealConfig(el.id, cfg)
	if err != nil {
		return err
	}
	if err := s.cfg.Store.SetConfig(r.Context(), el.id, api.StateSetup, sealed); errors.Is(err, store.ErrStateConflict) {
		return httpx.Errorf(http.StatusConflict, api.CodeWrongState, "the election changed state meanwhile; reload it")
	} else if err != nil {
		return err
	}
	el.oidc = c
	el.reg.SetOIDC(c)
	s.log.Info("digital-ID registration configured", "election", el.id)
	httpx.WriteJSON(w, http.StatusOK, c.Redacted())
	return nil
}

// getOIDC shows the configuration without its secrets.
func (s *Server) getOIDC(w http.ResponseWriter, r *http.Request) error {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	el.mu.Lock()
	c := el.oidc
	el.mu.Unlock()
	if c == nil {
		return httpx.Errorf(http.StatusNotFound, api.CodeNoDigitalId, "the election %s has no digital-ID registration", el.id)
	}
	httpx.WriteJSON(w, http.StatusOK, c.Redacted())
	return nil
}
