// Package server is koe's HTTP service (SPEC.md §15) under /api/v1: the
// administrator's election lifecycle, the trustees' ceremony and
// decryption, and the public bulletin board. It mounts the two roles that
// serve voters, each its own package given only its own part of the store
// (SPEC.md §15.5): the registrar (package registrar), which blind-signs
// one anonymous credential per voter, and the ballot box (package
// castbox), which accepts ballots authorised by those credentials and
// answers with receipts. The server owns the per-election cache and the
// lifecycle state the two read.
//
// The registrar and the ballot box share this process but not their data:
// the registrar's requests carry a voter's identity and a blinded message;
// the ballot box's carry a credential and a ballot; no cookie, session or
// log line connects the two (see logRequests), and TestRoleSeparation
// fails if either package reaches the other's part of the store.
package server

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/oidcreg"
	"github.com/koe-vote/koe/internal/server/castbox"
	"github.com/koe-vote/koe/internal/server/httpx"
	"github.com/koe-vote/koe/internal/server/registrar"
	"github.com/koe-vote/koe/internal/store"
)

// Body-size limits per endpoint.
const (
	maxManifestBody = 1 << 20
	maxCeremonyBody = 1 << 20
	maxShareBody    = 4 << 20
)

// Config configures a Server.
type Config struct {
	Store store.Store
	// Origin names this server's boards in checkpoints: each election's
	// is "<Origin>/koe/<election id>".
	Origin string
	// BoardKey signs every election's checkpoints (as a note key named
	// after the election's origin).
	BoardKey ed25519.PrivateKey
	// AdminToken authenticates the administrator (Authorization: Bearer).
	AdminToken string
	// RegistrarBits is the registrar's RSA modulus size (default 3072).
	RegistrarBits int
	// RegisterRate and RegisterBurst limit failed registrations per client
	// address (the address is held in memory only, never logged or
	// stored); VoterFailRate and VoterFailBurst wrong codes per voter id
	// (default one a minute, burst 5; SPEC §15.10).
	RegisterRate   float64
	RegisterBurst  int
	VoterFailRate  float64
	VoterFailBurst int
	// Clients says how a request's client is known: behind a reverse
	// proxy, the proxies whose X-Forwarded-For or Forwarded to believe.
	Clients httpx.Clients
	// SpoilRate and SpoilBurst limit spoiled (challenged) ballots per
	// client address, held in memory only; a spoiled ballot names no
	// credential and none is looked up for it (default 0.1/s, burst 10).
	SpoilRate  float64
	SpoilBurst int
	// CastRate and CastBurst limit casts per credential key, counted
	// once the credential and cast signature check (default 3 a minute,
	// burst 4: a first cast and three quick re-votes).
	CastRate  float64
	CastBurst int
	Logger    *slog.Logger
	Registry  *prometheus.Registry
	Now       func() time.Time
	// OIDCPending keeps digital-ID sign-ins in progress (default: in the
	// store, so a sign-in may return to any front end sharing it).
	OIDCPending oidcreg.PendingStore
	// OIDCReturn, if set, is where a voter's browser goes after a
	// successful digital-ID sign-in: the page at OIDCReturn(election),
	// with the blind signature in its fragment (#blind-signature=
	// base64url), which the booth unblinds. Without it the callback shows
	// a page holding the signature.
	OIDCReturn func(election string) string
	// RegisterInterval and CastInterval space the ticks at which the
	// registrar's issuance entries and the ballot box's ballots are
	// appended, each batch in random order with its tick's time (SPEC.md
	// §15.5); zero appends each at once, linkable by board order and time
	// to the request that made it. koe serve uses DefaultRegisterInterval
	// and DefaultCastInterval.
	RegisterInterval time.Duration
	CastInterval     time.Duration
	// ScheduleInterval is how often the server opens and closes elections
	// whose manifest's opens or closes time has come (default
	// DefaultScheduleInterval; negative: never, the administrator does).
	ScheduleInterval time.Duration
}

// Server serves koe's API.
type Server struct {
	cfg        Config
	adminHash  [32]byte
	log        *slog.Logger
	metrics    *metrics
	limiter    *httpx.Limiter // failed registrations, per client address
	voterFails *httpx.Limiter // wrong codes, per voter id
	spoils     *httpx.Limiter // spoiled ballots, per client address
	casts      *httpx.Limiter // casts, per credential key

	mu        sync.Mutex
	elections map[string]*election
	closing   bool
	configKey []byte // seals elections' private configuration (seal.go)
	// manualBatches: batches close only when a test says so (export_test.go).
	manualBatches bool
	stopSchedule  chan struct{}
}

