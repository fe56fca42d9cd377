package verify

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/record"
)

// Extends checks that the board of the record in dir extends a signed
// checkpoint its holder obtained elsewhere — from the public site, an
// observer, a voter's receipt (SPEC.md §9.2, §13.3): the checkpoint is
// signed by the record's board key, is of the same log, and its tree is
// the Merkle tree of the board's first Size entries. A board that does not
// is another view of the log than the one the checkpoint was signed for.
// The record's board is assumed verified (Counted).
func Extends(dir string, signed []byte) error {
	read := func(name string) ([]byte, error) {
		return record.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	}
	if !hasBoard(dir) {
		return errors.New("the record has no board to compare the checkpoint with")
	}
	keyText, err := read(record.BoardKey)
	if err != nil {
		return err
	}
	own, err := read(record.BoardCheckpoint)
	if err != nil {
		return err
	}
	lines, err := read(record.BoardEntries)
	if err != nil {
		return err
	}
	verifier, err := board.ParseVerifierKeyFile(keyText)
	if err != nil {
		return fmt.Errorf("%s: %w", record.BoardKey, err)
	}
	latest, err := board.ParseCheckpoint(own, verifier)
	if err != nil {
		return fmt.Errorf("%s: %w", record.BoardCheckpoint, err)
	}
	cp, err := board.ParseCheckpoint(signed, verifier)
	if err != nil {
		return fmt.Errorf("the checkpoint is not one of this board's key (%s): %w", verifier.Name(), err)
	}
	if cp.Origin != latest.Origin {
		return fmt.Errorf("the checkpoint is of log %q, the board is %q", cp.Origin, latest.Origin)
	}
	leaves := bytes.Split(bytes.TrimSuffix(lines, []byte("\n")), []byte("\n"))
	if cp.Size > int64(len(leaves)) {
		return fmt.Errorf("the checkpoint covers %d entries, the board has only %d: the board was cut back", cp.Size, len(leaves))
	}
	if merkleRoot(leaves[:cp.Size]) != cp.Hash {
		return fmt.Errorf("the board's first %d entries are not the tree of the checkpoint (size %d): this is another view of the log than the one the checkpoint was signed for", cp.Size, cp.Size)
	}
	return nil
}
