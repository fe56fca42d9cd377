package witness

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/koe-vote/koe/internal/board"
)

// Errors of a witness's answer to add-checkpoint (C2SP tlog-witness).
var (
	ErrUnknownLog   = errors.New("witness: the witness does not know the board's origin (404)")
	ErrForbidden    = errors.New("witness: the witness does not accept the board's signature (403)")
	ErrBadRequest   = errors.New("witness: the witness refused the request as malformed or its old size as invalid (400)")
	ErrInconsistent = errors.New("witness: the witness refused the checkpoint as inconsistent with the one it cosigned (422)")
	ErrPushback     = errors.New("witness: the witness asks to slow down (429)")
	ErrStale        = errors.New("witness: the witness has cosigned a larger tree than this checkpoint's")
)

// ConflictError is a 409 answer: the witness's latest cosigned checkpoint
// of the log is of Size, not of the old size the request gave.
type ConflictError struct{ Size int64 }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("witness: the witness's tree size is %d (409)", e.Size)
}

// maxResponse bounds a witness's answer.
const maxResponse = 64 << 10

// Client speaks the C2SP tlog-witness protocol to one witness.
type Client struct {
	URL  string       // the witness's submission prefix; requests go to URL + "/add-checkpoint"
	HTTP *http.Client // nil: http.DefaultClient
}

// AddCheckpoint posts a signed checkpoint with the consistency proof from
// oldSize, the size the client believes the witness last cosigned (0 if
// none), and returns the witness's signature lines. A 409 answer is a
// *ConflictError with the witness's size; other refusals wrap the Err
// values above.
func (c *Client) AddCheckpoint(ctx context.Context, oldSize int64, proof []tlog.Hash, signed []byte) ([]byte, error) {
	var body bytes.Buffer
	fmt.Fprintf(&body, "old %d\n", oldSize)
	for _, h := range proof {
		body.WriteString(base64.StdEncoding.EncodeToString(h[:]))
		body.WriteByte('\n')
	}
	body.WriteByte('\n')
	body.Write(signed)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.URL, "/")+"/add-checkpoint", &body)
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("witness: reading the answer: %w", err)
	}
	if len(data) > maxResponse {
		return nil, errors.New("witness: the answer is too long")
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return data, nil
	case http.StatusConflict:
		n, err := ParseSize(data)
		if err != nil {
			return nil, err
		}
		return nil, &ConflictError{Size: n}
	case http.StatusNotFound:
		return nil, ErrUnknownLog
	case http.StatusForbidden:
		return nil, ErrForbidden
	case http.StatusBadRequest:
		return nil, ErrBadRequest
	case http.StatusUnprocessableEntity:
		return nil, ErrInconsistent
	case http.StatusTooManyRequests:
		return nil, ErrPushback
	}
	return nil, fmt.Errorf("witness: HTTP status %d", resp.StatusCode)
}

// ParseSize parses a 409 answer's body: a decimal tree size without
// leading zeros and one "\n".
func ParseSize(data []byte) (int64, error) {
	s, ok := strings.CutSuffix(string(data), "\n")
	if !ok || s == "" || len(s) > 19 || s != "0" && s[0] == '0' || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("witness: 409 answer %q is not a tree size", data)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("witness: 409 answer %q is not a tree size", data)
	}
	return n, nil
}

// ProofFunc returns the consistency proof between two tree sizes of the
// board (board.Log.ConsistencyProof).
type ProofFunc func(ctx context.Context, oldSize, newSize int64) (tlog.TreeProof, error)

// Peer is one witness of a policy as the board sees it: its key, its
// client and the tree size it last cosigned, as far as the board knows.
// Its methods are safe for concurrent use.
type Peer struct {
	Name   string // for logs and metrics
	Key    *Key
	Client *Client

	mu   sync.Mutex
	size int64
}

// Size returns the tree size the witness last cosigned, as far as known.
func (p *Peer) Size() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.size
}

// Cosign submits the board's checkpoint cp to the witness with the
// consistency proof from the size it last cosigned and returns its
// verified cosignature line. If the witness answers 409 with another size
// (it restarted, or another server process submitted) Cosign retries once
// with that size and its proof. A witness that cosigned a larger tree
// cannot cosign cp: ErrStale.
func (p *Peer) Cosign(ctx context.Context, cp *board.Checkpoint, prove ProofFunc) ([]byte, error) {
	old := p.Size()
	for try := 0; ; try++ {
		if old > cp.Size {
			return nil, ErrStale
		}
		var proof tlog.TreeProof
		if old > 0 && old < cp.Size {
			var err error
			if proof, err = prove(ctx, old, cp.Size); err != nil {
				return nil, fmt.Errorf("witness: consistency proof %d→%d: %w", old, cp.Size, err)
			}
		}
		lines, err := p.Client.AddCheckpoint(ctx, old, proof, cp.Note)
		var conflict *ConflictError
		if errors.As(err, &conflict) && try == 0 {
			old = conflict.Size
			continue
		}
		if err != nil {
			return nil, err
		}
		line, err := p.check(cp.Note, lines)
		if err != nil {
			return nil, err
		}
		p.mu.Lock()
		p.size = max(p.size, cp.Size)
		p.mu.Unlock()
		return line, nil
	}
}

// check finds the witness's cosignature among the signature lines it
// returned and verifies it on the checkpoint.
func (p *Peer) check(signed, lines []byte) ([]byte, error) {
	text, _, err := splitNote(signed)
	if err != nil {
		return nil, err
	}
	if !bytes.HasSuffix(lines, []byte("\n")) {
		return nil, errors.New("witness: the answer is not signature lines")
	}
	for _, l := range bytes.Split(lines[:len(lines)-1], []byte("\n")) {
		name, id, ok := lineKey(l)
		if !ok {
			return nil, errors.New("witness: the answer holds a malformed signature line")
		}
		if name != p.Key.name || id != p.Key.hash {
			continue // another key of the witness's (say a newer algorithm)
		}
		one := append(append(append([]byte{}, text...), '\n'), l...)
		one = append(one, '\n')
		if _, err := note.Open(one, note.VerifierList(p.Key)); err != nil {
			return nil, fmt.Errorf("witness: the cosignature does not verify: %w", err)
		}
		return l, nil
	}
	return nil, fmt.Errorf("witness: the answer holds no cosignature by %s", p.Key.name)
}

// decodeSig decodes a signature line's base64.
func decodeSig(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
