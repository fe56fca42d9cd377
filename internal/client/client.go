// Package client talks to a koe server's API (SPEC.md §15) for the
// command line, the load generator and the tests: the administrator's
// lifecycle calls, a trustee's ceremony and decryption, and a voter's
// registration, encryption and casting.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/koe-vote/koe/internal/strictjson"
)

// Client calls one koe server.
type Client struct {
	Base  string // e.g. http://127.0.0.1:8080
	Token string // bearer token (administrator or trustee), if any
	HTTP  *http.Client
}

// New returns a client for the server at base.
func New(base, token string) *Client {
	return &Client{Base: strings.TrimRight(base, "/"), Token: token, HTTP: &http.Client{Timeout: 5 * time.Minute}}
}

// Error is an error answer from the server.
type Error struct {
	Status  int
	Code    string `json:"error"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return fmt.Sprintf("server: %s (%d %s)", e.Message, e.Status, e.Code) }

// IsCode reports whether err is a server error with this code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// ErrAnswer is wrapped by the error for a server answer that is not the
// strict JSON of its message (SPEC.md §2.3, §15.1): null, a missing,
// unknown or duplicate field, trailing data. A client treats such an
// answer as a failure of the server, never as the zero value.
var ErrAnswer = errors.New("client: the server's answer is not strict JSON of the expected message")

// Do sends a request and decodes a JSON answer into out (if not nil)
// strictly, with strictjson: out's json tags are the answer's schema.
func (c *Client) Do(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	raw, err := c.Raw(ctx, method, path, contentType, body)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := strictjson.Decode(raw, out); err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrAnswer, method, path, err)
	}
	return nil
}

// errorBody is the JSON of an error answer (SPEC.md §15.1).
type errorBody struct {
	Code    string `json:"error"`
	Message string `json:"message"`
}

// Raw sends a request and returns the answer's body.
func (c *Client) Raw(ctx context.Context, method, path, contentType string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<30))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		e := &Error{Status: resp.StatusCode}
		var b errorBody
		if strictjson.Decode(raw, &b) != nil || b.Code == "" {
			// Not koe's error message (a proxy's page, a malformed
			// answer): keep its text, under the code "http".
			e.Code, e.Message = "http", strings.TrimSpace(string(raw))
		} else {
			e.Code, e.Message = b.Code, b.Message
		}
		return nil, e
	}
	return raw, nil
}

// JSON posts v as JSON.
func (c *Client) JSON(ctx context.Context, method, path string, v, out any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.Do(ctx, method, path, "application/json", body, out)
}
