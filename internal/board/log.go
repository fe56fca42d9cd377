// Package board implements koe's public bulletin board according to SPEC.md
// §13: for each election, an append-only RFC 6962 Merkle log whose leaves
// are the exact bytes of canonically encoded entries, with signed
// checkpoints in the C2SP tlog-checkpoint and signed-note formats, receipts
// (an entry's inclusion proof against a checkpoint), and a read API in the
// C2SP tlog-tiles layout, so that standard transparency-log clients and
// witnesses can audit the board.
//
// The tree's hashes are kept by the store (store.Board), in the same
// transaction as the entries that add them; the board computes tree hashes
// and proofs from them with golang.org/x/mod/sumdb/tlog.
package board

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/koe-vote/koe/internal/store"
)

// Origin returns the checkpoint origin of an election's log served from
// host: "<host>/koe/<election>".
func Origin(host, election string) string { return host + "/koe/" + election }

// splitOrigin returns the election of an origin "<host>/koe/<election>",
// where neither host nor election is empty and election has no '/'.
func splitOrigin(origin string) (election string, ok bool) {
	i := strings.LastIndex(origin, "/koe/")
	if i <= 0 || strings.ContainsAny(origin, " \t\r\n+") {
		return "", false
	}
	election = origin[i+len("/koe/"):]
	return election, election != "" && !strings.Contains(election, "/")
}

// Log is the board of one election. Its methods are safe for concurrent use
// if the store's are.
type Log struct {
	st       store.Board
	election string
	origin   string
	signer   note.Signer

	mu     sync.Mutex // serialises Checkpoint
	signed func()     // called after a new checkpoint is saved (SetOnSign)
}

// SetOnSign sets a function that Checkpoint calls, holding the log's
// lock, after it signs and saves a new checkpoint: for instance to submit
// it to witnesses (SPEC.md §13.7). It must not block. Set it before use.
func (l *Log) SetOnSign(f func()) { l.signed = f }

// New returns the board of election, stored in st, whose checkpoints have
// the given origin (see Origin) and are signed by signer, an Ed25519 note
// signer (note.GenerateKey, note.NewSigner). C2SP tlog-checkpoint says the
// key's name SHOULD be the origin; a server that signs the boards of all its
// elections with one key names it after its host instead, and verifiers
// check the origin separately. New panics if the origin is not
// "<host>/koe/<election>" with an election id without '/', spaces or '+':
// that is a programming error.
func New(st store.Board, election, origin string, signer note.Signer) *Log {
	if e, ok := splitOrigin(origin); !ok || e != election {
		panic(fmt.Sprintf("board: origin %q is not <host>/koe/%s", origin, election))
	}
	return &Log{st: st, election: election, origin: origin, signer: signer}
}

// Election returns the log's election id.
func (l *Log) Election() string { return l.election }

// Origin returns the log's checkpoint origin.
func (l *Log) Origin() string { return l.origin }

// hashReader reads the log's stored hashes.
func (l *Log) hashReader(ctx context.Context) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		return l.st.ReadHashes(ctx, l.election, indexes)
	})
}

// Append encodes entries, which must belong to the log's election, and
// appends them in one transaction. It returns the index of the first.
func (l *Log) Append(ctx context.Context, entries ...Entry) (int64, error) {
	if len(entries) == 0 {
		return 0, errors.New("board: nothing to append")
	}
	raw := make([][]byte, len(entries))
	for i, e := range entries {
		if e.Election != l.election {
			return 0, fmt.Errorf("board: entry for election %q appended to the log of %q", e.Election, l.election)
		}
		b, err := e.Encode()
		if err != nil {
			return 0, err
		}
		raw[i] = b
	}
	return l.st.Append(ctx, l.election, raw)
}

// Checkpoint is a signed checkpoint of a log (SPEC.md §13.3).
type Checkpoint struct {
	Origin string
	Size   int64
	Hash   tlog.Hash
	Note   []byte // the signed note: the checkpoint text, a blank line, signature lines
}

// Checkpoint returns a signed checkpoint of the whole log. If the store
// holds one of the same tree (or a larger one, saved by another process),
// that one is returned; otherwise a new one is signed and saved.
func (l *Log) Checkpoint(ctx context.Context) (*Checkpoint, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	size, err := l.st.TreeSize(ctx, l.election)
	if err != nil {
		return nil, fmt.Errorf("board: reading tree size: %w", err)
	}
	hash, err := tlog.TreeHash(size, l.hashReader(ctx))
	if err != nil {
		return nil, fmt.Errorf("board: computing tree hash: %w", err)
	}
	saved, err := l.st.Checkpoint(ctx, l.election)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("board: reading checkpoint: %w", err)
	default:
		if cp, err := l.parseOwn(saved); err == nil &&
			(cp.Size > size || cp.Size == size && cp.Hash == hash) {
			return cp, nil
		}
	}
	text := log.Checkpoint{Origin: l.origin, Size: uint64(size), Hash: hash[:]}.Marshal()
	signed, err := note.Sign(&note.Note{Text: string(text)}, l.signer)
	if err != nil {
		return nil, fmt.Errorf("board: signing checkpoint: %w", err)
	}
	if err := l.st.SaveCheckpoint(ctx, l.election, size, signed); err != nil {
		return nil, fmt.Errorf("board: saving checkpoint: %w", err)
	}
	if l.signed != nil {
		l.signed()
	}
	return &Checkpoint{Origin: l.origin, Size: size, Hash: hash, Note: signed}, nil
}

