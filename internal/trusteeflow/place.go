// Package trusteeflow is a trustee's side of an election: where it reads
// the election and the other trustees' messages and publishes its own (a
// record directory or a server), and the steps of the key ceremony, the
// mix and the decryption, each checking what it reads first. The command
// koe trustee and the trustee page's WebAssembly program (cmd/koe-trustee-wasm)
// both run this code, so a trustee in a browser does exactly what one at a
// terminal does (SPEC.md §6.7).
package trusteeflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/mixnet"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/strictjson"
	"github.com/koe-vote/koe/internal/tally"
)

// HintError is an error with advice on how to fix it.
type HintError struct {
	Err  error
	Hint string
}

func (e *HintError) Error() string { return e.Err.Error() }
func (e *HintError) Unwrap() error { return e.Err }

// WithHint wraps err with advice; nil stays nil.
func WithHint(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &HintError{Err: err, Hint: fmt.Sprintf(format, args...)}
}

// A Place is where a trustee reads the election and the others' messages
// and publishes its own: an election record directory, or a server.
type Place interface {
	Manifest() ([]byte, error)
	// Messages returns every trustee's message of a round, by trustee.
	Messages(round string) (map[int][]byte, error)
	Publish(round string, j int, v any) (string, error)
	// Tally returns the encrypted tally the trustees are asked to decrypt.
	Tally() (*tally.Encrypted, error)
	// Record returns a directory holding the election record to verify
	// before decrypting, and a function that removes what it fetched.
	Record() (string, func(), error)
	PublishShare(s *tally.Share) (string, error)
	// CheckMixState refuses to mix c if the place shows it otherwise
	// than the record that was verified (another round posted since).
	CheckMixState(c *mixnet.Chain) error
	// PublishRound publishes trustee j's next round of c's mix.
	PublishRound(c *mixnet.Chain, j int, msg []byte) (string, error)
	// PublishMixShare publishes trustee j's decryption share of c's final list.
	PublishMixShare(c *mixnet.Chain, j int, share []byte) (string, error)
	// Registrar returns the id of the registrar's key, which the
	// election context binds (SPEC.md §7.4).
	Registrar() ([32]byte, error)
	Describe() string
}

// DirPlace is an election record directory.
type DirPlace string

func (d DirPlace) Describe() string { return string(d) }

func (d DirPlace) Manifest() ([]byte, error) {
	data, err := record.ReadFile(filepath.Join(string(d), record.Manifest))
	if err != nil {
		return nil, WithHint(err, "create the record with koe election init --manifest FILE %s", d)
	}
	return data, nil
}

