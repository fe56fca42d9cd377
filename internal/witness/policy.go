package witness

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/koe-vote/koe/internal/board"
)

// MaxWitnesses bounds an election's witness list (SPEC.md §7.2).
const MaxWitnesses = 16

// Policy is an election's witness policy (SPEC.md §7.2, §13.7): the
// board's checkpoint key, the witnesses' keys and the quorum, the fewest
// distinct witnesses whose cosignatures a checkpoint needs.
type Policy struct {
	Board     note.Verifier
	Witnesses []*Key
	Quorum    int
}

// NewPolicy checks and returns a policy: the witness keys are distinct
// (neither two names nor two public keys the same), none is the board's,
// and 1 ≤ quorum ≤ len(witnesses) — or there are no witnesses and the
// quorum is 0, a policy that only anchors the board's key.
func NewPolicy(boardKey note.Verifier, witnesses []*Key, quorum int) (*Policy, error) {
	if boardKey == nil {
		return nil, errors.New("witness: a policy needs the board's key")
	}
	if len(witnesses) > MaxWitnesses {
		return nil, fmt.Errorf("witness: %d witnesses, at most %d", len(witnesses), MaxWitnesses)
	}
	if len(witnesses) == 0 && quorum != 0 || len(witnesses) > 0 && (quorum < 1 || quorum > len(witnesses)) {
		return nil, fmt.Errorf("witness: quorum %d of %d witnesses, want 1..%d", quorum, len(witnesses), len(witnesses))
	}
	names := map[string]bool{boardKey.Name(): true}
	keys := map[string]bool{}
	for i, w := range witnesses {
		if names[w.name] {
			return nil, fmt.Errorf("witness: witness %d's key name %q is used twice (or is the board's)", i+1, w.name)
		}
		if keys[string(w.public)] {
			return nil, fmt.Errorf("witness: witness %d's public key is used twice", i+1)
		}
		names[w.name], keys[string(w.public)] = true, true
	}
	return &Policy{Board: boardKey, Witnesses: witnesses, Quorum: quorum}, nil
}

// ErrQuorum is wrapped by Verify's error when a checkpoint is signed by
// the board but cosigned by fewer witnesses than the quorum.
var ErrQuorum = errors.New("witness: too few cosignatures")

// Verify checks a signed checkpoint against the policy (SPEC.md §13.7):
// the board's signature verifies (board.ParseCheckpoint), every signature
// line of a listed witness is a valid cosignature/v1 of the checkpoint,
// and at least Quorum distinct listed witnesses cosign it. It returns the
// checkpoint and the witnesses that cosign it, in policy order. Lines of
// other keys are ignored.
func (p *Policy) Verify(signed []byte) (*board.Checkpoint, []*Key, error) {
	cp, err := board.ParseCheckpoint(signed, p.Board)
	if err != nil {
		return nil, nil, err
	}
	if cp.Origin != p.Board.Name() {
		return nil, nil, fmt.Errorf("witness: checkpoint origin %q is not the board key's name %q", cp.Origin, p.Board.Name())
	}
	if err := p.checkEveryLine(signed); err != nil {
		return nil, nil, err
	}
	cosigners, err := p.cosigners(signed)
	if err != nil {
		return nil, nil, err
	}
	if len(cosigners) < p.Quorum {
		return cp, cosigners, fmt.Errorf("%w: %d of the %d needed (%s)", ErrQuorum, len(cosigners), p.Quorum, names(cosigners))
	}
	return cp, cosigners, nil
}

// checkEveryLine verifies every signature line in the name and key ID of
// the board or of a listed witness, repeated ones included (note.Open
// verifies only the first line of each key and drops the others unread,
// but SPEC.md §13.7 makes any invalid line of a listed key fail).
func (p *Policy) checkEveryLine(signed []byte) error {
	text, lines, err := splitNote(signed)
	if err != nil {
		return err
	}
	for _, l := range lines {
		name, b64, ok := strings.Cut(strings.TrimPrefix(string(l), sigPrefix), " ")
		sig, err := decodeSig(b64)
		if !ok || err != nil || len(sig) < 4 {
			return errors.New("witness: malformed signature line")
		}
		id := uint32(sig[0])<<24 | uint32(sig[1])<<16 | uint32(sig[2])<<8 | uint32(sig[3])
		var v note.Verifier
		if name == p.Board.Name() && id == p.Board.KeyHash() {
			v = p.Board
		}
		for _, w := range p.Witnesses {
			if name == w.name && id == w.hash {
				v = w
			}
		}
		if v != nil && !v.Verify(text, sig[4:]) {
			return fmt.Errorf("witness: a signature line of %s does not verify", name)
		}
	}
	return nil
}

