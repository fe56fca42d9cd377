package record_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/record"
)

// A ceremony that fails verification is reported once as the ceremony's
// ("ceremony: …"), not "ceremony: ceremony: …" (code-review §3 item 7).
func TestLoadElectionCeremonyError(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.FromSlash("../../testdata/vectors/record"))); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "ceremony", "announce-1.json")
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	tampered := strings.Replace(string(data), "(trustee 1)", "(trustee one)", 1)
	if tampered == string(data) {
		t.Fatal("fixture has no trustee name to change")
	}
	if err := os.WriteFile(name, []byte(tampered), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = record.LoadElection(dir)
	if err == nil {
		t.Fatal("a renamed trustee's announcement verifies")
	}
	if !strings.HasPrefix(err.Error(), "ceremony: ") || strings.Contains(err.Error(), "ceremony: ceremony:") {
		t.Fatalf("error %q: want one ceremony: prefix", err)
	}
}
