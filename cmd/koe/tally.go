package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/tally"
	"github.com/koe-vote/koe/internal/verify"

	"github.com/koe-vote/koe/internal/trusteeflow"
)

// loadElection loads and checks an election record's manifest and ceremony.
func loadElection(dir string) (*ballot.Election, *ceremony.Result, error) {
	if _, err := os.Stat(filepath.Join(dir, record.Manifest)); err != nil {
		return nil, nil, withHint(fmt.Errorf("%s is not an election record: %w", dir, err), "create one with koe election init --manifest FILE %s", dir)
	}
	e, res, err := record.LoadElection(dir)
	if err != nil {
		return nil, nil, withHint(err, "the key ceremony must be complete: every trustee runs koe trustee keygen, deal, shares and respond")
	}
	return e, res, nil
}

func runTally(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe tally", "koe tally RECORD", stderr)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("koe tally takes one election record")
	}
	dir := pos[0]
	e, _, err := loadElection(dir)
	if err != nil {
		return err
	}
	acc, err := verifiedTally(dir, e, stdout, stderr)
	if err != nil {
		return err
	}
	if err := record.WriteJSON(filepath.Join(dir, record.Tally), acc.Publish()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Encrypted tally of %d ballots written to %s; the election is closed.\n", acc.Ballots, filepath.Join(dir, record.Tally))
	if err := tally.CheckPrivacy(e.Manifest, acc.Ballots); err != nil {
		fmt.Fprintf(stdout, "It counts fewer than the manifest's privacy threshold of %d ballots: no trustee decrypts it, and the results are withheld to protect the voters' privacy.\n", e.Manifest.PrivacyThreshold())
		return nil
	}
	if len(e.Manifest.Mixed()) > 0 {
		fmt.Fprintf(stdout, "Next: %d trustees, one after another, run koe trustee mix --election %s --key KEYFILE (a round each of the text and rank answers' shuffle); at least %d run koe trustee decrypt --election %s --key KEYFILE\n", e.Manifest.Threshold, dir, e.Manifest.Threshold, dir)
		return nil
	}
	fmt.Fprintf(stdout, "Next: at least %d trustees run koe trustee decrypt --election %s --key KEYFILE\n", e.Manifest.Threshold, dir)
	return nil
}

// verifiedTally checks every cast ballot (with the verifier's batched,
// parallel ballot check) and returns their homomorphic sum.
func verifiedTally(dir string, e *ballot.Election, stdout, stderr io.Writer) (*tally.Accumulator, error) {
	var p *progress
	acc, err := verify.Ballots(dir, e, verify.Options{Progress: func(stage string, done, total int) {
		if p == nil {
			p = newProgress(stderr, "checking ballots", total)
		}
		p.set(done)
	}})
	if err != nil {
		return nil, err
	}
	return acc, nil
}

// readTally reads the published encrypted tally, as it stands.
func readTally(dir string) (*tally.Encrypted, error) { return trusteeflow.ReadTally(dir) }

// loadTally reads and decodes the published encrypted tally.
func loadTally(dir string, e *ballot.Election) (*tally.Accumulator, error) {
	pub, err := readTally(dir)
	if err != nil {
		return nil, err
	}
	return tally.ParseEncrypted(pub, e.Style)
}

func electionPublish(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe election publish", "koe election publish RECORD", stderr)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("koe election publish takes one election record")
	}
	dir := pos[0]
	e, res, err := loadElection(dir)
	if err != nil {
		return err
	}
	acc, err := loadTally(dir, e)
	if err != nil {
		return err
	}
	partials, err := loadPartials(dir, e, res, acc, stderr)
	if err != nil {
		return err
	}
	table := elgamal.NewDlogTable(tally.MaxTotal(e.Style, acc.Ballots))
	totals, err := tally.Combine(acc, partials, e.Manifest.Threshold, table)
	if err != nil {
		return withHint(err, "at least %d trustees must run koe trustee decrypt", e.Manifest.Threshold)
	}
	results := tally.ResultsOf(e.Manifest, acc.Ballots, totals)
	// The text and rank questions: every mix complete, its final list
	// decrypted by t trustees (SPEC.md §16.6).
	chains, err := loadChains(dir, e, res, acc.Ballots, stderr)
	if err != nil {
		return err
	}
	mixed, err := mixedResults(chains, e.Manifest.Threshold)
	if err != nil {
		return err
	}
	if err := results.AddMixed(mixed); err != nil {
		return err
	}
	for _, mr := range mixed {
		if err := record.WriteJSON(record.MixedFile(dir, mr.Question), mr); err != nil {
			return err
		}
	}
	if err := record.WriteJSON(filepath.Join(dir, record.Results), results); err != nil {
		return err
	}
	printResults(stdout, e.Manifest, results)
	printMixed(stdout, e.Manifest, mixed)
	fmt.Fprintf(stdout, "\nResults written to %s. Anyone can check them: koe verify %s\n", filepath.Join(dir, record.Results), dir)
	return nil
}

// loadPartials reads and checks every trustee's partial decryption. An
// invalid one is an error: a record holding it would not verify.
func loadPartials(dir string, e *ballot.Election, res *ceremony.Result, acc *tally.Accumulator, stderr io.Writer) (map[int][]*group.Element, error) {
	files, err := record.Indexed(filepath.Join(dir, record.DecryptDir), "trustee")
	if err != nil {
		return nil, err
	}
	out := map[int][]*group.Element{}
	for _, j := range record.SortedKeys(files) {
		data, err := record.ReadFile(files[j])
		if err != nil {
			return nil, err
		}
		s, err := tally.ParseShare(data)
		if err == nil && s.Trustee != j {
			err = fmt.Errorf("the file of trustee %d holds trustee %d's share", j, s.Trustee)
		}
		if err == nil {
			Y, ok := res.VerificationKeys[j]
			if !ok {
				err = fmt.Errorf("trustee %d is not qualified", j)
			} else {
				out[j], err = tally.Check(e, acc, s, Y)
			}
		}
		if err != nil {
			return nil, withHint(fmt.Errorf("%s: %w", files[j], err), "remove the file, and ask trustee %d to run koe trustee decrypt again", j)
		}
	}
	return out, nil
}
