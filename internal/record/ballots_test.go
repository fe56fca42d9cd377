package record_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/record"
)

// TestDecodeBallots: the vector record's ballots decode in order; a
// ballots.bin cut short, or with a ballot that is not one, is refused,
// naming the file and the ballot.
func TestDecodeBallots(t *testing.T) {
	src := filepath.FromSlash("../../testdata/vectors/record")
	e, _, err := record.LoadElection(src)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := record.DecodeBallots(src, e)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(src, record.Ballots))
	if err != nil {
		t.Fatal(err)
	}
	size := e.Style.Size()
	if len(bs) != len(raw)/size || len(bs) < 2 {
		t.Fatalf("%d ballots decoded from %d bytes of %d-byte ballots", len(bs), len(raw), size)
	}
	for i, b := range bs {
		if string(b.Bytes()) != string(raw[i*size:(i+1)*size]) {
			t.Fatalf("ballot %d is not the file's ballot %d", i+1, i+1)
		}
	}
	for _, tc := range []struct {
		name string
		edit func([]byte) []byte
		want string
	}{
		{"cut short", func(b []byte) []byte { return b[:len(b)-1] }, "ballots.bin: "},
		{"not a ballot", func(b []byte) []byte { b[size] ^= 0xff; return b }, "ballots.bin: ballot 2: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, record.Ballots), tc.edit([]byte(string(raw))), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := record.DecodeBallots(dir, e)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