// cosigners returns the listed witnesses whose valid cosignature the note
// holds; an invalid cosignature by a listed key is an error.
func (p *Policy) cosigners(signed []byte) ([]*Key, error) {
	if len(p.Witnesses) == 0 {
		return nil, nil
	}
	vs := make([]note.Verifier, len(p.Witnesses))
	for i, w := range p.Witnesses {
		vs[i] = w
	}
	n, err := note.Open(signed, note.VerifierList(vs...))
	var unverified *note.UnverifiedNoteError
	switch {
	case errors.As(err, &unverified):
		return nil, nil // no listed witness signed
	case err != nil:
		return nil, fmt.Errorf("witness: cosignatures: %w", err)
	}
	var out []*Key
	for _, w := range p.Witnesses {
		for _, s := range n.Sigs {
			if s.Name == w.name && s.Hash == w.hash {
				out = append(out, w)
				break
			}
		}
	}
	return out, nil
}

func names(keys []*Key) string {
	if len(keys) == 0 {
		return "none"
	}
	s := make([]string, len(keys))
	for i, k := range keys {
		s[i] = k.name
	}
	return strings.Join(s, ", ")
}

// A signature line of a signed note: "— " name " " base64(keyID ‖ sig).
const sigPrefix = "\u2014 "

// splitNote splits a signed note into its text (with its final newline)
// and its signature lines (each without its newline).
func splitNote(signed []byte) (text []byte, lines [][]byte, err error) {
	i := bytes.Index(signed, []byte("\n\n"))
	if i < 0 || !bytes.HasSuffix(signed, []byte("\n")) {
		return nil, nil, errors.New("witness: not a signed note")
	}
	text = signed[:i+1]
	for _, l := range bytes.Split(signed[i+2:len(signed)-1], []byte("\n")) {
		if !bytes.HasPrefix(l, []byte(sigPrefix)) {
			return nil, nil, errors.New("witness: malformed signature line")
		}
		lines = append(lines, l)
	}
	return text, lines, nil
}

// lineKey returns the name and key ID a signature line names.
func lineKey(line []byte) (name string, id uint32, ok bool) {
	name, b64, ok := strings.Cut(strings.TrimPrefix(string(line), sigPrefix), " ")
	if !ok || name == "" {
		return "", 0, false
	}
	sig, err := decodeSig(b64)
	if err != nil || len(sig) < 4 {
		return "", 0, false
	}
	return name, uint32(sig[0])<<24 | uint32(sig[1])<<16 | uint32(sig[2])<<8 | uint32(sig[3]), true
}

// AddCosignatures returns the signed note with the cosignature lines
// added after its own signatures; a line replaces one of the note that
// names the same key (a fresh cosignature of the same checkpoint). The
// note's first line of signatures (the board's) stays first.
func AddCosignatures(signed []byte, cosigs ...[]byte) ([]byte, error) {
	text, lines, err := splitNote(signed)
	if err != nil {
		return nil, err
	}
	for _, c := range cosigs {
		c = bytes.TrimSuffix(c, []byte("\n"))
		cn, cid, ok := lineKey(c)
		if !ok {
			return nil, errors.New("witness: malformed cosignature line")
		}
		replaced := false
		for i, l := range lines {
			if n, id, ok := lineKey(l); ok && n == cn && id == cid {
				lines[i], replaced = c, true
			}
		}
		if !replaced {
			lines = append(lines, c)
		}
	}
	var b bytes.Buffer
	b.Write(text)
	b.WriteByte('\n')
	for _, l := range lines {
		b.Write(l)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}
