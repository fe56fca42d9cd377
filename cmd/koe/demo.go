package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/demo"
)

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe demo", "koe demo [--voters N] [--trustees N] [--threshold T] [--manifest FILE|NAME] [--out DIR]", stderr)
	voters := fs.Int("voters", 1000, "number of voters who cast a ballot")
	trustees := fs.Int("trustees", 0, "number of trustees (default: the manifest's)")
	threshold := fs.Int("threshold", 0, "trustees needed to decrypt (default: the manifest's)")
	manifest := fs.String("manifest", "referendum", "manifest file, or an example: "+strings.Join(examples.Names(), ", "))
	out := fs.String("out", "koe-demo-record", "directory for the election record")
	absent := fs.String("absent", "", "trustees absent at decryption, e.g. 2,4, or none (default: every second trustee from 2 on, so 5 trustees with threshold 3 decrypt with 1, 3 and 5)")
	spoil := fs.Int("spoil", 1, "ballots challenged (spoiled) instead of cast")
	force := fs.Bool("force", false, "replace the output directory if it exists")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	data, err := readManifestArg(*manifest)
	if err != nil {
		return err
	}
	if *force {
		if err := os.RemoveAll(*out); err != nil {
			return err
		}
	} else if entries, err := os.ReadDir(*out); err == nil && len(entries) > 0 {
		return withHint(fmt.Errorf("%s already exists", *out), "use --out DIR for another directory, or --force to replace it")
	}
	o := demo.Options{Dir: *out, Manifest: data, Voters: *voters, Trustees: *trustees, Threshold: *threshold, Spoil: *spoil, Log: stdout}
	o.Absent, err = parseAbsent(*absent, data, *trustees, *threshold)
	if err != nil {
		return err
	}
	var p *progress
	var stage string
	o.Progress = func(s string, done, total int) {
		if p == nil || s != stage {
			p, stage = newProgress(stderr, s, total), s
		}
		p.set(done)
	}
	start := time.Now()
	s, err := demo.Run(o)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	printReport(stdout, s.Report, false)
	fmt.Fprintln(stdout)
	printResults(stdout, s.Election.Manifest, s.Results)
	printMixed(stdout, s.Election.Manifest, s.Mixed)
	fmt.Fprintln(stdout, "\nTimings:")
	for _, t := range s.Timings {
		fmt.Fprintf(stdout, "  %-46s %8.2fs\n", t.Stage, t.Duration.Seconds())
	}
	fmt.Fprintf(stdout, "  %-46s %8.2fs\n", "total", time.Since(start).Seconds())
	if !s.Report.OK() {
		fmt.Fprintln(stdout, "\nVerification FAILED")
		return &exitError{code: 1}
	}
	fmt.Fprintf(stdout, "\nVerification PASSED. The election record is in %s; check it again with:\n  koe verify %s\n", *out, *out)
	return nil
}

// parseAbsent reads --absent, defaulting to every second trustee from 2 on
// (then the highest others) until only t remain.
func parseAbsent(s string, manifest []byte, n, t int) ([]int, error) {
	if s == "none" {
		return nil, nil
	}
	if s != "" {
		var out []int
		for _, f := range strings.Split(s, ",") {
			j, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return nil, usagef("--absent %q: %q is not a trustee number", s, f)
			}
			out = append(out, j)
		}
		return out, nil
	}
	if n == 0 || t == 0 {
		mn, mt, err := manifestTrustees(manifest)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			n = mn
		}
		if t == 0 {
			t = mt
		}
	}
	// Absent: every second trustee from 2 on, until only t remain.
	var out []int
	for j := 2; j <= n && n-len(out) > t; j += 2 {
		out = append(out, j)
	}
	for j := n; j >= 1 && n-len(out) > t; j-- {
		if !slices.Contains(out, j) {
			out = append(out, j)
		}
	}
	return out, nil
}

func jsonIndent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	return append(b, '\n'), err
}
