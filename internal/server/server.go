// Package server is koe's HTTP service (SPEC.md §15): the administrator's
// election lifecycle, the trustees' ceremony and decryption, the registrar
// that blind-signs one anonymous credential per voter, the ballot box that
// accepts ballots authorised by those credentials and answers with receipts,
// and the public bulletin board, all under /api/v1.
//
// The registrar and the ballot box share this process but not their data:
// the registrar's requests carry a voter's identity and a blinded message;
// the ballot box's carry a credential and a ballot; no cookie, session or
// log line connects the two (see logRequests).
package server

import (
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/oidcreg"
	"github.com/koe-vote/koe/internal/store"
)

var errClosing = errors.New("server is shutting down")

// Body-size limits per endpoint.
const (
	maxManifestBody = 1 << 20
	maxCeremonyBody = 1 << 20
	maxRollBody     = 16 << 20
	maxRegisterBody = 8 << 10
	maxBallotBody   = 256 << 10
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
	// RegisterRate and RegisterBurst limit registrations per client address
	// (the address is held in memory only, never logged or stored).
	RegisterRate  float64
	RegisterBurst int
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
}

// Server serves koe's API.
type Server struct {
	cfg       Config
	adminHash [32]byte
	log       *slog.Logger
	metrics   *metrics
	limiter   *limiter // registrations, per client address
	spoils    *limiter // spoiled ballots, per client address
	casts     *limiter // casts, per credential key

	mu        sync.Mutex
	elections map[string]*election
	closing   bool
	configKey []byte // seals elections' private configuration (seal.go)
	// manualBatches: batches close only when a test says so (export_test.go).
	manualBatches bool
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
		cfg.OIDCPending = StorePending(cfg.Store, cfg.Now)
	}
	ck, err := configKey(cfg.BoardKey)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, adminHash: tokenHash(cfg.AdminToken), log: cfg.Logger, configKey: ck,
		metrics: newMetrics(cfg.Registry), limiter: newLimiter(cfg.RegisterRate, cfg.RegisterBurst),
		spoils: newLimiter(cfg.SpoilRate, cfg.SpoilBurst), casts: newLimiter(cfg.CastRate, cfg.CastBurst),
		elections: map[string]*election{},
	}
	return s, nil
}

// Close stops accepting casts, commits those in flight and releases the
// elections' resources. It does not close the store.
func (s *Server) Close() {
	s.mu.Lock()
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
	api := func(pattern string, h func(http.ResponseWriter, *http.Request) error) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if err := h(w, r); err != nil {
				var he *httpError
				if !errors.As(err, &he) {
					// Internal errors come from the store or the board, never
					// from a request's content; they are logged for operators.
					s.log.Error("internal error", "route", pattern, "err", err)
				}
				writeError(w, err)
			}
		})
	}
	// Public.
	api("GET /api/v1/elections", s.listElections)
	api("GET /api/v1/elections/{id}", s.getElection)
	api("GET /api/v1/elections/{id}/manifest", s.getManifest)
	api("GET /api/v1/board-key/{id}", s.getBoardKey)
	api("GET /api/v1/elections/{id}/cosigned-checkpoint", s.getCosigned)
	api("GET /api/v1/elections/{id}/ceremony", s.getCeremony)
	api("GET /api/v1/elections/{id}/tally", s.serveLatest(board.TypeTally, "no-tally", "the election has no tally yet"))
	api("GET /api/v1/elections/{id}/results", s.serveLatest(board.TypeResults, "no-results", "the results are not published yet"))
	api("GET /api/v1/elections/{id}/record", s.getRecord)
	api("GET /api/v1/elections/{id}/receipts/{tracking}", s.getReceipt)
	api("GET /api/v1/elections/{id}/entries/{index}", s.getEntry)
	api("GET /api/v1/elections/{id}/credentials/{vk}", s.getCredential)
	mux.HandleFunc("GET /api/v1/elections/{id}/log/", s.serveLog)
	// Administrator.
	api("POST /api/v1/elections", s.admin(s.createElection))
	api("POST /api/v1/elections/{id}/roll", s.admin(s.importRoll))
	api("POST /api/v1/elections/{id}/open", s.admin(s.openElection))
	api("POST /api/v1/elections/{id}/close", s.admin(s.closeElection))
	api("POST /api/v1/elections/{id}/tally", s.admin(s.tallyElection))
	api("POST /api/v1/elections/{id}/publish", s.admin(s.publishResults))
	// Trustees.
	api("POST /api/v1/elections/{id}/ceremony/{round}", s.postCeremony)
	api("POST /api/v1/elections/{id}/decryptions", s.postDecryption)
	// Registrar.
	api("POST /api/v1/elections/{id}/register", s.register)
	api("PUT /api/v1/elections/{id}/oidc", s.admin(s.putOIDC))
	api("GET /api/v1/elections/{id}/oidc", s.admin(s.getOIDC))
	api("POST /api/v1/elections/{id}/oidc/start", s.oidcStart)
	mux.HandleFunc("GET /api/v1/elections/{id}/oidc/callback", s.oidcCallback)
	// Ballot box.
	api("POST /api/v1/elections/{id}/ballots", s.castBallot)
	api("POST /api/v1/elections/{id}/spoiled", s.spoilBallot)

	// The metrics are the administrator's: their counters and the Go
	// runtime's gauges move with each request, so read often they would
	// tell when each cast arrived within its batch.
	metricsHandler := promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{})
	api("GET /metrics", s.admin(func(w http.ResponseWriter, r *http.Request) error {
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
			return errorf(http.StatusUnauthorized, "unauthorized", "this needs the administrator's token (Authorization: Bearer …)")
		}
		return h(w, r)
	}
}