// parseOwn parses a checkpoint the store returned, checking that it is the
// log's and that its first signature is by the log's current key (the
// signature itself is not verified: the signer has no public key).
func (l *Log) parseOwn(signed []byte) (*Checkpoint, error) {
	_, err := note.Open(signed, nil)
	var u *note.UnverifiedNoteError
	if !errors.As(err, &u) {
		return nil, errors.New("board: malformed stored checkpoint")
	}
	sigs := u.Note.UnverifiedSigs
	if len(sigs) == 0 || sigs[0].Name != l.signer.Name() || sigs[0].Hash != l.signer.KeyHash() {
		return nil, errors.New("board: stored checkpoint is not signed by the current key")
	}
	cp, err := parseText(u.Note.Text)
	if err != nil {
		return nil, err
	}
	if cp.Origin != l.origin {
		return nil, errors.New("board: stored checkpoint has another origin")
	}
	cp.Note = bytes.Clone(signed)
	return cp, nil
}

// ParseCheckpoint verifies a signed checkpoint with the log's verifier and
// parses it. Its origin must be of the form "<host>/koe/<election>"; the
// caller checks that it is the one expected. Checkpoints with extension
// lines are rejected; other signatures (by witnesses) are allowed and
// ignored.
func ParseCheckpoint(signed []byte, verifier note.Verifier) (*Checkpoint, error) {
	n, err := note.Open(signed, note.VerifierList(verifier))
	if err != nil {
		return nil, fmt.Errorf("board: checkpoint signature: %w", err)
	}
	signedByLog := false
	for _, s := range n.Sigs {
		if s.Name == verifier.Name() && s.Hash == verifier.KeyHash() {
			signedByLog = true
		}
	}
	if !signedByLog {
		return nil, errors.New("board: checkpoint is not signed by the log")
	}
	cp, err := parseText(n.Text)
	if err != nil {
		return nil, err
	}
	if _, ok := splitOrigin(cp.Origin); !ok {
		return nil, fmt.Errorf("board: checkpoint origin %q is not <host>/koe/<election>", cp.Origin)
	}
	cp.Note = bytes.Clone(signed)
	return cp, nil
}

// parseText parses a tlog-checkpoint body strictly: three lines (origin,
// decimal size, base64 32-byte hash), no extension lines, canonical.
func parseText(text string) (*Checkpoint, error) {
	var c log.Checkpoint
	rest, err := c.Unmarshal([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("board: %v", err)
	}
	if len(rest) != 0 {
		return nil, errors.New("board: checkpoint has extension lines")
	}
	if len(c.Hash) != tlog.HashSize {
		return nil, fmt.Errorf("board: checkpoint hash is %d bytes, not %d", len(c.Hash), tlog.HashSize)
	}
	if c.Size > 1<<63-1 {
		return nil, errors.New("board: checkpoint size out of range")
	}
	if string(c.Marshal()) != text {
		return nil, errors.New("board: checkpoint is not in canonical form")
	}
	cp := &Checkpoint{Origin: c.Origin, Size: int64(c.Size)}
	copy(cp.Hash[:], c.Hash)
	return cp, nil
}

// InclusionProof proves that entry index is in the tree of size treeSize.
func (l *Log) InclusionProof(ctx context.Context, index, treeSize int64) (tlog.RecordProof, error) {
	if index < 0 || index >= treeSize {
		return nil, fmt.Errorf("board: entry %d is not in a tree of size %d", index, treeSize)
	}
	if err := l.checkSize(ctx, treeSize); err != nil {
		return nil, err
	}
	p, err := tlog.ProveRecord(treeSize, index, l.hashReader(ctx))
	if err != nil {
		return nil, fmt.Errorf("board: inclusion proof: %w", err)
	}
	return p, nil
}

// ConsistencyProof proves that the tree of size oldSize is a prefix of the
// tree of size newSize.
func (l *Log) ConsistencyProof(ctx context.Context, oldSize, newSize int64) (tlog.TreeProof, error) {
	if oldSize < 0 || oldSize > newSize {
		return nil, fmt.Errorf("board: no consistency proof from size %d to %d", oldSize, newSize)
	}
	if err := l.checkSize(ctx, newSize); err != nil {
		return nil, err
	}
	if oldSize == 0 {
		return tlog.TreeProof{}, nil // the empty tree is a prefix of every tree
	}
	p, err := tlog.ProveTree(newSize, oldSize, l.hashReader(ctx))
	if err != nil {
		return nil, fmt.Errorf("board: consistency proof: %w", err)
	}
	return p, nil
}

// checkSize checks that the log has at least size entries.
func (l *Log) checkSize(ctx context.Context, size int64) error {
	n, err := l.st.TreeSize(ctx, l.election)
	if err != nil {
		return fmt.Errorf("board: reading tree size: %w", err)
	}
	if size > n {
		return fmt.Errorf("board: tree size %d is beyond the log's %d", size, n)
	}
	return nil
}
