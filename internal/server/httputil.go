package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/strictjson"
)

// httpError is an error with its HTTP status and stable code.
type httpError struct {
	status int
	code   string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, code, format string, args ...any) *httpError {
	return &httpError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		he = errorf(http.StatusInternalServerError, api.CodeInternal, "internal error")
	}
	writeJSON(w, he.status, api.Error{Error: he.code, Message: he.msg})
}

// readBody reads a request body of at most limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, errorf(http.StatusRequestEntityTooLarge, api.CodeTooLarge, "request body larger than %d bytes", limit)
	}
	if err != nil {
		return nil, errorf(http.StatusBadRequest, api.CodeBadRequest, "reading the request body: %v", err)
	}
	return data, nil
}

// decodeBody reads and strictly decodes a JSON request body into v.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	data, err := readBody(w, r, limit)
	if err != nil {
		return err
	}
	if err := strictjson.Decode(data, v); err != nil {
		return errorf(http.StatusBadRequest, api.CodeMalformed, "malformed request: %v", err)
	}
	return nil
}

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
// waiting for a timed batch (batching.go), and the line is written when
// the batch is committed, so neither tells when the request arrived.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, waited := withWaitRecord(r.Context())
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
