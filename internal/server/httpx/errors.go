// Package httpx holds what the server's role packages (registrar,
// castbox) and its lifecycle layer share to answer HTTP requests: error
// answers, body limits, per-key rate limits, and the timed batches of
// SPEC.md §15.5. It holds no state of any role.
package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/strictjson"
)

// ErrClosing is a request's outcome when the server stops before its
// batch is committed.
var ErrClosing = errors.New("server is shutting down")

// Error is an error answer: its HTTP status, its stable code (api.Code…)
// and its message for people. A handler's error that is not an *Error is
// an internal one, answered 500 "internal".
type Error struct {
	Status int
	Code   string
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

// Errorf returns an error answer.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Msg: fmt.Sprintf(format, args...)}
}

// WriteJSON answers with v as indented JSON, not to be cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// WriteError answers with err: an *Error as it says, any other as 500.
func WriteError(w http.ResponseWriter, err error) {
	var he *Error
	if !errors.As(err, &he) {
		he = Errorf(http.StatusInternalServerError, api.CodeInternal, "internal error")
	}
	WriteJSON(w, he.Status, api.Error{Error: he.Code, Message: he.Msg})
}

// ReadBody reads a request body of at most limit bytes.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, Errorf(http.StatusRequestEntityTooLarge, api.CodeTooLarge, "request body larger than %d bytes", limit)
	}
	if err != nil {
		return nil, Errorf(http.StatusBadRequest, api.CodeBadRequest, "reading the request body: %v", err)
	}
	return data, nil
}

// DecodeBody reads and strictly decodes a JSON request body into v.
func DecodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	data, err := ReadBody(w, r, limit)
	if err != nil {
		return err
	}
	if err := strictjson.Decode(data, v); err != nil {
		return Errorf(http.StatusBadRequest, api.CodeMalformed, "malformed request: %v", err)
	}
	return nil
}
