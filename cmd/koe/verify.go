package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/tally"
	"github.com/koe-vote/koe/internal/verify"
)

func runVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe verify", "koe verify [--unbatched] [--workers N] [--receipt FILE]… [--monitor URL]… (RECORD | RECORD.tar.gz | --server URL --election ID)", stderr)
	unbatched := fs.Bool("unbatched", false, "check every proof equation on its own instead of in batches")
	workers := fs.Int("workers", 0, "parallel workers (default: every core)")
	quiet := fs.Bool("q", false, "print only failures and the verdict")
	srv := fs.String("server", "", "fetch the record of --election from this koe server")
	id := fs.String("election", "", "with --server: the election id")
	keep := fs.String("o", "", "with --server or an archive: keep the unpacked record in this directory")
	var receipts multiFlag
	fs.Var(&receipts, "receipt", "a saved ballot receipt to check against the record's final board (repeatable)")
	var monitors multiFlag
	fs.Var(&monitors, "monitor", "a monitor's URL (koe monitor --listen): the record's board must be of one history with the monitor's latest checkpoint (repeatable)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	var dir string
	switch {
	case *srv != "" && *id != "" && len(pos) == 0:
		archive, err := client.New(*srv, "").Raw(context.Background(), "GET", api.ElectionPath(*id, "/record"), "", nil)
		if err != nil {
			return err
		}
		if dir, err = record.Unpack(bytes.NewReader(archive), *keep); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Fetched the record of %s from %s (%d bytes)\n", *id, *srv, len(archive))
	case len(pos) == 1 && (strings.HasSuffix(pos[0], ".tar.gz") || strings.HasSuffix(pos[0], ".tgz")):
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		if dir, err = record.Unpack(f, *keep); err != nil {
			return err
		}
	case len(pos) == 1:
		dir = pos[0]
	default:
		return withHint(usagef("koe verify takes one election record"), "koe verify ./record, koe verify record.tar.gz, or koe verify --server URL --election ID")
	}
	if *keep == "" && dir != "" && dir != pos0(pos) {
		defer os.RemoveAll(dir)
	}
	rep := verifyRecord(dir, verify.Options{Workers: *workers, Unbatched: *unbatched}, stdout, stderr, *quiet)
	receiptsOK := checkReceipts(dir, receipts, stdout)
	monitorsOK := compareMonitors(dir, monitors, stdout)
	if !rep.OK() || !receiptsOK || !monitorsOK {
		return &exitError{code: 1}
	}
	return nil
}

// checkReceipts checks each saved receipt against the record's final
// board (SPEC.md §13.8) and prints one line for each, in plain words. It
// reports whether all of them hold.
func checkReceipts(dir string, files []string, stdout io.Writer) bool {
	if len(files) == 0 {
		return true
	}
	fmt.Fprintf(stdout, "\nChecking %d receipts against the record's final board\n", len(files))
	cv, err := verify.RecordCheckpointVerifier(dir)
	var final *verify.FinalBoard
	if err == nil {
		final, err = verify.LoadFinalBoard(dir, cv)
	}
	if err != nil {
		fmt.Fprintf(stdout, "  ✗ no receipt can be checked: %v\n", err)
		return false
	}
	ok := true
	for _, name := range files {
		line, good := checkReceiptFile(final, cv, name)
		mark := "✓"
		if !good {
			mark, ok = "✗", false
		}
		fmt.Fprintf(stdout, "  %s %s: %s\n", mark, name, line)
	}
	if ok {
		fmt.Fprintf(stdout, "Every receipt checks: each ballot is on the final board (%d entries), which only grew since the receipt was signed.\n", final.Checkpoint.Size)
	} else {
		fmt.Fprintln(stdout, "Receipts FAILED: the board published is not the one a voter was shown (listed with ✗ above).")
	}
	return ok
}

