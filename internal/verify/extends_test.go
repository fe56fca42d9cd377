package verify_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/verify"
)

func TestExtends(t *testing.T) {
	dir := filepath.FromSlash("../../testdata/vectors/server-record")
	own, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(record.BoardCheckpoint)))
	if err != nil {
		t.Fatal(err)
	}
	if err := verify.Extends(dir, own); err != nil {
		t.Fatalf("the board's own checkpoint: %v", err)
	}
	text, sig, _ := strings.Cut(string(own), "\n\n")
	lines := strings.Split(text, "\n")
	for _, tc := range []struct {
		name, signed, want string
	}{
		{"not a note", "garbage", "not one of this board's key"},
		{"empty", "", "not one of this board's key"},
		{"size changed, signature kept", lines[0] + "\n1\n" + lines[2] + "\n\n" + sig, "not one of this board's key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := verify.Extends(dir, []byte(tc.signed)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	if err := verify.Extends(filepath.FromSlash("../../testdata/vectors/record"), own); err == nil || !strings.Contains(err.Error(), "no board") {
		t.Fatalf("an offline record: %v", err)
	}
}

// Extends reads board/key with board.ParseVerifierKeyFile, as the rest of
// the verifier does (SPEC §10.1: the key text and one final "\n"), not
// with a lenient parser of its own that trimmed white space.
func TestExtendsBoardKeyFile(t *testing.T) {
	src := filepath.FromSlash("../../testdata/vectors/server-record")
	own, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(record.BoardCheckpoint)))
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(record.BoardKey)))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.TrimSuffix(string(key), "\n")
	for name, bad := range map[string]string{
		"no final newline":   text,
		"two final newlines": text + "\n\n",
		"CRLF":               text + "\r\n",
		"leading space":      " " + text + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(record.BoardKey)), []byte(bad), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := verify.Extends(dir, own); err == nil || !strings.Contains(err.Error(), record.BoardKey) {
				t.Fatalf("got %v, want the key file refused", err)
			}
		})
	}
}