// New returns a server; call Handler to serve it and Close to stop it.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || len(cfg.BoardKey) != ed25519.PrivateKeySize || cfg.AdminToken == "" {
		return nil, errors.New("server: Store, BoardKey and AdminToken are required")
	}
	if cfg.Origin == "" {
		cfg.Origin = "localhost"
	}
	if cfg.RegistrarBits == 0 {
		cfg.RegistrarBits = 3072
	}
	if cfg.RegisterRate == 0 {
		cfg.RegisterRate, cfg.RegisterBurst = 1, 10
	}
	if cfg.VoterFailRate == 0 {
		cfg.VoterFailRate, cfg.VoterFailBurst = 1.0/60, 5
	}
	if cfg.SpoilRate == 0 {
		cfg.SpoilRate, cfg.SpoilBurst = 0.1, 10
	}
	if cfg.CastRate == 0 {
		cfg.CastRate, cfg.CastBurst = 3.0/60, 4
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OIDCPending == nil {
		cfg.OIDCPending = registrar.PendingStore(cfg.Store, cfg.Now)
	}
	ck, err := configKey(cfg.BoardKey)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, adminHash: tokenHash(cfg.AdminToken), log: cfg.Logger, configKey: ck,
		metrics: newMetrics(cfg.Registry), limiter: httpx.NewLimiter(cfg.Clients, cfg.RegisterRate, cfg.RegisterBurst),
		voterFails: httpx.NewLimiter(cfg.Clients, cfg.VoterFailRate, cfg.VoterFailBurst),
		spoils:     httpx.NewLimiter(cfg.Clients, cfg.SpoilRate, cfg.SpoilBurst), casts: httpx.NewLimiter(cfg.Clients, cfg.CastRate, cfg.CastBurst),
		elections: map[string]*election{}, stopSchedule: make(chan struct{}),
	}
	if cfg.ScheduleInterval == 0 {
		cfg.ScheduleInterval = DefaultScheduleInterval
	}
	if cfg.ScheduleInterval > 0 {
		go s.runSchedule(cfg.ScheduleInterval, s.stopSchedule)
	}
	return s, nil
}

// Close stops accepting casts, commits those in flight and releases the
// elections' resources. It does not close the store.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closing {
		close(s.stopSchedule)
	}
	s.closing = true
	es := make([]*election, 0, len(s.elections))
	for _, e := range s.elections {
		es = append(es, e)
	}
	s.mu.Unlock()
	for _, e := range es {
		e.stop()
	}
}