func (d DirPlace) Messages(round string) (map[int][]byte, error) {
	files, err := record.Indexed(filepath.Join(string(d), record.CeremonyDir), round)
	if err != nil {
		return nil, err
	}
	out := map[int][]byte{}
	for j, name := range files {
		if out[j], err = record.ReadFile(name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (d DirPlace) Publish(round string, j int, v any) (string, error) {
	name := record.CeremonyFile(string(d), round, j)
	if _, err := os.Stat(name); err == nil {
		return "", fmt.Errorf("trustee %d has already published its %s message (%s)", j, round, name)
	}
	return name, record.WriteJSON(name, v)
}

func (d DirPlace) Tally() (*tally.Encrypted, error) { return ReadTally(string(d)) }

// ErrNoTally is the error of a record directory without a tally.
var ErrNoTally = errors.New("the election has no tally yet")

// ReadTally reads the encrypted tally of the record in dir.
func ReadTally(dir string) (*tally.Encrypted, error) {
	var pub tally.Encrypted
	if err := record.ReadJSON(filepath.Join(dir, record.Tally), &pub); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, WithHint(ErrNoTally, "run koe tally %s first", dir)
		}
		return nil, err
	}
	return &pub, nil
}

func (d DirPlace) Record() (string, func(), error) { return string(d), func() {}, nil }

func (d DirPlace) Registrar() ([32]byte, error) {
	pub, err := record.LoadRegistrar(string(d))
	if err != nil || pub == nil {
		return ballot.NoRegistrar, err
	}
	return pub.ID(), nil
}

func (d DirPlace) PublishShare(s *tally.Share) (string, error) {
	name := record.DecryptionFile(string(d), s.Trustee)
	return name, record.WriteJSON(name, s)
}

// State keeps what a trustee pinned of a server's board between steps:
// public values only (BoardState).
type State interface {
	// Load returns the saved state, or nil if there is none yet.
	Load() ([]byte, error)
	Save(data []byte) error
	// Describe names where it is kept, for messages.
	Describe() string
}

// FileState is a state file, next to the trustee's key file (KEY.board).
type FileState string

func (f FileState) Load() ([]byte, error) {
	data, err := os.ReadFile(string(f))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

func (f FileState) Save(data []byte) error { return os.WriteFile(string(f), data, 0o644) }
func (f FileState) Describe() string       { return string(f) }

// A ServerPlace reads the manifest and the ceremony from the election's
// board, every entry proved against a signed checkpoint (SPEC.md §6.6), and
// keeps in its State the board key it pinned on first use and the last
// checkpoint it saw, which every later checkpoint must extend.
type ServerPlace struct {
	C     *client.Client
	ID    string
	State State
	// Monitor, if not nil, is a monitor's mirror whose checkpoint the
	// board read must be consistent with (SPEC.md §13.9).
	Monitor *client.Client

	view   *client.BoardCeremony
	pinned string // the board key, if pinned by this session (first use)
}

// BoardState is the state a ServerPlace keeps.
type BoardState struct {
	BoardKey   string `json:"boardKey"`
	Checkpoint string `json:"checkpoint"`
}

func (p *ServerPlace) Describe() string {
	s := p.C.Base + " election " + p.ID
	if p.view != nil {
		cp := p.view.Checkpoint
		s += fmt.Sprintf(" (board checked at size %d, root %x)", cp.Size, cp.Hash[:8])
	}
	if p.pinned != "" {
		s += fmt.Sprintf("; board key %s pinned in %s: check that it is the one the administrator announced", p.pinned, p.State.Describe())
	}
	return s
}

// Pinned returns the board key this session pinned on first use, or "".
func (p *ServerPlace) Pinned() string { return p.pinned }

// View returns the board as this session read and checked it, or nil.
func (p *ServerPlace) View() *client.BoardCeremony { return p.view }

// Board reads the ceremony from the board once per session.
func (p *ServerPlace) Board() (*client.BoardCeremony, error) {
	if p.view != nil {
		return p.view, nil
	}
	ctx := context.Background()
	var st BoardState
	var prev []byte
	data, err := p.State.Load()
	switch {
	case err != nil:
		return nil, err
	case data != nil:
		if err := strictjson.Decode(data, &st); err != nil {
			return nil, WithHint(fmt.Errorf("%s: %w", p.State.Describe(), err), "this file keeps the board key and the last checkpoint you saw; restore it from your backup")
		}
		prev = []byte(st.Checkpoint)
	default:
		if st.BoardKey, err = p.C.BoardKey(ctx, p.ID); err != nil {
			return nil, err
		}
		p.pinned = st.BoardKey
	}
	verifier, err := board.ParseVerifierKey(st.BoardKey)
	if err != nil {
		return nil, fmt.Errorf("board key %q: %w", st.BoardKey, err)
	}
	view, err := p.C.CeremonyFromBoard(ctx, p.ID, verifier, prev)
	if err != nil {
		return nil, WithHint(fmt.Errorf("refusing the server's board: %w", err), "the server (or something between you and it) shows you a board other than the one it signed or showed you before; tell the administrator and the other trustees, and compare checkpoints with them")
	}
	if p.Monitor != nil {
		cp := view.Checkpoint
		if _, err := client.CompareWithMonitor(ctx, p.Monitor, p.ID, verifier, cp, func(n int64) (tlog.TreeProof, error) {
			return p.C.ProveTree(ctx, p.ID, cp, n)
		}); err != nil {
			return nil, WithHint(fmt.Errorf("refusing the server's board: it and the monitor %s's are not one history: %w", p.Monitor.Base, err), "the server shows you, or the monitor, a forked board; tell the administrator, the other trustees and the monitor's organisation, and do not go on")
		}
	}
	st.Checkpoint = string(view.Checkpoint.Note)
	out, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	if err := p.State.Save(append(out, '\n')); err != nil {
		return nil, err
	}
	p.view = view
	return view, nil
}

func (p *ServerPlace) Manifest() ([]byte, error) {
	v, err := p.Board()
	if err != nil {
		return nil, err
	}
	return v.Manifest, nil
}

func (p *ServerPlace) Messages(round string) (map[int][]byte, error) {
	v, err := p.Board()
	if err != nil {
		return nil, err
	}
	out := map[int][]byte{}
	for j, m := range v.Messages[round] {
		out[j] = m
	}
	return out, nil
}

func (p *ServerPlace) Publish(round string, j int, v any) (string, error) {
	return p.Describe(), p.C.PostCeremony(context.Background(), p.ID, round, v)
}

func (p *ServerPlace) Tally() (*tally.Encrypted, error) {
	return p.C.Tally(context.Background(), p.ID)
}

// Record downloads the board and the record the server derives from it:
// the trustee verifies them itself rather than trust the server's tally.
func (p *ServerPlace) Record() (string, func(), error) {
	dir, err := p.C.FetchRecord(context.Background(), p.ID)
	if err != nil {
		return "", nil, WithHint(fmt.Errorf("fetching the election record to verify before decrypting: %w", err), "the server must serve %s; without it you cannot check what you would decrypt", api.ElectionPath(p.ID, "/record"))
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

func (p *ServerPlace) Registrar() ([32]byte, error) {
	pub, err := p.C.RegistrarKey(context.Background(), p.ID)
	if err != nil {
		return [32]byte{}, err
	}
	return pub.ID(), nil
}

func (p *ServerPlace) PublishShare(s *tally.Share) (string, error) {
	return p.Describe(), p.C.PostDecryption(context.Background(), p.ID, s)
}

// DirPlace: a round or share is a file of the record's mixes/ (SPEC.md §16.6).

// CheckMixState has nothing to compare in a directory: the chain was
// just rebuilt from its own files.
func (d DirPlace) CheckMixState(c *mixnet.Chain) error { return nil }

func (d DirPlace) PublishRound(c *mixnet.Chain, j int, msg []byte) (string, error) {
	name := record.MixRoundFile(string(d), c.ID, len(c.Rounds)+1, j)
	if _, err := os.Stat(name); !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s already exists", name)
	}
	return name, record.WriteFile(name, msg)
}

func (d DirPlace) PublishMixShare(c *mixnet.Chain, j int, share []byte) (string, error) {
	name := record.MixShareFile(string(d), c.ID, j)
	return name, record.WriteFile(name, share)
}

// ServerPlace: the mix's state and lists come from the server's mix
// routes (SPEC.md §16.6), its rounds and shares are posted there. What the
// trustee mixes and decrypts is the chain it rebuilt from the verified
// board (LoadChains): the routes only tell it whether the server has moved
// on since, and their list must be the one it verified.

// CheckMixState compares the server's state of c's mix with the chain
// rebuilt from the board the trustee verified: the same rounds, by the
// same trustees, and the same latest list.
func (p *ServerPlace) CheckMixState(c *mixnet.Chain) error {
	ctx := context.Background()
	st, err := p.C.Mixes(ctx, p.ID)
	if err != nil {
		return err
	}
	var q *api.MixState
	for i := range st.Questions {
		if st.Questions[i].Question == c.ID {
			q = &st.Questions[i]
		}
	}
	if q == nil {
		return fmt.Errorf("the server %s shows no mix of question %q", p.C.Base, c.ID)
	}
	if len(q.Rounds) != len(c.Rounds) {
		return WithHint(fmt.Errorf("question %q: the server now has %d rounds, the board you verified %d: another trustee posted meanwhile", c.ID, len(q.Rounds), len(c.Rounds)), "run koe trustee mix again")
	}
	for r, round := range q.Rounds {
		if round.Round != r+1 || round.Trustee != c.Rounds[r].Trustee {
			return fmt.Errorf("question %q: the server says round %d is trustee %d's, its board trustee %d's", c.ID, round.Round, round.Trustee, c.Rounds[r].Trustee)
		}
	}
	if q.Count != c.Input.Len() || q.Width != c.Input.Width() {
		return fmt.Errorf("question %q: the server mixes %d answers of %d ciphertexts, its board counts %d of %d", c.ID, q.Count, q.Width, c.Input.Len(), c.Input.Width())
	}
	list, err := p.C.MixList(ctx, p.ID, c.ID, len(c.Rounds))
	if err != nil {
		return err
	}
	if !bytes.Equal(list, c.Last().Bytes()) {
		return WithHint(fmt.Errorf("question %q: the server's list %d is not the one its board implies", c.ID, len(c.Rounds)), "the server shows you something other than its board; tell the administrator and the other trustees")
	}
	return nil
}

func (p *ServerPlace) PublishRound(c *mixnet.Chain, j int, msg []byte) (string, error) {
	r, err := p.C.PostMix(context.Background(), p.ID, c.ID, msg)
	switch {
	case client.IsCode(err, api.CodeDuplicate):
		return "", WithHint(fmt.Errorf("already mixed: %w", err), "each trustee mixes a question once")
	case client.IsCode(err, api.CodeMixComplete):
		return "", WithHint(fmt.Errorf("the mix is complete: %w", err), "another trustee posted the last round meanwhile; decrypt: koe trustee decrypt")
	case err != nil:
		return "", err
	case r != len(c.Rounds)+1:
		return "", fmt.Errorf("the server took it as round %d, not %d", r, len(c.Rounds)+1)
	}
	return p.Describe(), nil
}

func (p *ServerPlace) PublishMixShare(c *mixnet.Chain, j int, share []byte) (string, error) {
	err := p.C.PostMixShare(context.Background(), p.ID, c.ID, share)
	if client.IsCode(err, api.CodeDuplicate) {
		return "", WithHint(fmt.Errorf("already decrypted: %w", err), "each trustee decrypts a question's final list once")
	}
	if err != nil {
		return "", err
	}
	return p.Describe(), nil
}
