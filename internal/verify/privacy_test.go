package verify_test

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/tally"
	"github.com/koe-vote/koe/internal/verify"
)

// smallRecord is a demo record of three voters; the demo sets the
// manifest's privacy threshold to 3. It returns the record and the demo.
func smallRecord(t *testing.T) (string, *demo.Summary) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "record")
	data, err := examples.Manifest("referendum")
	if err != nil {
		t.Fatal(err)
	}
	s, err := demo.Run(demo.Options{Dir: dir, Manifest: data, Voters: 3, Trustees: 3, Threshold: 2, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Report.OK() || s.Election.Manifest.PrivacyThreshold() != 3 {
		t.Fatalf("the demo record: privacy threshold %d, failures %v", s.Election.Manifest.PrivacyThreshold(), s.Report.Failures())
	}
	return dir, s
}

// dropLastBallot removes the last counted ballot of an offline record and
// publishes the tally of the others: a record of two ballots.
func dropLastBallot(t *testing.T, dir string, e *ballot.Election) *tally.Accumulator {
	t.Helper()
	name := filepath.Join(dir, record.Ballots)
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data[:len(data)-e.Style.Size()], 0o644); err != nil {
		t.Fatal(err)
	}
	acc, err := verify.Ballots(dir, e, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := record.WriteJSON(filepath.Join(dir, record.Tally), acc.Publish()); err != nil {
		t.Fatal(err)
	}
	return acc
}

// TestDecryptionBelowPrivacyThreshold: trustees who ignore the privacy
// threshold decrypt a tally of two ballots under a threshold of three,
// with valid proofs, and publish correct results. The record is invalid.
func TestDecryptionBelowPrivacyThreshold(t *testing.T) {
	dir, s := smallRecord(t)
	e := s.Election
	for _, f := range []string{filepath.Join(dir, record.Results), record.DecryptionFile(dir, 1), record.DecryptionFile(dir, 2), record.DecryptionFile(dir, 3)} {
		os.Remove(f)
	}
	acc := dropLastBallot(t, dir, e)

	// Lax trustees: their code skips the rule.
	lax := *e
	m := *e.Manifest
	one := 1
	m.Privacy = &one
	lax.Manifest = &m
	_, res, err := record.LoadElection(dir)
	if err != nil {
		t.Fatal(err)
	}
	partials := map[int][]*group.Element{}
	for _, tr := range s.Trustees[:2] {
		share, err := tally.Decrypt(rand.Reader, &lax, acc, tr.Index, tr.Share())
		if err != nil {
			t.Fatal(err)
		}
		if partials[tr.Index], err = tally.Check(e, acc, share, res.VerificationKeys[tr.Index]); err != nil {
			t.Fatal(err)
		}
		if err := record.WriteJSON(record.DecryptionFile(dir, tr.Index), share); err != nil {
			t.Fatal(err)
		}
	}
	totals, err := tally.Combine(acc, partials, 2, elgamal.NewDlogTable(tally.MaxTotal(e.Style, acc.Ballots)))
	if err != nil {
		t.Fatal(err)
	}
	if err := record.WriteJSON(filepath.Join(dir, record.Results), tally.ResultsOf(e.Manifest, acc.Ballots, totals)); err != nil {
		t.Fatal(err)
	}

	r := verify.Record(dir, verify.Options{})
	if r.OK() {
		t.Fatal("a record with a decryption of 2 ballots under a privacy threshold of 3 verifies")
	}
	fails := r.Failures()
	if len(fails) != 1 || fails[0].What != record.DecryptDir || !strings.Contains(fails[0].Detail, "2 partial decryptions published of a tally of 2 ballots, below the manifest's privacy threshold of 3") {
		t.Fatalf("failures %v", fails)
	}
	if r.Results != nil {
		t.Fatal("the report gives results decrypted below the privacy threshold")
	}
}

// TestWithheldRecord: a tally below the privacy threshold that nobody
// decrypted is a valid record, whose results are withheld.
func TestWithheldRecord(t *testing.T) {
	dir, s := smallRecord(t)
	for _, f := range []string{filepath.Join(dir, record.Results), record.DecryptionFile(dir, 1), record.DecryptionFile(dir, 2), record.DecryptionFile(dir, 3)} {
		os.Remove(f)
	}
	dropLastBallot(t, dir, s.Election)
	r := verify.Record(dir, verify.Options{})
	if !r.OK() || !r.Withheld || r.InProgress || r.Results != nil {
		t.Fatalf("ok %v, withheld %v, in progress %v; failures %v", r.OK(), r.Withheld, r.InProgress, r.Failures())
	}
	last := r.Checks[len(r.Checks)-1]
	if last.What != record.Results || !strings.Contains(last.Detail, "withheld: 2 ballots counted, fewer than the privacy threshold of 3") {
		t.Fatalf("last check %+v", last)
	}
}

// TestCounted: the steps up to the tally give the sum of exactly the
// counted ballots, and nothing when any check fails.
func TestCounted(t *testing.T) {
	dir, _ := smallRecord(t)
	r, res, acc := verify.Counted(dir, verify.Options{})
	if !r.OK() || res == nil || acc == nil || acc.Ballots != 3 {
		t.Fatalf("Counted: ok %v, failures %v", r.OK(), r.Failures())
	}
	var pub tally.Encrypted
	if err := record.ReadJSON(filepath.Join(dir, record.Tally), &pub); err != nil {
		t.Fatal(err)
	}
	if err := verify.CheckTally(acc, &pub); err != nil {
		t.Fatalf("the demo's tally: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(p *tally.Encrypted)
		want string
	}{
		{"swapped", func(p *tally.Encrypted) { p.Ciphertexts[0], p.Ciphertexts[1] = p.Ciphertexts[1], p.Ciphertexts[0] }, "selection 1 is not the sum"},
		{"count", func(p *tally.Encrypted) { p.Ballots = 2 }, "counts 2 ballots, the record holds 3"},
		{"short", func(p *tally.Encrypted) { p.Ciphertexts = p.Ciphertexts[:1] }, "has 1 ciphertexts, a ballot has 2 selections"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := pub
			p.Ciphertexts = append([]string(nil), pub.Ciphertexts...)
			tc.edit(&p)
			if err := verify.CheckTally(acc, &p); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}

	// A ballot whose proof is broken: no sum.
	name := filepath.Join(dir, record.Ballots)
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-1] ^= 1
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, res, acc = verify.Counted(dir, verify.Options{})
	if r.OK() || res != nil || acc != nil {
		t.Fatalf("Counted on a broken ballot: ok %v, acc %v", r.OK(), acc)
	}
	if f := r.Failures(); len(f) == 0 || f[0].What != record.Ballots {
		t.Fatalf("failures %v", f)
	}
}
