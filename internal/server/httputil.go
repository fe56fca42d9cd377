package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"github.com/koe-vote/koe/internal/server/httpx"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// tokenHash is how the server keeps bearer tokens: never in the clear.
func tokenHash(token string) [32]byte { return sha256.Sum256([]byte("koe/v2/token\x00" + token)) }

// bearer returns the request's bearer token, or "".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return ""
}

// tokenMatches compares a presented token with a stored hash in constant time.
func tokenMatches(token string, want [32]byte) bool {
	if token == "" {
		return false
	}
	got := tokenHash(token)
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests logs each request's route pattern, status and duration. It
// never logs a client address, a header, a body, a query string or a path
// with identifiers: the route pattern ("POST /api/v1/elections/{id}/ballots")
// is all it says of what was asked. The duration leaves out the time spent
// waiting for a timed batch (httpx.RecordWait), and the line is written when
// the batch is committed, so neither tells when the request arrived.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, waited := httpx.WithWaitRecord(r.Context())
		r = r.WithContext(ctx)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		pattern := r.Pattern
		if pattern == "" {
			pattern = "unmatched"
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("route", pattern), slog.Int("status", rec.status),
			slog.Duration("duration", max(0, time.Since(start)-time.Duration(waited.Load()))))
	})
}