// Handler returns the HTTP handler of the whole API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, h func(http.ResponseWriter, *http.Request) error) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if err := h(w, r); err != nil {
				var he *httpx.Error
				if !errors.As(err, &he) {
					// Internal errors come from the store or the board, never
					// from a request's content; they are logged for operators.
					s.log.Error("internal error", "route", pattern, "err", err)
				}
				httpx.WriteError(w, err)
			}
		})
	}
	// Public.
	route("GET /api/v1/elections", s.listElections)
	route("GET /api/v1/elections/{id}", s.getElection)
	route("GET /api/v1/elections/{id}/manifest", s.getManifest)
	route("GET /api/v1/board-key/{id}", s.getBoardKey)
	route("GET /api/v1/elections/{id}/cosigned-checkpoint", s.getCosigned)
	route("GET /api/v1/elections/{id}/consistency", s.getConsistency)
	route("GET /api/v1/elections/{id}/ceremony", s.getCeremony)
	route("GET /api/v1/elections/{id}/tally", s.serveLatest(board.TypeTally, api.CodeNoTally, "the election has no tally yet"))
	route("GET /api/v1/elections/{id}/results", s.serveLatest(board.TypeResults, api.CodeNoResults, "the results are not published yet"))
	route("GET /api/v1/elections/{id}/record", s.getRecord)
	route("GET /api/v1/elections/{id}/mixes", s.getMixes)
	route("GET /api/v1/elections/{id}/mixes/{question}/lists/{round}", s.getMixList)
	route("GET /api/v1/elections/{id}/mixed/{question}", s.getMixed)
	route("GET /api/v1/elections/{id}/receipts/{tracking}", s.toBox((*castbox.Box).Receipt))
	route("GET /api/v1/elections/{id}/entries/{index}", s.getEntry)
	route("GET /api/v1/elections/{id}/credentials/{vk}", s.toBox((*castbox.Box).Credential))
	mux.HandleFunc("GET /api/v1/elections/{id}/log/", s.serveLog)
	// Administrator.
	route("POST /api/v1/elections", s.admin(s.createElection))
	route("POST /api/v1/elections/{id}/roll", s.admin(s.importRoll))
	route("POST /api/v1/elections/{id}/roll/reissue", s.admin(s.reissueCodes))
	route("POST /api/v1/elections/{id}/open", s.admin(s.openElection))
	route("POST /api/v1/elections/{id}/close", s.admin(s.closeElection))
	route("POST /api/v1/elections/{id}/tally", s.admin(s.tallyElection))
	route("POST /api/v1/elections/{id}/publish", s.admin(s.publishResults))
	route("PUT /api/v1/elections/{id}/manifest", s.admin(s.putManifest))
	route("DELETE /api/v1/elections/{id}", s.admin(s.deleteElection))
	// Trustees.
	route("POST /api/v1/elections/{id}/ceremony/{round}", s.postCeremony)
	route("POST /api/v1/elections/{id}/decryptions", s.postDecryption)
	route("POST /api/v1/elections/{id}/mixes/{question}", s.postMix)
	route("POST /api/v1/elections/{id}/mixes/{question}/decryptions", s.postMixShare)
	// Registrar.
	route("POST /api/v1/elections/{id}/register", s.toRegistrar((*registrar.Registrar).Register))
	route("PUT /api/v1/elections/{id}/oidc", s.admin(s.putOIDC))
	route("GET /api/v1/elections/{id}/oidc", s.admin(s.getOIDC))
	route("POST /api/v1/elections/{id}/oidc/start", s.toRegistrar((*registrar.Registrar).OIDCStart))
	mux.HandleFunc("GET /api/v1/elections/{id}/oidc/callback", s.oidcCallback)
	// Ballot box.
	route("POST /api/v1/elections/{id}/ballots", s.toBox((*castbox.Box).Cast))
	route("POST /api/v1/elections/{id}/spoiled", s.toBox((*castbox.Box).Spoil))

	// The metrics are the administrator's: their counters and the Go
	// runtime's gauges move with each request, so read often they would
	// tell when each cast arrived within its batch.
	metricsHandler := promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{})
	route("GET /metrics", s.admin(func(w http.ResponseWriter, r *http.Request) error {
		metricsHandler.ServeHTTP(w, r)
		return nil
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.ping(r.Context()); err != nil {
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	return logRequests(s.log, s.metrics.instrument(mux))
}

func (s *Server) ping(ctx context.Context) error {
	_, err := s.cfg.Store.Elections(ctx)
	return err
}

// admin wraps a handler that only the administrator may call.
func (s *Server) admin(h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if !tokenMatches(bearer(r), s.adminHash) {
			return httpx.Errorf(http.StatusUnauthorized, api.CodeUnauthorized, "this needs the administrator's token (Authorization: Bearer …)")
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead || store.IsAudited(r.Context()) {
			return h(w, r)
		}
		note := &auditNote{}
		err := h(w, r.WithContext(context.WithValue(r.Context(), auditNoteKey{}, note)))
		s.audit(r, err, note.election)
		return err
	}
}

// auditNote is what a handler tells the audit log besides its route: the
// id of an election it created.
type auditNote struct{ election string }

type auditNoteKey struct{}

// noteElection names the election a request created, for the audit log.
func noteElection(r *http.Request, id string) {
	if n, ok := r.Context().Value(auditNoteKey{}).(*auditNote); ok {
		n.election = id
	}
}

// audit records a request that the administrator's token made to change
// something (SPEC.md §15.8): its route as the action ("POST
// /api/v1/elections/{id}/close" is "api-close"), the election and how it
// ended. Nothing of the request's body is recorded: it may hold a roll's
// voter ids or a provider's client secret.
func (s *Server) audit(r *http.Request, err error, created string) {
	e := store.AuditEntry{Time: time.Now(), Action: apiAction(r), Election: r.PathValue("id"), Outcome: "ok"}
	if e.Election == "" && err == nil {
		e.Election = created
	}
	var he *httpx.Error
	switch {
	case errors.As(err, &he):
		e.Outcome = fmt.Sprintf("failed: HTTP %d %s", he.Status, he.Code)
	case err != nil:
		e.Outcome = "failed: internal error"
	}
	// The request's own context may be cancelled by now (a client gone).
	if _, aerr := s.cfg.Store.AppendAudit(context.WithoutCancel(r.Context()), e); aerr != nil {
		s.log.Error("audit log", "action", e.Action, "err", aerr)
	}
}

// apiAction names an API route in the audit log: "api-" and the route's
// path after /api/v1/elections/{id}/, its parts joined by "-"; creating
// and deleting an election are "api-create" and "api-delete".
func apiAction(r *http.Request) string {
	method, path, _ := strings.Cut(r.Pattern, " ")
	path = strings.TrimPrefix(path, "/api/v1/elections")
	path = strings.TrimPrefix(strings.TrimPrefix(path, "/{id}"), "/")
	switch {
	case path == "" && method == http.MethodPost:
		return "api-create"
	case path == "" && method == http.MethodDelete:
		return "api-delete"
	}
	return "api-" + strings.ReplaceAll(path, "/", "-")
}

// toRegistrar routes a request to the registrar of its election.
func (s *Server) toRegistrar(h func(*registrar.Registrar, http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		el, err := s.lookup(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		return h(el.reg, w, r)
	}
}

// toBox routes a request to the ballot box of its election.
func (s *Server) toBox(h func(*castbox.Box, http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		el, err := s.lookup(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		return h(el.box, w, r)
	}
}

// oidcCallback routes a digital-ID callback to the election's registrar,
// which answers with a page (or JSON) in every case.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		httpx.WriteError(w, err)
		return
	}
	el.reg.OIDCCallback(w, r)
}

// Default intervals of koe serve's timed batches (SPEC.md §15.5).
const (
	DefaultRegisterInterval = 20 * time.Second
	DefaultCastInterval     = 5 * time.Second
)
