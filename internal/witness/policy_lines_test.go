package witness

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// TestPolicyVerifiesRepeatedLines: a second line of the same witness (or
// of the board key) with an invalid signature makes the checkpoint fail
// (SPEC.md §13.7). note.Open verifies only the first line of each key and
// drops the rest unread, so without the policy's own check such a note
// was accepted.
func TestPolicyVerifiesRepeatedLines(t *testing.T) {
	fx := newFixture(t, 2)
	pol, err := NewPolicy(fx.boardKey, fx.witnesses, 2)
	if err != nil {
		t.Fatal(err)
	}
	good, err := AddCosignatures(fx.signed, fx.line(0, 1), fx.line(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := pol.Verify(good); err != nil {
		t.Fatal(err)
	}
	// The same line twice is one cosignature.
	if _, c, err := pol.Verify(append(bytes.Clone(good), append(fx.line(0, 1), '\n')...)); err != nil || len(c) != 2 {
		t.Fatalf("a repeated identical line: %v, %d cosigners", err, len(c))
	}
	other := cosign(fx.witnesses[0].name, fx.privs[0], 1, []byte("koe.test/koe/e1\n4\nAAAA\n"))
	if _, _, err := pol.Verify(append(bytes.Clone(good), append(other, '\n')...)); err == nil {
		t.Fatal("a second cosignature line of witness 0, over another checkpoint, was accepted")
	}
	// The board key's line repeated with another checkpoint's signature.
	otherSigned, err := note.Sign(&note.Note{Text: "koe.test/koe/e1\n4\n" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"}, fx.boardSigner)
	if err != nil {
		t.Fatal(err)
	}
	boardLine := otherSigned[bytes.Index(otherSigned, []byte("\n\n"))+2:]
	if _, _, err := pol.Verify(append(bytes.Clone(good), boardLine...)); err == nil || errors.Is(err, ErrQuorum) {
		t.Fatalf("a second board line over another checkpoint: %v", err)
	}
}

// TestPolicyOrigin: a checkpoint whose origin is not the board key's name
// is refused, even though the key's signature verifies.
func TestPolicyOrigin(t *testing.T) {
	fx := newFixture(t, 1)
	pol, err := NewPolicy(fx.boardKey, fx.witnesses, 1)
	if err != nil {
		t.Fatal(err)
	}
	text := "koe.test/koe/e2\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	signed, err := note.Sign(&note.Note{Text: text}, fx.boardSigner)
	if err != nil {
		t.Fatal(err)
	}
	signed, err = AddCosignatures(signed, cosign(fx.witnesses[0].name, fx.privs[0], 1, []byte(text)))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := pol.Verify(signed); err == nil {
		t.Fatal("a checkpoint of origin koe.test/koe/e2 under the key koe.test/koe/e1 was accepted")
	}
}