// compareMonitors compares the record's final checkpoint with each
// monitor's latest (SPEC.md §13.9) and prints one line for each. It
// reports whether every monitor's is of the record's history.
func compareMonitors(dir string, urls []string, stdout io.Writer) bool {
	if len(urls) == 0 {
		return true
	}
	fmt.Fprintf(stdout, "\nComparing the record's board with %d monitors\n", len(urls))
	keyText, err := record.ReadFile(filepath.Join(dir, filepath.FromSlash(record.BoardKey)))
	var key note.Verifier
	if err == nil {
		key, err = board.ParseVerifierKeyFile(keyText)
	}
	var final *verify.FinalBoard
	var m *ballot.Manifest
	if err == nil {
		final, err = verify.LoadFinalBoard(dir, verify.KeyVerifier{Key: key})
	}
	if err == nil {
		var data []byte
		if data, err = record.ReadFile(filepath.Join(dir, record.Manifest)); err == nil {
			m, err = ballot.ParseManifest(data)
		}
	}
	if err != nil {
		fmt.Fprintf(stdout, "  ✗ no monitor can be compared: %v\n", err)
		return false
	}
	ok := true
	for _, u := range urls {
		theirs, err := client.CompareWithMonitor(context.Background(), client.New(u, ""), m.ID, key, final.Checkpoint, final.ConsistencyProof)
		var fork *client.ForkError
		switch {
		case errors.As(err, &fork):
			fmt.Fprintf(stdout, "  ✗ %s: FORK: the monitor holds another history of this board: %v\n", u, err)
			ok = false
		case err != nil:
			fmt.Fprintf(stdout, "  ✗ %s: %v\n", u, err)
			ok = false
		case theirs.Size == final.Checkpoint.Size:
			fmt.Fprintf(stdout, "  ✓ %s holds the same tree of %d entries\n", u, theirs.Size)
		case theirs.Size < final.Checkpoint.Size:
			fmt.Fprintf(stdout, "  ✓ %s is at %d entries, a prefix of the record's %d (consistency proof checked)\n", u, theirs.Size, final.Checkpoint.Size)
		default:
			fmt.Fprintf(stdout, "  ✓ %s is at %d entries, extending the record's %d (consistency proof checked)\n", u, theirs.Size, final.Checkpoint.Size)
		}
	}
	return ok
}

// checkReceiptFile checks one receipt file and says what it found.
func checkReceiptFile(final *verify.FinalBoard, cv verify.CheckpointVerifier, name string) (string, bool) {
	data, err := os.ReadFile(name)
	if err != nil {
		return err.Error(), false
	}
	r, err := verify.ParseReceiptFile(data)
	if err != nil {
		return fmt.Sprintf("not a receipt: %v", err), false
	}
	c, err := final.CheckReceipt(r, cv)
	if err != nil {
		return err.Error(), false
	}
	since := "the receipt was signed for the final board itself"
	if c.Extended() {
		since = fmt.Sprintf("the board was only appended to since the receipt (from %d to %d entries: consistency proof checked)", c.Size, c.FinalSize)
	}
	return fmt.Sprintf("ballot %s is entry %d of the final board; %s", verify.ShortCode(c.Tracking), c.Index, since), true
}

// verifyRecord verifies dir, printing progress to stderr and the report to stdout.
func verifyRecord(dir string, opt verify.Options, stdout, stderr io.Writer, quiet bool) *verify.Report {
	start := time.Now()
	// One progress line per stage (the ballots, then the mixes' rounds
	// and shares), each with its own total.
	var p *progress
	var current string
	opt.Progress = func(stage string, done, total int) {
		if p == nil || stage != current {
			p, current = newProgress(stderr, "verifying "+stage, total), stage
		}
		p.set(done)
	}
	fmt.Fprintf(stdout, "Verifying the election record %s\n", dir)
	rep := verify.Record(dir, opt)
	printReport(stdout, rep, quiet)
	if rep.Results != nil && rep.Election != nil && !quiet {
		fmt.Fprintln(stdout)
		printResults(stdout, rep.Election.Manifest, rep.Results)
	}
	fails := rep.Failures()
	if rep.OK() && rep.InProgress {
		fmt.Fprintf(stdout, "\nVerification PASSED so far (the election is in progress): %d checks, %d ballots, in %.1fs\n", len(rep.Checks), rep.Ballots, time.Since(start).Seconds())
	} else if rep.OK() && rep.Withheld {
		fmt.Fprintf(stdout, "\nVerification PASSED: %d checks, %d ballots, in %.1fs; the results are withheld (fewer ballots than the privacy threshold of %d)\n", len(rep.Checks), rep.Ballots, time.Since(start).Seconds(), rep.Election.Manifest.PrivacyThreshold())
	} else if rep.OK() {
		fmt.Fprintf(stdout, "\nVerification PASSED: %d checks, %d ballots, in %.1fs\n", len(rep.Checks), rep.Ballots, time.Since(start).Seconds())
	} else {
		fmt.Fprintf(stdout, "\nVerification FAILED: %d problems (listed with ✗ above)\n", max(len(fails), 1))
	}
	return rep
}

func printReport(w io.Writer, rep *verify.Report, quiet bool) {
	for _, c := range rep.Checks {
		if c.OK && quiet {
			continue
		}
		mark := "✓"
		if !c.OK {
			mark = "✗"
		}
		fmt.Fprintf(w, "  %s %-16s %s\n", mark, c.What, c.Detail)
	}
	for i, a := range rep.Spoiled {
		if quiet {
			break
		}
		fmt.Fprintf(w, "    spoiled ballot %d was opened to %s\n", i+1, formatAnswers(a))
	}
	if len(rep.Trusted) > 0 && !quiet {
		fmt.Fprintln(w, "\nChecked above: the record's own evidence. Not checkable from the record, and so still trusted:")
		for _, t := range rep.Trusted {
			fmt.Fprintf(w, "  - %s\n", t)
		}
	}
}

func formatAnswers(a ballot.Answers) string {
	var parts []string
	for k, v := range a {
		parts = append(parts, fmt.Sprintf("%s=%v", k, v))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// printResults prints the results of every question with a bar chart.
func printResults(w io.Writer, m *ballot.Manifest, r *tally.Results) {
	fmt.Fprintf(w, "Results: %s\n         %s\n", m.Title.Ja, m.Title.In("en"))
	fmt.Fprintf(w, "Ballots counted: %d\n", r.Ballots)
	for qi, q := range m.Questions {
		qr := r.Questions[qi]
		fmt.Fprintf(w, "\n  %d. %s\n     %s\n", qi+1, q.Label.Ja, q.Label.In("en"))
		switch q.Kind {
		case ballot.KindText:
			// Mixed and decrypted ballot by ballot: the comments are in
			// mixed/ID.json.
			if qr.Answers != nil && qr.Empty != nil && qr.Invalid != nil {
				fmt.Fprintf(w, "     %d comments, %d empty, %d invalid (mixed/%s.json)\n", *qr.Answers, *qr.Empty, *qr.Invalid, q.ID)
			} else {
				fmt.Fprintln(w, "     mixed and decrypted ballot by ballot: no counts here")
			}
		case ballot.KindRank:
			if qr.Valid != nil && qr.Invalid != nil {
				fmt.Fprintf(w, "     %d valid rankings, %d invalid; Schulze winners: %s (mixed/%s.json)\n", *qr.Valid, *qr.Invalid, strings.Join(qr.Winners, ", "), q.ID)
			} else {
				fmt.Fprintln(w, "     mixed and decrypted ballot by ballot: no counts here")
			}
		case ballot.KindRating:
			mean := qr.Mean(r.Ballots)
			fmt.Fprintf(w, "     mean %.2f on %d..%d  %s\n", mean, q.Min, q.Max, bar(int((mean-float64(q.Min))*1000), (q.Max-q.Min)*1000, 30))
			var most uint64 = 1
			for _, v := range qr.Values {
				most = max(most, v.Count)
			}
			for _, v := range qr.Values {
				pct := 0.0
				if r.Ballots > 0 {
					pct = 100 * float64(v.Count) / float64(r.Ballots)
				}
				label := strconv.Itoa(v.Value)
				if end := scaleEnd(q, v.Value); end != nil {
					label += " " + end.Ja
					if en := end.In("en"); en != end.Ja {
						label += " / " + en
					}
				}
				fmt.Fprintf(w, "     %s %8d %5.1f%%  %s\n", bar(int(v.Count), int(most), 30), v.Count, pct, label)
			}
		default:
			var most uint64 = 1
			for _, o := range qr.Options {
				most = max(most, o.Count)
			}
			for oi, o := range q.Options {
				n := qr.Options[oi].Count
				pct := 0.0
				if r.Ballots > 0 {
					pct = 100 * float64(n) / float64(r.Ballots)
				}
				label := o.Label.Ja
				if en := o.Label.In("en"); en != label {
					label += " / " + en
				}
				fmt.Fprintf(w, "     %s %8d %5.1f%%  %s\n", bar(int(n), int(most), 30), n, pct, label)
			}
		}
	}
}

// scaleEnd returns the label of a rating's lowest or highest value, nil
// for the values between and for an end the manifest does not label.
func scaleEnd(q ballot.Question, v int) *ballot.Text {
	switch v {
	case q.Min:
		return q.MinLabel
	case q.Max:
		return q.MaxLabel
	}
	return nil
}

func pos0(pos []string) string {
	if len(pos) > 0 {
		return pos[0]
	}
	return ""
}
